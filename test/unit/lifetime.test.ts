// JWT_MAX_TOKEN_LIFETIME's values (README "Configuration"): seconds or a span in s, m, h or d, and
// the words a refused token's detail uses for it.
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, describeLifetime, parseLifetime } from "../../src/auth/lifetime.ts";

describe("parseLifetime", () => {
  it("reads a bare number as seconds, and s, m, h, d as units", () => {
    expect(parseLifetime("604800")).toBe(604_800);
    expect(parseLifetime("90s")).toBe(90);
    expect(parseLifetime("90m")).toBe(5_400);
    expect(parseLifetime("12h")).toBe(43_200);
    expect(parseLifetime(" 7d ")).toBe(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);
  });

  it("refuses anything else: no sign, fraction, other unit, space inside or absurd length", () => {
    for (const value of ["", "d", "-5m", "1.5h", "7 d", "7 days", "2w", "1y", "7D", "1e6", "1234567890"]) {
      expect(parseLifetime(value), value).toBeUndefined();
    }
  });
});

describe("describeLifetime", () => {
  it("names the largest unit that divides it exactly, singular or plural", () => {
    expect(describeLifetime(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS)).toBe("7 days");
    expect(describeLifetime(86_400)).toBe("1 day");
    expect(describeLifetime(3_600)).toBe("1 hour");
    expect(describeLifetime(5_400)).toBe("90 minutes");
    expect(describeLifetime(90)).toBe("90 seconds");
    expect(describeLifetime(1)).toBe("1 second");
  });
});
