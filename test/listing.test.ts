// GET /api/{user_id}/tasks: filters, sort orders, limits and keyset pagination through the
// Link header, as API.md "Listing" promises them.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { call, createTask, newUser, problem, type Task, tokenFor, workerUrl } from "./support/api.ts";

type Priority = Task["priority"];
type SortKey = "created_at" | "updated_at" | "due_date" | "priority" | "title";
const SORT_KEYS: SortKey[] = ["created_at", "updated_at", "due_date", "priority", "title"];
const SORTS = SORT_KEYS.flatMap((key) => [key, `-${key}`]);

// ---------------------------------------------------------------------------------------------
// Helpers

let db: pg.Pool;
beforeAll(() => {
  db = new pg.Pool({ connectionString: inject("databaseUrl"), max: 4 });
});
afterAll(async () => {
  await db?.end();
});

interface Seed {
  title: string;
  description?: string | null;
  completed?: boolean;
  priority?: Priority;
  tags?: string[];
  due_date?: string | null;
  created_at: string;
  updated_at?: string;
}

const COLUMNS =
  "id, user_id, title, description, completed, completed_at, priority, tags, due_date, created_at, updated_at, version, list_id, parent_id, sort_key AS position";

interface Row extends Omit<Task, "id" | "completed_at" | "due_date" | "created_at" | "updated_at" | "list_id" | "parent_id"> {
  id: string;
  list_id: string;
  parent_id: string | null;
  completed_at: Date | null;
  due_date: Date | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * Inserts tasks straight into Postgres, for exact control of timestamps (ties included), and
 * returns them as the API shows them. Timestamps are kept to the millisecond like the API's own.
 */
async function seed(user: string, seeds: Seed[]): Promise<Task[]> {
  const rows = seeds.map((s, index) => ({
    n: index + 1,
    description: null,
    completed: false,
    priority: "medium",
    tags: [],
    due_date: null,
    updated_at: s.created_at,
    ...s,
  }));
  // Each row takes the next change position of the user, as task_write would (src/db/functions.sql):
  // the counter is locked, the rows take the numbers after it, the counter moves past them. They go
  // to the user's Inbox (created here, as on first use), in order: these are the user's first tasks.
  const client = await db.connect();
  let inserted: Row[];
  try {
    await client.query("BEGIN");
    const { rows: inboxes } = await client.query<{ inbox: string }>("SELECT list_inbox($1) AS inbox", [user]);
    const { rows: locked } = await client.query<{ head: string }>("SELECT task_lock_user($1) AS head", [user]);
    const head = Number(locked[0]?.head ?? 0);
    ({ rows: inserted } = await client.query<Row>(
      `INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, tags, due_date, created_at, updated_at, position,
                          list_id, sort_key)
       SELECT $1, x.title, x.description, x.completed, CASE WHEN x.completed THEN x.updated_at END,
              x.priority, x.tags, x.due_date, x.created_at, x.updated_at, $3::bigint + x.n, $4::bigint, order_key_nth(x.n - 1)
       FROM jsonb_to_recordset($2::jsonb) AS x(title text, description text, completed boolean, priority task_priority,
                                               tags text[], due_date timestamptz, created_at timestamptz, updated_at timestamptz, n bigint)
       RETURNING ${COLUMNS}`,
      [user, JSON.stringify(rows), head, inboxes[0]?.inbox],
    ));
    await client.query("UPDATE sync_state SET position = $2 WHERE user_id = $1", [user, head + rows.length]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
  return inserted.map((row) => ({
    ...row,
    id: Number(row.id),
    list_id: Number(row.list_id),
    parent_id: row.parent_id === null ? null : Number(row.parent_id),
    completed_at: row.completed_at?.toISOString() ?? null,
    due_date: row.due_date?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  }));
}

const at = (base: string, seconds: number) => new Date(Date.parse(base) + seconds * 1000).toISOString();

/** Creates tasks through the API in sequential batches, so later batches are strictly newer. */
async function createInBatches(user: string, batches: Record<string, unknown>[][]): Promise<Task[]> {
  const tasks: Task[] = [];
  for (const batch of batches) {
    tasks.push(...(await Promise.all(batch.map((task) => createTask(user, task)))));
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  return tasks;
}

const PRIORITY_RANK: Record<Priority, number> = { low: 0, medium: 1, high: 2 };

/** Unicode code point order: the order of the database's C.UTF-8 collation. */
function compareCodePoints(a: string, b: string): number {
  const [x, y] = [Array.from(a, (c) => c.codePointAt(0) ?? 0), Array.from(b, (c) => c.codePointAt(0) ?? 0)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return x.length - y.length;
}

/**
 * The contract's order for `sort`: by the key, ties by id in the same direction; tasks without
 * due date last for due_date in both directions; priority low < medium < high.
 */
function contractOrder(sort: string): (a: Task, b: Task) => number {
  const direction = sort.startsWith("-") ? -1 : 1;
  const key = sort.replace(/^-/, "") as SortKey;
  return (a, b) => {
    if (key === "due_date" && (a.due_date === null) !== (b.due_date === null)) return a.due_date === null ? 1 : -1;
    let byKey = 0;
    if (key === "priority") byKey = PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority];
    else if (key === "title") byKey = compareCodePoints(a.title, b.title);
    else if (key === "due_date") byKey = a.due_date === null || b.due_date === null ? 0 : Date.parse(a.due_date) - Date.parse(b.due_date);
    else byKey = Date.parse(a[key]) - Date.parse(b[key]);
    return direction * (byKey !== 0 ? byKey : a.id - b.id);
  };
}

const sorted = (tasks: Task[], sort = "-created_at") => [...tasks].sort(contractOrder(sort));
const ids = (tasks: Task[]) => tasks.map((task) => task.id);

/** GET the list with `query` (a string is sent exactly as written). */
function list(user: string, query: string | Record<string, string> = "") {
  const search = typeof query === "string" ? query : new URLSearchParams(query).toString();
  return call(`/api/${user}/tasks${search ? `?${search}` : ""}`);
}

async function listOk(user: string, query: string | Record<string, string> = ""): Promise<Task[]> {
  const response = await list(user, query);
  expect(response.status).toBe(200);
  return (await response.json()) as Task[];
}

/**
 * The target of the response's `Link: <…>; rel="next"`, resolved against the URL requested (RFC
 * 8288 §3.1): without PUBLIC_URL, as here, a relative reference, which lands on this Worker.
 */
function nextLink(response: Response): URL | undefined {
  const header = response.headers.get("Link");
  if (header === null) return undefined;
  const target = /<([^>]*)>\s*;\s*rel="?next"?/.exec(header)?.[1];
  if (target === undefined) throw new Error(`Link header without rel="next": ${header}`);
  expect(target).toMatch(/^\/api\//);
  const url = new URL(target, response.url);
  expect(url.origin).toBe(new URL(workerUrl()).origin);
  return url;
}

interface Walk {
  pages: Task[][];
  links: URL[];
}

/** Follows rel="next" from the first page to the last; every page but the last is full. */
async function walk(user: string, query: string | Record<string, string>, limit: number): Promise<Walk> {
  const search = typeof query === "string" ? query : new URLSearchParams(query).toString();
  let path = `/api/${user}/tasks?${search}`;
  const result: Walk = { pages: [], links: [] };
  for (let request = 0; request < 200; request++) {
    const response = await call(path);
    expect(response.status, path).toBe(200);
    const page = (await response.json()) as Task[];
    result.pages.push(page);
    const next = nextLink(response);
    if (next === undefined) return result;
    expect(page).toHaveLength(limit);
    result.links.push(next);
    path = `${next.pathname}${next.search}`;
  }
  throw new Error("pagination did not end");
}

/** Asserts a 422 problem+json whose errors name `path`. */
async function expectRejected(response: Response, path: string): Promise<void> {
  expect(response.status).toBe(422);
  const body = await problem(response);
  expect(body.errors?.map((error) => error.path)).toContain(path);
}

const base64url = (text: string) => Buffer.from(text).toString("base64url");

// ---------------------------------------------------------------------------------------------

describe("default listing", () => {
  it("returns all of the user's tasks, newest first (-created_at, ties by id), and none of another user's", async () => {
    const [user, other] = [newUser(), newUser()];
    const [mine] = await Promise.all([
      createInBatches(user, [
        [{ title: "one" }, { title: "two" }],
        [{ title: "three" }],
        [{ title: "four" }, { title: "five" }, { title: "six" }],
      ]),
      createInBatches(other, [[{ title: "not yours" }, { title: "nor this" }]]),
    ]);
    const response = await list(user);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(response.headers.get("Link")).toBeNull();
    const page = (await response.json()) as Task[];
    expect(page.every((task) => task.user_id === user)).toBe(true);
    expect(ids(page)).toEqual(ids(sorted(mine, "-created_at")));
  });

  it("breaks created_at ties by id, highest id first", async () => {
    const user = newUser();
    const t = "2026-02-01T08:00:00.000Z";
    const tasks = await seed(user, [
      { title: "a", created_at: t },
      { title: "b", created_at: at(t, 1) },
      { title: "c", created_at: t },
      { title: "d", created_at: t },
      { title: "e", created_at: at(t, -1) },
    ]);
    const expected = sorted(tasks, "-created_at");
    // The fixture really has a tie of three.
    expect(expected.filter((task) => task.created_at === t)).toHaveLength(3);
    expect(ids(await listOk(user))).toEqual(ids(expected));
  });

  it("returns an empty array for a user without tasks", async () => {
    const response = await list(newUser());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([]);
    expect(response.headers.get("Link")).toBeNull();
  });

  it("answers 403 to a token for user A listing /api/B/tasks", async () => {
    const [a, b] = [newUser(), newUser()];
    await createTask(b, { title: "b's secret" });
    const response = await call(`/api/${b}/tasks`, { token: await tokenFor(a) });
    expect(response.status).toBe(403);
    await problem(response);
  });
});

describe("filters", () => {
  it("status=all|pending|completed selects every, the open, the completed tasks", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [
      [
        { title: "open 1" },
        { title: "done 1", completed: true },
        { title: "open 2" },
        { title: "done 2", completed: true },
        { title: "open 3", completed: false },
      ],
    ]);
    const expected = {
      all: tasks,
      pending: tasks.filter((task) => !task.completed),
      completed: tasks.filter((task) => task.completed),
    };
    expect(expected.pending).toHaveLength(3);
    await Promise.all(
      (["all", "pending", "completed"] as const).map(async (status) => {
        expect(ids(await listOk(user, { status })), status).toEqual(ids(sorted(expected[status])));
      }),
    );
  });

  it("priority=low|medium|high selects the tasks of that priority", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [
      [
        { title: "l1", priority: "low" },
        { title: "m1" },
        { title: "h1", priority: "high" },
        { title: "h2", priority: "high" },
        { title: "m2", priority: "medium" },
      ],
    ]);
    await Promise.all(
      (["low", "medium", "high"] as const).map(async (priority) => {
        const expected = tasks.filter((task) => task.priority === priority);
        expect(expected.length).toBeGreaterThan(0);
        expect(ids(await listOk(user, { priority })), priority).toEqual(ids(sorted(expected)));
      }),
    );
  });

  it("tag selects the tasks that carry that tag, among others", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [
      [
        { title: "a", tags: ["home"] },
        { title: "b", tags: ["work", "home"] },
        { title: "c", tags: ["work"] },
        { title: "d" },
        { title: "e", tags: ["homework"] },
      ],
    ]);
    for (const tag of ["home", "work", "homework"]) {
      const expected = tasks.filter((task) => task.tags.includes(tag));
      expect(ids(await listOk(user, { tag })), tag).toEqual(ids(sorted(expected)));
    }
    expect(await listOk(user, { tag: "nowhere" })).toEqual([]);
  });

