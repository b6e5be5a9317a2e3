-- Customers: search, CRUD and the bulk import upsert.
-- `pattern` is NULL for "no search", else an ILIKE pattern with % and _ escaped ('%' || q || '%');
-- psycopg2 binds it client-side, so the planner sees the literal and uses the trigram indexes.

-- name: match-customers
-- The customers matching the search, for the count.
SELECT 1
FROM customers
WHERE %(pattern)s::text IS NULL
   OR name ILIKE %(pattern)s OR email ILIKE %(pattern)s OR phone ILIKE %(pattern)s;

-- name: list-customers
-- One page of the matching customers, by name (idx_customers_name; {after} continues a cursor).
SELECT id, name, email, phone, company, notes, created_at, updated_at, {cursor_key}
FROM customers
WHERE (%(pattern)s::text IS NULL
       OR name ILIKE %(pattern)s OR email ILIKE %(pattern)s OR phone ILIKE %(pattern)s)
  AND {after}
ORDER BY {order_by}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: get-customer
-- One customer by id.
SELECT id, name, email, phone, company, notes, created_at, updated_at, xmin::text AS row_version
FROM customers WHERE id = %(id)s;

-- name: lock-customer
-- One customer by id, locked until the transaction ends (read-modify-write of PATCH).
SELECT id, name, email, phone, company, notes, created_at, updated_at, xmin::text AS row_version
FROM customers WHERE id = %(id)s
FOR UPDATE;

-- name: insert-customer
-- Create a customer.
INSERT INTO customers (name, email, phone, company, notes)
VALUES (%(name)s, %(email)s, %(phone)s, %(company)s, %(notes)s)
RETURNING id, name, email, phone, company, notes, created_at, updated_at, xmin::text AS row_version;

-- name: update-customer
-- Replace a customer's editable fields.
UPDATE customers
SET name = %(name)s, email = %(email)s, phone = %(phone)s, company = %(company)s, notes = %(notes)s
WHERE id = %(id)s
RETURNING id, name, email, phone, company, notes, created_at, updated_at, xmin::text AS row_version;

-- name: delete-customer
-- Delete a customer (a RESTRICT foreign key refuses it while jobs reference it).
DELETE FROM customers WHERE id = %(id)s
RETURNING id, name, email, phone, company, notes;

-- name: lock-imported-customers
-- Lock the customers an import will update, in id order, so their audited old values stay current.
SELECT id FROM customers WHERE email = ANY(%(emails)s::text[]) ORDER BY id FOR UPDATE;

-- name: import-customers
-- Upsert many customers keyed on email in one statement; omitted (NULL) optional fields keep their value.
-- A row identical to the stored one is left alone (no write, updated_at kept) and counted in neither.
-- Each inserted or changed customer gets its own audit row with the changed fields, in the same statement.
WITH incoming AS (
    SELECT *
    FROM unnest(%(names)s::text[], %(emails)s::text[], %(phones)s::text[],
                %(companies)s::text[], %(notes)s::text[])
         AS row (name, email, phone, company, notes)
), stored AS (
    -- The rows as they were (locked by lock-imported-customers just before, so still current).
    SELECT c.id, c.name, c.email, c.phone, c.company, c.notes
    FROM customers c JOIN incoming i ON i.email = c.email
), upserted AS (
    INSERT INTO customers AS c (name, email, phone, company, notes)
    SELECT name, email, phone, company, notes FROM incoming
    ON CONFLICT (email) DO UPDATE
    SET name = EXCLUDED.name,
        phone = COALESCE(EXCLUDED.phone, c.phone),
        company = COALESCE(EXCLUDED.company, c.company),
        notes = COALESCE(EXCLUDED.notes, c.notes)
    WHERE (c.name, c.phone, c.company, c.notes) IS DISTINCT FROM
          (EXCLUDED.name, COALESCE(EXCLUDED.phone, c.phone), COALESCE(EXCLUDED.company, c.company),
           COALESCE(EXCLUDED.notes, c.notes))
    RETURNING c.id, c.name, c.email, c.phone, c.company, c.notes, (xmax = 0) AS inserted
), audited AS (
    INSERT INTO audit_logs (user_id, action, entity, entity_id, changes, ip)
    SELECT %(user_id)s, CASE WHEN u.inserted THEN 'create' ELSE 'update' END, 'customers', u.id,
           (SELECT COALESCE(jsonb_object_agg(f.field, jsonb_build_object('old', f.old, 'new', f.new)), '{}')
            FROM (VALUES ('name', to_jsonb(s.name), to_jsonb(u.name)),
                         ('email', to_jsonb(s.email), to_jsonb(u.email)),
                         ('phone', to_jsonb(s.phone), to_jsonb(u.phone)),
                         ('company', to_jsonb(s.company), to_jsonb(u.company)),
                         ('notes', to_jsonb(s.notes), to_jsonb(u.notes))) AS f (field, old, new)
            WHERE f.old IS DISTINCT FROM f.new),
           %(ip)s
    FROM upserted u LEFT JOIN stored s ON s.id = u.id
)
SELECT count(*) FILTER (WHERE inserted) AS inserted,
       count(*) FILTER (WHERE NOT inserted) AS updated
FROM upserted;
