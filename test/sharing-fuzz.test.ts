// Shared lists, fuzzed (docs/api.md "Sharing"): five users, their lists and tasks, random
// invitations (accepted at once or later, revoked), role changes, removals, leaves and transfers,
// lists deleted and restored, and random calls by random users (creates, recurring ones too, edits,
// completes, deletes, restores, moves between lists and under parents, batches, stale If-Match
// writes; GET /tasks with filters and every page, one task, the lists, one list, its members, the
// trash, /changes in full and from each user's own cursor), each membership change followed by a
// call of the user it changed. One request at a time, against a model of who is a member of which
// list with which role and which list each task is in (kept from the responses, and checked
// against the database after every write). The property:
//
//   no response ever shows a task of a list the caller is not a member of at that moment
//
// (owner, editor or viewer; for an incremental /changes pull, the membership after it, which is
// now: a removal turns what came before into deletions). Also: every read shows exactly what the
// model says the caller sees (GET /lists with each list's role, the members, the trash: what the
// caller owns or edits); /changes never shows a list or a membership of a list the caller is not
// in; a viewer's write is a 403 list_read_only and a non-member's a 404 (task_not_found,
// list_not_found) or a 422 naming list_id or parent_id, whatever its If-Match; a refused write
// changes nothing (tasks, lists, members, invitations, feed positions); never a 5xx; every 30 steps
// and at the end, each user's feed, applied, is exactly their GET /tasks and GET /lists (and, at
// the end, GET …/members). A failure names the seed, the step and the calls that led to it.
// Seeded (mulberry32, as test/sync.test.ts): SHARING_FUZZ_SEEDS=7,8 and SHARING_FUZZ_STEPS=400
// replay or extend it.
import { describe, it } from "vitest";
import { PROBLEMS, type ProblemCode } from "../src/problems.ts";
import { call, newUser, type Task, untilAvailable } from "./support/api.ts";
import { suiteDatabase } from "./support/database.ts";
import { type List, nextPath } from "./support/lists.ts";
import { random } from "./support/random.ts";
import type { Member } from "./support/sharing.ts";

const SEEDS = (process.env.SHARING_FUZZ_SEEDS ?? "20261201,20261202,20261203").split(",").map(Number);
const STEPS = Number(process.env.SHARING_FUZZ_STEPS ?? 150);
const USERS = 5;
/** Every this many steps (and at the end): each user's feed against GET /tasks and GET /lists. */
const CHECKPOINT = 30;

const db = suiteDatabase();

type Role = "owner" | "editor" | "viewer";
type MemberRole = "editor" | "viewer";

interface ModelList {
  id: number;
  owner: string;
  members: Map<string, MemberRole>;
  inbox: boolean;
  deleted: boolean;
}

interface ModelTask {
  id: number;
  list: number;
  parent: number | null;
  completed: boolean;
  deleted: boolean;
  /** In the trash with this parent (deleted_with_task), or with this list (deleted_with_list). */
  withTask: number | null;
  withList: number | null;
}

/** What a call should answer: a success status, or a problem (with the field a 422 names). */
type Expected = { status: 200 | 201 | 204 } | { code: ProblemCode; path?: string };

const ok = (status: 200 | 201 | 204): Expected => ({ status });
const refused = (code: ProblemCode, path?: string): Expected => (path === undefined ? { code } : { code, path });
const isOk = (expected: Expected): expected is { status: 200 | 201 | 204 } => "status" in expected;

interface Answer {
  status: number;
  body: unknown;
  response: Response;
}

interface Page {
  changes: Array<{ op: "upsert" | "delete"; task?: Task; id?: number }>;
  lists: Array<{ op: "upsert" | "delete"; list?: SharedList; id?: number }>;
  members: Array<{ op: "upsert" | "delete"; member?: Membership; id?: number }>;
  cursor: string;
  has_more: boolean;
}

type SharedList = List & { role: Role; shared: boolean };

interface Membership {
  id: number;
  list_id: number;
  user_id: string;
  role: MemberRole;
}

interface Feed {
  tasks: Map<number, Task>;
  lists: Map<number, SharedList>;
  members: Map<number, Membership>;
  cursor: string | undefined;
}

const newFeed = (): Feed => ({ tasks: new Map(), lists: new Map(), members: new Map(), cursor: undefined });

class Violation extends Error {}

