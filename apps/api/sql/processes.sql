-- Production processes (design, print, cut, ...) and which roles may execute steps of each.

-- name: match-processes
-- The processes matching the list filters, for the count.
SELECT 1
FROM processes
WHERE (%(is_active)s::boolean IS NULL OR is_active = %(is_active)s);

-- name: list-processes
-- One page of processes in their usual production order.
SELECT id, code, name, default_order, is_active, created_at, updated_at, {cursor_key}
FROM processes
WHERE (%(is_active)s::boolean IS NULL OR is_active = %(is_active)s) AND {after}
ORDER BY {order_by}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: get-process
-- One process by id.
SELECT id, code, name, default_order, is_active, created_at, updated_at, xmin::text AS row_version
FROM processes WHERE id = %(process_id)s;

-- name: lock-process
-- One process by id, locked against concurrent changes until the transaction ends.
SELECT id, code, name, default_order, is_active, created_at, updated_at, xmin::text AS row_version
FROM processes WHERE id = %(process_id)s
FOR UPDATE;

-- name: insert-process
-- A new process.
INSERT INTO processes (code, name, default_order, is_active)
VALUES (%(code)s, %(name)s, %(default_order)s, %(is_active)s)
RETURNING id, code, name, default_order, is_active, created_at, updated_at, xmin::text AS row_version;

-- name: update-process
-- Write a process's editable fields (the locked row merged with the PATCH: rows.merged).
UPDATE processes
SET code = %(code)s, name = %(name)s, default_order = %(default_order)s, is_active = %(is_active)s
WHERE id = %(process_id)s
RETURNING id, code, name, default_order, is_active, created_at, updated_at, xmin::text AS row_version;

-- name: count-process-steps
-- How many job steps use a process (a used process cannot be deleted, only deactivated).
SELECT count(*) AS steps FROM job_steps WHERE process_id = %(process_id)s;

-- name: delete-process
-- Remove a process; its role permissions go with it, machines keep running without one.
DELETE FROM processes WHERE id = %(process_id)s;

-- name: lock-role-permissions
-- Serialize writers of one role's permissions, so two concurrent replacements cannot interleave.
SELECT pg_advisory_xact_lock(hashtext('role_process_permissions'), hashtext(%(role)s));

-- name: get-role-permissions
-- Every process, with whether the role may execute its steps.
SELECT p.id AS process_id, p.code, p.name, p.is_active,
       COALESCE(r.can_execute, false) AS can_execute
FROM processes p
LEFT JOIN role_process_permissions r ON r.process_id = p.id AND r.role = %(role)s
ORDER BY p.default_order, p.id;

-- name: find-processes
-- Which of the given process ids exist.
SELECT id FROM processes WHERE id = ANY(%(process_ids)s::bigint[]);

-- name: delete-role-permissions
-- Drop the role's permissions for every process not in the new set.
DELETE FROM role_process_permissions
WHERE role = %(role)s AND process_id <> ALL(%(process_ids)s::bigint[]);

-- name: grant-role-permissions
-- Let the role execute the given processes.
INSERT INTO role_process_permissions (role, process_id, can_execute)
SELECT %(role)s, process_id, true FROM unnest(%(process_ids)s::bigint[]) AS process_id
ON CONFLICT (role, process_id) DO UPDATE SET can_execute = true;
