// Calling the Worker under test like a client would, over real HTTP.
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { expect, inject } from "vitest";
import { PROBLEMS, type ProblemCode } from "../../src/problems.ts";
import { TEST_SECRET } from "./constants.ts";
import { httpFetch } from "./http.ts";
import { nonConformance } from "./openapi-check.ts";

export const workerUrl = () => inject("workerUrl");

/** A user id no other test uses. */
export const newUser = () => `user_${randomUUID()}`;

export interface TokenOptions {
  secret?: string;
  /** Seconds from now; negative is in the past. Null: no exp claim. */
  expiresIn?: number | null;
  notBefore?: number;
  /** Seconds from now for iat; null: no iat claim. */
  issuedAt?: number | null;
  issuer?: string;
  audience?: string;
  alg?: "HS256" | "HS384" | "HS512";
  claims?: Record<string, unknown>;
}

/** An HS256 token for `sub`, minted the way a Better Auth frontend mints one. */
export async function tokenFor(sub: string | undefined, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...options.claims }).setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" });
  if (sub !== undefined) jwt.setSubject(sub);
  if (options.issuedAt !== null) jwt.setIssuedAt(now + (options.issuedAt ?? 0));
  if (options.expiresIn !== null) jwt.setExpirationTime(now + (options.expiresIn ?? 3600));
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

/** The default token of each user, minted once (valid for an hour: longer than any test file). */
const defaultTokens = new Map<string, Promise<string>>();
function defaultToken(user: string): Promise<string> {
  let token = defaultTokens.get(user);
  if (token === undefined) {
    token = tokenFor(user);
    defaultTokens.set(user, token);
  }
  return token;
}

export interface CallOptions {
  method?: string;
  /** A token, or null for no Authorization header. Default: a valid token for the path's user. */
  token?: string | null;
  /** Sent as JSON unless it is a string (sent as is). */
  body?: unknown;
  headers?: Record<string, string>;
  base?: string;
}

/** Calls the Worker; for /api/{user}/… paths a valid token for {user} is sent by default. */
export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  let token = options.token;
  if (token === undefined) {
    const user = /^\/api\/([^/]+)\//.exec(path)?.[1];
    token = user === undefined ? null : await defaultToken(decodeURIComponent(user));
  }
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let body: string | null = null;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["Content-Type"] ??= "application/json";
  }
  const url = `${options.base ?? workerUrl()}${path}`;
  const method = options.method ?? "GET";
  const response = await httpFetch(url, { method, headers, body });
  await expectConformance(method, url, response);
  return response;
}

/** Fails the test when the response is not what the OpenAPI document says (see openapi-check.ts). */
export async function expectConformance(method: string, url: string, response: Response): Promise<void> {
  const problems = await nonConformance(method, new URL(url), response.clone());
  if (problems.length > 0) throw new Error(`The response does not match the OpenAPI document:\n${problems.join("\n")}`);
}

/** API.md "Errors": a database that does not answer gives a 503 within 10 seconds. */
export const CONTRACT_LIMIT_MS = 10_000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends the request now and returns its response and how long it took to arrive, in ms. */
export async function timed(send: () => Promise<Response>): Promise<{ response: Response; ms: number }> {
  const started = performance.now();
  const response = await send();
  return { response, ms: performance.now() - started };
}

/** A 503 with a positive Retry-After (a problem on /api; /health's body is its own JSON). */
export function expectUnavailable(response: Response): void {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
}

/** Creates a task for `user` and returns it. */
export async function createTask(user: string, task: Record<string, unknown> = { title: "a task" }): Promise<Task> {
  const response = await call(`/api/${user}/tasks`, { method: "POST", body: task });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as Task;
}

export interface Task {
  id: number;
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  completed_at: string | null;
  priority: "low" | "medium" | "high";
  tags: string[];
  due_date: string | null;
  created_at: string;
  updated_at: string;
  version: number;
  recurrence: { rule: string; time_zone: string; anchor: "due" | "completion" } | null;
  series_id: number | null;
  next_id: number | null;
  list_id: number;
  parent_id: number | null;
  /** The order key among its siblings (same list, same parent), compared byte by byte. */
  position: string;
  /** Who created it (a member, in a shared list). */
  created_by: string;
  /** The member it is assigned to, or null. */
  assignee_id: string | null;
}

export interface Problem {
  type: string;
  code: ProblemCode;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
  request_id: string;
}

/** The response's problem+json body, checking its media type and status field. */
export async function problem(response: Response): Promise<Problem> {
  const type = response.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/problem+json")) {
    throw new Error(`expected problem+json, got ${type}: ${await response.text()}`);
  }
  const body = (await response.json()) as Problem;
  if (body.status !== response.status) throw new Error(`problem status ${body.status} != ${response.status}`);
  return body;
}

/**
 * Checks an error response: a problem+json body with this code (and the code's status, and the
 * `type` naming it), whose request_id is the response's X-Request-Id, and (when given) an
 * `errors` entry for `path`. Returns the body.
 */
export async function expectProblem(response: Response, code: ProblemCode, path?: string): Promise<Problem> {
  const body = await expectSomeProblem(response);
  expect(body.code).toBe(code);
  if (path !== undefined) expect(body.errors?.map((error) => error.path)).toContain(path);
  return body;
}

/**
 * Sends a request again while it answers 503 `database_unavailable` (or `write_conflict`), after its Retry-After plus up
 * to a second of jitter, as a client following the contract does (that answer means the request
 * had no effect), and returns the first other answer. For the bursts of parallel requests: on a
 * starved machine some of a burst's database connections do not open within the Worker's 3 s
 * connect timeout, and the test is about what the retried requests add up to.
 */
export async function untilAvailable(send: () => Promise<Response>, deadlineMs = 90_000): Promise<Response> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const response = await send();
    if (response.status !== 503 || Date.now() > deadline) return response;
    const retryAfter = Number(response.headers.get("Retry-After"));
    const { code } = await problem(response.clone());
    // write_conflict: two writes to shared lists waited for each other and this one gave way.
    await expectProblem(response, code === "write_conflict" ? "write_conflict" : "database_unavailable");
    await sleep(retryAfter * 1000 + Math.random() * 1000);
  }
}

/** Checks that an error response is a well-formed problem of the catalogue, whatever its code. */
export async function expectSomeProblem(response: Response): Promise<Problem> {
  const body = await problem(response);
  expect(PROBLEMS[body.code]?.status, `code ${body.code}`).toBe(response.status);
  expect(body.type).toBe(`/problems/${body.code}`);
  expect(body.request_id).toBeTruthy();
  expect(body.request_id).toBe(response.headers.get("X-Request-Id"));
  return body;
}