  it("q matches a case-insensitive substring of the title or the description", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [
      [
        { title: "Buy MILK" },
        { title: "Groceries", description: "oat Milk and bread" },
        { title: "Call mom", description: "about the milkshake" },
        { title: "Nothing here", description: "n/a" },
      ],
    ]);
    const expected = tasks.filter((task) => /milk/i.test(`${task.title}\n${task.description ?? ""}`));
    expect(expected).toHaveLength(3);
    for (const q of ["milk", "MILK", "mIlK"]) {
      expect(ids(await listOk(user, { q })), q).toEqual(ids(sorted(expected)));
    }
    expect(ids(await listOk(user, { q: "N/A" }))).toEqual(ids(tasks.filter((task) => task.title === "Nothing here")));
  });

  it("q treats %, _ and \\ literally, not as LIKE wildcards or escapes", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [
      [
        { title: "100% done" },
        { title: "1000 done" },
        { title: "a_b" },
        { title: "axb" },
        { title: "path c:\\dir" },
        { title: "path c:dir" },
        { title: "plain", description: "50% off" },
      ],
    ]);
    const titled = (...titles: string[]) => ids(sorted(tasks.filter((task) => titles.includes(task.title))));
    const cases: [string, number[]][] = [
      ["%", titled("100% done", "plain")],
      ["100%", titled("100% done")],
      ["_", titled("a_b")],
      ["a_b", titled("a_b")],
      ["A_B", titled("a_b")],
      ["\\", titled("path c:\\dir")],
      ["c:\\d", titled("path c:\\dir")],
      ["\\%", []],
    ];
    await Promise.all(
      cases.map(async ([q, expected]) => {
        expect(ids(await listOk(user, { q })), `q=${q}`).toEqual(expected);
      }),
    );
  });

  it("q folds the case of non-ASCII letters too (characters are Unicode code points)", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [[{ title: "Crème BRÛLÉE" }, { title: "Ёлка" }, { title: "creme brulee" }]]);
    expect(ids(await listOk(user, { q: "brûlée" }))).toEqual(ids(tasks.filter((task) => task.title === "Crème BRÛLÉE")));
    expect(ids(await listOk(user, { q: "ёЛКА" }))).toEqual(ids(tasks.filter((task) => task.title === "Ёлка")));
  });

  it("q matches the title or the description, never text that spans the two (the search index joins them)", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [
      [{ title: "alpha", description: "beta" }, { title: "alpha beta" }, { title: "gamma", description: "x delta y" }, { title: "solo" }],
    ]);
    const titled = (...titles: string[]) => ids(sorted(tasks.filter((task) => titles.includes(task.title))));
    const cases: [string, number[]][] = [
      ["alpha beta", titled("alpha beta")],
      ["ha be", titled("alpha beta")],
      ["a b", titled("alpha beta")],
      ["beta", titled("alpha", "alpha beta")],
      ["delta", titled("gamma")],
      ["a x", []],
      // The joint's space after a task without description: "solo" + " " + "".
      ["solo ", []],
      ["lo", titled("solo")],
      ["a", titled("alpha", "alpha beta", "gamma")],
    ];
    await Promise.all(
      cases.map(async ([q, expected]) => {
        expect(ids(await listOk(user, { q })), `q=${JSON.stringify(q)}`).toEqual(expected);
      }),
    );
  });

  it("due_before is strictly before the instant and due_after at or after it; tasks without due date match neither", async () => {
    const user = newUser();
    const instant = "2030-05-01T12:00:00.000Z";
    const tasks = await createInBatches(user, [
      [
        { title: "just before", due_date: "2030-05-01T11:59:59.999Z" },
        { title: "exactly", due_date: instant },
        { title: "just after", due_date: "2030-05-01T12:00:00.001Z" },
        { title: "long before", due_date: "2020-01-01T00:00:00Z" },
        { title: "never" },
      ],
    ]);
    const before = tasks.filter((task) => task.due_date !== null && Date.parse(task.due_date) < Date.parse(instant));
    const after = tasks.filter((task) => task.due_date !== null && Date.parse(task.due_date) >= Date.parse(instant));
    expect(after.map((task) => task.title)).toContain("exactly");
    expect(ids(await listOk(user, { due_before: instant }))).toEqual(ids(sorted(before)));
    expect(ids(await listOk(user, { due_after: instant }))).toEqual(ids(sorted(after)));
    // Both: a half-open window [after, before).
    const window = await listOk(user, { due_after: "2030-05-01T11:59:59.999Z", due_before: "2030-05-01T12:00:00.001Z" });
    expect(window.map((task) => task.title).sort()).toEqual(["exactly", "just before"]);
  });

  it("due_after and due_before accept an offset: +01:00 sent unencoded (arriving as a space), encoded, and -05:00", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [
      [
        { title: "before", due_date: "2030-05-01T11:59:59.999Z" },
        { title: "exactly", due_date: "2030-05-01T12:00:00Z" },
        { title: "after", due_date: "2030-05-01T12:30:00Z" },
      ],
    ]);
    const titled = (...titles: string[]) => ids(sorted(tasks.filter((task) => titles.includes(task.title))));
    // The same instant, 2030-05-01T12:00:00Z, written three ways.
    for (const written of ["2030-05-01T13:00:00+01:00", "2030-05-01T13:00:00%2B01:00", "2030-05-01T07:00:00-05:00"]) {
      expect(ids(await listOk(user, `due_after=${written}`)), `due_after=${written}`).toEqual(titled("exactly", "after"));
      expect(ids(await listOk(user, `due_before=${written}`)), `due_before=${written}`).toEqual(titled("before"));
    }
  });

  it("combines filters with AND", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [
      [
        { title: "report A", priority: "high", tags: ["work"], completed: true, due_date: "2030-01-10T00:00:00Z" },
        { title: "report B", priority: "high", tags: ["work"], due_date: "2030-01-10T00:00:00Z" },
        { title: "report C", priority: "low", tags: ["work"], due_date: "2030-01-10T00:00:00Z" },
        { title: "report D", priority: "high", tags: ["home"], due_date: "2030-01-10T00:00:00Z" },
        { title: "memo E", priority: "high", tags: ["work"], due_date: "2030-01-10T00:00:00Z" },
        { title: "report F", priority: "high", tags: ["work"], due_date: "2031-01-10T00:00:00Z" },
        { title: "report G", priority: "high", tags: ["work", "x"], due_date: "2030-01-11T00:00:00Z" },
      ],
    ]);
    const expected = tasks.filter((task) => ["report B", "report G"].includes(task.title));
    const found = await listOk(user, {
      status: "pending",
      priority: "high",
      tag: "work",
      q: "REPORT",
      due_after: "2030-01-01T00:00:00Z",
      due_before: "2030-12-31T00:00:00Z",
    });
    expect(ids(found)).toEqual(ids(sorted(expected)));
  });
});

