// The benchmark's floor: the least a Worker can do to answer our get-one and list-first-page
// calls on this platform. The same compatibility flags, the same driver (node-postgres), the same
// Hyperdrive binding and pooler, exactly our two statements (built by src/db/tasks.ts), the same
// JSON out; no authentication, validation, logging, headers, CORS or assets. `npm run bench`
// serves it beside the real Worker and reports ours as a ratio of it.
import { Client } from "pg";
import { compile } from "../../../src/db/sql.ts";
import { findTaskStatement, listStatement } from "../../../src/db/tasks.ts";

interface Env {
  HYPERDRIVE: { connectionString: string };
}

const PATH = /^\/api\/([^/]+)\/tasks(?:\/(\d+))?$/;

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const match = PATH.exec(new URL(request.url).pathname);
    if (match?.[1] === undefined) return new Response(null, { status: 404 });
    const user = decodeURIComponent(match[1]);
    const client = new Client({ connectionString: env.HYPERDRIVE.connectionString });
    await client.connect();
    try {
      if (match[2] !== undefined) {
        const { text, values } = compile(findTaskStatement(user, Number(match[2])));
        const [row] = (await client.query<{ json: string }>(text, values)).rows;
        return new Response(row?.json ?? null, { status: row === undefined ? 404 : 200, headers: { "Content-Type": "application/json" } });
      }
      const { text, values } = compile(listStatement(user, { status: "all", sort: "-created_at", limit: 100 }, undefined));
      const rows = (await client.query<{ json: string }>(text, values)).rows.slice(0, 100);
      return new Response(`[${rows.map((row) => row.json).join(",")}]`, { headers: { "Content-Type": "application/json" } });
    } finally {
      ctx.waitUntil(client.end());
    }
  },
} satisfies ExportedHandler<Env>;
