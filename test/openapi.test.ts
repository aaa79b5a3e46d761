// /openapi.json and /docs: the document is valid OpenAPI 3.1, generated from the code (not a
// copy), lists every route the router serves with the statuses and headers of API.md, and
// the interactive reference is served by the Worker itself from Workers Static Assets.

import { readFileSync } from "node:fs";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../src/openapi.ts";
import { PROBLEM_CODES, PROBLEMS, type ProblemCode } from "../src/problems.ts";
import { call, workerUrl } from "./support/api.ts";

type Operation = {
  operationId: string;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string }>;
  responses: Record<string, { headers?: Record<string, unknown> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, Record<string, string>>; schemas: Record<string, { properties?: Record<string, Json> }> };
  security: unknown[];
};
type Json = Record<string, unknown>;

let served: Document;
beforeAll(async () => {
  const response = await call("/openapi.json");
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  served = (await response.json()) as Document;
});

const operations = () =>
  Object.entries(served.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => method !== "parameters")
      .map(([method, operation]) => ({ path, method, operation })),
  );

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document (checked by @seriousme/openapi-schema-validator)", async () => {
    expect(served.openapi).toBe("3.1.0");
    const result = await new Validator().validate(served as unknown as Json);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("is the document the code generates, not a copy", () => {
    expect(served).toEqual(openApiDocument());
  });

  it("documents exactly the routes the router registers (read from src/index.ts), and the static pages", () => {
    const source = readFileSync(path.resolve(import.meta.dirname, "../src/index.ts"), "utf8");
    const routed = [...source.matchAll(/\b(get|post|put|patch|delete)(?:<\w+>)?\("([^"]+)"/g)]
      .map(([, method, route]) => `${method?.toUpperCase()} ${route?.replace(/:([a-z_]+)/g, "{$1}")}`)
      .sort();
    // Served from Workers Static Assets (wrangler.toml [assets]), not by the router.
    const assets = ["GET /docs", "GET /problems/{code}"];
    const all = operations().map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(all).toEqual(expect.arrayContaining(assets));
    const documented = all.filter((operation) => !assets.includes(operation)).sort();
    expect(routed).toHaveLength(35);
    expect(documented).toEqual(routed);
  });

  it("matches what the running Worker allows on each documented path (OPTIONS → Allow)", async () => {
    for (const [template, item] of Object.entries(served.paths)) {
      if (template === "/docs" || template.startsWith("/problems/")) continue; // static assets
      const concrete = template.replace("{user_id}", "someone").replace("{id}", "1").replace("{list_id}", "1");
      const response = await call(concrete, { method: "OPTIONS", token: null });
      const allowed = (response.headers.get("Allow") ?? "").split(/,\s*/).filter((m) => m !== "OPTIONS" && m !== "HEAD");
      const documented = Object.keys(item)
        .filter((key) => key !== "parameters")
        .map((method) => method.toUpperCase());
      expect(allowed.sort(), template).toEqual(documented.sort());
    }
  });

  it("secures every /api operation with the bearer JWT scheme, and leaves /health and itself public", () => {
    expect(served.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(served.security).toEqual([{ bearerAuth: [] }]);
    for (const { path, method, operation } of operations()) {
      if (path === "/mcp") {
        expect(operation.security, `${method} ${path}`).toBeUndefined();
        expect(operation.responses["401"]?.headers, `${method} ${path}`).toHaveProperty("WWW-Authenticate");
        expect(operation.responses["429"]?.headers, `${method} ${path}`).toHaveProperty("Retry-After");
      } else if (path.startsWith("/api/")) {
        expect(operation.security, `${method} ${path}`).toBeUndefined();
        for (const status of ["401", "403", "422", "429", "500", "503"])
          expect(Object.keys(operation.responses), `${method} ${path}`).toContain(status);
        expect(operation.responses["401"]?.headers, `${method} ${path}`).toHaveProperty("WWW-Authenticate");
        expect(operation.responses["503"]?.headers, `${method} ${path}`).toHaveProperty("Retry-After");
        expect(operation.responses["429"]?.headers, `${method} ${path}`).toHaveProperty("Retry-After");
      } else {
        expect(operation.security, `${method} ${path}`).toEqual([]);
      }
    }
  });

  it("documents the statuses and headers of API.md per operation", () => {
    const op = (path: string, method: string) => served.paths[path]?.[method] as Operation;
    const statuses = (path: string, method: string) => Object.keys(op(path, method).responses);
    const headers = (path: string, method: string) => (op(path, method).parameters ?? []).map((p) => `${p.in}:${p.name}`);
    const one = "/api/{user_id}/tasks/{id}";
    expect(statuses("/api/{user_id}/tasks", "post")).toEqual(expect.arrayContaining(["201", "400", "409", "413", "415"]));
    expect(headers("/api/{user_id}/tasks", "post")).toContain("header:Idempotency-Key");
    expect(op("/api/{user_id}/tasks", "post").responses["201"]?.headers).toHaveProperty("Location");
    expect(op("/api/{user_id}/tasks", "get").responses["200"]?.headers).toHaveProperty("Link");
    expect(statuses(one, "get")).toEqual(expect.arrayContaining(["200", "304", "404"]));
    expect(headers(one, "get")).toContain("header:If-None-Match");
    for (const [path, method] of [
      [one, "put"],
      [one, "patch"],
      [one, "delete"],
      [`${one}/complete`, "patch"],
    ] as const) {
      expect(statuses(path, method), `${method} ${path}`).toEqual(expect.arrayContaining(["404", "412"]));
      expect(headers(path, method), `${method} ${path}`).toContain("header:If-Match");
    }
    expect(op(one, "get").responses["200"]?.headers).toHaveProperty("ETag");
    const list = "/api/{user_id}/lists/{list_id}";
    expect(statuses("/api/{user_id}/lists", "post")).toEqual(expect.arrayContaining(["201", "400", "409", "413", "415"]));
    expect(headers("/api/{user_id}/lists", "post")).toContain("header:Idempotency-Key");
    expect(op("/api/{user_id}/lists", "post").responses["201"]?.headers).toEqual(expect.objectContaining({ Location: expect.anything() }));
    expect(statuses(list, "get")).toEqual(expect.arrayContaining(["200", "304", "404"]));
    expect(headers(list, "get")).toContain("header:If-None-Match");
    for (const [path, method] of [
      [list, "put"],
      [list, "patch"],
      [list, "delete"],
      [`${list}/move`, "post"],
      [`${one}/move`, "post"],
    ] as const) {
      expect(statuses(path, method), `${method} ${path}`).toEqual(expect.arrayContaining(["404", "412"]));
      expect(headers(path, method), `${method} ${path}`).toContain("header:If-Match");
      if (method !== "delete") expect(op(path, method).responses["200"]?.headers, `${method} ${path}`).toHaveProperty("ETag");
    }
    expect(headers(list, "delete")).toContain("query:move_to");
    expect(statuses(list, "delete")).toContain("409");
    for (const path of [`${one}/restore`, `${list}/restore`]) {
      expect(statuses(path, "post"), path).toEqual(expect.arrayContaining(["200", "404"]));
      expect(headers(path, "post"), path).not.toContain("header:If-Match");
    }
    expect(op("/api/{user_id}/trash", "get").responses["200"]?.headers).toHaveProperty("Link");
    // A 409 that is not always idempotency_in_flight: Retry-After comes only with that code.
    const conflict = op("/api/{user_id}/tasks/batch", "post").responses["409"]?.headers;
    expect(conflict).toHaveProperty("Retry-After", { $ref: "#/components/headers/RetryAfterInFlight" });
    for (const { operation, path } of operations()) {
      if (path === "/docs" || path.startsWith("/problems/")) continue; // static assets: not the Worker's headers
      for (const [status, response] of Object.entries(operation.responses)) {
        if (status !== "304") expect(response.headers, `${operation.operationId} ${status}`).toHaveProperty("X-Request-Id");
      }
    }
  });

  it("takes request schemas from the valibot validators, limits included", () => {
    const body = served.paths["/api/{user_id}/tasks"]?.post as unknown as { requestBody: { content: Record<string, { schema: Json }> } };
    const schema = body.requestBody.content["application/json"]?.schema as { properties: Record<string, Json>; required: string[] };
    expect(schema.required).toEqual(["title"]);
    expect(schema.properties.title).toMatchObject({ type: "string", minLength: 1, maxLength: 200 });
    expect(schema.properties.priority).toMatchObject({ enum: ["low", "medium", "high"], default: "medium" });
    expect(schema.properties.tags).toMatchObject({ type: "array", items: { maxLength: 32 } });
    expect(schema).toMatchObject({ additionalProperties: false });
    const list = served.paths["/api/{user_id}/tasks"]?.get?.parameters as unknown as Array<{ name: string; schema: Json }>;
    expect(list.map((p) => p.name)).toEqual([
      "list_id",
      "parent_id",
      "status",
      "priority",
      "tag",
      "q",
      "due_before",
      "due_after",
      "sort",
      "limit",
      "cursor",
    ]);
    expect(list.find((p) => p.name === "limit")?.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 1000, default: 100 });
    expect(list.find((p) => p.name === "parent_id")?.schema).toEqual({
      anyOf: [{ type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER }, { const: "none" }],
    });
    const newList = served.paths["/api/{user_id}/lists"]?.post as unknown as { requestBody: { content: Record<string, { schema: Json }> } };
    expect(newList.requestBody.content["application/json"]?.schema).toMatchObject({
      required: ["name"],
      additionalProperties: false,
      properties: { name: { type: "string", minLength: 1, maxLength: 100 }, color: { default: null } },
    });
  });
});

