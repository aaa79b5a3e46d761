// What a write that changed nothing answers: the problem for each reason task_write gives
// (src/db/tasks.ts FailureReason), for a single route and for a batch operation alike. A field
// that names what cannot be is a 422 naming that field, with the sentence that says why.
import type { FailureReason } from "../db/tasks.ts";
import {
  alreadyMember,
  type HttpError,
  inboxNotDeletable,
  inboxNotShareable,
  invitationExpired,
  invitationLimitReached,
  invitationNotFound,
  invitationRevoked,
  invitationUsed,
  listLimitReached,
  listNotFound,
  listOwnerOnly,
  listReadOnly,
  memberLimitReached,
  memberNotFound,
  ownerCannotLeave,
  ownerRoleFixed,
  preconditionFailed,
  recurrenceTooComplex,
  taskNotFound,
  validationFailed,
  writeConflict,
} from "../problems.ts";
import { MAX_LISTS } from "../schemas/lists.ts";
import { MAX_MEMBERS } from "../schemas/sharing.ts";
import { RECURRENCE_WITHOUT_DUE } from "../schemas/task.ts";

/** Why a named field could not be, by field (task_write's 422 details). */
const FIELD_MESSAGES: Record<string, string> = {
  list_id: "is not one of your lists",
  parent_id:
    "must be a top-level task of the same list, other than the task itself; a task with subtasks cannot become one (subtasks are one level deep)",
  after_id: "is not one of its new siblings (a task of that list with that parent, other than itself)",
  before_id: "is not one of its new siblings (a task of that list with that parent, other than itself)",
  move_to: "must be another of your lists",
  assignee_id: "must be a member of the task's list (its owner, an editor or a viewer)",
  due_date: RECURRENCE_WITHOUT_DUE,
};

/** The same fields of a list move: anchors among the user's lists. */
const LIST_FIELD_MESSAGES: Record<string, string> = {
  after_id: "is not one of your other lists",
  before_id: "is not one of your other lists",
};

export interface FailureContext {
  /** Whether the operation wrote a list (list_…) rather than a task. */
  list: boolean;
  /** Where the field sits, for its path: "" for a single route, "operations/3/task." in a batch. */
  prefix: string;
  /** The batch operation's index, as the problem's `operation` member. */
  operation?: number;
}

export function failureProblem(reason: FailureReason, path: string | undefined, context: FailureContext): HttpError {
  switch (reason) {
    case "invalid": {
      const field = path ?? "due_date";
      const message = (context.list ? LIST_FIELD_MESSAGES[field] : undefined) ?? FIELD_MESSAGES[field] ?? "is not valid here";
      return validationFailed(
        [{ path: `${context.prefix}${field}`, message }],
        context.operation === undefined ? undefined : { operation: context.operation },
      );
    }
    case "missing":
      return taskNotFound();
    case "list_missing":
      return listNotFound();
    case "stale":
      return preconditionFailed();
    case "too_complex":
      return recurrenceTooComplex();
    case "inbox":
      return inboxNotDeletable();
    case "list_limit":
      return listLimitReached(MAX_LISTS);
    case "read_only":
      return listReadOnly();
    case "owner_only":
      return listOwnerOnly();
    case "invitation_missing":
      return invitationNotFound();
    case "member_missing":
      return memberNotFound();
    case "invitation_used":
      return invitationUsed();
    case "invitation_expired":
      return invitationExpired();
    case "invitation_revoked":
      return invitationRevoked();
    case "already_member":
      return alreadyMember();
    case "owner_leave":
      return ownerCannotLeave();
    case "owner_role":
      return ownerRoleFixed();
    case "inbox_share":
      return inboxNotShareable();
    case "member_limit":
      return memberLimitReached(MAX_MEMBERS);
    case "invitation_limit":
      return invitationLimitReached(MAX_MEMBERS);
    case "busy":
      return writeConflict();
  }
}
