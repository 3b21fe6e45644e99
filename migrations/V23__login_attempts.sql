-- Failed sign-in attempts per client IP (`ip:<addr>`) and per account (`account:<address>`),
-- in a fixed window that starts at the first failure. Replicas on one PostgreSQL database
-- count here so that each sees the others' attempts; a single process counts in memory and
-- leaves this table empty.
CREATE TABLE login_attempts (
    throttle_key  TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    started_at    INTEGER NOT NULL
) WITHOUT ROWID;
