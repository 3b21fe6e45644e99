-- Pairing codes and lease tokens are only ever compared, so only their SHA-256 (hex) is kept,
-- as for session and agent tokens: a copy of the database or a backup no longer pairs an
-- agent or resolves a download. `sha256_hex` is registered by the server before it migrates.
ALTER TABLE agents RENAME COLUMN pairing_code TO pairing_code_hash;
UPDATE agents SET pairing_code_hash = sha256_hex(pairing_code_hash) WHERE pairing_code_hash IS NOT NULL;
ALTER TABLE execution_leases RENAME COLUMN token TO token_hash;
UPDATE execution_leases SET token_hash = sha256_hex(token_hash);
