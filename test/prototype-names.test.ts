// Names that Object.prototype also has (__proto__, constructor, toString, hasOwnProperty, …) are
// names like any other: in a query string an unknown parameter (422 naming it, never "given more
// than once" and never a 500), in a body an unknown field, on every route that reads them.
import { describe, expect, it } from "vitest";
import { call, createTask, expectProblem, newUser, type Problem } from "./support/api.ts";

const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__", "isPrototypeOf", "prototype"];

/** The query routes of API.md, for a user with one recurring task. */
async function queryRoutes(): Promise<string[]> {
  const user = newUser();
  const task = await createTask(user, {
    title: "recurring",
    due_date: "2030-01-07T09:00:00Z",
    recurrence: { rule: "FREQ=WEEKLY", time_zone: "UTC" },
  });
  return [`/api/${user}/tasks`, `/api/${user}/changes`, `/api/${user}/tasks/${task.id}/occurrences`];
}

const messages = (body: Problem) => body.errors?.map((error) => [error.path, error.message]);

describe("query parameter names", () => {
  it.each(NAMES)("?%s=1 is a 422: not a known query parameter, on every route that reads a query", async (name) => {
    for (const route of await queryRoutes()) {
      const body = await expectProblem(await call(`${route}?${encodeURIComponent(name)}=1`), "validation_failed", name);
      expect(messages(body), route).toEqual([[name, "is not a known query parameter"]]);
    }
  });

  it("beside a valid known parameter, the name is still refused", async () => {
    for (const route of await queryRoutes()) {
      const body = await expectProblem(await call(`${route}?limit=5&constructor=x`), "validation_failed");
      expect(messages(body), route).toEqual([["constructor", "is not a known query parameter"]]);
    }
  });

  it("?__proto__ twice is a 422 for the repetition, as any name given twice", async () => {
    const [tasks] = await queryRoutes();
    const body = await expectProblem(await call(`${tasks}?__proto__=1&__proto__=2`), "validation_failed", "__proto__");
    expect(messages(body)).toEqual([["__proto__", "must be given at most once"]]);
  });
});

describe("body field names", () => {
  it.each(NAMES)("%s in a task body is a 422 naming it: POST, PATCH and a batch's create and update alike", async (name) => {
    const user = newUser();
    const task = await createTask(user, { title: "exists" });
    // JSON.parse makes "__proto__" an own property like any other key.
    const body = `{"title":"t",${JSON.stringify(name)}:1}`;
    const post = await call(`/api/${user}/tasks`, { method: "POST", body });
    expect(messages(await expectProblem(post, "validation_failed", name))).toEqual([[name, "is not a writable field"]]);
    const patch = await call(`/api/${user}/tasks/${task.id}`, { method: "PATCH", body });
    expect(messages(await expectProblem(patch, "validation_failed", name))).toEqual([[name, "is not a writable field"]]);
    for (const operation of [`{"op":"create","task":${body}}`, `{"op":"update","id":${task.id},"task":${body}}`]) {
      const batch = await call(`/api/${user}/tasks/batch`, { method: "POST", body: `{"operations":[${operation}]}` });
      expect(messages(await expectProblem(batch, "validation_failed")), operation).toEqual([
        [`operations/0/task.${name}`, "is not a writable field"],
      ]);
    }
    // Nothing was written.
    expect(((await (await call(`/api/${user}/tasks`)).json()) as unknown[]).length).toBe(1);
  });
});
