-- V23 of migrations/: failed sign-in attempts per client IP and per account, shared by the
-- replicas of one database (the sign-in and quick-pair throttle).
CREATE TABLE login_attempts (
    throttle_key  TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    started_at    BIGINT NOT NULL
);
