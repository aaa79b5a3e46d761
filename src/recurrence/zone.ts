// IANA time zones through Intl: offsets, and wall-clock times resolved as Temporal's "compatible" does.
import { DAY_MS } from "./calendar.ts";

/** A name, not an offset: IANA names such as Europe/Berlin, America/Argentina/Buenos_Aires, UTC. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
const MAX_CACHED = 256;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (format === undefined) {
    // "longOffset" prints the offset itself ("GMT+01:00", "GMT+00:53:28", "GMT"): a few times
    // cheaper than formatting and re-reading the local date and time.
    format = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
    // Spellings differ only by case or alias, but a client could send many: keep the cache small.
    if (formatters.size >= MAX_CACHED) formatters.clear();
    formatters.set(zone, format);
  }
  return format;
}

/** True for a time zone name the runtime's tz database knows (case-insensitively, aliases included); offsets are refused. */
export function isTimeZone(zone: string): boolean {
  if (zone.length > 64 || !ZONE_NAME.test(zone)) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

const OFFSET = /GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** The zone's offset from UTC at an instant, in milliseconds (whole seconds: LMT offsets have seconds). */
export function offsetAt(zone: string, ms: number): number {
  const m = OFFSET.exec(formatter(zone).format(ms));
  if (!m) throw new RangeError(`no offset for ${zone} at ${ms}`);
  if (m[1] === undefined) return 0;
  const seconds = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return (m[1] === "-" ? -seconds : seconds) * 1000;
}

/** The local calendar day (day number) and time of day (ms) of an instant in the zone. */
export function localOf(zone: string, ms: number): { day: number; msOfDay: number } {
  const local = ms + offsetAt(zone, ms);
  const day = Math.floor(local / DAY_MS);
  return { day, msOfDay: local - day * DAY_MS };
}

/** The instant of a local wall-clock time (ms since 1970-01-01T00:00 local), Temporal's "compatible" way. */
export function instantOf(zone: string, local: number): number {
  // Offsets a day either side bracket any transition near this wall time (as Temporal does).
  const before = offsetAt(zone, local - DAY_MS);
  const after = offsetAt(zone, local + DAY_MS);
  let earliest: number | undefined;
  for (const offset of before === after ? [before] : [before, after]) {
    const instant = local - offset;
    if (offsetAt(zone, instant) === offset && (earliest === undefined || instant < earliest)) earliest = instant;
  }
  // None: the wall time falls in a gap; read it with the offset before the gap, which lands later by the gap's length.
  return earliest ?? local - before;
}
