// SQL as tagged templates, after porsager/postgres: sql`… WHERE user_id = ${userId}` binds every
// interpolated value as a parameter ($1, $2, … numbered here, never by hand). Only another sql
// fragment is spliced in as text, so identifiers and keywords come from fragments written in
// this code (typed whitelists such as a Record<SortKey, Sql>), never from input.

const PARAMETER = Symbol("parameter");
type Chunk = string | { [PARAMETER]: unknown };

export class Sql {
  /** Text and parameters in order; nested fragments are flattened when built. */
  readonly chunks: readonly Chunk[];

  constructor(chunks: readonly Chunk[]) {
    this.chunks = chunks;
  }
}

/** One parameterized statement as the driver takes it: a single round trip. */
export interface Statement {
  text: string;
  values: unknown[];
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  const chunks: Chunk[] = [];
  strings.forEach((text, index) => {
    chunks.push(text);
    if (index >= values.length) return;
    const value = values[index];
    if (value instanceof Sql) chunks.push(...value.chunks);
    else chunks.push({ [PARAMETER]: value });
  });
  return new Sql(chunks);
}

/** Fragments joined by a separator fragment, e.g. join(conditions, sql` AND `). */
export function join(fragments: readonly Sql[], separator: Sql): Sql {
  const chunks: Chunk[] = [];
  fragments.forEach((fragment, index) => {
    if (index > 0) chunks.push(...separator.chunks);
    chunks.push(...fragment.chunks);
  });
  return new Sql(chunks);
}

/** The statement's text with numbered placeholders, and the values they stand for. */
export function compile(fragment: Sql): Statement {
  let text = "";
  const values: unknown[] = [];
  for (const chunk of fragment.chunks) {
    if (typeof chunk === "string") text += chunk;
    else {
      values.push(chunk[PARAMETER]);
      text += `$${values.length}`;
    }
  }
  return { text, values };
}
