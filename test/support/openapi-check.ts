// Checks a response the Worker gave against the OpenAPI document (src/openapi.ts, the one the
// Worker serves): the status must be documented for the operation, its required headers
// present, and its body valid against the documented schema. `call()` runs this on every
// response of the integration tests, so the document and the API cannot drift apart.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { openApiDocument } from "../../src/openapi.ts";

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, { headers?: Record<string, Json>; content?: Record<string, { schema: Json }> }>;
}

const document = openApiDocument() as {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, Json>>;
};

/** Replaces local `$ref`s (#/components/...) with what they point at; the document has no cycles. */
function resolve<T>(node: T): T {
  if (Array.isArray(node)) return node.map(resolve) as T;
  if (node === null || typeof node !== "object") return node;
  const ref = (node as Json).$ref;
  if (typeof ref === "string" && ref.startsWith("#/components/")) {
    const [, , kind, name] = ref.split("/");
    const target = document.components[kind ?? ""]?.[name ?? ""];
    if (target === undefined) throw new Error(`unresolved ${ref}`);
    return resolve(target) as T;
  }
  return Object.fromEntries(Object.entries(node as Json).map(([key, value]) => [key, resolve(value)])) as T;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const validators = new Map<string, ValidateFunction>();

function validatorFor(key: string, schema: Json): ValidateFunction {
  let validate = validators.get(key);
  if (validate === undefined) {
    validate = ajv.compile(resolve(schema));
    validators.set(key, validate);
  }
  return validate;
}

const templates = Object.keys(document.paths).map((template) => ({
  template,
  // Trailing slashes are tolerated, as the router does: /tasks/ is /tasks.
  pattern: new RegExp(`^${template.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}/*$`),
}));

/** The documented path template for a request path, if any; the most literal one when several match (/tasks/batch, not /tasks/{id}). */
export function templateOf(pathname: string): string | undefined {
  const literal = (template: string) => template.replace(/\{[^}]+\}/g, "").length;
  return templates.filter(({ pattern }) => pattern.test(pathname)).sort((a, b) => literal(b.template) - literal(a.template))[0]?.template;
}

async function problemBody(where: string, response: Response): Promise<string[]> {
  const problems: string[] = [];
  if (!(response.headers.get("Content-Type") ?? "").startsWith("application/problem+json")) {
    problems.push(`${where}: expected a problem+json body`);
    return problems;
  }
  const validate = validatorFor("Problem", { $ref: "#/components/schemas/Problem" });
  if (!validate(await response.json())) problems.push(`${where}: ${ajv.errorsText(validate.errors)}`);
  return problems;
}

/** What is wrong with this response according to the document; empty when it conforms. */
export async function nonConformance(method: string, url: URL, response: Response): Promise<string[]> {
  const where = `${method} ${url.pathname} → ${response.status}`;
  const template = templateOf(url.pathname);
  // Outside the document: the router's own answers.
  if (template === undefined) {
    if (method === "OPTIONS") return response.status === 204 ? [] : [`${where}: OPTIONS on an unknown path must be 204`];
    if (response.status !== 404) return [`${where}: an undocumented path must be a 404`];
    return problemBody(where, response);
  }
  const operation = document.paths[template]?.[method.toLowerCase()];
  if (operation === undefined) {
    if (method === "OPTIONS") return response.status === 204 ? [] : [`${where}: OPTIONS must be 204`];
    if (method === "HEAD" && document.paths[template]?.get) return [];
    const problems = response.status === 405 ? [] : [`${where}: an undocumented method must be a 405`];
    if (!response.headers.get("Allow")) problems.push(`${where}: a 405 needs Allow`);
    return [...problems, ...(await problemBody(where, response))];
  }
  const documented = operation.responses[String(response.status)];
  if (documented === undefined) return [`${where}: status not documented for ${method} ${template}`];
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(resolve(documented.headers ?? {}))) {
    if ((spec as { required?: boolean }).required && response.headers.get(name) === null) problems.push(`${where}: missing header ${name}`);
  }
  const text = await response.text();
  if (documented.content === undefined) {
    if (text !== "") problems.push(`${where}: expected no body`);
    return problems;
  }
  const mediaType = (response.headers.get("Content-Type") ?? "").split(";")[0]?.trim() ?? "";
  const content = documented.content[mediaType];
  if (content === undefined) return [...problems, `${where}: Content-Type ${mediaType} not documented`];
  // /mcp's answer to a client of the 2025 protocol: one server-sent event carrying the JSON-RPC message.
  if (mediaType === "text/event-stream") {
    const data = text.split("\n").find((line) => line.startsWith("data: "));
    if (data === undefined) problems.push(`${where}: an event stream without a data line`);
    return problems;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [...problems, `${where}: body is not JSON`];
  }
  const validate = validatorFor(`${method} ${template} ${response.status} ${mediaType}`, content.schema);
  if (!validate(body)) problems.push(`${where}: ${ajv.errorsText(validate.errors)}`);
  return problems;
}
