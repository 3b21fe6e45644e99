-- Execution leases (api-ops.md §7) and what they are issued against.

-- A licence applies to one user, or to every user of the tenant when user_id is NULL.
CREATE TABLE tenant_licenses (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    user_id       TEXT,
    type          TEXT NOT NULL DEFAULT 'subscription',
    status        TEXT NOT NULL CHECK (status IN ('active', 'expired', 'revoked')),
    expires_at_ms INTEGER,
    metadata      TEXT NOT NULL DEFAULT '{}',
    updated_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

-- Which modules a user may lease; max_active_leases NULL = no limit.
CREATE TABLE tenant_entitlements (
    tenant_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    modules           TEXT NOT NULL,
    max_active_leases INTEGER CHECK (max_active_leases IS NULL OR max_active_leases >= 0),
    updated_at_ms     INTEGER NOT NULL,
    updated_by        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
) WITHOUT ROWID;

-- `expired` is never stored: a lease past expires_at_ms is expired when read.
CREATE TABLE execution_leases (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    token                TEXT NOT NULL UNIQUE,
    status               TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at_ms        INTEGER NOT NULL,
    updated_at_ms        INTEGER NOT NULL,
    expires_at_ms        INTEGER NOT NULL,
    last_heartbeat_at_ms INTEGER NOT NULL,
    revoked_at_ms        INTEGER,
    revoked_by           TEXT,
    revoke_reason        TEXT,
    user_id              TEXT NOT NULL,
    vm_uuid              TEXT NOT NULL,
    vm_name              TEXT NOT NULL DEFAULT '',
    module               TEXT NOT NULL,
    version              TEXT,
    agent_id             TEXT NOT NULL,
    runner_id            TEXT NOT NULL,
    license_id           TEXT NOT NULL
);
CREATE INDEX execution_leases_active ON execution_leases (tenant_id, user_id, status, expires_at_ms);
