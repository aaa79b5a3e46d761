// SQL as tagged templates: values are always bound parameters, numbered in order; only fragments
// are spliced as text; LIKE wildcards in a search term match themselves.
import { describe, expect, it } from "vitest";
import { compile, join, sql } from "../../src/db/sql.ts";
import { likePattern, listStatement } from "../../src/db/tasks.ts";

describe("sql`…`", () => {
  it("binds every interpolated value as a numbered parameter, in order", () => {
    const statement = compile(sql`SELECT * FROM tasks WHERE user_id = ${"u1"} AND id = ${42} AND tags @> ${["a"]}::text[]`);
    expect(statement).toEqual({
      text: "SELECT * FROM tasks WHERE user_id = $1 AND id = $2 AND tags @> $3::text[]",
      values: ["u1", 42, ["a"]],
    });
  });

  it("splices nested fragments as text and keeps numbering across them", () => {
    const inner = sql`id = ${7}`;
    const statement = compile(sql`SELECT ${"x"} WHERE ${inner} AND ${join([sql`a = ${1}`, sql`b = ${2}`], sql` OR `)}`);
    expect(statement).toEqual({ text: "SELECT $1 WHERE id = $2 AND a = $3 OR b = $4", values: ["x", 7, 1, 2] });
  });

  it("never puts a string value into the text, whatever it contains", () => {
    const hostile = "'; DROP TABLE tasks; --";
    const statement = compile(sql`SELECT ${hostile}, ${"$1"}, ${sql`1`}`);
    expect(statement.text).toBe("SELECT $1, $2, 1");
    expect(statement.values).toEqual([hostile, "$1"]);
  });

  it("binds null and undefined as parameters too", () => {
    expect(compile(sql`SELECT ${null}, ${undefined}`)).toEqual({ text: "SELECT $1, $2", values: [null, undefined] });
  });
});

describe("likePattern", () => {
  it("escapes %, _ and backslash so they match literally", () => {
    expect(likePattern("100%")).toBe("%100\\%%");
    expect(likePattern("a_b")).toBe("%a\\_b%");
    expect(likePattern("c:\\dir")).toBe("%c:\\\\dir%");
  });
});

describe("listStatement", () => {
  it("passes every client value as a parameter, never in the SQL text", () => {
    const hostile = "'; DROP TABLE tasks; --";
    const statement = compile(
      listStatement(
        hostile,
        { status: "pending", tag: hostile, q: hostile, sort: "title", limit: 10, priority: "high" },
        { value: hostile, id: 3 },
      ),
    );
    expect(statement.text).not.toContain("DROP");
    expect(statement.values).toContain(hostile);
    expect(statement.text).toMatch(/^\s*SELECT/);
  });

  it("always restricts to the owner and asks for one row more than the page", () => {
    const statement = compile(listStatement("u1", { status: "all", sort: "-created_at", limit: 25 }, undefined));
    expect(statement.text).toContain("t.user_id = $");
    expect(statement.values).toContain("u1");
    expect(statement.values.at(-1)).toBe(26);
  });
});
