-- The durable command queue between users and agents.
CREATE TABLE vm_commands (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    agent_id          TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    command_type      TEXT NOT NULL,
    payload           TEXT NOT NULL DEFAULT '{}',
    status            TEXT NOT NULL CHECK (status IN ('queued', 'dispatched', 'running', 'succeeded', 'failed', 'expired', 'cancelled')),
    result            TEXT,
    error_message     TEXT,
    progress          INTEGER,
    progress_message  TEXT,
    retry_count       INTEGER NOT NULL DEFAULT 0,
    idempotency_key   TEXT,
    created_by        TEXT,
    queued_at         INTEGER NOT NULL,
    started_at        INTEGER,
    completed_at      INTEGER,
    expires_at        INTEGER,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX vm_commands_queue ON vm_commands (tenant_id, agent_id, status, queued_at);
CREATE INDEX vm_commands_recent ON vm_commands (tenant_id, queued_at DESC);
CREATE UNIQUE INDEX vm_commands_idempotency ON vm_commands (tenant_id, agent_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Every transition of every command, in order; the sequence survives restarts (event streams
-- resume from it).
CREATE TABLE vm_command_events (
    event_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    command_id  TEXT NOT NULL,
    created_by  TEXT,
    event_type  TEXT NOT NULL,
    command     TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX vm_command_events_by_tenant ON vm_command_events (tenant_id, event_id);
