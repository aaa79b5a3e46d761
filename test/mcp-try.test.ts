// `npm run mcp:try`: the official MCP client connects to /mcp with a local token, lists the tools
// and calls one, then prints a working mcp.json entry.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { newUser, workerUrl } from "./support/api.ts";
import { TEST_SECRET } from "./support/constants.ts";
import { connect } from "./support/mcp.ts";

const SCRIPT = path.resolve(import.meta.dirname, "../scripts/mcp-try.ts");

async function mcpTry(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], {
      env: { ...process.env, BETTER_AUTH_SECRET: TEST_SECRET },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("npm run mcp:try", () => {
  it("connects, lists the tools, calls list_tasks and prints an mcp.json entry that works", async () => {
    const user = newUser();
    const { code, stdout } = await mcpTry(user, "--url", workerUrl());
    expect(code).toBe(0);
    expect(stdout).toContain(`Connected to Task API 1.0.0 at ${workerUrl()}/mcp as ${user} (MCP 2026-07-28).`);
    expect(stdout).toMatch(/\n25 tools:\n {2}add_task {11}Add a task\n/);
    expect(stdout).toContain("list_tasks → 0 tasks.");
    const json = stdout.slice(stdout.indexOf("{"));
    const entry = JSON.parse(json) as { mcpServers: { tasks: { url: string; headers: { Authorization: string } } } };
    expect(entry.mcpServers.tasks.url).toBe(`${workerUrl()}/mcp`);
    const token = entry.mcpServers.tasks.headers.Authorization.replace(/^Bearer /, "");
    const client = await connect(user, { token });
    const added = await client.callTool({ name: "add_task", arguments: { title: "with the printed token" } });
    expect(added.structuredContent).toMatchObject({ task: { user_id: user } });
    await client.close();
  });

  it("says what to do when nothing is listening", async () => {
    const { code, stderr } = await mcpTry("--url", "http://127.0.0.1:9");
    expect(code).toBe(1);
    expect(stderr).toContain("Is the API running (npm run dev)?");
  });
});
