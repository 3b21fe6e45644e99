-- An e-mail address is unique within its tenant, not across the installation: with one global
-- UNIQUE(email), creating a user told an admin that some other tenant already had the address.
-- SQLite cannot drop a column constraint, so the table is rebuilt (its documented procedure:
-- `db::migrate` runs this with foreign keys off and checks them afterwards, so dropping the old
-- table does not cascade into `sessions`, whose reference to `users` is kept by name).
CREATE TABLE users_new (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    roles          TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    operator       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, email)
);
INSERT INTO users_new (rowid, id, tenant_id, email, password_hash, roles, created_at, updated_at, operator)
    SELECT rowid, id, tenant_id, email, password_hash, roles, created_at, updated_at, operator FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
-- The unique constraint's index is (tenant_id, email), the old `users_by_tenant`; sign-in looks
-- an address up across tenants.
CREATE INDEX users_by_email ON users (email);
