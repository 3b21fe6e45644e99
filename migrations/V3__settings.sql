-- One settings tree (JSON) per tenant. Secret leaves hold a mask; their values are in the vault.
CREATE TABLE settings (
    tenant_id   TEXT PRIMARY KEY,
    tree        TEXT NOT NULL CHECK (json_valid(tree)),
    updated_at  INTEGER NOT NULL
);