/** A fixture with ties in every sort key, tasks without due date, and ids not in any key's order. */
function tieFixture(): Seed[] {
  const t = "2026-03-01T10:00:00.000Z";
  const d = "2030-01-01T00:00:00.000Z";
  const rows: [string, Priority, number, number, number | null][] = [
    // title, priority, created (s), updated (s), due (days)
    ["delta", "high", 5, 20, null],
    ["alpha", "low", 1, 20, 1],
    ["charlie", "medium", 3, 11, 0],
    ["alpha", "medium", 3, 15, null],
    ["bravo", "high", 7, 11, 1],
    ["echo", "low", 2, 30, 2],
    ["charlie", "low", 9, 12, null],
    ["alpha", "high", 1, 11, 0],
    ["foxtrot", "medium", 4, 25, null],
    ["bravo", "medium", 6, 14, 4],
    ["delta", "high", 8, 13, 1],
    ["golf", "low", 3, 20, null],
  ];
  return rows.map(([title, priority, created, updated, due]) => ({
    title,
    priority,
    created_at: at(t, created),
    updated_at: at(t, updated),
    due_date: due === null ? null : at(d, due * 86_400),
  }));
}

describe("sort", () => {
  it.each(SORTS)("sort=%s orders by the key, ties by id in the same direction", async (sort) => {
    const user = newUser();
    const tasks = await seed(user, tieFixture());
    const key = sort.replace(/^-/, "") as SortKey;
    const expected = sorted(tasks, sort);
    // The fixture has ties in this key, so the tie-breaker is really exercised.
    expect(new Set(tasks.map((task) => task[key])).size).toBeLessThan(tasks.length);
    expect(ids(await listOk(user, { sort, limit: "1000" }))).toEqual(ids(expected));
  });

  it("puts tasks without due date last for due_date in both directions", async () => {
    const user = newUser();
    const tasks = await seed(user, tieFixture());
    for (const sort of ["due_date", "-due_date"]) {
      const page = await listOk(user, { sort });
      const firstNull = page.findIndex((task) => task.due_date === null);
      expect(firstNull, sort).toBe(tasks.filter((task) => task.due_date !== null).length);
      expect(
        page.slice(firstNull).every((task) => task.due_date === null),
        sort,
      ).toBe(true);
    }
  });

  it("sort=priority is low, medium, high and sort=-priority is high, medium, low", async () => {
    const user = newUser();
    await seed(user, tieFixture());
    const ranks = (tasks: Task[]) => [...new Set(tasks.map((task) => task.priority))];
    expect(ranks(await listOk(user, { sort: "priority" }))).toEqual(["low", "medium", "high"]);
    expect(ranks(await listOk(user, { sort: "-priority" }))).toEqual(["high", "medium", "low"]);
  });

  it("sorts by updated_at as changed through the API", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [[{ title: "a" }, { title: "b" }, { title: "c" }]]);
    const first = tasks[0];
    if (first === undefined) throw new Error("tasks not created");
    await new Promise((resolve) => setTimeout(resolve, 5));
    const patched = await call(`/api/${user}/tasks/${first.id}`, { method: "PATCH", body: { priority: "high" } });
    expect(patched.status).toBe(200);
    const current = [(await patched.json()) as Task, ...tasks.slice(1)];
    const newest = ids(await listOk(user, { sort: "-updated_at" }));
    expect(newest).toEqual(ids(sorted(current, "-updated_at")));
    expect(newest[0]).toBe(first.id);
    expect(ids(await listOk(user, { sort: "updated_at" }))).toEqual(ids(sorted(current, "updated_at")));
  });
});

