-- Provisioning (api-ops.md §8): unattend profiles, one token per VM, its config ISO, and the
-- progress the VM reports.

CREATE TABLE unattend_profiles (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    config      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, user_id, name)
);
CREATE INDEX unattend_profiles_scope ON unattend_profiles (tenant_id, user_id, created_at);
CREATE UNIQUE INDEX unattend_profiles_one_default ON unattend_profiles (tenant_id, user_id) WHERE is_default = 1;

-- One row per (tenant, VM): a re-issue overwrites it, so the previous token dies. The token
-- itself is never stored, only its SHA-256. `expired` is derived from expires_at.
CREATE TABLE provisioning_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    vm_uuid      TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    status       TEXT NOT NULL CHECK (status IN ('active', 'used', 'revoked')),
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    revoked_at   INTEGER,
    metadata     TEXT NOT NULL DEFAULT '{}',
    playbook_id  TEXT,
    iso_key      TEXT NOT NULL,
    iso_sha256   TEXT NOT NULL,
    iso_size     INTEGER NOT NULL,
    UNIQUE (tenant_id, vm_uuid)
);

CREATE TABLE vm_setup_progress (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    vm_uuid     TEXT NOT NULL,
    token_id    TEXT NOT NULL,
    step        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);
CREATE INDEX vm_setup_progress_vm ON vm_setup_progress (tenant_id, user_id, vm_uuid, seq);
