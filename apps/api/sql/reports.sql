-- Reports for managers: time per step (issue 26) and the timers left running.

-- name: sort-in-memory
-- A month's worked seconds (about 140,000 values at 1M jobs, some 10 MB to sort) sorted in memory rather
-- than spilled to disk: for this transaction only.
SET LOCAL work_mem = '32MB';

-- name: step-times
-- The completed steps of [start, stop) grouped by process, machine or operator (%(by)s, a constant the
-- planner folds): how many, the median and 90th percentile of their worked seconds (one sort per group for
-- both), and their paused seconds per reason. The totals are kept on the step row (migration 0110), so the
-- worked figures are one index-only scan of idx_job_steps_finished over the range (a month at 1M jobs:
-- about 140,000 rows) and the paused ones read idx_job_steps_finished_paused, the steps ever paused (0111).
WITH worked AS (
    SELECT CASE %(by)s WHEN 'process' THEN st.process_id WHEN 'machine' THEN st.machine_id
                       ELSE st.assigned_to END AS key,
           count(*) AS steps,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY st.worked_seconds) AS percentiles
    FROM job_steps st
    WHERE st.status = 'completed' AND st.completed_at >= %(start)s AND st.completed_at < %(stop)s
    GROUP BY 1
), paused AS (
    SELECT key, jsonb_object_agg(reason, round(seconds::numeric, 1)) AS paused_seconds_by_reason
    FROM (SELECT CASE %(by)s WHEN 'process' THEN st.process_id WHEN 'machine' THEN st.machine_id
                             ELSE st.assigned_to END AS key,
                 r.key AS reason, sum(r.value::float8) AS seconds
          FROM job_steps st, jsonb_each_text(st.paused_by_reason) r
          WHERE st.status = 'completed' AND st.paused_by_reason IS NOT NULL
            AND st.completed_at >= %(start)s AND st.completed_at < %(stop)s
          GROUP BY 1, 2) by_reason
    GROUP BY key
)
SELECT w.key,
       coalesce(CASE %(by)s WHEN 'process' THEN p.name WHEN 'machine' THEN m.name
                            ELSE coalesce(nullif(u.full_name, ''), u.username) END,
                CASE %(by)s WHEN 'machine' THEN 'No machine' ELSE 'Unassigned' END) AS label,
       w.steps,
       round(w.percentiles[1]::numeric, 1)::float8 AS worked_median_seconds,
       round(w.percentiles[2]::numeric, 1)::float8 AS worked_p90_seconds,
       coalesce(pa.paused_seconds_by_reason, '{}') AS paused_seconds_by_reason
FROM worked w
LEFT JOIN paused pa ON pa.key IS NOT DISTINCT FROM w.key
LEFT JOIN processes p ON %(by)s = 'process' AND p.id = w.key
LEFT JOIN machines m ON %(by)s = 'machine' AND m.id = w.key
LEFT JOIN users u ON %(by)s = 'operator' AND u.id = w.key
ORDER BY w.steps DESC, label, w.key;

-- name: running-timers
-- The steps in progress whose work segment began before the limit's start or the last end of a shift
-- (SHIFT_END on the clock of SHIFT_TIMEZONE, the most recent one at or before now), oldest first; one range
-- of idx_job_steps_running_timer. total counts them all; at most %(limit)s are listed.
WITH shift AS (
    SELECT CASE WHEN today_end <= now() THEN today_end
                ELSE ((now() AT TIME ZONE %(tz)s)::date - 1 + %(shift_end)s::time) AT TIME ZONE %(tz)s
           END AS last_end,
           now() - make_interval(secs => %(limit_seconds)s) AS limit_start
    FROM (SELECT ((now() AT TIME ZONE %(tz)s)::date + %(shift_end)s::time) AT TIME ZONE %(tz)s AS today_end) t
)
SELECT st.id AS step_id, st.job_id, j.job_number, st.name, st.assigned_to, st.machine_id,
       st.timer_started_at AS running_since,
       floor(extract(epoch FROM now() - st.timer_started_at))::bigint AS running_seconds,
       st.timer_started_at < shift.limit_start AS over_limit,
       st.timer_started_at < shift.last_end AS past_shift_end,
       shift.last_end AS last_shift_end,
       count(*) OVER () AS total
FROM shift
JOIN job_steps st ON st.status = 'in_progress' AND st.timer_started_at < greatest(shift.limit_start, shift.last_end)
JOIN jobs j ON j.id = st.job_id
ORDER BY st.timer_started_at, st.id
LIMIT %(limit)s;
