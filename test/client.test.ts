// The typed client for frontends (client/: types generated from /openapi.json by
// openapi-typescript, calls by openapi-fetch) against the real Worker: the sync loop a frontend
// runs, with its batch, works end to end, and a problem arrives typed with its code.
import { describe, expect, it } from "vitest";
import { createTaskClient, pullChanges, type Task, TaskApiError } from "../client/index.ts";
import { newUser, tokenFor, workerUrl } from "./support/api.ts";

describe("client/ (openapi-typescript + openapi-fetch)", () => {
  it("creates in a batch, pulls the changes, and keeps a local copy equal to the list", async () => {
    const user = newUser();
    const token = await tokenFor(user);
    const api = createTaskClient({ baseUrl: workerUrl(), token: () => token });
    const local = new Map<number, Task>();
    const apply = (change: Parameters<Parameters<typeof pullChanges>[3]>[0]) => {
      if (change.op === "upsert") local.set(change.task.id, change.task);
      else local.delete(change.id);
    };

    let cursor = await pullChanges(api, user, undefined, apply);
    expect(local.size).toBe(0);
    const { data, error } = await api.POST("/api/{user_id}/tasks/batch", {
      params: { path: { user_id: user } },
      body: {
        operations: [
          { op: "create", task: { title: "from the typed client" } },
          { op: "create", task: { title: "and another" } },
        ],
      },
    });
    expect(error).toBeUndefined();
    const [first] = data?.results ?? [];
    if (first === undefined || !("task" in first)) throw new Error("no task created");
    await api.DELETE("/api/{user_id}/tasks/{id}", { params: { path: { user_id: user, id: first.task.id } } });
    cursor = await pullChanges(api, user, cursor, apply);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);

    const listed = await api.GET("/api/{user_id}/tasks", { params: { path: { user_id: user } } });
    expect([...local.values()].sort((a, b) => a.id - b.id)).toEqual([...(listed.data ?? [])].sort((a, b) => a.id - b.id));
    expect([...local.values()].map((task) => task.title)).toEqual(["and another"]);
  });

  it("throws the API's problem, typed, with its code", async () => {
    const user = newUser();
    const api = createTaskClient({ baseUrl: workerUrl(), token: () => tokenFor(user) });
    const error = await pullChanges(api, user, "not-a-cursor", () => {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TaskApiError);
    expect((error as TaskApiError).problem).toMatchObject({ code: "validation_failed", status: 422 });
  });
});