describe("limit", () => {
  it("defaults to 100, with a Link to the rest", async () => {
    const user = newUser();
    const t = "2026-04-01T00:00:00.000Z";
    const tasks = await seed(
      user,
      Array.from({ length: 101 }, (_, i) => ({ title: `task ${i}`, created_at: at(t, i) })),
    );
    const expected = ids(sorted(tasks));
    const response = await list(user);
    expect(response.status).toBe(200);
    expect(ids((await response.json()) as Task[])).toEqual(expected.slice(0, 100));
    const next = nextLink(response);
    expect(next).toBeDefined();
    const rest = await call(`${next?.pathname}${next?.search}`);
    expect(ids((await rest.json()) as Task[])).toEqual(expected.slice(100));
    expect(rest.headers.get("Link")).toBeNull();
  });

  it("accepts 1 and 1000", async () => {
    const user = newUser();
    const t = "2026-04-01T00:00:00.000Z";
    const tasks = await seed(
      user,
      Array.from({ length: 101 }, (_, i) => ({ title: `task ${i}`, created_at: at(t, i) })),
    );
    const expected = ids(sorted(tasks));
    const one = await list(user, { limit: "1" });
    expect(ids((await one.json()) as Task[])).toEqual(expected.slice(0, 1));
    expect(nextLink(one)).toBeDefined();
    const all = await list(user, { limit: "1000" });
    expect(ids((await all.json()) as Task[])).toEqual(expected);
    expect(all.headers.get("Link")).toBeNull();
  });

  it.each(["0", "1001", "abc", "1.5", "-1", "", "1e2", " 5"])("rejects limit=%j with 422 naming limit", async (limit) => {
    await expectRejected(await list(newUser(), { limit }), "limit");
  });
});