/** One seeded run: the users, the model, the steps. */
class Run {
  readonly next: () => number;
  readonly users: string[] = [];
  readonly alias = new Map<string, string>();
  readonly inbox = new Map<string, number>();
  readonly lists = new Map<number, ModelList>();
  readonly tasks = new Map<number, ModelTask>();
  readonly feeds = new Map<string, Feed>();
  readonly log: string[] = [];
  /** Invitations made and not accepted yet (or accepted, kept to try again): their token, list and role. */
  readonly invitations: Array<{ id: number; token: string; list: number; role: MemberRole; used: boolean; revoked: boolean }> = [];
  step = 0;
  titles = 0;

  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed;
    this.next = random(seed);
    for (let i = 0; i < USERS; i++) {
      const user = newUser();
      this.users.push(user);
      this.alias.set(user, `u${i}`);
      this.feeds.set(user, newFeed());
    }
  }

  // ------------------------------------------------------------------ randomness

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from nothing");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T {
    const total = choices.reduce((sum, [weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [weight, choice] of choices) {
      roll -= weight;
      if (roll < 0) return choice;
    }
    return (choices.at(-1) as readonly [number, T])[1];
  }

  // ------------------------------------------------------------------ the model

  role(user: string, listId: number): Role | undefined {
    const list = this.lists.get(listId);
    if (list === undefined) return undefined;
    return list.owner === user ? "owner" : list.members.get(user);
  }

  /** The caller's role in a list that is not in the trash: what reads go by. */
  liveRole(user: string, listId: number): Role | undefined {
    return this.lists.get(listId)?.deleted === false ? this.role(user, listId) : undefined;
  }

  sees(user: string, task: ModelTask): boolean {
    return !task.deleted && this.liveRole(user, task.list) !== undefined;
  }

  visibleTaskIds(user: string): number[] {
    return [...this.tasks.values()].filter((task) => this.sees(user, task)).map((task) => task.id);
  }

  visibleLists(user: string): ModelList[] {
    return [...this.lists.values()].filter((list) => this.liveRole(user, list.id) !== undefined);
  }

  /**
   * Whether a task in the trash is in `user`'s trash: deleted on its own, in a list they own or edit
   * (a list in the trash keeps its members: they restore its tasks into their Inbox).
   */
  restores(user: string, task: ModelTask): boolean {
    const role = this.role(user, task.list);
    return task.deleted && (role === "owner" || role === "editor");
  }

  hasSubtasks(id: number): boolean {
    return [...this.tasks.values()].some((task) => task.parent === id && !task.deleted);
  }

  list(id: number): ModelList {
    const list = this.lists.get(id);
    if (list === undefined) throw this.violation(`list ${id} is not in the model`);
    return list;
  }

  task(id: number): ModelTask {
    const task = this.tasks.get(id);
    if (task === undefined) throw this.violation(`task ${id} is not in the model`);
    return task;
  }

  /** A task as a response shows it, into the model (its list and parent are the server's word; the database check follows). */
  learn(task: Task): ModelTask {
    const known = this.tasks.get(task.id);
    const model: ModelTask = known ?? {
      id: task.id,
      list: task.list_id,
      parent: task.parent_id,
      completed: task.completed,
      deleted: false,
      withTask: null,
      withList: null,
    };
    const moved = known !== undefined && known.list !== task.list_id;
    model.list = task.list_id;
    model.parent = task.parent_id;
    model.completed = task.completed;
    model.deleted = false;
    model.withTask = null;
    model.withList = null;
    this.tasks.set(task.id, model);
    // Completing a recurring occurrence made the next one, beside it.
    if (task.next_id !== null && !this.tasks.has(task.next_id)) {
      this.tasks.set(task.next_id, {
        id: task.next_id,
        list: task.list_id,
        parent: task.parent_id,
        completed: false,
        deleted: false,
        withTask: null,
        withList: null,
      });
    }
    // A task moved to another list takes its subtasks along.
    if (moved) for (const sub of this.tasks.values()) if (sub.parent === task.id && !sub.deleted) sub.list = task.list_id;
    return model;
  }

  deleteTask(id: number): void {
    const task = this.task(id);
    for (const sub of this.tasks.values()) {
      if (sub.parent === id && !sub.deleted) Object.assign(sub, { deleted: true, withTask: id, withList: null });
    }
    Object.assign(task, { deleted: true, withTask: null, withList: null });
  }

  /** POST /tasks/{id}/restore answered `restored`: the subtasks that went with it come back into its list. */
  restoreTask(restored: Task): void {
    const old = { ...this.task(restored.id) };
    this.learn(restored);
    for (const sub of this.tasks.values()) {
      if (!sub.deleted || sub.id === restored.id) continue;
      if (sub.withTask === old.id || (sub.parent === old.id && old.withList !== null && sub.withList === old.withList)) {
        Object.assign(sub, { deleted: false, withTask: null, withList: null, list: restored.list_id });
      }
    }
  }

  listDeleted(id: number, moveTo: number | null): void {
    const list = this.list(id);
    for (const task of this.tasks.values()) {
      if (task.list !== id || task.deleted) continue;
      if (moveTo !== null) task.list = moveTo;
      else Object.assign(task, { deleted: true, withTask: null, withList: id });
    }
    list.deleted = true;
  }

  listRestored(id: number): void {
    this.list(id).deleted = false;
    const back = [...this.tasks.values()].filter((task) => task.deleted && task.withList === id);
    // Top level first; a subtask whose parent is not back at the top level of this list comes back at the top level.
    for (const task of back.filter((t) => t.parent === null)) Object.assign(task, { deleted: false, withList: null });
    for (const task of back.filter((t) => t.parent !== null)) {
      const parent = this.tasks.get(task.parent as number);
      const stays = parent !== undefined && !parent.deleted && parent.list === id && parent.parent === null;
      Object.assign(task, { deleted: false, withList: null, parent: stays ? task.parent : null });
    }
  }

  // ------------------------------------------------------------------ failures

  name(user: string): string {
    return this.alias.get(user) ?? user;
  }

  describeList(id: number): string {
    const list = this.lists.get(id);
    if (list === undefined) return `list ${id} (unknown)`;
    const members = [...list.members].map(([user, role]) => `${this.name(user)}:${role}`).join(", ");
    return `list ${id} (owner ${this.name(list.owner)}; members: ${members || "none"}${list.deleted ? "; in the trash" : ""})`;
  }

  violation(message: string): Violation {
    const recent = this.log.slice(-40).join("\n  ");
    const users = this.users.map((user) => `${this.name(user)} = ${user}`).join(", ");
    return new Violation(`seed ${this.seed}, step ${this.step}: ${message}\n users: ${users}\n last calls:\n  ${recent}`);
  }

  // ------------------------------------------------------------------ calls

  /** One call as `user` (retried on 503 write_conflict / database_unavailable); checked against the OpenAPI document by call(). */
  async send(user: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await untilAvailable(() =>
      call(`/api/${user}${path}`, body === undefined ? { method, headers } : { method, body, headers }),
    );
    const text = response.status === 204 ? "" : await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    const code = response.status >= 400 ? ` ${(parsed as { code?: string } | undefined)?.code ?? ""}` : "";
    this.log.push(
      `#${this.step} ${this.name(user)} ${method} ${path}${body === undefined ? "" : ` ${JSON.stringify(body)}`}` +
        `${Object.entries(headers)
          .map(([name, value]) => ` ${name}: ${value}`)
          .join("")} → ${response.status}${code}`,
    );
    if (response.status >= 500) throw this.violation(`${method} ${path} by ${this.name(user)} answered ${response.status}: ${text}`);
    return { status: response.status, body: parsed, response };
  }

  /** The answer is what the model expects (the status, or the problem's code and the field it names). */
  expectAnswer(answer: Answer, expected: Expected, what: string): void {
    const body = JSON.stringify(answer.body);
    if (isOk(expected)) {
      if (answer.status !== expected.status) throw this.violation(`${what}: expected ${expected.status}, got ${answer.status} ${body}`);
      return;
    }
    const problem = answer.body as { code?: string; status?: number; errors?: { path: string }[] } | undefined;
    const status = PROBLEMS[expected.code].status;
    if (answer.status !== status || problem?.code !== expected.code) {
      throw this.violation(`${what}: expected ${status} ${expected.code}, got ${answer.status} ${body}`);
    }
    if (answer.response.headers.get("Content-Type")?.startsWith("application/problem+json") !== true) {
      throw this.violation(`${what}: a ${answer.status} that is not problem+json`);
    }
    if (expected.path !== undefined) {
      const paths = problem.errors?.map((error) => error.path) ?? [];
      const field = expected.path;
      if (!paths.some((path) => path === field || path.endsWith(`/${field}`) || path.endsWith(`.${field}`))) {
        throw this.violation(`${what}: expected a 422 naming ${field}, got ${body}`);
      }
    }
  }

  /** Everything a refused write must leave as it was: tasks, lists, members, invitations, every feed's position. */
  async fingerprint(): Promise<string> {
    const { rows } = await db.query<{ print: string }>(
      `SELECT concat_ws(' | ',
         (SELECT string_agg(t.id || ':' || t.version || ':' || t.user_id || ':' || t.list_id || ':' || (t.deleted_at IS NULL), ',' ORDER BY t.id)
            FROM tasks t WHERE t.user_id = ANY ($1)),
         (SELECT string_agg(l.id || ':' || l.version || ':' || l.user_id || ':' || (l.deleted_at IS NULL), ',' ORDER BY l.id)
            FROM lists l WHERE l.user_id = ANY ($1)),
         (SELECT string_agg(m.list_id || ':' || m.user_id || ':' || m.role, ',' ORDER BY m.list_id, m.user_id)
            FROM list_members m JOIN lists l ON l.id = m.list_id WHERE l.user_id = ANY ($1)),
         (SELECT string_agg(i.id || ':' || (i.accepted_at IS NULL) || ':' || (i.revoked_at IS NULL), ',' ORDER BY i.id)
            FROM list_invitations i JOIN lists l ON l.id = i.list_id WHERE l.user_id = ANY ($1)),
         (SELECT string_agg(s.user_id || ':' || s.position, ',' ORDER BY s.user_id) FROM sync_state s WHERE s.user_id = ANY ($1))) AS print`,
      [this.users],
    );
    return rows[0]?.print ?? "";
  }

  /**
   * The model against the database, after every write: each task's list, parent, owner (its
   * list's), completion and trash state, each list's owner and trash state. A difference is the
   * model's mistake or the server's (a response that did not say what it did).
   */
  async checkDatabase(): Promise<void> {
    const { rows: tasks } = await db.query<{
      id: string;
      list_id: string;
      parent_id: string | null;
      user_id: string;
      completed: boolean;
      deleted: boolean;
      with_task: string | null;
      with_list: string | null;
    }>(
      `SELECT t.id, t.list_id, t.parent_id, t.user_id, t.completed, t.deleted_at IS NOT NULL AS deleted,
              t.deleted_with_task AS with_task, t.deleted_with_list AS with_list
       FROM tasks t WHERE t.user_id = ANY ($1)`,
      [this.users],
    );
    const seen = new Set<number>();
    for (const row of tasks) {
      const id = Number(row.id);
      seen.add(id);
      const model = this.tasks.get(id);
      const stored = {
        list: Number(row.list_id),
        parent: row.parent_id === null ? null : Number(row.parent_id),
        owner: this.name(row.user_id),
        completed: row.completed,
        deleted: row.deleted,
        withTask: row.with_task === null ? null : Number(row.with_task),
        withList: row.with_list === null ? null : Number(row.with_list),
      };
      const expected = model && {
        list: model.list,
        parent: model.parent,
        owner: this.name(this.list(model.list).owner),
        completed: model.completed,
        deleted: model.deleted,
        withTask: model.deleted ? model.withTask : null,
        withList: model.deleted ? model.withList : null,
      };
      if (JSON.stringify(stored) !== JSON.stringify(expected)) {
        throw this.violation(`task ${id} in the database: ${JSON.stringify(stored)}; the model: ${JSON.stringify(expected)}`);
      }
    }
    for (const id of this.tasks.keys())
      if (!seen.has(id)) throw this.violation(`task ${id} is not in the database under any user of the run`);
    const { rows: lists } = await db.query<{ id: string; user_id: string; deleted: boolean }>(
      "SELECT l.id, l.user_id, l.deleted_at IS NOT NULL AS deleted FROM lists l WHERE l.user_id = ANY ($1)",
      [this.users],
    );
    if (lists.length !== this.lists.size) throw this.violation(`${lists.length} lists in the database, ${this.lists.size} in the model`);
    for (const row of lists) {
      const model = this.lists.get(Number(row.id));
      if (model === undefined || model.owner !== row.user_id || model.deleted !== row.deleted) {
        throw this.violation(
          `list ${row.id} in the database: owner ${this.name(row.user_id)}, deleted ${row.deleted}; the model: ${this.describeList(Number(row.id))}`,
        );
      }
    }
  }

  /** A write: its answer checked against the model's expectation; a refused one changed nothing. */
  async write(
    user: string,
    method: string,
    path: string,
    body: unknown,
    expected: Expected,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const before = isOk(expected) ? "" : await this.fingerprint();
    const answer = await this.send(user, method, path, body, headers);
    this.expectAnswer(answer, expected, `${this.name(user)} ${method} ${path}`);
    if (!isOk(expected)) {
      const after = await this.fingerprint();
      if (after !== before)
        throw this.violation(`${method} ${path} by ${this.name(user)} was refused (${answer.status}) but changed something`);
    }
    return answer;
  }

  // ------------------------------------------------------------------ the property

  /** A task in a response to `user`: in a list they are a member of right now, where the model has it. */
  checkTask(user: string, task: Task, where: string): void {
    const model = this.tasks.get(task.id);
    if (model === undefined) throw this.violation(`${where} showed ${this.name(user)} task ${task.id}, which no user of this run made`);
    const role = this.liveRole(user, task.list_id);
    if (role === undefined || model.deleted) {
      throw this.violation(
        `VISIBILITY: ${where} showed ${this.name(user)} task ${task.id} of ${this.describeList(task.list_id)}, ` +
          `${model.deleted ? "a task in the trash" : `of which ${this.name(user)} is not a member`}: ${JSON.stringify(task)}`,
      );
    }
    if (task.list_id !== model.list || task.parent_id !== model.parent) {
      throw this.violation(
        `${where} showed task ${task.id} in list ${task.list_id} under ${task.parent_id}; the model has it in list ${model.list} under ${model.parent}`,
      );
    }
    const owner = this.list(task.list_id).owner;
    if (task.user_id !== owner)
      throw this.violation(`${where} showed task ${task.id} owned by ${this.name(task.user_id)}, its list's owner is ${this.name(owner)}`);
  }

  /** A list in a response to `user`: one they are a member of, with their role, its owner and whether it is shared. */
  checkList(user: string, list: SharedList, where: string): void {
    const model = this.lists.get(list.id);
    const role = this.liveRole(user, list.id);
    if (model === undefined || role === undefined) {
      throw this.violation(
        `VISIBILITY: ${where} showed ${this.name(user)} ${this.describeList(list.id)}, of which they are not a member: ${JSON.stringify(list)}`,
      );
    }
    if (list.role !== role || list.user_id !== model.owner || list.shared !== model.members.size > 0) {
      throw this.violation(
        `${where} showed ${this.name(user)} list ${list.id} as role ${list.role}, owner ${this.name(list.user_id)}, shared ${list.shared}; ` +
          `the model: role ${role}, ${this.describeList(list.id)}`,
      );
    }
  }

  sameIds(actual: Iterable<number>, expected: Iterable<number>, what: string): void {
    const a = [...actual].sort((x, y) => x - y);
    const e = [...expected].sort((x, y) => x - y);
    if (JSON.stringify(a) !== JSON.stringify(e)) {
      const missing = e.filter((id) => !a.includes(id));
      const extra = a.filter((id) => !e.includes(id));
      throw this.violation(`${what}: missing ${JSON.stringify(missing)}, not expected ${JSON.stringify(extra)} (got ${JSON.stringify(a)})`);
    }
  }

  // ------------------------------------------------------------------ choosing

  /** A user, most often one who is a member of the list (any role), else anyone. */
  callerFor(listId: number, memberBias = 0.65): string {
    const list = this.lists.get(listId);
    if (list !== undefined && this.chance(memberBias)) return this.pick([list.owner, ...list.members.keys()]);
    return this.pick(this.users);
  }

  anyTask(): ModelTask {
    const live = [...this.tasks.values()].filter((task) => !task.deleted);
    return this.chance(0.9) && live.length > 0 ? this.pick(live) : this.pick([...this.tasks.values()]);
  }

  /** A list that is not an Inbox (most often; those cannot be shared or deleted). */
  shareableList(): ModelList {
    const lists = [...this.lists.values()].filter((list) => !list.inbox && !list.deleted);
    return this.chance(0.85) && lists.length > 0 ? this.pick(lists) : this.anyList();
  }

  anyList(): ModelList {
    const live = [...this.lists.values()].filter((list) => !list.deleted);
    return this.chance(0.9) && live.length > 0 ? this.pick(live) : this.pick([...this.lists.values()]);
  }

  /** A list to write into: most often one where `user` may write, else any. */
  targetList(user: string): ModelList {
    const writable = [...this.lists.values()].filter((list) => {
      const role = this.liveRole(user, list.id);
      return role === "owner" || role === "editor";
    });
    return this.chance(0.7) && writable.length > 0 ? this.pick(writable) : this.anyList();
  }

  sharedLists(): ModelList[] {
    return [...this.lists.values()].filter((list) => !list.deleted && list.members.size > 0);
  }

  title(): string {
    this.titles++;
    return `t${this.titles}`;
  }

  // ------------------------------------------------------------------ expectations of writes

  /** A write to an existing task (PATCH, PUT, /complete, DELETE, /move): 404 unless a member, 403 for a viewer. */
  taskWriteExpectation(user: string, task: ModelTask): Expected | undefined {
    if (task.deleted) return refused("task_not_found");
    const role = this.role(user, task.list);
    if (role === undefined) return refused("task_not_found");
    if (role === "viewer") return refused("list_read_only");
    return undefined;
  }

  /** Where a task may go: a list in the trash or not the caller's is a 422 naming list_id; a viewer's, a 403. */
  targetExpectation(user: string, listId: number): Expected | undefined {
    const role = this.liveRole(user, listId);
    if (role === undefined) return refused("validation_failed", "list_id");
    if (role === "viewer") return refused("list_read_only");
    return undefined;
  }

  /**
   * Sometimes a write carries a stale If-Match: a 412 for whoever may write the task, and still the
   * 404 (or 403) for anyone else: a precondition never tells a non-member that the task is there.
   */
  staleIfMatch(expected: Expected | undefined): { headers: Record<string, string>; expected: Expected | undefined } {
    if (!this.chance(0.15)) return { headers: {}, expected };
    return { headers: { "If-Match": '"999999"' }, expected: expected ?? refused("precondition_failed") };
  }

  /** What only the owner may do to a list: 404 for a non-member (or a list in the trash), 403 for the others. */
  ownerExpectation(user: string, list: ModelList): Expected | undefined {
    if (list.deleted) return refused("list_not_found");
    const role = this.role(user, list.id);
    if (role === undefined) return refused("list_not_found");
    if (role === "viewer") return refused("list_read_only");
    if (role === "editor") return refused("list_owner_only");
    return undefined;
  }

  /**
   * Right after `user`'s membership of a list changed (joined, left, removed, a new role, a
   * transfer, the list deleted or restored): a call of theirs that touches that list, where a
   * stale membership would show.
   */
  async probe(user: string, listId: number): Promise<void> {
    const list = this.list(listId);
    const tasks = [...this.tasks.values()].filter((task) => task.list === listId);
    const task = tasks.length > 0 ? this.pick(tasks) : undefined;
    const kind = this.weighted([
      [3, "tasks"],
      [2, "task"],
      [3, "changes"],
      [2, "write"],
      [1, "list"],
      [1, "create"],
    ] as const);
    if (kind === "tasks") await this.readTasks(user, this.chance(0.5) ? list : undefined);
    else if (kind === "task" && task !== undefined) await this.readTask(task, user);
    else if (kind === "write" && task !== undefined) await this.editTask(task, user);
    else if (kind === "create") await this.createTask(user, listId);
    else if (kind === "list") await this.readList(list, user);
    else await this.pullChanges(user);
  }

  // ------------------------------------------------------------------ membership steps

  async inviteAndAccept(owner?: string, listId?: number, invitee?: string): Promise<void> {
    const list = listId === undefined ? this.shareableList() : this.list(listId);
    const user = owner ?? (this.chance(0.8) ? list.owner : this.pick(this.users));
    const role: MemberRole = this.chance(0.5) ? "editor" : "viewer";
    const expected = this.ownerExpectation(user, list) ?? (list.inbox ? refused("inbox_not_shareable") : ok(201));
    const answer = await this.write(user, "POST", `/lists/${list.id}/invitations`, { role }, expected);
    if (answer.status !== 201) return;
    const made = answer.body as { id: number; token: string };
    const invitation = { id: made.id, token: made.token, list: list.id, role, used: false, revoked: false };
    this.invitations.push(invitation);
    // Some are kept for later: accepted after the list changed hands, lost members, went to the trash.
    if (invitee === undefined && this.chance(0.25)) return;
    await this.accept(invitation, invitee);
  }

  async accept(invitation: Run["invitations"][number], invitee?: string): Promise<void> {
    const list = this.list(invitation.list);
    const outsiders = this.users.filter((u) => this.role(u, list.id) === undefined);
    const joiner = invitee ?? (this.chance(0.9) && outsiders.length > 0 ? this.pick(outsiders) : this.pick(this.users));
    let expected: Expected;
    if (invitation.revoked || list.deleted) expected = refused("invitation_revoked");
    else if (invitation.used) expected = refused("invitation_used");
    else if (this.role(joiner, list.id) !== undefined) expected = refused("already_member");
    else expected = ok(200);
    const accepted = await this.write(joiner, "POST", "/invitations/accept", { token: invitation.token }, expected);
    if (accepted.status !== 200) return;
    invitation.used = true;
    list.members.set(joiner, invitation.role);
    this.checkList(joiner, accepted.body as SharedList, "POST /invitations/accept");
    if (this.step > 0) await this.probe(joiner, list.id);
  }

  /** An invitation made earlier, accepted now (or again: 410), whatever happened to its list since. */
  async acceptLater(): Promise<void> {
    const open = this.invitations.filter((invitation) => !invitation.used && !invitation.revoked);
    if (open.length === 0 && this.invitations.length === 0) return this.inviteAndAccept();
    await this.accept(this.chance(0.8) && open.length > 0 ? this.pick(open) : this.pick(this.invitations));
  }

  /** DELETE …/invitations/{id}: the owner's (a 404 invitation_not_found once accepted or revoked). */
  async revoke(): Promise<void> {
    if (this.invitations.length === 0) return;
    const invitation = this.pick(this.invitations);
    const list = this.list(invitation.list);
    const user = this.chance(0.8) ? list.owner : this.pick(this.users);
    const expected =
      this.ownerExpectation(user, list) ?? (invitation.used || invitation.revoked ? refused("invitation_not_found") : ok(204));
    const answer = await this.write(user, "DELETE", `/lists/${list.id}/invitations/${invitation.id}`, undefined, expected);
    if (answer.status === 204) invitation.revoked = true;
  }

  memberTarget(list: ModelList): string {
    return this.chance(0.85) && list.members.size > 0 ? this.pick([...list.members.keys()]) : this.pick(this.users);
  }

  async changeRole(transfer: boolean): Promise<void> {
    const shared = this.sharedLists();
    const list = this.chance(0.9) && shared.length > 0 ? this.pick(shared) : this.anyList();
    const user = this.chance(0.8) ? list.owner : this.pick(this.users);
    const member = this.memberTarget(list);
    const role = transfer ? "owner" : this.pick(["editor", "viewer"] as const);
    let expected = this.ownerExpectation(user, list);
    if (expected === undefined) {
      if (member === list.owner) expected = transfer ? ok(200) : refused("owner_role_fixed");
      else if (!list.members.has(member)) expected = refused("member_not_found");
      else expected = ok(200);
    }
    const answer = await this.write(user, "PATCH", `/lists/${list.id}/members/${encodeURIComponent(member)}`, { role }, expected);
    if (answer.status !== 200) return;
    if (member !== list.owner) {
      if (transfer) {
        list.members.delete(member);
        list.members.set(list.owner, "editor");
        list.owner = member;
      } else {
        list.members.set(member, role as MemberRole);
      }
    }
    const shown = answer.body as Member;
    if (shown.user_id !== member || shown.role !== this.role(member, list.id)) {
      throw this.violation(`PATCH members answered ${JSON.stringify(shown)}; the model: ${this.describeList(list.id)}`);
    }
    await this.probe(this.chance(0.5) ? member : user, list.id);
  }

  async removeOrLeave(): Promise<void> {
    const shared = this.sharedLists();
    const list = this.chance(0.9) && shared.length > 0 ? this.pick(shared) : this.anyList();
    let user: string;
    let member: string;
    if (this.chance(0.5)) {
      // Leaving (or the owner trying to).
      user = this.chance(0.85) ? this.pick([list.owner, ...list.members.keys()]) : this.pick(this.users);
      member = user;
    } else {
      user = this.chance(0.8) ? list.owner : this.pick(this.users);
      member = this.memberTarget(list);
    }
    let expected: Expected;
    const role = this.role(user, list.id);
    if (list.deleted || role === undefined) expected = refused("list_not_found");
    else if (role !== "owner" && member !== user) expected = refused(role === "viewer" ? "list_read_only" : "list_owner_only");
    else if (member === list.owner) expected = refused("owner_cannot_leave");
    else if (!list.members.has(member)) expected = refused("member_not_found");
    else expected = ok(204);
    const answer = await this.write(user, "DELETE", `/lists/${list.id}/members/${encodeURIComponent(member)}`, undefined, expected);
    if (answer.status !== 204) return;
    list.members.delete(member);
    await this.probe(member, list.id);
  }

  // ------------------------------------------------------------------ list steps

  async createList(user = this.pick(this.users)): Promise<void> {
    const answer = await this.write(user, "POST", "/lists", { name: `list ${this.lists.size + 1}` }, ok(201));
    const list = answer.body as SharedList;
    this.lists.set(list.id, { id: list.id, owner: user, members: new Map(), inbox: false, deleted: false });
    this.checkList(user, list, "POST /lists");
  }

  async deleteList(): Promise<void> {
    const list = this.shareableList();
    const user = this.chance(0.8) ? list.owner : this.pick(this.users);
    let moveTo: number | null = null;
    if (this.chance(0.3))
      moveTo = this.chance(0.8) ? this.pick([...this.lists.values()].filter((l) => l.owner === list.owner)).id : this.anyList().id;
    let expected = this.ownerExpectation(user, list) ?? (list.inbox ? refused("inbox_not_deletable") : undefined);
    if (expected === undefined && moveTo !== null) {
      const target = this.list(moveTo);
      if (moveTo === list.id || target.owner !== user || target.deleted) expected = refused("validation_failed", "move_to");
    }
    const answer = await this.write(
      user,
      "DELETE",
      `/lists/${list.id}${moveTo === null ? "" : `?move_to=${moveTo}`}`,
      undefined,
      expected ?? ok(204),
    );
    if (answer.status !== 204) return;
    this.listDeleted(list.id, moveTo);
    if (list.members.size > 0) await this.probe(this.pick([...list.members.keys()]), list.id);
  }

  async restoreList(): Promise<void> {
    const trashed = [...this.lists.values()].filter((list) => list.deleted);
    const list = this.chance(0.85) && trashed.length > 0 ? this.pick(trashed) : this.anyList();
    const user = this.chance(0.8) ? list.owner : this.pick(this.users);
    let expected: Expected;
    const role = this.role(user, list.id);
    if (!list.deleted || role === undefined) expected = refused("list_not_found");
    else if (role !== "owner") expected = refused(role === "viewer" ? "list_read_only" : "list_owner_only");
    else expected = ok(200);
    const answer = await this.write(user, "POST", `/lists/${list.id}/restore`, undefined, expected);
    if (answer.status !== 200) return;
    this.listRestored(list.id);
    this.checkList(user, answer.body as SharedList, "POST /lists/{id}/restore");
    if (list.members.size > 0) await this.probe(this.pick([...list.members.keys()]), list.id);
  }

  // ------------------------------------------------------------------ task steps

  async createTask(user = this.pick(this.users), listId?: number, parentId?: number): Promise<void> {
    const body: Record<string, unknown> = { title: this.title() };
    // Some recur: completing one makes the next occurrence, in the same list (a change for its members too).
    if (this.chance(0.2)) Object.assign(body, { due_date: "2030-01-07T09:00:00Z", recurrence: { rule: "FREQ=DAILY", time_zone: "UTC" } });
    let expected: Expected | undefined;
    let target: number;
    const mode =
      listId !== undefined
        ? "list"
        : parentId !== undefined
          ? "parent"
          : this.weighted([
              [55, "list"],
              [20, "parent"],
              [25, "inbox"],
            ] as const);
    if (mode === "parent") {
      const parent = parentId === undefined ? this.anyTask() : this.task(parentId);
      body.parent_id = parent.id;
      target = parent.list;
      if (parent.deleted || parent.parent !== null || this.role(user, parent.list) === undefined)
        expected = refused("validation_failed", "parent_id");
    } else if (mode === "list") {
      target = listId ?? this.targetList(user).id;
      body.list_id = target;
      if (this.liveRole(user, target) === undefined) expected = refused("validation_failed", "list_id");
    } else {
      target = this.inbox.get(user) as number;
    }
    if (expected === undefined && this.role(user, target) === "viewer") expected = refused("list_read_only");
    const answer = await this.write(user, "POST", "/tasks", body, expected ?? ok(201));
    if (answer.status !== 201) return;
    const task = answer.body as Task;
    this.learn(task);
    this.checkTask(user, task, "POST /tasks");
  }

  async editTask(task = this.anyTask(), user = this.callerFor(task.list)): Promise<void> {
    const method = this.chance(0.2) ? "PUT" : "PATCH";
    const body = this.chance(0.5) ? { title: this.title() } : { priority: this.pick(["low", "medium", "high"]) };
    const { headers, expected } = this.staleIfMatch(this.taskWriteExpectation(user, task));
    const answer = await this.write(user, method, `/tasks/${task.id}`, body, expected ?? ok(200), headers);
    if (answer.status === 200) this.afterTaskWrite(user, answer.body as Task, `${method} /tasks/{id}`);
  }

  async completeTask(): Promise<void> {
    const task = this.anyTask();
    const user = this.callerFor(task.list);
    const body = this.chance(0.5) ? undefined : { completed: this.chance(0.5) };
    const { headers, expected } = this.staleIfMatch(this.taskWriteExpectation(user, task));
    const answer = await this.write(user, "PATCH", `/tasks/${task.id}/complete`, body, expected ?? ok(200), headers);
    if (answer.status === 200) this.afterTaskWrite(user, answer.body as Task, "PATCH /tasks/{id}/complete");
  }

  async deleteTaskStep(): Promise<void> {
    const task = this.anyTask();
    const user = this.callerFor(task.list);
    const { headers, expected } = this.staleIfMatch(this.taskWriteExpectation(user, task));
    const answer = await this.write(user, "DELETE", `/tasks/${task.id}`, undefined, expected ?? ok(204), headers);
    if (answer.status === 204) this.deleteTask(task.id);
  }

  async restoreTaskStep(): Promise<void> {
    const trashed = [...this.tasks.values()].filter((task) => task.deleted);
    const task = this.chance(0.85) && trashed.length > 0 ? this.pick(trashed) : this.anyTask();
    const user = this.callerFor(task.list);
    let expected: Expected;
    const role = this.role(user, task.list);
    if (!task.deleted || role === undefined) expected = refused("task_not_found");
    else if (role === "viewer") expected = refused("list_read_only");
    else expected = ok(200);
    const answer = await this.write(user, "POST", `/tasks/${task.id}/restore`, undefined, expected);
    if (answer.status !== 200) return;
    const restored = answer.body as Task;
    this.restoreTask(restored);
    this.checkTask(user, restored, "POST /tasks/{id}/restore");
  }

  /** POST /move, or PATCH with list_id: to another list (or within its own), under a parent or not. */
  async moveTask(viaPatch: boolean): Promise<void> {
    const task = this.anyTask();
    const user = this.callerFor(task.list);
    const body: Record<string, unknown> = {};
    // A PATCH always names a list (an empty PATCH is a 422 of its own).
    const listId = viaPatch || this.chance(0.75) ? this.targetList(user).id : undefined;
    if (listId !== undefined) body.list_id = listId;
    const target = listId ?? task.list;
    if (this.chance(0.25)) {
      const candidates = [...this.tasks.values()].filter((t) => t.list === target && t.parent === null && !t.deleted);
      body.parent_id = this.chance(0.8) && candidates.length > 0 ? this.pick(candidates).id : this.anyTask().id;
    }
    const stale = this.staleIfMatch(this.taskWriteExpectation(user, task));
    let expected = stale.expected;
    // A PATCH naming the list and parent the task has moves nothing (and checks nothing more).
    const relocates = !viaPatch || target !== task.list || (body.parent_id !== undefined && body.parent_id !== task.parent);
    if (expected === undefined && relocates) expected = this.targetExpectation(user, target);
    if (expected === undefined && relocates && body.parent_id !== undefined) {
      const parent = this.task(body.parent_id as number);
      if (parent.id === task.id || parent.deleted || parent.list !== target || parent.parent !== null || this.hasSubtasks(task.id)) {
        expected = refused("validation_failed", "parent_id");
      }
    }
    const path = viaPatch ? `/tasks/${task.id}` : `/tasks/${task.id}/move`;
    const answer = await this.write(user, viaPatch ? "PATCH" : "POST", path, body, expected ?? ok(200), stale.headers);
    if (answer.status === 200)
      this.afterTaskWrite(user, answer.body as Task, viaPatch ? "PATCH /tasks/{id} (list_id)" : "POST /tasks/{id}/move");
  }

  afterTaskWrite(user: string, task: Task, where: string): void {
    this.learn(task);
    this.checkTask(user, task, where);
  }

  /** POST /tasks/batch: 1 to 3 operations on unrelated tasks (no two of one family), all or none. */
  async batch(): Promise<void> {
    const user = this.pick(this.users);
    const count = 1 + Math.floor(this.next() * 3);
    const chosen: ModelTask[] = [];
    const related = (a: ModelTask, b: ModelTask) =>
      a.id === b.id || a.parent === b.id || b.parent === a.id || (a.parent !== null && a.parent === b.parent);
    const operations: Record<string, unknown>[] = [];
    const kinds: string[] = [];
    let expected: Expected | undefined;
    let failedAt = -1;
    for (let index = 0; index < count; index++) {
      const kind = this.weighted([
        [3, "update"],
        [3, "complete"],
        [2, "create"],
        [1, "delete"],
        [2, "move"],
      ] as const);
      let outcome: Expected | undefined;
      if (kind === "create") {
        const list = this.targetList(user);
        operations.push({ op: "create", task: { title: this.title(), list_id: list.id } });
        outcome = this.targetExpectation(user, list.id);
      } else {
        const task = this.chance(0.3)
          ? this.anyTask()
          : this.pick([...this.tasks.values()].filter((t) => this.sees(user, t)).concat(this.anyTask()));
        if (chosen.some((other) => related(task, other))) continue;
        chosen.push(task);
        outcome = this.taskWriteExpectation(user, task);
        if (kind === "update") operations.push({ op: "update", id: task.id, task: { title: this.title() } });
        else if (kind === "complete") operations.push({ op: "complete", id: task.id, completed: this.chance(0.5) });
        else if (kind === "delete") operations.push({ op: "delete", id: task.id });
        else {
          const list = this.targetList(user);
          operations.push({ op: "move", id: task.id, list_id: list.id });
          outcome ??= this.targetExpectation(user, list.id);
        }
      }
      kinds.push(kind);
      if (outcome !== undefined && expected === undefined) {
        expected = outcome;
        failedAt = operations.length - 1;
      }
    }
    if (operations.length === 0) return;
    const answer = await this.write(user, "POST", "/tasks/batch", { operations }, expected ?? ok(200));
    if (answer.status !== 200) {
      const problem = answer.body as { operation?: number; errors?: { path: string }[] };
      if (problem.operation !== failedAt)
        throw this.violation(`the batch failed at operation ${problem.operation}; the model expected ${failedAt}`);
      if (problem.errors !== undefined && !problem.errors.some((error) => error.path.startsWith(`operations/${failedAt}/`))) {
        throw this.violation(`the batch's 422 does not name operation ${failedAt}: ${JSON.stringify(problem.errors)}`);
      }
      return;
    }
    const results = (answer.body as { results: Array<{ status: number; task?: Task; id?: number }> }).results;
    results.forEach((result, index) => {
      if (kinds[index] === "delete") this.deleteTask((operations[index] as { id: number }).id);
      else if (result.task !== undefined) this.learn(result.task);
    });
    for (const result of results) if (result.task !== undefined) this.checkTask(user, result.task, "POST /tasks/batch");
  }

  // ------------------------------------------------------------------ reads

  /** GET /tasks with random filters, every page: exactly the tasks the model says the caller sees. */
  async readTasks(user = this.pick(this.users), list = this.chance(0.4) ? this.anyList() : undefined): Promise<void> {
    const query: Record<string, string> = {};
    if (list !== undefined) query.list_id = String(list.id);
    const status = this.pick([undefined, "all", "pending", "completed"] as const);
    if (status !== undefined) query.status = status;
    const parentRoll = this.next();
    const topLevel = parentRoll < 0.12;
    const parent = parentRoll > 0.9 ? this.pick([...this.tasks.values()]) : undefined;
    if (topLevel) query.parent_id = "none";
    if (parent !== undefined) query.parent_id = String(parent.id);
    query.sort = this.pick(list === undefined ? ["-created_at", "title", "updated_at"] : ["-created_at", "title", "position"]);
    query.limit = String(this.pick([3, 10, 1000]));
    const found: number[] = [];
    let path: string | undefined = `/tasks?${new URLSearchParams(query)}`;
    while (path !== undefined) {
      const answer = await this.send(user, "GET", path);
      this.expectAnswer(answer, ok(200), `GET ${path}`);
      for (const task of answer.body as Task[]) {
        this.checkTask(user, task, `GET ${path}`);
        found.push(task.id);
      }
      const next = nextPath(answer.response);
      path = next === undefined ? undefined : next.replace(`/api/${user}`, "");
      if (found.length > 5000) throw this.violation("GET /tasks never ends");
    }
    if (new Set(found).size !== found.length) throw this.violation(`GET /tasks?${new URLSearchParams(query)} named a task twice: ${found}`);
    const expected = [...this.tasks.values()]
      .filter((task) => this.sees(user, task))
      .filter((task) => list === undefined || task.list === list.id)
      .filter((task) => (status === "pending" ? !task.completed : status === "completed" ? task.completed : true))
      .filter((task) => !topLevel || task.parent === null)
      .filter((task) => parent === undefined || task.parent === parent.id)
      .map((task) => task.id);
    this.sameIds(found, expected, `GET /tasks?${new URLSearchParams(query)} for ${this.name(user)}`);
  }

  async readTask(task = this.pick([...this.tasks.values()]), user = this.callerFor(task.list, 0.5)): Promise<void> {
    const occurrences = this.chance(0.2);
    const path = `/tasks/${task.id}${occurrences ? "/occurrences" : ""}`;
    const answer = await this.send(user, "GET", path);
    this.expectAnswer(answer, this.sees(user, task) ? ok(200) : refused("task_not_found"), `${this.name(user)} GET ${path}`);
    if (answer.status === 200 && !occurrences) this.checkTask(user, answer.body as Task, "GET /tasks/{id}");
  }

  async readLists(user = this.pick(this.users)): Promise<SharedList[]> {
    const answer = await this.send(user, "GET", "/lists");
    this.expectAnswer(answer, ok(200), "GET /lists");
    const lists = answer.body as SharedList[];
    for (const list of lists) this.checkList(user, list, "GET /lists");
    this.sameIds(
      lists.map((list) => list.id),
      this.visibleLists(user).map((list) => list.id),
      `GET /lists for ${this.name(user)}`,
    );
    return lists;
  }

  async readList(list = this.pick([...this.lists.values()]), user = this.callerFor(list.id, 0.5)): Promise<void> {
    const answer = await this.send(user, "GET", `/lists/${list.id}`);
    this.expectAnswer(
      answer,
      this.liveRole(user, list.id) ? ok(200) : refused("list_not_found"),
      `${this.name(user)} GET /lists/${list.id}`,
    );
    if (answer.status === 200) this.checkList(user, answer.body as SharedList, "GET /lists/{id}");
  }

  async readMembers(): Promise<void> {
    const list = this.pick([...this.lists.values()]);
    const user = this.callerFor(list.id, 0.5);
    const answer = await this.send(user, "GET", `/lists/${list.id}/members`);
    this.expectAnswer(
      answer,
      this.liveRole(user, list.id) ? ok(200) : refused("list_not_found"),
      `${this.name(user)} GET /lists/${list.id}/members`,
    );
    if (answer.status !== 200) return;
    const members = (answer.body as Member[]).map((member) => `${this.name(member.user_id)}:${member.role}`);
    const expected = [
      `${this.name(list.owner)}:owner`,
      ...[...list.members].map(([member, role]) => `${this.name(member)}:${role}`).sort(),
    ];
    const shown = [members[0], ...members.slice(1).sort()];
    if (JSON.stringify(shown) !== JSON.stringify(expected)) {
      throw this.violation(
        `GET /lists/${list.id}/members showed ${this.name(user)} ${JSON.stringify(members)}; the model: ${JSON.stringify(expected)}`,
      );
    }
  }

  async readTrash(user = this.pick(this.users)): Promise<void> {
    const tasks: number[] = [];
    const lists: number[] = [];
    let path: string | undefined = "/trash?limit=100";
    while (path !== undefined) {
      const answer = await this.send(user, "GET", path);
      this.expectAnswer(answer, ok(200), "GET /trash");
      for (const entry of answer.body as Array<{ type: string; task?: Task; list?: SharedList }>) {
        if (entry.task !== undefined) {
          const model = this.tasks.get(entry.task.id);
          if (model === undefined || !this.restores(user, model) || model.list !== entry.task.list_id) {
            throw this.violation(
              `VISIBILITY: GET /trash showed ${this.name(user)} task ${entry.task.id} of ${this.describeList(entry.task.list_id)}: ${JSON.stringify(entry.task)}`,
            );
          }
          tasks.push(entry.task.id);
        }
        if (entry.list !== undefined) lists.push(entry.list.id);
      }
      const next = nextPath(answer.response);
      path = next === undefined ? undefined : next.replace(`/api/${user}`, "");
    }
    const expectedTasks = [...this.tasks.values()].filter(
      (task) => task.deleted && task.withTask === null && task.withList === null && this.restores(user, task),
    );
    this.sameIds(
      tasks,
      expectedTasks.map((task) => task.id),
      `GET /trash (tasks) for ${this.name(user)}`,
    );
    const expectedLists = [...this.lists.values()].filter((list) => list.deleted && list.owner === user);
    this.sameIds(
      lists,
      expectedLists.map((list) => list.id),
      `GET /trash (lists) for ${this.name(user)}`,
    );
  }

  /**
   * Pulls `feed` to the end: every upsert must be a task or list the caller is a member of now,
   * and afterwards the feed holds exactly what the model says they see.
   */
  async pull(user: string, feed: Feed, limit: number): Promise<void> {
    for (let pages = 0; ; pages++) {
      if (pages > 2000) throw this.violation("GET /changes never ends");
      const query = new URLSearchParams({ limit: String(limit), ...(feed.cursor === undefined ? {} : { since: feed.cursor }) });
      const answer = await this.send(user, "GET", `/changes?${query}`);
      this.expectAnswer(answer, ok(200), "GET /changes");
      const page = answer.body as Page;
      const where = `GET /changes${feed.cursor === undefined ? " (full)" : " (since a cursor)"}`;
      for (const change of page.changes) {
        if (change.op === "upsert" && change.task !== undefined) {
          this.checkTask(user, change.task, where);
          feed.tasks.set(change.task.id, change.task);
        } else feed.tasks.delete(change.id ?? 0);
      }
      for (const change of page.lists) {
        if (change.op === "upsert" && change.list !== undefined) {
          this.checkList(user, change.list, where);
          feed.lists.set(change.list.id, change.list);
        } else feed.lists.delete(change.id ?? 0);
      }
      for (const change of page.members) {
        if (change.op === "upsert" && change.member !== undefined) {
          if (this.liveRole(user, change.member.list_id) === undefined) {
            throw this.violation(
              `VISIBILITY: ${where} showed ${this.name(user)} a membership of ${this.describeList(change.member.list_id)}: ${JSON.stringify(change.member)}`,
            );
          }
          feed.members.set(change.member.id, change.member);
        } else feed.members.delete(change.id ?? 0);
      }
      feed.cursor = page.cursor;
      if (!page.has_more) break;
    }
    this.sameIds(feed.tasks.keys(), this.visibleTaskIds(user), `the tasks of ${this.name(user)}'s feed`);
    const memberships = [...feed.members.values()].map((m) => `${m.list_id}:${this.name(m.user_id)}:${m.role}`).sort();
    const expected = this.visibleLists(user)
      .flatMap((list) => [...list.members].map(([member, role]) => `${list.id}:${this.name(member)}:${role}`))
      .sort();
    if (JSON.stringify(memberships) !== JSON.stringify(expected)) {
      throw this.violation(
        `the memberships of ${this.name(user)}'s feed: ${JSON.stringify(memberships)}; the model: ${JSON.stringify(expected)}`,
      );
    }
    this.sameIds(
      feed.lists.keys(),
      this.visibleLists(user).map((list) => list.id),
      `the lists of ${this.name(user)}'s feed`,
    );
  }

  async pullChanges(user = this.pick(this.users)): Promise<void> {
    await this.pull(user, this.feeds.get(user) as Feed, this.pick([1, 3, 1000]));
  }

  async fullChanges(user = this.pick(this.users)): Promise<void> {
    await this.pull(user, newFeed(), this.pick([2, 1000]));
  }

  /** Each user's feed, pulled to the end, is exactly their GET /tasks and GET /lists (every field). */
  async checkpoint(last = false): Promise<void> {
    for (const user of this.users) {
      const feed = this.feeds.get(user) as Feed;
      await this.pull(user, feed, 1000);
      const listed = new Map<number, Task>();
      let path: string | undefined = "/tasks?limit=1000&sort=created_at";
      while (path !== undefined) {
        const answer = await this.send(user, "GET", path);
        this.expectAnswer(answer, ok(200), "GET /tasks");
        for (const task of answer.body as Task[]) {
          this.checkTask(user, task, "GET /tasks");
          listed.set(task.id, task);
        }
        const next = nextPath(answer.response);
        path = next === undefined ? undefined : next.replace(`/api/${user}`, "");
      }
      this.sameIds(listed.keys(), this.visibleTaskIds(user), `GET /tasks for ${this.name(user)}`);
      for (const [id, task] of listed) {
        if (JSON.stringify(feed.tasks.get(id)) !== JSON.stringify(task)) {
          throw this.violation(
            `${this.name(user)}'s feed has task ${id} as ${JSON.stringify(feed.tasks.get(id))}; GET /tasks: ${JSON.stringify(task)}`,
          );
        }
      }
      for (const list of await this.readLists(user)) {
        if (last) {
          // The memberships the feed holds for the list, against GET …/members (the owner has no membership).
          const answer = await this.send(user, "GET", `/lists/${list.id}/members`);
          this.expectAnswer(answer, ok(200), `GET /lists/${list.id}/members`);
          const listed = JSON.stringify(
            (answer.body as Array<Member & { id: number | null }>).filter((m) => m.id !== null).sort((a, b) => Number(a.id) - Number(b.id)),
          );
          const fed = JSON.stringify([...feed.members.values()].filter((m) => m.list_id === list.id).sort((a, b) => a.id - b.id));
          if (listed !== fed)
            throw this.violation(`${this.name(user)}'s feed has the members of list ${list.id} as ${fed}; GET …/members: ${listed}`);
        }
        if (JSON.stringify(feed.lists.get(list.id)) !== JSON.stringify(list)) {
          throw this.violation(
            `${this.name(user)}'s feed has list ${list.id} as ${JSON.stringify(feed.lists.get(list.id))}; GET /lists: ${JSON.stringify(list)}`,
          );
        }
      }
    }
  }

  // ------------------------------------------------------------------ the run

  async setUp(): Promise<void> {
    for (const user of this.users) {
      const answer = await this.send(user, "GET", "/lists");
      const [inbox] = answer.body as SharedList[];
      if (inbox === undefined || !inbox.inbox) throw this.violation(`no Inbox for ${this.name(user)}`);
      this.inbox.set(user, inbox.id);
      this.lists.set(inbox.id, { id: inbox.id, owner: user, members: new Map(), inbox: true, deleted: false });
    }
    for (const user of this.users) {
      const count = 1 + Math.floor(this.next() * 2);
      for (let i = 0; i < count; i++) await this.createList(user);
    }
    for (const list of [...this.lists.values()]) {
      const count = 1 + Math.floor(this.next() * 2);
      for (let i = 0; i < count; i++) await this.createTask(list.owner, list.id);
      const parents = [...this.tasks.values()].filter((task) => task.list === list.id);
      if (this.chance(0.5)) await this.createTask(list.owner, undefined, this.pick(parents).id);
    }
    // A few lists shared from the start: each with another user, as an editor or a viewer.
    for (const list of [...this.lists.values()].filter((l) => !l.inbox)) {
      if (this.chance(0.6)) await this.inviteAndAccept(list.owner, list.id, this.pick(this.users.filter((user) => user !== list.owner)));
    }
    for (const user of this.users) await this.pullChanges(user);
    await this.checkDatabase();
  }

  async go(): Promise<void> {
    this.step = 0;
    await this.setUp();
    const steps: ReadonlyArray<readonly [number, () => Promise<void>]> = [
      [9, () => this.inviteAndAccept()],
      [3, () => this.acceptLater()],
      [1, () => this.revoke()],
      [5, () => this.changeRole(false)],
      [5, () => this.removeOrLeave()],
      [3, () => this.changeRole(true)],
      [1.5, () => this.createList()],
      [2, () => this.deleteList()],
      [2, () => this.restoreList()],
      [9, () => this.createTask()],
      [5, () => this.editTask()],
      [5, () => this.completeTask()],
      [4, () => this.deleteTaskStep()],
      [4, () => this.restoreTaskStep()],
      [7, () => this.moveTask(false)],
      [3, () => this.moveTask(true)],
      [4, () => this.batch()],
      [7, () => this.readTasks()],
      [5, () => this.readTask()],
      [3, () => this.readLists().then(() => undefined)],
      [3, () => this.readList()],
      [3, () => this.readMembers()],
      [6, () => this.pullChanges()],
      [2, () => this.fullChanges()],
      [2, () => this.readTrash()],
    ];
    for (this.step = 1; this.step <= STEPS; this.step++) {
      const logged = this.log.length;
      await this.weighted(steps)();
      // After any write (a call that was not a GET), the model against the database.
      if (this.log.slice(logged).some((line) => !/^#\d+ u\d GET /.test(line))) await this.checkDatabase();
      if (this.step % CHECKPOINT === 0) await this.checkpoint();
    }
    await this.checkpoint(true);
  }
}

describe("shared lists, fuzzed: no response shows a task of a list the caller is not a member of at that moment", () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${STEPS} random steps of ${USERS} users`, async () => {
      await new Run(seed).go();
    });
  }
});
