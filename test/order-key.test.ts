// The order keys of manual order (order_key_between and order_key_nth in src/db/functions.sql) are
// a port of fractional-indexing to PL/pgSQL, so that a write computes a key from its neighbours
// under the user's lock. The library itself is the oracle: the same inputs give the same keys.
import { generateKeyBetween, generateNKeysBetween } from "fractional-indexing";
import { describe, expect, it } from "vitest";
import { suiteDatabase } from "./support/database.ts";
import { random } from "./support/random.ts";

const db = suiteDatabase();

/** order_key_between for many pairs in one round trip. */
async function between(pairs: Array<[string | null, string | null]>): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>(
    "SELECT order_key_between(p->>0, p->>1) AS key FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(p, i) ORDER BY i",
    [JSON.stringify(pairs)],
  );
  return rows.map((row) => row.key);
}

describe("order_key_between, against fractional-indexing 4.0.0", () => {
  it("gives the library's key for the open ends and for 2,000 random insertions into a growing order", async () => {
    const next = random(20261205);
    const keys: string[] = [];
    for (let round = 0; round < 20; round++) {
      // 100 insertions per round, each between two neighbours of the order so far.
      const pairs: Array<[string | null, string | null]> = [];
      const expected: string[] = [];
      const order = [...keys];
      for (let i = 0; i < 100; i++) {
        const at = Math.floor(next() * (order.length + 1));
        const pair: [string | null, string | null] = [order[at - 1] ?? null, order[at] ?? null];
        const key = generateKeyBetween(pair[0], pair[1]);
        pairs.push(pair);
        expected.push(key);
        order.splice(at, 0, key);
      }
      expect(await between(pairs)).toEqual(expected);
      keys.splice(0, keys.length, ...order);
    }
    expect([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(keys);
  });

  it("gives the library's keys when one gap is hammered: before the first, after the last, between two", async () => {
    for (const mode of ["front", "back", "middle"] as const) {
      let low: string | null = mode === "middle" ? "a0" : null;
      let high: string | null = mode === "middle" ? "a1" : null;
      const pairs: Array<[string | null, string | null]> = [];
      const expected: string[] = [];
      for (let i = 0; i < 300; i++) {
        const key = generateKeyBetween(low, high);
        pairs.push([low, high]);
        expected.push(key);
        if (mode === "back") low = key;
        else high = key;
      }
      expect(await between(pairs), mode).toEqual(expected);
    }
  });

  it("refuses keys out of order rather than returning one that is not between them", async () => {
    await expect(between([["a1", "a0"]])).rejects.toThrow(/out of order/);
  });
});

describe("order_key_nth", () => {
  it("is generateNKeysBetween(null, null, n)'s n-th key, across the lengths (a0 … az, b00 …, c000 …)", async () => {
    const n = 4000;
    const expected = generateNKeysBetween(null, null, n);
    const { rows } = await db.query<{ key: string }>("SELECT order_key_nth(g) AS key FROM generate_series(0, $1::int - 1) g ORDER BY g", [
      n,
    ]);
    expect(rows.map((row) => row.key)).toEqual(expected);
  });
});
