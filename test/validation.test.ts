// Every field rule of API.md's task table, and how request bodies are read (400, 413, 415),
// checked on POST; after every rejected write the user's tasks are listed to show nothing changed.
import { describe, expect, it } from "vitest";
import type { ProblemCode } from "../src/problems.ts";
import { call, createTask, expectProblem, newUser, type Problem, type Task, tokenFor, workerUrl } from "./support/api.ts";

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const MAX_BODY_BYTES = 64 * 1024;

const tasksPath = (user: string) => `/api/${user}/tasks`;
const taskPath = (user: string, id: number) => `/api/${user}/tasks/${id}`;

async function listTasks(user: string): Promise<Task[]> {
  const response = await call(tasksPath(user));
  expect(response.status).toBe(200);
  return (await response.json()) as Task[];
}

async function readTask(user: string, id: number): Promise<Task> {
  const response = await call(taskPath(user, id));
  expect(response.status).toBe(200);
  return (await response.json()) as Task;
}

/** POSTs `body` (a string is sent as is) for a fresh user: expects 201 and returns the task. */
async function created(body: unknown): Promise<Task> {
  const user = newUser();
  const response = await call(tasksPath(user), { method: "POST", body });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Task;
}

/** POSTs `body` for a fresh user: expects the problem, and that the user still has no task. */
async function rejected(body: unknown, code: ProblemCode, path?: string, headers?: Record<string, string>): Promise<Problem> {
  const user = newUser();
  const response = await call(tasksPath(user), { method: "POST", body, ...(headers ? { headers } : {}) });
  const result = await expectProblem(response, code, path);
  expect(await listTasks(user)).toEqual([]);
  return result;
}

/** POSTs raw bytes or a stream, bypassing `call`'s JSON encoding. */
async function postRaw(user: string, body: BodyInit, headers: Record<string, string>): Promise<Response> {
  return fetch(`${workerUrl()}${tasksPath(user)}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${await tokenFor(user)}`, ...headers },
    body,
    duplex: "half",
  } as RequestInit);
}

describe("title", () => {
  it("is trimmed", async () => {
    expect((await created({ title: "  \t Buy milk \n " })).title).toBe("Buy milk");
  });

  it("accepts 200 characters counted in code points (200 emoji)", async () => {
    const title = "😀".repeat(200);
    expect((await created({ title })).title).toBe(title);
  });

  it("accepts 200 characters surrounded by whitespace, counting after trimming", async () => {
    const title = "x".repeat(200);
    expect((await created({ title: `   ${title}   ` })).title).toBe(title);
  });

  it("rejects 201 characters (201 emoji) with 422 naming title", async () => {
    await rejected({ title: "😀".repeat(201) }, "validation_failed", "title");
  });

  it("rejects an empty title with 422 naming title", async () => {
    await rejected({ title: "" }, "validation_failed", "title");
  });

  it("rejects a whitespace-only title with 422 naming title", async () => {
    await rejected({ title: " \t\n " }, "validation_failed", "title");
  });

  it('rejects a missing title with 422 "is required"', async () => {
    const body = await rejected({ description: "no title" }, "validation_failed", "title");
    expect(body.errors?.find((error) => error.path === "title")?.message).toMatch(/required/);
  });

  it("rejects a non-string title with 422 naming title", async () => {
    await rejected({ title: 42 }, "validation_failed", "title");
  });

  it("rejects a null title with 422 naming title", async () => {
    await rejected({ title: null }, "validation_failed", "title");
  });
});

describe("description", () => {
  it("accepts null", async () => {
    expect((await created({ title: "t", description: null })).description).toBeNull();
  });

  it("accepts 1000 characters counted in code points (1000 emoji)", async () => {
    const description = "😀".repeat(1000);
    expect((await created({ title: "t", description })).description).toBe(description);
  });

  it("rejects 1001 characters with 422 naming description", async () => {
    await rejected({ title: "t", description: "x".repeat(1001) }, "validation_failed", "description");
  });

  it("rejects a non-string description with 422 naming description", async () => {
    await rejected({ title: "t", description: ["a"] }, "validation_failed", "description");
  });
});

describe("priority", () => {
  for (const priority of ["low", "medium", "high"]) {
    it(`accepts "${priority}"`, async () => {
      expect((await created({ title: "t", priority })).priority).toBe(priority);
    });
  }

  for (const priority of ["urgent", "HIGH", "", null, 1]) {
    it(`rejects ${JSON.stringify(priority)} with 422 naming priority`, async () => {
      await rejected({ title: "t", priority }, "validation_failed", "priority");
    });
  }
});

