// Six-field cron (seconds first), the form CloudNativePG's ScheduledBackup takes, in UTC: parsing
// with a reason for every refusal, and the first time a schedule fires after a given one. Pure.
// Supports what schedules are written with: numbers, *, ranges (a-b), steps (*/n, a-b/n, a/n)
// and lists (a,b); not names (MON, JAN) or descriptors (@daily), which are refused with a reason.

interface FieldSpec {
  name: string;
  min: number;
  max: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  // 7 is Sunday too, as in most crons.
  { name: 'day of week', min: 0, max: 7 },
];

export interface CronSchedule {
  seconds: ReadonlySet<number>;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  daysOfWeek: ReadonlySet<number>;
  /** Both day fields restricted: a day matches either (classic cron). */
  dayOr: boolean;
}

export type CronParse = { ok: true; schedule: CronSchedule } | { ok: false; problem: string };

const NUMBER = /^[0-9]{1,2}$/;

function parseField(text: string, field: FieldSpec): Set<number> | string {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', step, extra] = part.split('/');
    if (extra !== undefined) return `the ${field.name} field "${text}" has two steps`;
    let from = field.min;
    let to = field.max;
    if (range !== '*' && range !== '?') {
      const [a = '', b, more] = range.split('-');
      if (more !== undefined || !NUMBER.test(a) || (b !== undefined && !NUMBER.test(b)))
        return `the ${field.name} field "${text}" is not a number, *, a range a-b, a step or a list`;
      from = Number(a);
      to = b !== undefined ? Number(b) : step !== undefined ? field.max : from;
    }
    if (from < field.min || to > field.max || from > to)
      return `the ${field.name} field "${text}" is outside ${field.min}-${field.max}`;
    let every = 1;
    if (step !== undefined) {
      if (!NUMBER.test(step) || Number(step) === 0)
        return `the ${field.name} field "${text}" has a step that is not a positive number`;
      every = Number(step);
    }
    for (let value = from; value <= to; value += every) values.add(value);
  }
  return values;
}

export function parseCron(expression: string): CronParse {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== FIELDS.length)
    return {
      ok: false,
      problem: `has ${fields.length} fields; six are needed, seconds first ("0 0 5 * * 0" is 05:00 on Sundays)`,
    };
  const sets: Set<number>[] = [];
  for (const [index, spec] of FIELDS.entries()) {
    const parsed = parseField(fields[index]!, spec);
    if (typeof parsed === 'string') return { ok: false, problem: parsed };
    sets.push(parsed);
  }
  const [seconds, minutes, hours, daysOfMonth, months, daysOfWeek] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  const restricted = (text: string) => text !== '*' && text !== '?';
  return {
    ok: true,
    schedule: {
      seconds,
      minutes,
      hours,
      daysOfMonth,
      months,
      daysOfWeek,
      dayOr: restricted(fields[3]!) && restricted(fields[5]!),
    },
  };
}

function dayMatches(schedule: CronSchedule, date: Date): boolean {
  const dom = schedule.daysOfMonth.has(date.getUTCDate());
  const dow = schedule.daysOfWeek.has(date.getUTCDay());
  return schedule.dayOr ? dom || dow : dom && dow;
}

/** How far ahead a schedule is searched: a schedule that never fires in this long never fires. */
const HORIZON_DAYS = 5 * 366;

/** The first time strictly after `after` at which the schedule fires; undefined if never (31 February). */
export function nextFire(schedule: CronSchedule, after: Date): Date | undefined {
  const start = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  const day = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()));
  for (let offset = 0; offset <= HORIZON_DAYS; offset++) {
    const date = new Date(day.getTime() + offset * 86_400_000);
    if (!schedule.months.has(date.getUTCMonth() + 1) || !dayMatches(schedule, date)) continue;
    for (const hour of [...schedule.hours].sort((a, b) => a - b))
      for (const minute of [...schedule.minutes].sort((a, b) => a - b))
        for (const second of [...schedule.seconds].sort((a, b) => a - b)) {
          const candidate = new Date(date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000);
          if (candidate >= start) return candidate;
        }
  }
  return undefined;
}
