-- no-transaction
-- The retention pass deletes old read notifications oldest first (ops/retention.py): this index finds them
-- without reading the whole table. Built concurrently: writers keep writing meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_notifications_read_created ON notifications (created_at) WHERE is_read;