describe("completed", () => {
  it("accepts a boolean", async () => {
    expect((await created({ title: "t", completed: true })).completed).toBe(true);
  });

  for (const completed of ["true", 1, null]) {
    it(`rejects ${JSON.stringify(completed)} with 422 naming completed`, async () => {
      await rejected({ title: "t", completed }, "validation_failed", "completed");
    });
  }
});

describe("tags", () => {
  it("trims each tag", async () => {
    expect((await created({ title: "t", tags: ["  home ", "\twork"] })).tags).toEqual(["home", "work"]);
  });

  it("removes duplicates, keeping first-seen order", async () => {
    expect((await created({ title: "t", tags: ["b", " a ", "b", "a"] })).tags).toEqual(["b", "a"]);
  });

  it("accepts a tag of 32 characters counted in code points (32 emoji)", async () => {
    const tag = "😀".repeat(32);
    expect((await created({ title: "t", tags: [tag] })).tags).toEqual([tag]);
  });

  it("accepts 10 distinct tags", async () => {
    const tags = Array.from({ length: 10 }, (_, i) => `tag${i}`);
    expect((await created({ title: "t", tags })).tags).toEqual(tags);
  });

  it("rejects 11 distinct tags with 422 naming tags", async () => {
    await rejected({ title: "t", tags: Array.from({ length: 11 }, (_, i) => `tag${i}`) }, "validation_failed", "tags");
  });

  it('rejects a tag of 33 characters with 422 naming "tags.0"', async () => {
    await rejected({ title: "t", tags: ["x".repeat(33)] }, "validation_failed", "tags.0");
  });

  it('rejects an empty tag with 422 naming "tags.1"', async () => {
    await rejected({ title: "t", tags: ["ok", ""] }, "validation_failed", "tags.1");
  });

  it('rejects a whitespace-only tag with 422 naming "tags.1"', async () => {
    await rejected({ title: "t", tags: ["ok", "   "] }, "validation_failed", "tags.1");
  });

  it('rejects a non-string tag with 422 naming "tags.1"', async () => {
    await rejected({ title: "t", tags: ["ok", 7] }, "validation_failed", "tags.1");
  });

  it("rejects a string instead of an array with 422 naming tags", async () => {
    await rejected({ title: "t", tags: "home" }, "validation_failed", "tags");
  });

  it("rejects null tags with 422 naming tags", async () => {
    await rejected({ title: "t", tags: null }, "validation_failed", "tags");
  });
});

describe("due_date", () => {
  it("accepts an RFC 3339 timestamp in UTC and returns the same instant with a Z suffix", async () => {
    const task = await created({ title: "t", due_date: "2026-12-01T17:00:00Z" });
    expect(task.due_date).toMatch(RFC3339_UTC);
    expect(Date.parse(task.due_date ?? "")).toBe(Date.parse("2026-12-01T17:00:00Z"));
  });

  it("returns a timestamp sent with an offset in UTC", async () => {
    expect((await created({ title: "t", due_date: "2026-12-01T18:00:00+01:00" })).due_date).toBe("2026-12-01T17:00:00.000Z");
  });

  it("accepts null", async () => {
    expect((await created({ title: "t", due_date: null })).due_date).toBeNull();
  });

  it("accepts 29 February of a leap year", async () => {
    expect((await created({ title: "t", due_date: "2028-02-29T00:00:00Z" })).due_date).toBe("2028-02-29T00:00:00.000Z");
  });

  const invalid: unknown[] = [
    "2026-12-01",
    "2026-12-01T17:00:00",
    "2026-02-30T00:00:00Z",
    "2027-02-29T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-12-01T24:00:00Z",
    "not a date",
    "",
    12345,
    true,
  ];
  for (const due_date of invalid) {
    it(`rejects ${JSON.stringify(due_date)} with 422 naming due_date`, async () => {
      await rejected({ title: "t", due_date }, "validation_failed", "due_date");
    });
  }

  // Python's datetime.utcnow().isoformat() and the browser's <input type="datetime-local">.
  for (const due_date of ["2026-12-03T14:30:00", "2026-12-03T14:30:00.123456", "2026-12-03T14:30"]) {
    it(`refuses the local time ${due_date} and says exactly what to send`, async () => {
      const body = await rejected({ title: "t", due_date }, "validation_failed", "due_date");
      expect(body.errors).toEqual([{ path: "due_date", message: "needs a time zone offset, like 2026-12-03T14:30:00Z or +01:00" }]);
      expect(body.detail).toBe("due_date needs a time zone offset, like 2026-12-03T14:30:00Z or +01:00");
    });
  }

  it("rejects with 422 a due date whose UTC form is past year 9999, which RFC 3339 cannot express", async () => {
    // Valid RFC 3339 input, but 10000-01-01T00:30:00Z has no four-digit year: accepting it
    // would break the promise that every returned timestamp is RFC 3339 in UTC.
    await rejected({ title: "t", due_date: "9999-12-31T23:30:00-01:00" }, "validation_failed", "due_date");
  });
});

