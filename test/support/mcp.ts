// The official MCP SDK clients, connected over real HTTP to the Worker under test: the current one
// (@modelcontextprotocol/client, protocol 2026-07-28) and the previous major version
// (@modelcontextprotocol/sdk 1.x, the 2025 revisions most agents speak today).
import type { Client } from "@modelcontextprotocol/client";
import { Client as LegacyClient } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as LegacyTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { expect } from "vitest";
import { connectMcp } from "../../scripts/lib/mcp.ts";
import { tokenFor, workerUrl } from "./api.ts";

export type Json = Record<string, unknown>;

export interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Json;
}

/** A connected client of the current SDK for `user` (a token of theirs unless one is given), on the 2026-07-28 protocol. */
export async function connect(user: string, options: { token?: string; base?: string } = {}): Promise<Client> {
  return connectMcp(options.base ?? workerUrl(), options.token ?? (await tokenFor(user)), "task-api-tests");
}

/** A connected client of the 1.x SDK (the 2025 protocol, stateless Streamable HTTP). */
export async function connectLegacy(user: string, options: { token?: string; base?: string } = {}): Promise<LegacyClient> {
  const token = options.token ?? (await tokenFor(user));
  const client = new LegacyClient({ name: "task-api-tests-legacy", version: "1.0.0" });
  const transport = new LegacyTransport(new URL(`${options.base ?? workerUrl()}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const validators = new Map<string, ReturnType<typeof ajv.compile>>();

/** The tools' output schemas, from tools/list, for checking every result against. */
export async function loadOutputSchemas(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  for (const tool of tools) if (tool.outputSchema !== undefined) validators.set(tool.name, ajv.compile(tool.outputSchema as Json));
}

/** Calls a tool; a success must match the tool's output schema and repeat it as JSON text. */
export async function callTool(client: Client, name: string, args: Json = {}): Promise<ToolResult> {
  const result = (await client.callTool({ name, arguments: args })) as ToolResult;
  if (result.isError !== true) {
    const validate = validators.get(name);
    if (validate !== undefined && !validate(result.structuredContent)) {
      throw new Error(`${name}: structuredContent does not match its output schema: ${ajv.errorsText(validate.errors)}`);
    }
    expect(JSON.parse(result.content[1]?.text ?? "null")).toEqual(result.structuredContent);
  }
  return result;
}

/** A successful call's structured result. */
export async function ok<T = Json>(client: Client, name: string, args: Json = {}): Promise<T> {
  const result = await callTool(client, name, args);
  if (result.isError === true) throw new Error(`${name} failed: ${result.content[0]?.text}`);
  return result.structuredContent as T;
}

/** A failed call's problem, which must carry `code` (and an error at `path`, when given). */
export async function toolProblem(client: Client, name: string, args: Json, code: string, path?: string): Promise<Json> {
  const result = await callTool(client, name, args);
  expect(result.isError, `${name} should fail with ${code}: ${result.content[0]?.text}`).toBe(true);
  const problem = (result.structuredContent as { problem: Json }).problem;
  expect(problem.code).toBe(code);
  expect(result.content[0]?.text).toMatch(new RegExp(`^Error ${code}: `));
  if (path !== undefined) expect((problem.errors as { path: string }[]).map((error) => error.path)).toContain(path);
  return problem;
}
