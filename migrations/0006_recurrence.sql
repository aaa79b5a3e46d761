-- Up Migration

-- Recurring tasks (API.md "Recurring tasks"). A recurring task carries its rule, the rule's time
-- zone and anchor; the series it belongs to (series_id: the first task's id); where the rule's
-- occurrences are counted from (series_start: the first task's due date, or the due date of the
-- occurrence whose rule was last edited) and this task's number since then (series_index); and,
-- once completed, the occurrence its completion created (next_id). The occurrence math runs in
-- the Worker (src/recurrence/); src/db/functions.sql writes its result.
ALTER TABLE tasks
  ADD COLUMN recurrence_rule   text CHECK (char_length(recurrence_rule) BETWEEN 1 AND 200),
  ADD COLUMN recurrence_zone   text,
  ADD COLUMN recurrence_anchor text CHECK (recurrence_anchor IN ('due', 'completion')),
  ADD COLUMN series_id         bigint,
  ADD COLUMN series_start      timestamptz,
  ADD COLUMN series_index      integer CHECK (series_index >= 1),
  ADD COLUMN next_id           bigint,
  ADD CONSTRAINT tasks_recurrence_whole CHECK (
    (recurrence_rule IS NULL AND recurrence_zone IS NULL AND recurrence_anchor IS NULL
      AND series_start IS NULL AND series_index IS NULL)
    OR (recurrence_rule IS NOT NULL AND recurrence_zone IS NOT NULL AND recurrence_anchor IS NOT NULL
      AND series_id IS NOT NULL AND series_start IS NOT NULL AND series_index IS NOT NULL AND due_date IS NOT NULL));

-- Down Migration

ALTER TABLE tasks
  DROP CONSTRAINT tasks_recurrence_whole,
  DROP COLUMN recurrence_rule, DROP COLUMN recurrence_zone, DROP COLUMN recurrence_anchor,
  DROP COLUMN series_id, DROP COLUMN series_start, DROP COLUMN series_index, DROP COLUMN next_id;