describe("fields", () => {
  it('rejects an unknown field "foo" with 422 naming foo, and creates nothing', async () => {
    await rejected({ title: "t", foo: "bar" }, "validation_failed", "foo");
  });

  it('rejects a "__proto__" field as unknown with 422 naming it', async () => {
    await rejected('{"title":"t","__proto__":{"admin":true}}', "validation_failed", "__proto__");
  });

  it("ignores read-only fields on create", async () => {
    const user = newUser();
    const body = { title: "t", id: 1, user_id: newUser(), completed_at: "x", created_at: 0, updated_at: null, version: 50 };
    const response = await call(tasksPath(user), { method: "POST", body });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ user_id: user, completed_at: null, version: 1 });
  });

  it("lists every error at once", async () => {
    const body = await rejected(
      { title: "", description: 5, priority: "urgent", completed: "no", tags: ["ok", 1], due_date: "soon", foo: 1 },
      "validation_failed",
    );
    expect(body.errors?.map((error) => error.path).sort()).toEqual(
      ["completed", "description", "due_date", "foo", "priority", "tags.1", "title"].sort(),
    );
  });

  it("lists at most 20 errors and says how many more there were, so a 64 KiB body cannot make a huge answer", async () => {
    const tags = `[${Array(Math.floor((MAX_BODY_BYTES - 100) / 2))
      .fill(1)
      .join(",")}]`;
    const user = newUser();
    const response = await call(tasksPath(user), { method: "POST", body: `{"title":"x","tags":${tags}}` });
    const text = await response.clone().text();
    expect(text.length).toBeLessThan(4_096);
    const body = await expectProblem(response, "validation_failed", "tags.0");
    expect(body.errors).toHaveLength(20);
    expect(body.detail).toMatch(/^tags\.0 must be a string \(and \d+ more errors, 20 listed\)$/);
    const more = Number(/and (\d+) more/.exec(body.detail)?.[1]);
    expect(more).toBeGreaterThan(16_000);
    expect(await listTasks(user)).toEqual([]);
  });

  it("shows at most 100 characters of a field name it did not expect, in errors and in detail", async () => {
    const name = "f".repeat(10_000);
    const body = await rejected(`{"title":"t","${name}":1}`, "validation_failed");
    const [error] = body.errors ?? [];
    expect(error?.path).toBe(`${"f".repeat(100)}…`);
    expect(body.detail.length).toBeLessThan(200);
  });
});

describe("text that Postgres cannot store", () => {
  it('rejects "\\u0000" in title with 422, not 500', async () => {
    await rejected({ title: "a\u0000b" }, "validation_failed", "title");
  });

  it('rejects "\\u0000" in description with 422, not 500', async () => {
    await rejected({ title: "t", description: "a\u0000b" }, "validation_failed", "description");
  });

  it('rejects "\\u0000" in a tag with 422, not 500', async () => {
    await rejected({ title: "t", tags: ["a\u0000b"] }, "validation_failed", "tags.0");
  });

  it('rejects "\\u0000" in due_date with 422, not 500', async () => {
    await rejected({ title: "t", due_date: "2026-12-01T17:00:00Z\u0000" }, "validation_failed", "due_date");
  });

  it("rejects an unpaired surrogate in title with 422, not 500", async () => {
    await rejected('{"title":"a\\ud800b"}', "validation_failed", "title");
  });
});

