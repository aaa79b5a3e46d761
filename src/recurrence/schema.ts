// A task's `recurrence` as clients send it, validated with issues on rule, time_zone and anchor.
import * as v from "valibot";
import { canEverOccur } from "./expand.ts";
import { hasByParts, MAX_COUNT, MAX_INTERVAL, MAX_RULE_LENGTH, parseRule, type Rule } from "./rule.ts";
import { isTimeZone } from "./zone.ts";

export const ANCHORS = ["due", "completion"] as const;
export type Anchor = (typeof ANCHORS)[number];

/** A rule whose BY... parts no month can satisfy: it would never create a next occurrence. */
export const NEVER_OCCURS =
  "never occurs: no month has a day that its BYMONTH, BYMONTHDAY and BYDAY all allow (such as BYMONTH=2;BYMONTHDAY=30)";

export const RuleText = v.pipe(
  v.string("must be a string"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const parsed = parseRule(dataset.value);
    if (!parsed.ok) addIssue({ message: parsed.message });
    // Checked here, not in parseRule: a rule stored before this check still parses (next.ts ends its series).
    else if (!canEverOccur(parsed.rule)) addIssue({ message: NEVER_OCCURS });
  }),
  v.metadata({
    maxLength: MAX_RULE_LENGTH,
    description:
      `An RFC 5545 RRULE without the RRULE: prefix: FREQ (DAILY, WEEKLY, MONTHLY or YEARLY), and optionally INTERVAL (1 to ${MAX_INTERVAL}), ` +
      "BYDAY (ordinals such as 2MO or -1FR for MONTHLY and YEARLY), BYMONTHDAY (not with WEEKLY), BYMONTH, WKST, and " +
      `COUNT (1 to ${MAX_COUNT}, counting the series' first task) or UNTIL (a date YYYYMMDD, inclusive in time_zone, or a UTC date-time YYYYMMDDTHHMMSSZ).`,
    examples: ["FREQ=WEEKLY;BYDAY=MO,TH"],
  }),
);

export const TimeZone = v.pipe(
  v.string("must be a string"),
  v.check(isTimeZone, "must be an IANA time zone such as Europe/Berlin"),
  v.metadata({ description: "An IANA time zone name; occurrences keep their wall-clock time there.", examples: ["Europe/Berlin"] }),
);

export const AnchorField = v.pipe(
  v.picklist(ANCHORS, 'must be "due" or "completion"'),
  v.metadata({
    description: "due: the next occurrence follows the rule; completion: the completion date plus INTERVAL, for rules without BY... parts.",
  }),
);

/** `recurrence` on a task; anchor defaults to "due". */
export const Recurrence = v.pipe(
  v.strictObject({ rule: RuleText, time_zone: TimeZone, anchor: v.optional(AnchorField, "due") }, (issue) =>
    issue.expected === "never"
      ? "is not a recurrence field"
      : issue.received === "undefined"
        ? "is required"
        : "must be an object with rule, time_zone and anchor",
  ),
  v.forward(
    v.partialCheck(
      [["rule"], ["anchor"]],
      ({ rule, anchor }) => {
        const parsed = parseRule(rule);
        return anchor !== "completion" || !parsed.ok || !hasByParts(parsed.rule);
      },
      'must be "due" for a rule with BYDAY, BYMONTHDAY or BYMONTH',
    ),
    ["anchor"],
  ),
  v.metadata({ description: "Makes the task recur: completing it creates the next occurrence." }),
);
export type Recurrence = v.InferOutput<typeof Recurrence>;

/** The math's input: the rule parsed once. */
export interface ParsedRecurrence {
  rule: Rule;
  time_zone: string;
  anchor: Anchor;
}

/** The parsed form of a valid recurrence (one that Recurrence accepted, such as a stored one); throws otherwise. */
export function parseRecurrence(recurrence: Recurrence): ParsedRecurrence {
  const parsed = parseRule(recurrence.rule);
  if (!parsed.ok) throw new TypeError(`invalid recurrence rule: ${parsed.message}`);
  return { rule: parsed.rule, time_zone: recurrence.time_zone, anchor: recurrence.anchor };
}
