// Conditional requests (RFC 9110 §13) on single tasks. A task's ETag is its `version`, which
// every successful write bumps, so the tag changes exactly when the representation does.

/** `version` is a Postgres integer. */
const MAX_VERSION = 2_147_483_647;

export const etag = (version: number): string => `"${version}"`;

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)"$/;

/** The entity tags of an If-Match / If-None-Match list; null for "*". Malformed members are dropped. */
function entityTags(header: string): Array<{ weak: boolean; opaque: string }> | null {
  if (header.trim() === "*") return null;
  const tags: Array<{ weak: boolean; opaque: string }> = [];
  for (const member of header.split(",")) {
    const match = ENTITY_TAG.exec(member.trim());
    if (match) tags.push({ weak: match[1] !== undefined, opaque: match[2] ?? "" });
  }
  return tags;
}

/**
 * If-Match as a condition on `version` for one statement: undefined when there is no condition
 * (no header, or "*", which only needs the task to exist: a missing task is a 404 anyway), else
 * the versions that may be changed. Strong comparison: weak tags never match, and neither does a
 * malformed header, so the write is refused (412) rather than applied unconditionally.
 */
export function ifMatchVersions(request: Request): number[] | undefined {
  const header = request.headers.get("If-Match");
  return header === null ? undefined : matchingVersions(header);
}

/** An If-Match value (the header, or a batch operation's if_match) as the versions it allows; undefined for "*". */
export function matchingVersions(header: string): number[] | undefined {
  const tags = entityTags(header);
  if (tags === null) return undefined;
  return tags
    .filter((tag) => !tag.weak && /^[1-9][0-9]{0,9}$/.test(tag.opaque))
    .map((tag) => Number(tag.opaque))
    .filter((version) => version <= MAX_VERSION);
}

/** If-None-Match on GET: true when the client's copy is current (weak comparison) and a 304 is due. */
export function notModified(request: Request, version: number): boolean {
  const header = request.headers.get("If-None-Match");
  if (header === null) return false;
  const tags = entityTags(header);
  return tags === null || tags.some((tag) => tag.opaque === String(version));
}
