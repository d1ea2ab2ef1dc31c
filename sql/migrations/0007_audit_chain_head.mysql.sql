-- 0007: the audit chain's head row exists from the start. Appending to the chain locks this row;
-- when it had to be created by the first writers, parallel first writes could deadlock on MariaDB
-- (two gap locks, two inserts). Re-runnable: an existing head row is left as it is.
INSERT IGNORE INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL);