describe("/docs", () => {
  it("answers /docs itself with the Swagger UI page from static assets (no redirect)", async () => {
    const page = await fetch(`${workerUrl()}/docs`, { redirect: "manual" });
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('id="swagger-ui"');
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN
  });

  it("answers /docs/ with a redirect to /docs", async () => {
    const redirect = await fetch(`${workerUrl()}/docs/`, { redirect: "manual" });
    expect([301, 302, 307, 308]).toContain(redirect.status);
    expect(new URL(redirect.headers.get("Location") ?? "", workerUrl()).pathname).toBe("/docs");
  });

  it("serves Swagger UI's script and the page's initializer, which loads /openapi.json from the same origin", async () => {
    const bundle = await fetch(`${workerUrl()}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("Content-Type")).toMatch(/javascript/);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    const init = await (await fetch(`${workerUrl()}/docs/init.js`)).text();
    expect(init).toContain('url: "/openapi.json"');
  });
});

describe("/problems/<code>", () => {
  it("serves a page for every code of the catalogue: what a problem's type names", async () => {
    const codes = (served.components.schemas.Problem as { properties: { code: { enum: string[] } } }).properties.code.enum;
    expect(codes).toEqual(PROBLEM_CODES);
    for (const code of codes) {
      const page = await fetch(`${workerUrl()}/problems/${code}`);
      expect(page.status, code).toBe(200);
      expect(page.headers.get("Content-Type"), code).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html, code).toContain(`<code>${code}</code>`);
      expect(html, code).toContain(`HTTP ${PROBLEMS[code as ProblemCode].status}`);
    }
  });

  it("is documented for each error response: its problem codes are listed per status", () => {
    const create = served.paths["/api/{user_id}/tasks"]?.post as Operation;
    const codesOf = (status: string) =>
      (
        create.responses[status] as unknown as {
          content: Record<string, { schema: { allOf: Array<{ properties?: { code?: { enum: string[] } } }> } }>;
        }
      ).content["application/problem+json"]?.schema.allOf[1]?.properties?.code?.enum;
    expect(codesOf("401")).toEqual(["token_missing", "token_invalid"]);
    expect(codesOf("422")).toEqual(["validation_failed", "idempotency_key_reused"]);
    expect(codesOf("409")).toEqual(["idempotency_in_flight"]);
  });
});
