// Conditional requests (API.md "Headers"; RFC 9110 §13): ETag from `version` on every single-task
// response, If-None-Match on GET (304), If-Match on PUT, PATCH, DELETE and /complete (412 when
// stale, nothing changed), and no lost update when clients race with the same If-Match.
import { describe, expect, it } from "vitest";
import { call, createTask, expectProblem, newUser, type Task, untilAvailable } from "./support/api.ts";

const taskPath = (user: string, id: number) => `/api/${user}/tasks/${id}`;
const tag = (version: number) => `"${version}"`;

async function current(user: string, id: number): Promise<Task> {
  const response = await call(taskPath(user, id));
  expect(response.status).toBe(200);
  return (await response.json()) as Task;
}

describe("ETag", () => {
  it("is on every single-task response, is the quoted version, and changes with every write", async () => {
    const user = newUser();
    const created = await call(`/api/${user}/tasks`, { method: "POST", body: { title: "tagged" } });
    expect(created.status).toBe(201);
    const task = (await created.json()) as Task;
    expect(created.headers.get("ETag")).toBe(tag(task.version));
    const path = taskPath(user, task.id);
    const writes: Array<[string, string, unknown]> = [
      ["GET", path, undefined],
      ["PUT", path, { title: "replaced" }],
      ["PATCH", path, { description: "patched" }],
      ["PATCH", `${path}/complete`, undefined],
    ];
    let version = task.version;
    for (const [method, target, body] of writes) {
      const response = await call(target, { method, body });
      expect(response.status, `${method} ${target}`).toBe(200);
      const json = (await response.json()) as Task;
      if (method !== "GET") {
        expect(json.version).toBe(version + 1);
        version = json.version;
      }
      expect(response.headers.get("ETag"), `${method} ${target}`).toBe(tag(json.version));
    }
  });

  it("is not on list responses or 404s", async () => {
    const user = newUser();
    await createTask(user);
    expect((await call(`/api/${user}/tasks`)).headers.get("ETag")).toBeNull();
    expect((await call(taskPath(user, 999_999_999))).headers.get("ETag")).toBeNull();
  });
});

describe("If-None-Match on GET", () => {
  it("answers 304 with the ETag and no body when the client's tag is current", async () => {
    const user = newUser();
    const task = await createTask(user);
    const response = await call(taskPath(user, task.id), { headers: { "If-None-Match": tag(task.version) } });
    expect(response.status).toBe(304);
    expect(response.headers.get("ETag")).toBe(tag(task.version));
    expect(response.headers.get("X-Request-Id")).toBeTruthy();
    expect(await response.text()).toBe("");
  });

  it.each([
    ["*", "*"],
    ["a list holding the current tag", '"9999", "1"'],
    ["the weak form of the current tag", 'W/"1"'],
  ])("answers 304 for %s", async (_label, header) => {
    const user = newUser();
    const task = await createTask(user);
    expect(task.version).toBe(1);
    expect((await call(taskPath(user, task.id), { headers: { "If-None-Match": header } })).status).toBe(304);
  });

  it("answers 200 with the task when the client's tag is stale", async () => {
    const user = newUser();
    const task = await createTask(user);
    await call(taskPath(user, task.id), { method: "PATCH", body: { title: "newer" } });
    const response = await call(taskPath(user, task.id), { headers: { "If-None-Match": tag(task.version) } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ title: "newer", version: task.version + 1 });
    expect(response.headers.get("ETag")).toBe(tag(task.version + 1));
  });

  it("answers 404, not 304, for a missing task or another user's, even with If-None-Match: *", async () => {
    const owner = newUser();
    const task = await createTask(owner);
    const other = newUser();
    await expectProblem(await call(taskPath(other, task.id), { headers: { "If-None-Match": "*" } }), "task_not_found");
    await expectProblem(await call(taskPath(owner, 999_999_999), { headers: { "If-None-Match": "*" } }), "task_not_found");
  });
});

type Write = { name: string; method: string; suffix: string; body?: unknown; status: number };
const WRITES: Write[] = [
  { name: "PUT", method: "PUT", suffix: "", body: { title: "put" }, status: 200 },
  { name: "PATCH", method: "PATCH", suffix: "", body: { title: "patched" }, status: 200 },
  { name: "PATCH /complete", method: "PATCH", suffix: "/complete", status: 200 },
  { name: "DELETE", method: "DELETE", suffix: "", status: 204 },
];

