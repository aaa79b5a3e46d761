// Reads a request body as a JSON object: 415 for another media type, 413 over 64 KiB (1 MiB for
// a batch; checked while streaming, so a huge chunked body is never buffered), 400 for bad JSON.
import { bodyTooLarge, malformedJson, unsupportedMediaType } from "../problems.ts";

export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_BATCH_BODY_BYTES = 1024 * 1024;

/** The body's bytes, or undefined when the request has no body. */
async function readCapped(request: Request, limit: number): Promise<Uint8Array | undefined> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && Number(declared) > limit) throw bodyTooLarge(limit);
  if (request.body === null) return undefined;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  if (size === 0) return undefined;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function isJsonMediaType(contentType: string | null): boolean {
  if (contentType === null) return false;
  return contentType.split(";")[0]?.trim().toLowerCase() === "application/json";
}

/**
 * The request's JSON object, or undefined when there is no body at all (only routes where a
 * body is optional accept that; see requireBody).
 */
export async function readJsonObject(request: Request, limit = MAX_BODY_BYTES): Promise<Record<string, unknown> | undefined> {
  const bytes = await readCapped(request, limit);
  if (bytes === undefined) return undefined;
  if (!isJsonMediaType(request.headers.get("Content-Type"))) {
    throw unsupportedMediaType();
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw malformedJson("the request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformedJson("the request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

export async function requireJsonObject(request: Request, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const body = await readJsonObject(request, limit);
  if (body === undefined) throw malformedJson("the request body is missing: a JSON object is required");
  return body;
}
