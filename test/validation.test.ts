// Every field rule of API.md's task table, and how request bodies are read (400, 413, 415),
// checked on POST; after every rejected write the user's tasks are listed to show nothing changed.
import { describe, expect, it } from "vitest";
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
async function rejected(body: unknown, status: number, path?: string, headers?: Record<string, string>): Promise<Problem> {
  const user = newUser();
  const response = await call(tasksPath(user), { method: "POST", body, ...(headers ? { headers } : {}) });
  const result = await expectProblem(response, status, path);
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
    await rejected({ title: "😀".repeat(201) }, 422, "title");
  });

  it("rejects an empty title with 422 naming title", async () => {
    await rejected({ title: "" }, 422, "title");
  });

  it("rejects a whitespace-only title with 422 naming title", async () => {
    await rejected({ title: " \t\n " }, 422, "title");
  });

  it('rejects a missing title with 422 "is required"', async () => {
    const body = await rejected({ description: "no title" }, 422, "title");
    expect(body.errors?.find((error) => error.path === "title")?.message).toMatch(/required/);
  });

  it("rejects a non-string title with 422 naming title", async () => {
    await rejected({ title: 42 }, 422, "title");
  });

  it("rejects a null title with 422 naming title", async () => {
    await rejected({ title: null }, 422, "title");
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
    await rejected({ title: "t", description: "x".repeat(1001) }, 422, "description");
  });

  it("rejects a non-string description with 422 naming description", async () => {
    await rejected({ title: "t", description: ["a"] }, 422, "description");
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
      await rejected({ title: "t", priority }, 422, "priority");
    });
  }
});

describe("completed", () => {
  it("accepts a boolean", async () => {
    expect((await created({ title: "t", completed: true })).completed).toBe(true);
  });

  for (const completed of ["true", 1, null]) {
    it(`rejects ${JSON.stringify(completed)} with 422 naming completed`, async () => {
      await rejected({ title: "t", completed }, 422, "completed");
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
    await rejected({ title: "t", tags: Array.from({ length: 11 }, (_, i) => `tag${i}`) }, 422, "tags");
  });

  it('rejects a tag of 33 characters with 422 naming "tags.0"', async () => {
    await rejected({ title: "t", tags: ["x".repeat(33)] }, 422, "tags.0");
  });

  it('rejects an empty tag with 422 naming "tags.1"', async () => {
    await rejected({ title: "t", tags: ["ok", ""] }, 422, "tags.1");
  });

  it('rejects a whitespace-only tag with 422 naming "tags.1"', async () => {
    await rejected({ title: "t", tags: ["ok", "   "] }, 422, "tags.1");
  });

  it('rejects a non-string tag with 422 naming "tags.1"', async () => {
    await rejected({ title: "t", tags: ["ok", 7] }, 422, "tags.1");
  });

  it("rejects a string instead of an array with 422 naming tags", async () => {
    await rejected({ title: "t", tags: "home" }, 422, "tags");
  });

  it("rejects null tags with 422 naming tags", async () => {
    await rejected({ title: "t", tags: null }, 422, "tags");
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
      await rejected({ title: "t", due_date }, 422, "due_date");
    });
  }

  it("rejects with 422 a due date whose UTC form is past year 9999, which RFC 3339 cannot express", async () => {
    // Valid RFC 3339 input, but 10000-01-01T00:30:00Z has no four-digit year: accepting it
    // would break the promise that every returned timestamp is RFC 3339 in UTC.
    await rejected({ title: "t", due_date: "9999-12-31T23:30:00-01:00" }, 422, "due_date");
  });
});

