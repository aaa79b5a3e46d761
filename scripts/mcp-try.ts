// npm run mcp:try -- [<user_id>] [--url <origin>]: connects the official MCP client to /mcp of a
// running API (`npm run dev` by default), as an AI agent would, lists the tools and calls
// list_tasks; then prints an mcp.json entry for that user. The token is minted like
// `npm run token`'s, with the local BETTER_AUTH_SECRET, and lives 2 hours.
import { parseArgs } from "node:util";
import type { Client } from "@modelcontextprotocol/client";
import { localSecret } from "./lib/dev-vars.ts";
import { connectMcp } from "./lib/mcp.ts";
import { hs256Token } from "./lib/token.ts";

const USAGE = "Usage: npm run mcp:try -- [<user_id>] [--url http://127.0.0.1:8787]";

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function parse() {
  try {
    return parseArgs({ options: { url: { type: "string", default: "http://127.0.0.1:8787" } }, allowPositionals: true });
  } catch (error) {
    return fail(`${(error as Error).message}\n${USAGE}`);
  }
}

const parsed = parse();
const [userId = "mcp-try", ...extra] = parsed.positionals;
if (extra.length > 0) fail(USAGE);
const origin = parsed.values.url.replace(/\/+$/, "");
const secret = localSecret();
if (!secret) fail("No BETTER_AUTH_SECRET in the environment, .dev.vars or .dev.vars.example.");

const token = await hs256Token(secret, userId, "2h");
let client: Client;
try {
  client = await connectMcp(origin, token, "task-api-mcp-try");
} catch (error) {
  fail(`Could not connect to ${origin}/mcp: ${(error as Error).message}\nIs the API running (npm run dev)?`);
}

const server = client.getServerVersion();
console.log(
  `Connected to ${server?.title ?? server?.name} ${server?.version} at ${origin}/mcp as ${userId} (MCP ${client.getNegotiatedProtocolVersion()}).`,
);
const { tools } = await client.listTools();
console.log(`\n${tools.length} tools:`);
for (const tool of tools) console.log(`  ${tool.name.padEnd(18)} ${tool.title ?? ""}`);

const listed = (await client.callTool({ name: "list_tasks", arguments: { limit: 10 } })) as { content: { text?: string }[] };
console.log(`\nlist_tasks → ${listed.content[0]?.text}`);
await client.close();

const entry = { mcpServers: { tasks: { url: `${origin}/mcp`, headers: { Authorization: `Bearer ${token}` } } } };
console.log(`\nAn mcp.json entry for ${userId} (the token lives 2 hours; npm run token -- ${userId} makes a longer one):`);
console.log(JSON.stringify(entry, null, 2));
