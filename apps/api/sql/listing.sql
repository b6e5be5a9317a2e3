-- Planner switches for one list's statement (web/listing.py), each LOCAL to its transaction.

-- name: sort-off
-- Count a search within a filter along the page's own index: no sort.
SET LOCAL enable_sort = off;

-- name: sort-on
SET LOCAL enable_sort = on;

-- name: index-scans-off
-- Read a search of few matches through its trigram bitmap, then sort them.
SET LOCAL enable_indexscan = off;

-- name: index-scans-on
SET LOCAL enable_indexscan = on;
