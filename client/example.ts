// The sync loop of docs/sync.md, with the typed client: a full sync of tasks and lists, then pulls
// from the kept cursor, with edits queued offline sent as one atomic batch. Type-checked by npm run check.
import { createTaskClient, type List, pullChanges, type Task, TaskApiError } from "./index.ts";

const userId = "demo-user";
const api = createTaskClient({ baseUrl: "http://127.0.0.1:8787", token: () => "<a Better Auth token>" });

const tasks = new Map<number, Task>();
const lists = new Map<number, List>();
let cursor: string | undefined;

async function sync(): Promise<void> {
  try {
    cursor = await pullChanges(
      api,
      userId,
      cursor,
      (change) => {
        if (change.op === "upsert") tasks.set(change.task.id, change.task);
        else tasks.delete(change.id);
      },
      {
        onList: (change) => {
          if (change.op === "upsert") lists.set(change.list.id, change.list);
          else lists.delete(change.id);
        },
      },
    );
  } catch (error) {
    if (error instanceof TaskApiError && error.problem.code === "cursor_expired") {
      tasks.clear();
      lists.clear();
      cursor = undefined;
      return sync();
    }
    throw error;
  }
}

/** Edits made offline, sent together: all of them apply, or none. */
async function flush(queued: { title: string }[], done: Task): Promise<void> {
  const { data, error } = await api.POST("/api/{user_id}/tasks/batch", {
    params: { path: { user_id: userId }, header: { "Idempotency-Key": crypto.randomUUID() } },
    body: {
      operations: [
        ...queued.map((task) => ({ op: "create" as const, task })),
        { op: "complete" as const, id: done.id, completed: true, if_match: `"${done.version}"` },
      ],
    },
  });
  if (error !== undefined) throw new TaskApiError(error);
  console.log(data.results.map((result) => result.status));
  await sync();
}

await sync();
console.log(`${tasks.size} tasks in ${lists.size} lists, cursor ${cursor}`);
// A list's tasks in their manual order: by position, byte by byte (not localeCompare).
const inbox = [...lists.values()].find((list) => list.inbox);
const byPosition = (a: Task, b: Task) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0);
const inInbox = [...tasks.values()].filter((task) => task.list_id === inbox?.id && task.parent_id === null).sort(byPosition);
console.log(inInbox.map((task) => task.title));
const first = [...tasks.values()][0];
if (first !== undefined) await flush([{ title: "Buy milk" }], first);
