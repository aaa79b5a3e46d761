// The opaque `cursor` of keyset pagination: the sort it belongs to and the last row's sort
// value and id, as base64url JSON. A cursor that does not decode to exactly that is a 422.
import * as v from "valibot";
import { invalid } from "../problems.ts";
import type { Sort, SortKey } from "./listing.ts";
import { Priority, Timestamp, Title } from "./task.ts";

/** Where a page ends: the last row's sort value (null: a task without due date) and id. */
export interface Keyset {
  value: string | null;
  id: number;
}

/** A keyset and the sort it belongs to. */
export interface Cursor extends Keyset {
  sort: Sort;
}

const Id = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
const VALUE_SCHEMAS: Record<SortKey, v.GenericSchema<unknown, string | null>> = {
  created_at: Timestamp,
  updated_at: Timestamp,
  due_date: v.nullable(Timestamp),
  priority: Priority,
  // Titles are stored trimmed, so a cursor's title is as well.
  title: Title,
  // The task's parent (0: top level) and its order key, which together place it in a list.
  position: v.pipe(v.string(), v.regex(/^(0|[1-9][0-9]{0,15}):[0-9A-Za-z]{1,64}$/)),
};

function encodeBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeBase64Url(text: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

export function encodeCursor(cursor: Cursor): string {
  return encodeBase64Url(JSON.stringify([cursor.sort, cursor.value, cursor.id]));
}

export function decodeCursor(text: string, sort: Sort): Cursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(decodeBase64Url(text));
  } catch {
    throw invalid("cursor", "is not a cursor this API issued");
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw invalid("cursor", "is not a cursor this API issued");
  const [cursorSort, value, id] = decoded as [unknown, unknown, unknown];
  if (cursorSort !== sort) throw invalid("cursor", "belongs to another sort order; keep the sort of the first page");
  const key = sort.replace(/^-/, "") as SortKey;
  const parsedValue = v.safeParse(VALUE_SCHEMAS[key], value);
  const parsedId = v.safeParse(Id, id);
  if (!parsedValue.success || !parsedId.success) throw invalid("cursor", "is not a cursor this API issued");
  return { sort, value: parsedValue.output, id: parsedId.output };
}