describe("pagination", () => {
  it("with limit=2 over 5 tasks, following rel=next visits every task exactly once, in order, and the last page has no Link", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [[{ title: "1" }, { title: "2" }], [{ title: "3" }], [{ title: "4" }, { title: "5" }]]);
    const { pages, links } = await walk(user, { limit: "2" }, 2);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(links).toHaveLength(2);
    const visited = ids(pages.flat());
    expect(new Set(visited).size).toBe(5);
    expect(visited).toEqual(ids(sorted(tasks)));
  });

  it("sends no Link when the last page is exactly full", async () => {
    const user = newUser();
    await Promise.all([1, 2, 3, 4].map((n) => createTask(user, { title: `t${n}` })));
    const { pages } = await walk(user, { limit: "2" }, 2);
    expect(pages.map((page) => page.length)).toEqual([2, 2]);
  });

  it.each(SORTS)("sort=%s: every page size walks all tasks exactly once in the sort's order", async (sort) => {
    const user = newUser();
    const tasks = await seed(user, tieFixture());
    const expected = ids(sorted(tasks, sort));
    await Promise.all(
      [1, 2, 5].map(async (limit) => {
        const { pages } = await walk(user, { sort, limit: String(limit) }, limit);
        expect(ids(pages.flat()), `limit=${limit}`).toEqual(expected);
        expect(pages).toHaveLength(Math.ceil(tasks.length / limit));
      }),
    );
  });

  it.each(["due_date", "-due_date"])(
    "sort=%s: pages that end on the last dated task, span dated and undated tasks, or end among undated ones continue exactly",
    async (sort) => {
      const user = newUser();
      const d = "2030-06-01T00:00:00.000Z";
      const tasks = await seed(user, [
        { title: "n1", created_at: d, due_date: null },
        { title: "d1", created_at: d, due_date: at(d, 60) },
        { title: "n2", created_at: d, due_date: null },
        { title: "d2", created_at: d, due_date: at(d, 120) },
        { title: "n3", created_at: d, due_date: null },
        { title: "d3", created_at: d, due_date: at(d, 60) },
        { title: "n4", created_at: d, due_date: null },
      ]);
      const expected = sorted(tasks, sort);
      const walks = await Promise.all([1, 2, 3].map((limit) => walk(user, { sort, limit: String(limit) }, limit)));
      for (const [index, { pages }] of walks.entries()) {
        expect(ids(pages.flat()), `limit=${index + 1}`).toEqual(ids(expected));
      }
      const [, two, three] = walks;
      // The fixture puts the boundaries where they matter. limit=3: page 1 ends on the last dated
      // task. limit=2: page 2 spans dated → undated, and page 3 starts after an undated task.
      const undated = (page: Task[] | undefined) => page?.map((task) => task.due_date === null);
      expect(undated(three?.pages[0])).toEqual([false, false, false]);
      expect(undated(three?.pages[1])).toEqual([true, true, true]);
      expect(undated(two?.pages[1])).toEqual([false, true]);
      expect(undated(two?.pages[2])).toEqual([true, true]);
    },
  );

  it.each(["-created_at", "created_at", "title"])(
    "sort=%s: the next page is exact under concurrent inserts and deletes (continues right after page 1, no duplicates, no gaps)",
    async (sort) => {
      const user = newUser();
      const t = "2026-05-01T00:00:00.000Z";
      const original = await seed(
        user,
        ["kilo", "bravo", "hotel", "delta", "juliet", "foxtrot", "lima", "charlie"].map((title, i) => ({ title, created_at: at(t, i) })),
      );
      const order = sorted(original, sort);
      const first = await list(user, { sort, limit: "3" });
      const page1 = (await first.json()) as Task[];
      expect(ids(page1)).toEqual(ids(order.slice(0, 3)));
      const next = nextLink(first);
      if (next === undefined) throw new Error("no Link after page 1");
      const cursorTask = page1[2];
      if (cursorTask === undefined) throw new Error("page 1 too short");

      // Meanwhile: delete the last task of page 1 and two tasks of page 2, and insert tasks that
      // sort before and after the cursor.
      const deleted = [cursorTask, order[3], order[5]].map((task) => task?.id ?? 0);
      for (const id of deleted) expect((await call(`/api/${user}/tasks/${id}`, { method: "DELETE" })).status).toBe(204);
      const inserted = await Promise.all(["alpha", "echo", "golf", "zulu"].map((title) => createTask(user, { title })));

      const current = [...original.filter((task) => !deleted.includes(task.id)), ...inserted];
      const after = (task: Task) => contractOrder(sort)(task, cursorTask) > 0;
      const expectedRest = ids(sorted(current, sort).filter(after));

      const rest = await walk(user, `${next.search.slice(1)}`, 3);
      const seen = ids(rest.pages.flat());
      expect(seen).toEqual(expectedRest);
      expect(seen.some((id) => ids(page1).includes(id))).toBe(false);
      // Survivors of the original set after page 1 are all there: no gaps.
      const survivors = ids(order.slice(3).filter((task) => !deleted.includes(task.id)));
      expect(seen.filter((id) => survivors.includes(id))).toEqual(survivors);
    },
  );

  it("the Link keeps the other query parameters (filters, sort, limit), including an offset sent unencoded", async () => {
    const user = newUser();
    const tasks = await createInBatches(user, [
      Array.from({ length: 7 }, (_, i) => ({
        title: `Report ${i}`,
        priority: i === 3 ? "low" : "high",
        tags: ["work"],
        due_date: `2030-0${1 + (i % 3)}-15T00:00:00Z`,
      })),
      [{ title: "report done", priority: "high", tags: ["work"], completed: true, due_date: "2030-01-15T00:00:00Z" }],
      [{ title: "memo", priority: "high", tags: ["work"], due_date: "2030-01-15T00:00:00Z" }],
    ]);
    const query =
      "status=pending&priority=high&tag=work&q=report&due_after=2030-01-01T01:00:00+01:00&due_before=2030-12-31T00:00:00Z&sort=due_date&limit=2";
    const expected = sorted(
      tasks.filter((task) => !task.completed && task.priority === "high" && task.title.startsWith("Report")),
      "due_date",
    );
    expect(expected).toHaveLength(6);
    const { pages, links } = await walk(user, query, 2);
    expect(ids(pages.flat())).toEqual(ids(expected));
    const sent = new URLSearchParams(query);
    for (const link of links) {
      const kept = new URLSearchParams(link.search);
      expect(kept.get("cursor")).toBeTruthy();
      kept.delete("cursor");
      expect([...kept.entries()].sort()).toEqual([...sent.entries()].sort());
      expect(link.pathname).toBe(`/api/${user}/tasks`);
    }
  });
});

