// Our Markdown pages read as data: fenced code blocks with the `<!-- docs: … -->` directives
// above them, the links of the text, and the anchors GitHub gives headings. Used by `npm run
// check` (scripts/check-docs.ts) and `npm run test:docs` (test/docs/). Just enough CommonMark for
// pages we write ourselves: ATX headings, backtick and tilde fences, inline and reference links.

/** What an HTML comment line `<!-- docs: … -->` right above a fence asks of the docs runner. */
export type Directive =
  /** Not run; the reason is required (`<!-- docs: skip (starts a second server) -->`). */
  (
    | { kind: "skip"; reason: string }
    /** These non-2xx statuses are announced by the page: allowed in the block, and each must occur. */
    | { kind: "expect"; statuses: number[] }
    | { kind: "invalid"; text: string }
  ) & { /** 1-based line of the comment. */ line: number };

export interface Fence {
  /** The info string's first word: "sh", "ts", "" for none. */
  lang: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The content, without the fence's own indentation. */
  code: string;
  /** False when the page ends before the closing fence. */
  closed: boolean;
  directives: Directive[];
}

export interface Link {
  target: string;
  /** 1-based line. */
  line: number;
}

export interface Page {
  fences: Fence[];
  /** Directives followed by something other than a fence. */
  orphans: { line: number; text: string }[];
  /** Links outside code: `[text](target)`, `![alt](target)`, `[label]: target`, `href="target"`. */
  links: Link[];
  /** The anchors a link's `#fragment` may name: heading slugs (GitHub's rules) and `<a id>` / `<a name>`. */
  anchors: Set<string>;
}

const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const DIRECTIVE = /^\s*<!--\s*docs:\s*(.*?)\s*-->\s*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const INLINE_LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^\s)>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/;
const HTML_ATTRIBUTE_LINK = /\b(?:href|src)\s*=\s*"([^"]*)"/g;
const HTML_ANCHOR = /<a\s[^>]*\b(?:id|name)\s*=\s*"([^"]+)"/g;

/** A `docs:` directive's text as a Directive. */
export function parseDirective(text: string, line: number): Directive {
  const skip = /^skip\s*\((.*\S.*)\)$/.exec(text);
  if (skip?.[1] !== undefined) return { kind: "skip", reason: skip[1].trim(), line };
  const expect = /^expect((?:\s+\d{3})+)$/.exec(text);
  if (expect?.[1] !== undefined) {
    const statuses = expect[1].trim().split(/\s+/).map(Number);
    if (statuses.every((status) => status >= 100 && status <= 599)) return { kind: "expect", statuses, line };
  }
  return { kind: "invalid", text, line };
}

/** The text of a heading as GitHub renders it: code, links, emphasis and tags reduced to their words. */
function headingText(markdown: string): string {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/`+/g, "")
    .replace(/(\*\*|__|\*|\b_|_\b)/g, "");
}

/** GitHub's anchor for a heading (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return headingText(heading)
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Inline code spans blanked out (same length), so that links and anchors are not looked for in them. */
function withoutCodeSpans(line: string): string {
  return line.replace(/(`+)(?:(?!\1).)+?\1/g, (span) => " ".repeat(span.length));
}

export function parsePage(text: string): Page {
  const lines = text.split("\n");
  const page: Page = { fences: [], orphans: [], links: [], anchors: new Set() };
  const slugCounts = new Map<string, number>();
  let pending: { line: number; text: string }[] = [];

  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const directive = DIRECTIVE.exec(line);
    if (directive?.[1] !== undefined) {
      pending.push({ line: index + 1, text: directive[1] });
      continue;
    }
    if (line.trim() === "") continue;

    const open = FENCE_OPEN.exec(line);
    if (open !== null) {
      const indent = open[1]?.length ?? 0;
      const marker = open[2] ?? "```";
      const closing = new RegExp(`^\\s*${marker[0] === "`" ? "`" : "~"}{${marker.length},}\\s*$`);
      const body: string[] = [];
      let end = index + 1;
      while (end < lines.length && !closing.test(lines[end] ?? "")) {
        const content = lines[end] ?? "";
        const strip = Math.min(indent, content.length - content.trimStart().length);
        body.push(content.slice(strip));
        end++;
      }
      page.fences.push({
        lang: (open[3] ?? "").toLowerCase(),
        line: index + 1,
        code: body.join("\n"),
        closed: end < lines.length,
        directives: pending.map((found) => parseDirective(found.text, found.line)),
      });
      pending = [];
      index = end;
      continue;
    }

    page.orphans.push(...pending);
    pending = [];
    const prose = withoutCodeSpans(line);
    const heading = HEADING.exec(prose);
    if (heading?.[2] !== undefined) {
      // GitHub numbers repeated headings: "errors", "errors-1", "errors-2".
      const base = slug(line.replace(/^ {0,3}#{1,6}\s+/, "").replace(/\s+#+\s*$/, ""));
      const seen = slugCounts.get(base) ?? 0;
      slugCounts.set(base, seen + 1);
      page.anchors.add(seen === 0 ? base : `${base}-${seen}`);
    }
    for (const match of prose.matchAll(HTML_ANCHOR)) if (match[1] !== undefined) page.anchors.add(match[1]);
    for (const match of prose.matchAll(INLINE_LINK)) if (match[1] !== undefined) page.links.push({ target: match[1], line: index + 1 });
    for (const match of prose.matchAll(HTML_ATTRIBUTE_LINK))
      if (match[1] !== undefined) page.links.push({ target: match[1], line: index + 1 });
    const definition = REFERENCE_DEFINITION.exec(prose);
    if (definition?.[1] !== undefined) page.links.push({ target: definition[1], line: index + 1 });
  }
  page.orphans.push(...pending);
  return page;
}

/** Whether the docs runner executes this fence: a shell block. */
export function isRunnable(fence: Fence): boolean {
  return fence.lang === "sh" || fence.lang === "bash";
}
