// @task-api/client: a typed client for the Task API, for web and mobile frontends. The types are
// generated from the API's OpenAPI document (schema.d.ts, `npm run client` in the API's
// repository), the calls are made by openapi-fetch, so a frontend gets compile errors when the
// contract changes; pullChanges and watchChanges keep a local copy in step (/changes + /live).
export {
  type Change,
  createTaskClient,
  type List,
  type ListChange,
  type ListUpdate,
  type Member,
  type MemberChange,
  type NewInvitation,
  type NewList,
  type NewTask,
  nextCursor,
  type Problem,
  type ProblemCode,
  type Role,
  type Task,
  TaskApiError,
  type TaskClient,
  type TaskClientOptions,
  type TaskUpdate,
  type TrashEntry,
  unwrap,
} from "./api.js";
export { type PullOptions, pullChanges } from "./changes.js";
export {
  BEARER_PREFIX,
  type Changed,
  CLOSE_EXPIRED,
  type Expired,
  LIVE_PROTOCOL,
  LiveClosedError,
  type LiveMessage,
  parseLiveMessage,
  type Ready,
  type WatchOptions,
  watchChanges,
} from "./live.js";
export type { components, operations, paths } from "./schema.js";
