// /mcp: the API as MCP tools, driven by the official MCP SDK clients over real HTTP against the
// Worker in workerd and Postgres.
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser } from "./support/api.ts";
import { connect, connectLegacy, loadOutputSchemas, ok, toolProblem } from "./support/mcp.ts";

describe("smoke", () => {
  let client: Client;
  const user = newUser();
  beforeAll(async () => {
    client = await connect(user);
    await loadOutputSchemas(client);
  });
  afterAll(() => client.close());

  it("lists tools and adds a task", async () => {
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(20);
    const { task } = await ok<{ task: { id: number; title: string; user_id: string } }>(client, "add_task", { title: "Buy milk" });
    expect(task).toMatchObject({ title: "Buy milk", user_id: user });
    const listed = await ok<{ tasks: unknown[] }>(client, "list_tasks", {});
    expect(listed.tasks).toHaveLength(1);
    await toolProblem(client, "add_task", { title: "" }, "validation_failed", "title");
  });

  it("legacy", async () => {
    const legacy = await connectLegacy(user);
    const { tools } = await legacy.listTools();
    expect(tools.length).toBeGreaterThan(20);
    const result = await legacy.callTool({ name: "list_tasks", arguments: {} });
    expect(result.isError).not.toBe(true);
    await legacy.close();
  });
});
