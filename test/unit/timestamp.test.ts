// RFC 3339 parsing: strict, offset required, normalized to UTC milliseconds.
import { describe, expect, it } from "vitest";
import { parseTimestamp } from "../../src/schemas/timestamp.ts";

const iso = (text: string) => parseTimestamp(text)?.toISOString();

describe("parseTimestamp", () => {
  it("accepts Z and numeric offsets and converts them to UTC", () => {
    expect(iso("2026-12-01T17:00:00Z")).toBe("2026-12-01T17:00:00.000Z");
    expect(iso("2026-12-01T18:30:00+01:30")).toBe("2026-12-01T17:00:00.000Z");
    expect(iso("2026-12-01T12:00:00-05:00")).toBe("2026-12-01T17:00:00.000Z");
    expect(iso("2026-12-01t17:00:00z")).toBe("2026-12-01T17:00:00.000Z");
  });

  it("keeps milliseconds and truncates finer fractions", () => {
    expect(iso("2026-12-01T17:00:00.1Z")).toBe("2026-12-01T17:00:00.100Z");
    expect(iso("2026-12-01T17:00:00.123456789Z")).toBe("2026-12-01T17:00:00.123Z");
  });

  it("rejects a timestamp without offset, a bare date, and other formats", () => {
    for (const text of ["2026-12-01T17:00:00", "2026-12-01", "2026-12-01 17:00:00Z", "1764608400", "", "2026-12-01T17:00Z"]) {
      expect(parseTimestamp(text), text).toBeUndefined();
    }
  });

  it("rejects impossible dates and times instead of rolling them over", () => {
    for (const text of [
      "2026-02-29T00:00:00Z",
      "2026-02-30T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-00-10T00:00:00Z",
      "2026-12-01T24:00:00Z",
      "2026-12-01T23:60:00Z",
      "2026-12-01T23:59:60Z",
      "2026-12-01T17:00:00+24:00",
      "0000-01-01T00:00:00Z",
    ]) {
      expect(parseTimestamp(text), text).toBeUndefined();
    }
  });

  it("accepts 29 February in leap years only", () => {
    expect(iso("2028-02-29T00:00:00Z")).toBe("2028-02-29T00:00:00.000Z");
    expect(iso("2000-02-29T00:00:00Z")).toBe("2000-02-29T00:00:00.000Z");
    expect(parseTimestamp("2100-02-29T00:00:00Z")).toBeUndefined();
  });

  it("rejects instants that an offset moves outside years 0001 to 9999", () => {
    expect(parseTimestamp("9999-12-31T23:59:59-01:00")).toBeUndefined();
    expect(parseTimestamp("0001-01-01T00:30:00+01:00")).toBeUndefined();
    expect(iso("9999-12-31T23:59:59Z")).toBe("9999-12-31T23:59:59.000Z");
  });

  it("handles years before 100 without the Date two-digit-year shift", () => {
    expect(iso("0050-06-01T00:00:00Z")).toBe("0050-06-01T00:00:00.000Z");
  });
});
