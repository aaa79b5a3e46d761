// JWT_MAX_TOKEN_LIFETIME: the longest a token may live, as a number of seconds ("604800") or a
// span ("90m", "12h", "7d"), and said back in words when a token is refused for it.

/** 7 days: what API.md allows for iat, and what `npm run token` mints. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 7 * 24 * 60 * 60;
/** A bare number is seconds: "7" meant as days would refuse every token, so it must be at least a minute. */
export const SHORTEST_MAX_TOKEN_LIFETIME_SECONDS = 60;
/** A year keeps every exp far inside what Postgres's to_timestamp and a Durable Object alarm accept. */
export const LONGEST_MAX_TOKEN_LIFETIME_SECONDS = 365 * 24 * 60 * 60;

const UNITS = { s: 1, m: 60, h: 60 * 60, d: 24 * 60 * 60 } as const;

/** The lifetime in seconds, or undefined when the value is not a whole number of seconds, minutes, hours or days. */
export function parseLifetime(value: string): number | undefined {
  const match = /^(\d{1,9})([smhd]?)$/.exec(value.trim());
  if (match?.[1] === undefined) return undefined;
  const unit = (match[2] || "s") as keyof typeof UNITS;
  return Number(match[1]) * UNITS[unit];
}

/** "7 days", "1 hour", "90 seconds": the largest unit that divides the lifetime exactly. */
export function describeLifetime(seconds: number): string {
  const [name, size] = (
    [
      ["day", UNITS.d],
      ["hour", UNITS.h],
      ["minute", UNITS.m],
    ] as const
  ).find(([, unit]) => seconds % unit === 0) ?? ["second", 1];
  const count = seconds / size;
  return `${count} ${name}${count === 1 ? "" : "s"}`;
}
