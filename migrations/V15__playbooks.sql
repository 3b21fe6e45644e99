-- Playbooks (api-ops.md §9): YAML recipes per (tenant, user), at most one default each.

CREATE TABLE playbooks (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    content     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, user_id, name)
);
CREATE INDEX playbooks_scope ON playbooks (tenant_id, user_id, created_at);
CREATE UNIQUE INDEX playbooks_one_default ON playbooks (tenant_id, user_id) WHERE is_default = 1;
