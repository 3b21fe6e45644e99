-- The schemaless documents of the core domains: bots, licenses, proxies, subscriptions, notes,
-- calendar events, kanban tasks and finance operations. Unknown keys round-trip in `payload`;
-- the keys that lists sort, filter or aggregate on are generated columns with indexes.
CREATE TABLE documents (
    tenant_id   TEXT NOT NULL,
    collection  TEXT NOT NULL,
    id          TEXT NOT NULL,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    status      GENERATED ALWAYS AS (json_extract(payload, '$.status')) VIRTUAL,
    name        GENERATED ALWAYS AS (json_extract(payload, '$.name')) VIRTUAL,
    type        GENERATED ALWAYS AS (json_extract(payload, '$.type')) VIRTUAL,
    project_id  GENERATED ALWAYS AS (json_extract(payload, '$.project_id')) VIRTUAL,
    bot_id      GENERATED ALWAYS AS (json_extract(payload, '$.bot_id')) VIRTUAL,
    expires_at  GENERATED ALWAYS AS (json_extract(payload, '$.expires_at')) VIRTUAL,
    date        GENERATED ALWAYS AS (json_extract(payload, '$.date')) VIRTUAL,
    PRIMARY KEY (tenant_id, collection, id)
);
-- The rowid is the write order: every write moves a document to a new, highest rowid, so
-- "last written first" is a backwards walk of an index, with no ties.
CREATE INDEX documents_recent ON documents (tenant_id, collection);
-- Sort indexes only where a collection has the field, so other writes do not pay for them.
CREATE INDEX documents_by_status ON documents (tenant_id, collection, status)
    WHERE collection IN ('bots', 'licenses', 'proxies', 'subscriptions', 'kanban');
CREATE INDEX documents_by_name ON documents (tenant_id, collection, name) WHERE collection = 'bots';
CREATE INDEX documents_by_expiry ON documents (tenant_id, collection, expires_at)
    WHERE collection IN ('licenses', 'proxies', 'subscriptions');
CREATE INDEX documents_by_date ON documents (tenant_id, collection, date)
    WHERE collection IN ('finance_operations', 'calendar');

-- Documents per tenant and collection, kept by every insert and delete, so an unfiltered
-- list knows its total without counting.
CREATE TABLE document_counts (
    tenant_id   TEXT NOT NULL,
    collection  TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, collection)
) WITHOUT ROWID;

-- Who changed what: one row per create, update or delete in the document domains.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL,
    at           INTEGER NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_email  TEXT NOT NULL,
    action       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    fields       TEXT NOT NULL
);
CREATE INDEX audit_by_tenant ON audit_log (tenant_id, seq DESC);

-- What happened to each bot: status changes, bans and unbans.
CREATE TABLE bot_lifecycle_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL,
    bot_id     TEXT NOT NULL,
    type       TEXT NOT NULL,
    message    TEXT NOT NULL,
    details    TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX bot_lifecycle_log_by_bot ON bot_lifecycle_log (tenant_id, bot_id, seq DESC);

-- A snapshot of each bot at the moment it was banned.
CREATE TABLE bot_archive (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL,
    bot_id       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    archived_at  INTEGER NOT NULL,
    ban_details  TEXT NOT NULL,
    snapshot     TEXT NOT NULL
);
CREATE INDEX bot_archive_by_tenant ON bot_archive (tenant_id, seq DESC);
