// Idempotency-Key on POST (API.md "Headers"): the header's rules, and the fingerprint of a
// request body that tells a retry from a different request reusing the key.
import { invalid } from "../problems.ts";

// 1 to 255 printable ASCII characters (space to tilde).
const KEY = /^[\x20-\x7E]{1,255}$/;
export const KEY_RULE = "must be 1 to 255 printable ASCII characters";

/** Whether `key` is a valid Idempotency-Key (the MCP tools check their idempotency_key with it). */
export const isIdempotencyKey = (key: unknown): key is string => typeof key === "string" && KEY.test(key);

/** The request's Idempotency-Key, undefined when absent; 422 when it breaks the rules. */
export function idempotencyKey(request: Request): string | undefined {
  const key = request.headers.get("Idempotency-Key");
  if (key === null) return undefined;
  if (!isIdempotencyKey(key)) throw invalid("Idempotency-Key", KEY_RULE);
  return key;
}

/** JSON with object keys sorted, so the same body in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of the validated body: what a retry must repeat. */
export async function requestHash(input: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical(input)));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
