// The standard gRPC health service (grpc.health.v1.Health, Check and Watch), so that probes
// (grpc_health_probe, Kubernetes' grpc probe) can ask the function whether it serves. The two
// messages have one field each, so they are encoded here by hand rather than through a .proto
// loader: no dependency, and the codec is a pure function with a unit test.
import * as grpc from '@grpc/grpc-js';

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

export enum ServingStatus {
  UNKNOWN = 0,
  SERVING = 1,
  NOT_SERVING = 2,
  /** Used only by Watch, for a service the server does not know (yet). */
  SERVICE_UNKNOWN = 3,
}

export interface HealthCheckRequest {
  service: string;
}
export interface HealthCheckResponse {
  status: ServingStatus;
}

// ---------------------------------------------------------------------------------------------
// Codec

function readVarint(buf: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  for (let shift = 0, i = at; i < buf.length && shift < 64; shift += 7, i++) {
    const byte = buf[i] ?? 0;
    // Beyond 2^53 the exact value does not matter here: only lengths and field numbers are used.
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  throw new Error('truncated varint');
}

/** HealthCheckRequest { string service = 1; }; unknown fields are skipped, as protobuf requires. */
export function decodeHealthCheckRequest(buf: Uint8Array): HealthCheckRequest {
  let service = '';
  let at = 0;
  while (at < buf.length) {
    const tag = readVarint(buf, at);
    at = tag.next;
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    switch (wireType) {
      case 0:
        at = readVarint(buf, at).next;
        break;
      case 1:
        at += 8;
        break;
      case 5:
        at += 4;
        break;
      case 2: {
        const length = readVarint(buf, at);
        const end = length.next + length.value;
        if (end > buf.length) throw new Error('truncated length-delimited field');
        if (field === 1) service = Buffer.from(buf.subarray(length.next, end)).toString('utf8');
        at = end;
        break;
      }
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
    if (at > buf.length) throw new Error('truncated field');
  }
  return { service };
}

/** HealthCheckResponse { ServingStatus status = 1; }; the zero value is omitted, as proto3 does. */
export function encodeHealthCheckResponse(rsp: HealthCheckResponse): Buffer {
  return rsp.status === ServingStatus.UNKNOWN ? Buffer.alloc(0) : Buffer.from([0x08, rsp.status]);
}

export function encodeHealthCheckRequest(req: HealthCheckRequest): Buffer {
  const service = Buffer.from(req.service, 'utf8');
  if (service.length === 0) return Buffer.alloc(0);
  const length: number[] = [];
  for (let n = service.length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      length.push(n);
      break;
    }
    length.push((n % 128) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x0a, ...length]), service]);
}

export function decodeHealthCheckResponse(buf: Uint8Array): HealthCheckResponse {
  // Field 1, varint: the only field; the last occurrence wins.
  let status = ServingStatus.UNKNOWN;
  let at = 0;
  while (at < buf.length) {
    const tag = readVarint(buf, at);
    if (tag.value !== 0x08) throw new Error(`unexpected tag ${tag.value}`);
    const value = readVarint(buf, tag.next);
    status = value.value;
    at = value.next;
  }
  return { status };
}

export const healthServiceDefinition = {
  check: {
    path: `/${HEALTH_SERVICE_NAME}/Check`,
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeHealthCheckRequest,
    requestDeserialize: decodeHealthCheckRequest,
    responseSerialize: encodeHealthCheckResponse,
    responseDeserialize: decodeHealthCheckResponse,
  },
  watch: {
    path: `/${HEALTH_SERVICE_NAME}/Watch`,
    requestStream: false,
    responseStream: true,
    requestSerialize: encodeHealthCheckRequest,
    requestDeserialize: decodeHealthCheckRequest,
    responseSerialize: encodeHealthCheckResponse,
    responseDeserialize: decodeHealthCheckResponse,
  },
} satisfies grpc.ServiceDefinition;

// ---------------------------------------------------------------------------------------------
// Service

type WatchCall = grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;

/** Statuses by service name ("" is the server as a whole), and the Watch streams to tell. */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Set<{ service: string; call: WatchCall }>();

  constructor(services: Readonly<Record<string, ServingStatus>>) {
    for (const [name, status] of Object.entries(services)) this.statuses.set(name, status);
  }

  status(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  setStatus(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const watcher of this.watchers) {
      if (watcher.service === service) watcher.call.write({ status });
    }
  }

  /**
   * Every service NOT_SERVING, then every Watch stream ended: open streams would otherwise hold
   * a draining server open until the grace period runs out.
   */
  shutdown(): void {
    for (const service of this.statuses.keys()) this.setStatus(service, ServingStatus.NOT_SERVING);
    for (const watcher of this.watchers) watcher.call.end();
    this.watchers.clear();
  }

  readonly implementation: grpc.UntypedServiceImplementation = {
    check: (
      call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
      callback: grpc.sendUnaryData<HealthCheckResponse>,
    ) => {
      const status = this.statuses.get(call.request.service);
      if (status === undefined) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        return;
      }
      callback(null, { status });
    },
    watch: (call: WatchCall) => {
      const watcher = { service: call.request.service, call };
      call.write({ status: this.statuses.get(watcher.service) ?? ServingStatus.SERVICE_UNKNOWN });
      this.watchers.add(watcher);
      const forget = (): void => void this.watchers.delete(watcher);
      call.on('cancelled', forget);
      call.on('close', forget);
    },
  };
}
