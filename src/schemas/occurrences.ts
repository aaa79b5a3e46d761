// GET /api/{user_id}/tasks/{id}/occurrences: its one query parameter.
import * as v from "valibot";
import { validate } from "../http/validate.ts";
import { queryObject } from "./listing.ts";

export const MAX_OCCURRENCES = 100;
const message = `must be an integer from 1 to ${MAX_OCCURRENCES}`;

export const OccurrencesQuery = v.strictObject(
  {
    limit: v.optional(
      v.pipe(v.string(), v.regex(/^\d{1,3}$/, message), v.transform(Number), v.minValue(1, message), v.maxValue(MAX_OCCURRENCES, message)),
      "10",
    ),
  },
  "is not a known query parameter",
);

export const parseOccurrencesQuery = (params: URLSearchParams) => validate(OccurrencesQuery, queryObject(params));
