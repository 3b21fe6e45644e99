-- Secrets (api-ops.md §10): metadata here, the material in vault_entries under
-- `secret/<id>` (sealed with the master key, so `botmox vault rotate` re-encrypts it with
-- everything else). `kind` says what the material is: `client` = the reference's
-- client-encrypted envelope (ciphertext + nonce, stored untouched), `server` = a plain
-- value the server encrypted.
CREATE TABLE secrets (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    label            TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('client', 'server')),
    alg              TEXT NOT NULL,
    key_id           TEXT NOT NULL,
    aad_meta         TEXT NOT NULL DEFAULT '{}',
    material_version INTEGER NOT NULL DEFAULT 1 CHECK (material_version >= 1),
    created_by       TEXT NOT NULL,
    rotated_at       INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX secrets_by_created ON secrets (tenant_id, created_at DESC);

-- Where a secret is used: one secret per (scope, field).
CREATE TABLE secret_bindings (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    scope_type  TEXT NOT NULL CHECK (scope_type IN ('bot', 'vm', 'agent', 'tenant')),
    scope_id    TEXT NOT NULL,
    secret_ref  TEXT NOT NULL,
    field_name  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, scope_type, scope_id, field_name),
    FOREIGN KEY (tenant_id, secret_ref) REFERENCES secrets (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX secret_bindings_by_secret ON secret_bindings (tenant_id, secret_ref);