describe("cursor", () => {
  const chars = (n: number) => "x".repeat(n);
  const tampered: [string, string, string][] = [
    // description, sort, cursor as sent in the query string
    ["a random string", "-created_at", "definitely-not-a-cursor!!"],
    ["random base64url", "-created_at", Buffer.from([0x8f, 0x00, 0xfe, 0x13, 0x77, 0x99, 0xab]).toString("base64url")],
    ["base64 of garbage JSON", "-created_at", base64url('{"sort": -created_at, ')],
    [
      "base64 of a JSON object",
      "-created_at",
      base64url(JSON.stringify({ sort: "-created_at", value: "2026-01-01T00:00:00.000Z", id: 1 })),
    ],
    ["wrong types (number value, string id)", "-created_at", base64url(JSON.stringify(["-created_at", 12345, "7"]))],
    ["a value that is not a timestamp", "-created_at", base64url(JSON.stringify(["-created_at", "yesterday", 7]))],
    ["a negative id", "-created_at", base64url(JSON.stringify(["-created_at", "2026-01-01T00:00:00.000Z", -1]))],
    ["a fractional id", "-created_at", base64url(JSON.stringify(["-created_at", "2026-01-01T00:00:00.000Z", 1.5]))],
    ["an id beyond bigint", "-created_at", base64url(JSON.stringify(["-created_at", "2026-01-01T00:00:00.000Z", 1e30]))],
    ["four elements", "-created_at", base64url(JSON.stringify(["-created_at", "2026-01-01T00:00:00.000Z", 1, 2]))],
    ["an unknown priority", "priority", base64url(JSON.stringify(["priority", "urgent", 1]))],
    ["a null priority", "priority", base64url(JSON.stringify(["priority", null, 1]))],
    ["an empty title", "title", base64url(JSON.stringify(["title", "", 1]))],
    ["a 201-character title", "title", base64url(JSON.stringify(["title", chars(201), 1]))],
    ["a title with NUL", "title", base64url(JSON.stringify(["title", "a\u0000b", 1]))],
    ["a due date that is not a timestamp", "due_date", base64url(JSON.stringify(["due_date", "soon", 1]))],
    ["a null created_at", "created_at", base64url(JSON.stringify(["created_at", null, 1]))],
    ["another sort's cursor", "-created_at", base64url(JSON.stringify(["title", "alpha", 1]))],
    ["an empty cursor", "-created_at", ""],
  ];

  it.each(tampered)("a tampered cursor (%s) is a 422 naming cursor, never a 500", async (_description, sort, cursor) => {
    const user = newUser();
    await createTask(user, { title: "something to list" });
    await expectRejected(await list(user, `sort=${encodeURIComponent(sort)}&cursor=${encodeURIComponent(cursor)}`), "cursor");
  });

  it("a cursor issued for sort=title is a 422 naming cursor with sort=-created_at or sort=-title", async () => {
    const user = newUser();
    await Promise.all(["a", "b", "c"].map((title) => createTask(user, { title })));
    const response = await list(user, { sort: "title", limit: "1" });
    const cursor = nextLink(response)?.searchParams.get("cursor");
    if (!cursor) throw new Error("no cursor issued");
    // The issued cursor works with its own sort …
    expect((await list(user, { sort: "title", limit: "1", cursor })).status).toBe(200);
    // … and nowhere else.
    await expectRejected(await list(user, { sort: "-created_at", cursor }), "cursor");
    await expectRejected(await list(user, { sort: "-title", cursor }), "cursor");
  });

  it("a well-formed cursor at the edges of the timestamp range is answered, not a 500", async () => {
    const user = newUser();
    const tasks = await Promise.all(["a", "b"].map((title) => createTask(user, { title })));
    const oldest = base64url(JSON.stringify(["-created_at", "0001-01-01T00:00:00.000Z", 1]));
    const newest = base64url(JSON.stringify(["-created_at", "9999-12-31T23:59:59.999Z", Number.MAX_SAFE_INTEGER]));
    expect(await listOk(user, { cursor: oldest })).toEqual([]);
    expect(ids(await listOk(user, { cursor: newest }))).toEqual(ids(sorted(tasks)));
  });
});

