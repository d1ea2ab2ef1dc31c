-- Migration 0036_export_stamp (MariaDB/MySQL): the data version of kept report CSVs (issue 13).
-- audit_chain.last_data_id: the id of the last audit row whose action changes data, moved in the same
-- locked update as the chain head (no new lock, no new row). Sign-ins, refusals, second-factor steps and
-- exports leave it where it is, so signing in does not throw away a built export
-- (services/export_cache.py). NULL until the next data change.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

ALTER TABLE audit_chain ADD COLUMN IF NOT EXISTS last_data_id INT UNSIGNED NULL;