describe("fields", () => {
  it('rejects an unknown field "foo" with 422 naming foo, and creates nothing', async () => {
    await rejected({ title: "t", foo: "bar" }, 422, "foo");
  });

  it('rejects a "__proto__" field as unknown with 422 naming it', async () => {
    await rejected('{"title":"t","__proto__":{"admin":true}}', 422, "__proto__");
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
      422,
    );
    expect(body.errors?.map((error) => error.path).sort()).toEqual(
      ["completed", "description", "due_date", "foo", "priority", "tags.1", "title"].sort(),
    );
  });
});

describe("text that Postgres cannot store", () => {
  it('rejects "\\u0000" in title with 422, not 500', async () => {
    await rejected({ title: "a\u0000b" }, 422, "title");
  });

  it('rejects "\\u0000" in description with 422, not 500', async () => {
    await rejected({ title: "t", description: "a\u0000b" }, 422, "description");
  });

  it('rejects "\\u0000" in a tag with 422, not 500', async () => {
    await rejected({ title: "t", tags: ["a\u0000b"] }, 422, "tags.0");
  });

  it('rejects "\\u0000" in due_date with 422, not 500', async () => {
    await rejected({ title: "t", due_date: "2026-12-01T17:00:00Z\u0000" }, 422, "due_date");
  });

  it("rejects an unpaired surrogate in title with 422, not 500", async () => {
    await rejected('{"title":"a\\ud800b"}', 422, "title");
  });
});

describe("the same rules on PUT and PATCH", () => {
  it("PUT rejects a 201-character title with 422 and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    await expectProblem(await call(taskPath(user, task.id), { method: "PUT", body: { title: "x".repeat(201) } }), 422, "title");
    expect(await readTask(user, task.id)).toEqual(task);
  });

  it("PATCH rejects a whitespace-only title with 422 and leaves the task unchanged", async () => {
    const user = newUser();
    const task = await createTask(user);
    await expectProblem(await call(taskPath(user, task.id), { method: "PATCH", body: { title: "   " } }), 422, "title");
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
    await expectProblem(response, 422, "due_date");
    expect(await readTask(user, task.id)).toEqual(task);
  });
});

describe("request bodies", () => {
  it("rejects invalid JSON with 400", async () => {
    await rejected('{"title": "t",', 400);
  });

  it("rejects a JSON array with 400", async () => {
    await rejected('[{"title":"t"}]', 400);
  });

  it("rejects a JSON string with 400", async () => {
    await rejected('"t"', 400);
  });

  it("rejects JSON null with 400", async () => {
    await rejected("null", 400);
  });

  it("rejects a JSON number with 400", async () => {
    await rejected("42", 400);
  });

  it("rejects a body that is not UTF-8 with 400", async () => {
    const user = newUser();
    const bytes = new Uint8Array([...new TextEncoder().encode('{"title":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}')]);
    await expectProblem(await postRaw(user, bytes, { "Content-Type": "application/json" }), 400);
    expect(await listTasks(user)).toEqual([]);
  });

  it("rejects a POST with no body with 400", async () => {
    const user = newUser();
    await expectProblem(await call(tasksPath(user), { method: "POST" }), 400);
    expect(await listTasks(user)).toEqual([]);
  });

  it("rejects a POST with an empty body and Content-Type application/json with 400", async () => {
    await rejected("", 400);
  });

  it("rejects a JSON body sent as text/plain with 415", async () => {
    await rejected('{"title":"t"}', 415, undefined, { "Content-Type": "text/plain" });
  });

  it("rejects a JSON body sent as application/x-www-form-urlencoded with 415", async () => {
    await rejected('{"title":"t"}', 415, undefined, { "Content-Type": "application/x-www-form-urlencoded" });
  });

  it("rejects a JSON body sent without a Content-Type with 415", async () => {
    const user = newUser();
    await expectProblem(await postRaw(user, new TextEncoder().encode('{"title":"t"}'), {}), 415);
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
    await rejected(json + " ".repeat(MAX_BODY_BYTES + 1 - json.length), 413);
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
    await expectProblem(response, 413);
    expect(await listTasks(user)).toEqual([]);
  });
});