describe("invalid query parameters", () => {
  const cases: [string, string][] = [
    ["status=done", "status"],
    ["status=", "status"],
    ["status=ALL", "status"],
    ["priority=urgent", "priority"],
    ["priority=", "priority"],
    ["sort=id", "sort"],
    ["sort=--title", "sort"],
    ["sort=%2Btitle", "sort"],
    ["sort=", "sort"],
    ["due_before=tomorrow", "due_before"],
    ["due_before=2026-13-01T00:00:00Z", "due_before"],
    ["due_before=2026-02-30T00:00:00Z", "due_before"],
    ["due_before=2026-01-01", "due_before"],
    ["due_before=2026-01-01T00:00:00", "due_before"],
    ["due_after=", "due_after"],
    ["due_after=2026-01-01T25:00:00Z", "due_after"],
    ["q=", "q"],
    [`q=${"a".repeat(201)}`, "q"],
    ["q=%00", "q"],
    ["tag=", "tag"],
    [`tag=${"t".repeat(33)}`, "tag"],
  ];

  it.each(cases)("%s is a 422 naming the parameter", async (query, path) => {
    await expectRejected(await list(newUser(), query), path);
  });

  it("accepts q of exactly 200 characters", async () => {
    expect((await list(newUser(), { q: "a".repeat(200) })).status).toBe(200);
  });

  it.each([
    ["foo=bar", "foo"],
    ["page=2", "page"],
    ["Status=all", "Status"],
    ["offset=10", "offset"],
  ])("an unknown parameter (%s) is a 422 naming it", async (query, path) => {
    await expectRejected(await list(newUser(), query), path);
  });

  it.each([
    ["status=all&status=pending", "status"],
    ["tag=a&tag=b", "tag"],
    ["limit=5&limit=5", "limit"],
    ["cursor=a&cursor=b", "cursor"],
  ])("a parameter given twice (%s) is a 422 naming it", async (query, path) => {
    await expectRejected(await list(newUser(), query), path);
  });
});
