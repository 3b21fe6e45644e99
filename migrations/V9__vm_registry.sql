-- The VM registry (api-ops.md §2): a machine's SMBIOS UUID bound to a tenant and an owner.
CREATE TABLE vm_registry (
    tenant_id   TEXT NOT NULL,
    vm_uuid     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    vm_name     TEXT NOT NULL DEFAULT '',
    project_id  TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('active', 'paused', 'revoked')),
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, vm_uuid)
) WITHOUT ROWID;
