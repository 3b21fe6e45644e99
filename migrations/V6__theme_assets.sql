-- Uploaded theme background images; the bytes are in the object store under object_key.
CREATE TABLE theme_assets (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    mime_type    TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    width        INTEGER,
    height       INTEGER,
    status       TEXT NOT NULL,
    sha256       TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX theme_assets_recent ON theme_assets (tenant_id, created_at DESC);