describe("the same rules on PUT and PATCH", () => {
  it("PUT rejects a 201-character title with 422 and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    await expectProblem(
      await call(taskPath(user, task.id), { method: "PUT", body: { title: "x".repeat(201) } }),
      "validation_failed",
      "title",
    );
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("PATCH rejects a whitespace-only title with 422 and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    await expectProblem(await call(taskPath(user, task.id), { method: "PATCH", body: { title: "   " } }), "validation_failed", "title");
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("PATCH trims tags and removes duplicates", async () => {
    const user = newUser();
    const task = await createTask(user);
    const response = await call(taskPath(user, task.id), { method: "PATCH", body: { tags: ["b", " a ", "b", "a"] } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Task).tags).toEqual(["b", "a"]);
  });

  it("PATCH rejects a due date without offset with 422 and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    const response = await call(taskPath(user, task.id), { method: "PATCH", body: { due_date: "2026-12-01T17:00:00" } });
    await expectProblem(response, "validation_failed", "due_date");
    expect(await readTask(user, task.id)).toEqual(task);
  });
});

describe("request bodies", () => {
  it("rejects invalid JSON with 400", async () => {
    await rejected('{"title": "t",', "malformed_json");
  });

  it("rejects a JSON array with 400", async () => {
    await rejected('[{"title":"t"}]', "malformed_json");
  });

  it("rejects a JSON string with 400", async () => {
    await rejected('"t"', "malformed_json");
  });

  it("rejects JSON null with 400", async () => {
    await rejected("null", "malformed_json");
  });

  it("rejects a JSON number with 400", async () => {
    await rejected("42", "malformed_json");
  });

  it("rejects a body that is not UTF-8 with 400", async () => {
    const user = newUser();
    const bytes = new Uint8Array([...new TextEncoder().encode('{"title":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    await expectProblem(await postRaw(user, bytes, { "Content-Type": "application/json" }), "malformed_json");
    expect(await listTasks(user)).toEqual([]);
  });

  it("rejects a POST with no body with 400", async () => {
    const user = newUser();
    await expectProblem(await call(tasksPath(user), { method: "POST" }), "malformed_json");
    expect(await listTasks(user)).toEqual([]);
  });

  it("rejects a POST with an empty body and Content-Type application/json with 400", async () => {
    await rejected("", "malformed_json");
  });

  it("rejects a JSON body sent as text/plain with 415", async () => {
    await rejected('{"title":"t"}', "unsupported_media_type", undefined, { "Content-Type": "text/plain" });
  });

  it("rejects a JSON body sent as application/x-www-form-urlencoded with 415", async () => {
    await rejected('{"title":"t"}', "unsupported_media_type", undefined, { "Content-Type": "application/x-www-form-urlencoded" });
  });

  it("rejects a JSON body sent without a Content-Type with 415", async () => {
    const user = newUser();
    await expectProblem(await postRaw(user, new TextEncoder().encode('{"title":"t"}'), {}), "unsupported_media_type");
    expect(await listTasks(user)).toEqual([]);
  });

  it("accepts Content-Type application/json; charset=utf-8", async () => {
    const user = newUser();
    const response = await call(tasksPath(user), {
      method: "POST",
      body: { title: "t" },
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
    expect(response.status).toBe(201);
  });

  it("accepts the media type in any letter case", async () => {
    const user = newUser();
    const response = await call(tasksPath(user), { method: "POST", body: { title: "t" }, headers: { "Content-Type": "Application/JSON" } });
    expect(response.status).toBe(201);
  });

  it("accepts a body of exactly 64 KiB", async () => {
    const json = '{"title":"t"}';
    const response = await call(tasksPath(newUser()), { method: "POST", body: json + " ".repeat(MAX_BODY_BYTES - json.length) });
    expect(response.status).toBe(201);
  });

  it("rejects a body over 64 KiB (with Content-Length) with 413", async () => {
    const json = '{"title":"t"}';
    await rejected(json + " ".repeat(MAX_BODY_BYTES + 1 - json.length), "body_too_large");
  });

  it("rejects a body over 64 KiB sent chunked, without Content-Length, with 413", async () => {
    const user = newUser();
    // {"title":"t"} then 64 KiB of spaces: valid JSON, 13 bytes over the limit.
    const chunk = new TextEncoder().encode(" ".repeat(4096));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"title":"t"}'));
      },
      pull(controller) {
        if (sent >= MAX_BODY_BYTES) {
          controller.close();
          return;
        }
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await postRaw(user, stream, { "Content-Type": "application/json" });
    await expectProblem(response, "body_too_large");
    expect(await listTasks(user)).toEqual([]);
  });
});
