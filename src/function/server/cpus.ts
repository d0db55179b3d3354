// How many CPUs `pgplane serve function` may really use, to decide whether worker threads pay.
//
// os.availableParallelism() sees the CPUs the scheduler lets the process run on, not the CPU
// limit of its container: a pod limited to one CPU on a 16-core node reports 16. Kubernetes turns
// the limit into a cgroup CPU quota (cgroup v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us),
// which is read here, as Go's runtime does for GOMAXPROCS since Go 1.25.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** cgroup v2 cpu.max ("<quota> <period>" or "max <period>") → CPUs; undefined when unlimited or unreadable. */
export function cpusFromCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  return ratio(quota, period);
}

/** cgroup v1 cpu.cfs_quota_us and cpu.cfs_period_us → CPUs; undefined when unlimited (-1) or unreadable. */
export function cpusFromCfs(quotaText: string, periodText: string): number | undefined {
  return ratio(quotaText.trim(), periodText.trim());
}

function ratio(quota: string | undefined, period: string | undefined): number | undefined {
  if (quota === undefined || period === undefined || !/^\d+$/.test(quota) || !/^\d+$/.test(period))
    return undefined;
  const q = Number(quota);
  const p = Number(period);
  return q > 0 && p > 0 ? q / p : undefined;
}

export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The CPUs this process may use: scheduler affinity capped by the container's CPU quota. */
export function usableCpus(read: ReadText = readText, parallelism: number = availableParallelism()): number {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  const v1Quota = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
  const v1Period = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us');
  const quota =
    v2 !== undefined
      ? cpusFromCpuMax(v2)
      : v1Quota !== undefined && v1Period !== undefined
        ? cpusFromCfs(v1Quota, v1Period)
        : undefined;
  return quota === undefined ? parallelism : Math.min(parallelism, quota);
}

/**
 * One worker when more than one CPU is usable: the gRPC thread and the worker then run side by
 * side. More rarely pays: the gRPC thread's share of a call is about a third of the worker's, so
 * one worker is the bottleneck only beyond ~5,000 calls/s (bench/function); `--workers` says more.
 */
export function defaultWorkers(cpus: number): number {
  return cpus > 1 ? 1 : 0;
}
