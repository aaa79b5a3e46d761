// The sync loop of docs/sync.md, with the typed client: a full sync, then pulls from
// the kept cursor, with edits queued offline sent as one atomic batch. Type-checked by npm run check.
import { createTaskClient, pullChanges, type Task, TaskApiError } from "./index.ts";

const userId = "demo-user";
const api = createTaskClient({ baseUrl: "http://127.0.0.1:8787", token: () => "<a Better Auth token>" });

const tasks = new Map<number, Task>();
let cursor: string | undefined;

async function sync(): Promise<void> {
  try {
    cursor = await pullChanges(api, userId, cursor, (change) => {
      if (change.op === "upsert") tasks.set(change.task.id, change.task);
      else tasks.delete(change.id);
    });
  } catch (error) {
    if (error instanceof TaskApiError && error.problem.code === "cursor_expired") {
      tasks.clear();
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
console.log(`${tasks.size} tasks, cursor ${cursor}`);
const first = [...tasks.values()][0];
if (first !== undefined) await flush([{ title: "Buy milk" }], first);
