-- Agents: desktop agents paired with the server, each bound to an owner user.
CREATE TABLE agents (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL,
    owner_user_id       TEXT,
    name                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'active', 'offline', 'revoked')),
    version             TEXT,
    platform            TEXT,
    capabilities        TEXT NOT NULL DEFAULT '[]',
    pairing_code        TEXT UNIQUE,
    pairing_expires_at  INTEGER,
    paired_at           INTEGER,
    paired_by           TEXT,
    last_seen_at        INTEGER,
    revoked_at          INTEGER,
    revoked_by          TEXT,
    revoke_reason       TEXT,
    metadata            TEXT NOT NULL DEFAULT '{}',
    -- The agent's bearer token, stored only as a SHA-256 hash.
    token_hash          BLOB UNIQUE,
    token_expires_at    INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX agents_by_tenant ON agents (tenant_id, created_at DESC);
