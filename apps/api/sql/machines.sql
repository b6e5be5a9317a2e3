-- Machines of the shop floor (printers, cutters, vans), each optionally tied to one process.

-- name: match-machines
-- The machines matching the list filters, for the count.
SELECT 1
FROM machines
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(process_id)s::bigint IS NULL OR process_id = %(process_id)s)
  AND (%(is_active)s::boolean IS NULL OR is_active = %(is_active)s);

-- name: list-machines
-- One page of machines by name.
SELECT id, name, machine_type, process_id, status, is_active, created_at, updated_at, {cursor_key}
FROM machines
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(process_id)s::bigint IS NULL OR process_id = %(process_id)s)
  AND (%(is_active)s::boolean IS NULL OR is_active = %(is_active)s)
  AND {after}
ORDER BY {order_by}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: get-machine
-- One machine by id.
SELECT id, name, machine_type, process_id, status, is_active, created_at, updated_at, xmin::text AS row_version
FROM machines WHERE id = %(machine_id)s;

-- name: lock-machine
-- One machine by id, locked against concurrent changes until the transaction ends.
SELECT id, name, machine_type, process_id, status, is_active, created_at, updated_at, xmin::text AS row_version
FROM machines WHERE id = %(machine_id)s
FOR UPDATE;

-- name: process-exists
-- Whether a process id is known (a machine's process must be).
SELECT EXISTS (SELECT 1 FROM processes WHERE id = %(process_id)s) AS found;

-- name: insert-machine
-- A new machine.
INSERT INTO machines (name, machine_type, process_id, status, is_active)
VALUES (%(name)s, %(machine_type)s, %(process_id)s, %(status)s, %(is_active)s)
RETURNING id, name, machine_type, process_id, status, is_active, created_at, updated_at, xmin::text AS row_version;

-- name: update-machine
-- Write a machine's editable fields (the locked row merged with the PATCH: rows.merged).
UPDATE machines
SET name = %(name)s, machine_type = %(machine_type)s, process_id = %(process_id)s, status = %(status)s,
    is_active = %(is_active)s
WHERE id = %(machine_id)s
RETURNING id, name, machine_type, process_id, status, is_active, created_at, updated_at, xmin::text AS row_version;

-- name: delete-machine
-- Remove a machine; steps that used it keep their history without it (ON DELETE SET NULL).
DELETE FROM machines WHERE id = %(machine_id)s;
