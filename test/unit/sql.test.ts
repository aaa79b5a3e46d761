// The SQL builders: parameters, never interpolated input; LIKE wildcards escaped.
import { describe, expect, it } from "vitest";
import { likePattern, listTasks } from "../../src/db/tasks.ts";

describe("likePattern", () => {
  it("escapes %, _ and backslash so they match literally", () => {
    expect(likePattern("100%")).toBe("%100\\%%");
    expect(likePattern("a_b")).toBe("%a\\_b%");
    expect(likePattern("c:\\dir")).toBe("%c:\\\\dir%");
  });
});

describe("listTasks", () => {
  it("passes every client value as a parameter, never in the SQL text", () => {
    const hostile = "'; DROP TABLE tasks; --";
    const statement = listTasks(
      hostile,
      { status: "pending", tag: hostile, q: hostile, sort: "title", limit: 10, priority: "high" },
      { sort: "title", value: hostile, id: 3 },
    );
    expect(statement.text).not.toContain("DROP");
    expect(statement.values).toContain(hostile);
    expect(statement.text).toMatch(/^\s*SELECT/);
  });

  it("always restricts to the owner and asks for one row more than the page", () => {
    const statement = listTasks("u1", { status: "all", sort: "-created_at", limit: 25 }, undefined);
    expect(statement.text).toContain("user_id = $1");
    expect(statement.values[0]).toBe("u1");
    expect(statement.values.at(-1)).toBe(26);
  });
});
