// How long a JWKS response is kept (API.md "Authentication"): its Cache-Control max-age, 10
// minutes without one, 24 hours at most; no-store or max-age=0 means fetch again when needed.
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_AGE_SECONDS, LONGEST_MAX_AGE_SECONDS, maxAgeSeconds } from "../../src/auth/jwks.ts";

describe("maxAgeSeconds", () => {
  it("is 10 minutes without a Cache-Control header, or without max-age in it", () => {
    expect(DEFAULT_MAX_AGE_SECONDS).toBe(600);
    expect(maxAgeSeconds(null)).toBe(600);
    expect(maxAgeSeconds("public")).toBe(600);
  });

  it("is the max-age given, whatever the case and the other directives", () => {
    expect(maxAgeSeconds("max-age=300")).toBe(300);
    expect(maxAgeSeconds("public, MAX-AGE=42, must-revalidate")).toBe(42);
  });

  it("is at most 24 hours", () => {
    expect(LONGEST_MAX_AGE_SECONDS).toBe(86_400);
    expect(maxAgeSeconds("max-age=31536000")).toBe(86_400);
  });

  it("is 0 for no-store, no-cache and max-age=0", () => {
    expect(maxAgeSeconds("no-store")).toBe(0);
    expect(maxAgeSeconds("private, no-cache")).toBe(0);
    expect(maxAgeSeconds("max-age=0")).toBe(0);
  });
});
