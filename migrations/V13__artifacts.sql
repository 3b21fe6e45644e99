-- Artifacts (api-ops.md §6): releases (files in the object store), who gets which release,
-- and the audit of every resolve and download attempt.
CREATE TABLE artifact_releases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    module      TEXT NOT NULL,
    platform    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    version     TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL CHECK (size_bytes > 0),
    status      TEXT NOT NULL CHECK (status IN ('draft', 'active', 'disabled', 'archived')),
    created_by  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, module, platform, channel, version),
    UNIQUE (tenant_id, object_key)
);

-- user_id '' is the tenant default (the reference's NULL + is_default).
CREATE TABLE artifact_assignments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    module      TEXT NOT NULL,
    platform    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    release_id  INTEGER NOT NULL REFERENCES artifact_releases (id),
    created_by  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, module, platform, channel, user_id)
);

CREATE TABLE artifact_download_audit (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         TEXT NOT NULL,
    lease_id          TEXT,
    lease_jti         TEXT,
    user_id           TEXT,
    vm_uuid           TEXT,
    module            TEXT,
    platform          TEXT,
    channel           TEXT,
    release_id        INTEGER,
    event_type        TEXT NOT NULL,
    result            TEXT NOT NULL CHECK (result IN ('allowed', 'denied', 'error')),
    reason            TEXT,
    request_ip        TEXT,
    url_expires_at_ms INTEGER,
    metadata          TEXT NOT NULL DEFAULT '{}',
    created_at        INTEGER NOT NULL
);
CREATE INDEX artifact_download_audit_by_tenant ON artifact_download_audit (tenant_id, id DESC);
