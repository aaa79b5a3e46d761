// Pagination cursors: round-trip, bound to their sort, and anything else is a 422.
import { describe, expect, it } from "vitest";
import { HttpError } from "../../src/problems.ts";
import { decodeCursor, encodeCursor } from "../../src/schemas/cursor.ts";

function rejection(text: string, sort: Parameters<typeof decodeCursor>[1]): HttpError {
  try {
    decodeCursor(text, sort);
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error("cursor was accepted");
}

describe("cursor", () => {
  it("round-trips every kind of sort value", () => {
    const cursors = [
      { sort: "-created_at", value: "2026-11-23T10:00:00.123Z", id: 42 },
      { sort: "due_date", value: null, id: 7 },
      { sort: "-priority", value: "high", id: 1 },
      { sort: "title", value: 'Ünïcødé 😀 "quotes"', id: 9007199254740991 },
    ] as const;
    for (const cursor of cursors) {
      const text = encodeCursor(cursor);
      expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(text, cursor.sort)).toEqual(cursor);
    }
  });

  it("is rejected with 422 when used with another sort", () => {
    const text = encodeCursor({ sort: "title", value: "a", id: 1 });
    const error = rejection(text, "-title");
    expect(error.status).toBe(422);
    expect(error.errors?.[0]?.path).toBe("cursor");
  });

  it("is rejected with 422 when it is not one this API issued", () => {
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const cases: [string, Parameters<typeof decodeCursor>[1]][] = [
      ["not a cursor!", "-created_at"],
      ["%%%", "-created_at"],
      [Buffer.from("garbage").toString("base64url"), "-created_at"],
      [forged({ sort: "-created_at" }), "-created_at"],
      [forged(["-created_at", "yesterday", 1]), "-created_at"],
      [forged(["-created_at", "2026-11-23T10:00:00Z", 0]), "-created_at"],
      [forged(["-created_at", "2026-11-23T10:00:00Z", 1.5]), "-created_at"],
      [forged(["-created_at", "2026-11-23T10:00:00Z", "1"]), "-created_at"],
      [forged(["-created_at", null, 1]), "-created_at"],
      [forged(["priority", "urgent", 1]), "priority"],
      [forged(["title", "", 1]), "title"],
      [forged(["title", "x", 1, "extra"]), "title"],
    ];
    for (const [text, sort] of cases) {
      expect(rejection(text, sort).status, text).toBe(422);
    }
  });
});
