-- Notifications: an outbox of messages to deliver, written in the same transaction as the
-- change that caused them, one row per (event, channel).
CREATE TABLE notification_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        TEXT NOT NULL,
    channel          TEXT NOT NULL CHECK (channel IN ('telegram', 'webhook')),
    event            TEXT NOT NULL,
    text             TEXT NOT NULL,
    data             TEXT NOT NULL CHECK (json_valid(data)),
    -- pending → sending (claimed, request in flight) → sent | failed; a restart puts
    -- `sending` rows back to `pending`: the only way a message can go out twice.
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_outbox_by_tenant ON notification_outbox (tenant_id, id DESC);

-- What was already announced (a daily report's date, a resource entering "expiring"), so a
-- scheduled job run twice (after a crash, on every tick) enqueues nothing twice.
CREATE TABLE notification_marks (
    tenant_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) WITHOUT ROWID;

-- When each scheduled job last ran, per tenant ('' for server-wide jobs): intervals survive
-- restarts.
CREATE TABLE scheduler_runs (
    tenant_id    TEXT NOT NULL,
    job          TEXT NOT NULL,
    last_run_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, job)
) WITHOUT ROWID;
