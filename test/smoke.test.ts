import { describe, expect, it } from "vitest";
import { call, createTask, newUser } from "./support/api.ts";

describe("smoke", () => {
  it("serves health and creates a task", async () => {
    const health = await call("/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", database: "ok" });
    const user = newUser();
    const task = await createTask(user, { title: "  Buy milk  ", tags: ["home", "home", " x "] });
    expect(task).toMatchObject({ title: "Buy milk", tags: ["home", "x"], user_id: user, version: 1 });
    const list = await call(`/api/${user}/tasks`);
    expect(list.status).toBe(200);
    expect(await list.json()).toHaveLength(1);
  });
});
