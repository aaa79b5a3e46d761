// Sharing a list (docs/api.md "Sharing"): the bodies of the invitation and member routes, and the
// invitation and member as the API returns them.
import * as v from "valibot";
import { ROLES } from "./lists.ts";

/** A list has at most this many members besides its owner, and at most this many pending invitations. */
export const MAX_MEMBERS = 100;
/** An invitation can be accepted for this long. */
export const INVITATION_DAYS = 7;

/** The roles an invitation gives (the owner is one, made by a transfer). */
export const INVITED_ROLES = ["editor", "viewer"] as const;

/** An invitation token: "inv_" and 256 random bits in base64url. */
export const INVITATION_TOKEN = /^inv_[A-Za-z0-9_-]{43}$/;

/** POST …/lists/{list_id}/invitations: the role it gives (editor when absent). */
export const InvitationInput = v.strictObject(
  {
    role: v.optional(
      v.pipe(v.picklist(INVITED_ROLES, "must be editor or viewer"), v.metadata({ description: "The role the invitation gives." })),
      "editor",
    ),
  },
  "is not accepted here; send role",
);

/** POST /invitations/accept. */
export const AcceptInput = v.strictObject(
  {
    token: v.pipe(
      v.string("must be an invitation token"),
      v.regex(INVITATION_TOKEN, "is not an invitation token (inv_ and 43 characters)"),
      v.metadata({ description: "The token of POST …/invitations, as the owner passed it on." }),
    ),
  },
  "is not accepted here; send token",
);

/** PATCH …/members/{member_id}: a new role; owner transfers the list to that member. */
export const MemberPatch = v.strictObject(
  {
    role: v.pipe(
      v.picklist(ROLES, "must be owner, editor or viewer"),
      v.metadata({ description: "editor or viewer; owner transfers ownership (the former owner becomes an editor)." }),
    ),
  },
  "is not accepted here; send role",
);

const DateTime = v.pipe(v.string(), v.isoTimestamp(), v.metadata({ format: "date-time" }));
const Id = v.pipe(v.number(), v.integer(), v.minValue(1));

/** A pending invitation as the API returns it (its token only once, when it is made). */
export const Invitation = v.strictObject({
  id: Id,
  list_id: Id,
  role: v.picklist(INVITED_ROLES),
  created_by: v.string(),
  created_at: DateTime,
  expires_at: DateTime,
});

/** The answer to POST …/invitations: the invitation and its token, shown this once. */
export const NewInvitation = v.strictObject({
  ...Invitation.entries,
  token: v.pipe(
    v.string(),
    v.metadata({ description: "Single use, valid 7 days; only its SHA-256 is stored, so it cannot be shown again." }),
  ),
});

/** A member of a list. */
export const Member = v.strictObject({
  id: v.pipe(
    v.nullable(Id),
    v.metadata({ description: "The membership's id, which /changes names in members; null for the owner, who has none." }),
  ),
  list_id: Id,
  user_id: v.string(),
  role: v.picklist(ROLES),
  joined_at: v.pipe(DateTime, v.metadata({ description: "When they joined (the owner: when the list was created)." })),
});

/** A membership as /changes carries it in `members`: of a list shared with the caller, or of theirs. */
export const Membership = v.strictObject({
  id: Id,
  list_id: Id,
  user_id: v.string(),
  role: v.picklist(INVITED_ROLES),
  joined_at: DateTime,
});
