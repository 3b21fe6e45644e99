-- A vault entry is named within its tenant. Settings leaves use the same name in every tenant
-- (`settings/api_keys/telegram/bot_token`), and with `id` alone as the key the first tenant to
-- store one shut every other tenant out of that name.
CREATE TABLE vault_entries_v2 (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    nonce       BLOB NOT NULL,
    ciphertext  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
INSERT INTO vault_entries_v2 (tenant_id, id, nonce, ciphertext, created_at, updated_at)
    SELECT tenant_id, id, nonce, ciphertext, created_at, updated_at FROM vault_entries;
DROP TABLE vault_entries;
ALTER TABLE vault_entries_v2 RENAME TO vault_entries;