describe.each(WRITES)("If-Match on $name", ({ method, suffix, body, status }) => {
  const send = (user: string, id: number, ifMatch: string) =>
    call(`${taskPath(user, id)}${suffix}`, { method, body, headers: { "If-Match": ifMatch } });

  it("applies the write when the tag is current", async () => {
    const user = newUser();
    const task = await createTask(user);
    const response = await send(user, task.id, tag(task.version));
    expect(response.status).toBe(status);
    if (status === 200) expect(response.headers.get("ETag")).toBe(tag(task.version + 1));
  });

  it("applies the write for a list holding the current tag, and for *", async () => {
    const user = newUser();
    const first = await createTask(user);
    expect((await send(user, first.id, `"77", ${tag(first.version)}`)).status).toBe(status);
    const second = await createTask(user);
    expect((await send(user, second.id, "*")).status).toBe(status);
  });

  it.each([
    ["a stale tag", (version: number) => tag(version + 5)],
    ["the weak form of the current tag (strong comparison)", (version: number) => `W/${tag(version)}`],
    ["a malformed tag", (version: number) => String(version)],
    ["a tag beyond any version", () => '"99999999999999"'],
  ])("answers 412 for %s and changes nothing", async (_label, header) => {
    const user = newUser();
    const task = await createTask(user, { title: "original" });
    const response = await send(user, task.id, header(task.version));
    await expectProblem(response, "precondition_failed");
    expect(await current(user, task.id)).toEqual(task);
  });

  it("answers 404, not 412, for a missing task or another user's", async () => {
    const owner = newUser();
    const task = await createTask(owner);
    await expectProblem(await send(owner, 999_999_999, tag(1)), "task_not_found");
    await expectProblem(await send(owner, 999_999_999, "*"), "task_not_found");
    const other = newUser();
    await expectProblem(
      await call(`${taskPath(other, task.id)}${suffix}`, { method, body, headers: { "If-Match": tag(task.version) } }),
      "task_not_found",
    );
    expect(await current(owner, task.id)).toEqual(task);
  });
});

describe("concurrent edits against the real database", () => {
  it("20 parallel PUTs with the same If-Match: exactly one 200, nineteen 412, one version bump", async () => {
    const user = newUser();
    const task = await createTask(user, { title: "contended" });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        untilAvailable(() =>
          call(taskPath(user, task.id), { method: "PUT", body: { title: `writer ${i}` }, headers: { "If-Match": tag(task.version) } }),
        ),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(19);
    const winner = responses.find((response) => response.status === 200);
    const written = (await winner?.json()) as Task;
    const after = await current(user, task.id);
    expect(after.version).toBe(task.version + 1);
    expect(after.title).toBe(written.title);
  });

  it("20 parallel toggles leave version equal to 1 + the number of 200s", async () => {
    const user = newUser();
    const task = await createTask(user);
    // A 503 database_unavailable says the request had no effect, so even a toggle is sent again.
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => untilAvailable(() => call(`${taskPath(user, task.id)}/complete`, { method: "PATCH" }))),
    );
    const ok = responses.filter((response) => response.status === 200).length;
    expect(ok).toBe(20);
    const after = await current(user, task.id);
    expect(after.version).toBe(1 + ok);
    expect(after.completed).toBe(false); // an even number of toggles
  });

  it("a client that re-reads after a 412 and retries with the new tag succeeds", async () => {
    const user = newUser();
    const task = await createTask(user);
    await call(taskPath(user, task.id), { method: "PATCH", body: { title: "someone else" } });
    await expectProblem(
      await call(taskPath(user, task.id), { method: "PATCH", body: { title: "mine" }, headers: { "If-Match": tag(task.version) } }),
      "precondition_failed",
    );
    const fresh = await call(taskPath(user, task.id));
    const retried = await call(taskPath(user, task.id), {
      method: "PATCH",
      body: { title: "mine" },
      headers: { "If-Match": fresh.headers.get("ETag") ?? "" },
    });
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ title: "mine", version: task.version + 2 });
  });
});
