-- Pause reasons (migration 0110): why a step was paused, by code.

-- name: list-pause-reasons
-- Every pause reason in the order the page offers them.
SELECT code, label FROM pause_reasons ORDER BY sort_order, code;

-- name: insert-pause-reason
-- A new pause reason, offered after the existing ones.
INSERT INTO pause_reasons (code, label, sort_order)
VALUES (%(code)s, %(label)s, (SELECT coalesce(max(sort_order), 0) + 10 FROM pause_reasons))
RETURNING code, label;

-- name: step-exists
-- Whether a step id is known.
SELECT EXISTS (SELECT 1 FROM job_steps WHERE id = %(step_id)s) AS found;
