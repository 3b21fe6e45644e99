-- version: 23
-- The schema migrations V1..V23 leave on an empty database, created at once
-- for a new one (src/db/snapshot.rs). Generated, do not edit: BOTMOX_WRITE_SCHEMA=1 cargo test -p botmox --lib db::snapshot

CREATE TABLE refinery_schema_history(
             version int4 PRIMARY KEY,
             name VARCHAR(255),
             applied_on VARCHAR(255),
             checksum VARCHAR(255));

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    ip            TEXT,
    user_agent    TEXT
);

CREATE TABLE setup_tokens (
    token_hash  BLOB PRIMARY KEY,
    created_at  INTEGER NOT NULL
);

CREATE TABLE vault_meta (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    key_check   BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    rotated_at  INTEGER
);

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
    date        GENERATED ALWAYS AS (json_extract(payload, '$.date')) VIRTUAL, day GENERATED ALWAYS AS (
    date(COALESCE(CASE WHEN typeof(date) IN ('integer', 'real') THEN date END, created_at) / 1000, 'unixepoch')
) VIRTUAL,
    PRIMARY KEY (tenant_id, collection, id)
);

CREATE TABLE document_counts (
    tenant_id   TEXT NOT NULL,
    collection  TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, collection)
) WITHOUT ROWID;

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

CREATE TABLE bot_lifecycle_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT NOT NULL,
    bot_id     TEXT NOT NULL,
    type       TEXT NOT NULL,
    message    TEXT NOT NULL,
    details    TEXT NOT NULL,
    at         INTEGER NOT NULL
);

CREATE TABLE bot_archive (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT NOT NULL,
    bot_id       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    archived_at  INTEGER NOT NULL,
    ban_details  TEXT NOT NULL,
    snapshot     TEXT NOT NULL
);

CREATE TABLE settings (
    tenant_id   TEXT PRIMARY KEY,
    tree        TEXT NOT NULL CHECK (json_valid(tree)),
    updated_at  INTEGER NOT NULL
);

CREATE TABLE client_logs (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    at              INTEGER NOT NULL,
    level           TEXT NOT NULL,
    event           TEXT NOT NULL,
    message         TEXT NOT NULL,
    details         TEXT NOT NULL
);

CREATE TABLE ipqs_cache (
    tenant_id   TEXT NOT NULL,
    ip          TEXT NOT NULL,
    result      TEXT NOT NULL,
    checked_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, ip)
) WITHOUT ROWID;

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

CREATE TABLE agents (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL,
    owner_user_id       TEXT,
    name                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'active', 'offline', 'revoked')),
    version             TEXT,
    platform            TEXT,
    capabilities        TEXT NOT NULL DEFAULT '[]',
    pairing_code_hash        TEXT UNIQUE,
    pairing_expires_at  INTEGER,
    paired_at           INTEGER,
    paired_by           TEXT,
    last_seen_at        INTEGER,
    revoked_at          INTEGER,
    revoked_by          TEXT,
    revoke_reason       TEXT,
    metadata            TEXT NOT NULL DEFAULT '{}',
    -- The agent's bearer token, stored only as a SHA-256 hash.
    token_hash          BLOB UNIQUE,
    token_expires_at    INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE vm_commands (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    agent_id          TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    command_type      TEXT NOT NULL,
    payload           TEXT NOT NULL DEFAULT '{}',
    status            TEXT NOT NULL CHECK (status IN ('queued', 'dispatched', 'running', 'succeeded', 'failed', 'expired', 'cancelled')),
    result            TEXT,
    error_message     TEXT,
    progress          INTEGER,
    progress_message  TEXT,
    retry_count       INTEGER NOT NULL DEFAULT 0,
    idempotency_key   TEXT,
    created_by        TEXT,
    queued_at         INTEGER NOT NULL,
    started_at        INTEGER,
    completed_at      INTEGER,
    expires_at        INTEGER,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE vm_command_events (
    event_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    command_id  TEXT NOT NULL,
    created_by  TEXT,
    event_type  TEXT NOT NULL,
    command     TEXT NOT NULL,
    at          INTEGER NOT NULL
);

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

CREATE TABLE notification_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        TEXT NOT NULL,
    channel          TEXT NOT NULL CHECK (channel IN ('telegram', 'webhook')),
    event            TEXT NOT NULL,
    text             TEXT NOT NULL,
    data             TEXT NOT NULL CHECK (json_valid(data)),
    -- pending → sending (claimed, request in flight) → sent | failed; a restart puts
    -- `sending` rows back to `pending`: the only way a message can go out twice.
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);

CREATE TABLE notification_marks (
    tenant_id  TEXT NOT NULL,
    key        TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) WITHOUT ROWID;

CREATE TABLE scheduler_runs (
    tenant_id    TEXT NOT NULL,
    job          TEXT NOT NULL,
    last_run_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, job)
) WITHOUT ROWID;

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

CREATE TABLE tenant_licenses (
    tenant_id     TEXT NOT NULL,
    id            TEXT NOT NULL,
    user_id       TEXT,
    type          TEXT NOT NULL DEFAULT 'subscription',
    status        TEXT NOT NULL CHECK (status IN ('active', 'expired', 'revoked')),
    expires_at_ms INTEGER,
    metadata      TEXT NOT NULL DEFAULT '{}',
    updated_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

CREATE TABLE tenant_entitlements (
    tenant_id         TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    modules           TEXT NOT NULL,
    max_active_leases INTEGER CHECK (max_active_leases IS NULL OR max_active_leases >= 0),
    updated_at_ms     INTEGER NOT NULL,
    updated_by        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
) WITHOUT ROWID;

CREATE TABLE execution_leases (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL,
    token_hash                TEXT NOT NULL UNIQUE,
    status               TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at_ms        INTEGER NOT NULL,
    updated_at_ms        INTEGER NOT NULL,
    expires_at_ms        INTEGER NOT NULL,
    last_heartbeat_at_ms INTEGER NOT NULL,
    revoked_at_ms        INTEGER,
    revoked_by           TEXT,
    revoke_reason        TEXT,
    user_id              TEXT NOT NULL,
    vm_uuid              TEXT NOT NULL,
    vm_name              TEXT NOT NULL DEFAULT '',
    module               TEXT NOT NULL,
    version              TEXT,
    agent_id             TEXT NOT NULL,
    runner_id            TEXT NOT NULL,
    license_id           TEXT NOT NULL
);

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

CREATE TABLE unattend_profiles (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    is_default  INTEGER NOT NULL DEFAULT 0,
    config      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, user_id, name)
);

CREATE TABLE provisioning_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    vm_uuid      TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    status       TEXT NOT NULL CHECK (status IN ('active', 'used', 'revoked')),
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    revoked_at   INTEGER,
    metadata     TEXT NOT NULL DEFAULT '{}',
    playbook_id  TEXT,
    iso_key      TEXT NOT NULL,
    iso_sha256   TEXT NOT NULL,
    iso_size     INTEGER NOT NULL,
    UNIQUE (tenant_id, vm_uuid)
);

CREATE TABLE vm_setup_progress (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    vm_uuid     TEXT NOT NULL,
    token_id    TEXT NOT NULL,
    step        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);

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

CREATE TABLE gateway_tickets (
    token_hash  BLOB PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    service     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE gateway_grants (
    token_hash  BLOB PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    service     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE "vault_entries" (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    nonce       BLOB NOT NULL,
    ciphertext  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE "users" (
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

CREATE TABLE finance_day_money (
    tenant_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    currency   TEXT NOT NULL,
    n          INTEGER NOT NULL,
    exp_hi     REAL NOT NULL,
    exp_lo     REAL NOT NULL,
    rev_hi     REAL NOT NULL,
    rev_lo     REAL NOT NULL,
    PRIMARY KEY (tenant_id, day, currency)
) WITHOUT ROWID;

CREATE TABLE finance_day_bots (
    tenant_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    bot_id     TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day, bot_id)
) WITHOUT ROWID;

CREATE TABLE finance_day_gold (
    tenant_id   TEXT NOT NULL,
    day         TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    n           INTEGER NOT NULL,
    hi          REAL NOT NULL,
    lo          REAL NOT NULL,
    PRIMARY KEY (tenant_id, day, project_id)
) WITHOUT ROWID;

CREATE TABLE finance_day_prices (
    tenant_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    n          INTEGER NOT NULL,
    hi         REAL NOT NULL,
    lo         REAL NOT NULL,
    PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE documents_search USING fts5 (
    body, content = '', contentless_delete = 1, detail = none, tokenize = 'trigram'
);

CREATE TABLE login_attempts (
    throttle_key  TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    started_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id, created_at);

CREATE INDEX documents_recent ON documents (tenant_id, collection);

CREATE INDEX documents_by_status ON documents (tenant_id, collection, status)
    WHERE collection IN ('bots', 'licenses', 'proxies', 'subscriptions', 'kanban');

CREATE INDEX documents_by_name ON documents (tenant_id, collection, name) WHERE collection = 'bots';

CREATE INDEX documents_by_expiry ON documents (tenant_id, collection, expires_at)
    WHERE collection IN ('licenses', 'proxies', 'subscriptions');

CREATE INDEX documents_by_date ON documents (tenant_id, collection, date)
    WHERE collection IN ('finance_operations', 'calendar');

CREATE INDEX audit_by_tenant ON audit_log (tenant_id, seq DESC);

CREATE INDEX bot_lifecycle_log_by_bot ON bot_lifecycle_log (tenant_id, bot_id, seq DESC);

CREATE INDEX bot_archive_by_tenant ON bot_archive (tenant_id, seq DESC);

CREATE INDEX client_logs_by_tenant ON client_logs (tenant_id, seq DESC);

CREATE INDEX theme_assets_recent ON theme_assets (tenant_id, created_at DESC);

CREATE INDEX agents_by_tenant ON agents (tenant_id, created_at DESC);

CREATE INDEX vm_commands_queue ON vm_commands (tenant_id, agent_id, status, queued_at);

CREATE INDEX vm_commands_recent ON vm_commands (tenant_id, queued_at DESC);

CREATE UNIQUE INDEX vm_commands_idempotency ON vm_commands (tenant_id, agent_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE INDEX vm_command_events_by_tenant ON vm_command_events (tenant_id, event_id);

CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status = 'pending';

CREATE INDEX notification_outbox_by_tenant ON notification_outbox (tenant_id, id DESC);

CREATE INDEX secrets_by_created ON secrets (tenant_id, created_at DESC);

CREATE INDEX secret_bindings_by_secret ON secret_bindings (tenant_id, secret_ref);

CREATE INDEX execution_leases_active ON execution_leases (tenant_id, user_id, status, expires_at_ms);

CREATE INDEX artifact_download_audit_by_tenant ON artifact_download_audit (tenant_id, id DESC);

CREATE INDEX unattend_profiles_scope ON unattend_profiles (tenant_id, user_id, created_at);

CREATE UNIQUE INDEX unattend_profiles_one_default ON unattend_profiles (tenant_id, user_id) WHERE is_default = 1;

CREATE INDEX vm_setup_progress_vm ON vm_setup_progress (tenant_id, user_id, vm_uuid, seq);

CREATE INDEX playbooks_scope ON playbooks (tenant_id, user_id, created_at);

CREATE UNIQUE INDEX playbooks_one_default ON playbooks (tenant_id, user_id) WHERE is_default = 1;

CREATE INDEX gateway_tickets_by_session ON gateway_tickets (session_id);

CREATE INDEX gateway_grants_by_session ON gateway_grants (session_id);

CREATE INDEX users_by_email ON users (email);

CREATE VIEW finance_day_change (tenant_id, day, payload, sign) AS SELECT NULL, NULL, NULL, NULL WHERE 0;

CREATE VIEW documents_search_change (doc_rowid, payload) AS SELECT NULL, NULL WHERE 0;

CREATE TRIGGER finance_day_apply INSTEAD OF INSERT ON finance_day_change
BEGIN
    INSERT INTO finance_day_money (tenant_id, day, currency, n, exp_hi, exp_lo, rev_hi, rev_lo)
    SELECT NEW.tenant_id, NEW.day, COALESCE(op.currency, ''), NEW.sign,
           CASE WHEN op.type = 'expense' THEN op.amount ELSE 0.0 END, 0.0,
           CASE WHEN op.type = 'expense' THEN 0.0 ELSE op.amount END, 0.0
    FROM (SELECT
            json_extract(NEW.payload, '$.type') AS type,
            json_extract(NEW.payload, '$.category') AS category,
            json_extract(NEW.payload, '$.currency') AS currency,
            NEW.sign * COALESCE(json_extract(NEW.payload, '$.amount'), 0) AS amount,
            json_extract(NEW.payload, '$.bot_id') AS bot_id,
            json_extract(NEW.payload, '$.project_id') AS project_id,
            json_type(NEW.payload, '$.gold_price_at_time') AS price_type,
            json_extract(NEW.payload, '$.gold_price_at_time') AS price) AS op
    WHERE true
    ON CONFLICT DO UPDATE SET n = n + excluded.n,
        exp_hi = exp_hi + excluded.exp_hi,
        exp_lo = exp_lo + ((exp_hi - ((exp_hi + excluded.exp_hi) - ((exp_hi + excluded.exp_hi) - exp_hi))) + (excluded.exp_hi - ((exp_hi + excluded.exp_hi) - exp_hi))),
        rev_hi = rev_hi + excluded.rev_hi,
        rev_lo = rev_lo + ((rev_hi - ((rev_hi + excluded.rev_hi) - ((rev_hi + excluded.rev_hi) - rev_hi))) + (excluded.rev_hi - ((rev_hi + excluded.rev_hi) - rev_hi)));

    INSERT INTO finance_day_bots (tenant_id, day, bot_id, n)
    SELECT NEW.tenant_id, NEW.day, op.bot_id, NEW.sign
    FROM (SELECT
            json_extract(NEW.payload, '$.type') AS type,
            json_extract(NEW.payload, '$.category') AS category,
            json_extract(NEW.payload, '$.currency') AS currency,
            NEW.sign * COALESCE(json_extract(NEW.payload, '$.amount'), 0) AS amount,
            json_extract(NEW.payload, '$.bot_id') AS bot_id,
            json_extract(NEW.payload, '$.project_id') AS project_id,
            json_type(NEW.payload, '$.gold_price_at_time') AS price_type,
            json_extract(NEW.payload, '$.gold_price_at_time') AS price) AS op
    WHERE typeof(op.bot_id) = 'text' AND op.bot_id <> ''
    ON CONFLICT DO UPDATE SET n = n + excluded.n;

    INSERT INTO finance_day_gold (tenant_id, day, project_id, n, hi, lo)
    SELECT NEW.tenant_id, NEW.day, op.project_id, NEW.sign, op.amount, 0.0
    FROM (SELECT
            json_extract(NEW.payload, '$.type') AS type,
            json_extract(NEW.payload, '$.category') AS category,
            json_extract(NEW.payload, '$.currency') AS currency,
            NEW.sign * COALESCE(json_extract(NEW.payload, '$.amount'), 0) AS amount,
            json_extract(NEW.payload, '$.bot_id') AS bot_id,
            json_extract(NEW.payload, '$.project_id') AS project_id,
            json_type(NEW.payload, '$.gold_price_at_time') AS price_type,
            json_extract(NEW.payload, '$.gold_price_at_time') AS price) AS op
    WHERE op.type = 'income' AND op.currency = 'gold' AND typeof(op.project_id) = 'text'
    ON CONFLICT DO UPDATE SET n = n + excluded.n,
        hi = hi + excluded.hi,
        lo = lo + ((hi - ((hi + excluded.hi) - ((hi + excluded.hi) - hi))) + (excluded.hi - ((hi + excluded.hi) - hi)));

    INSERT INTO finance_day_prices (tenant_id, day, n, hi, lo)
    SELECT NEW.tenant_id, NEW.day, NEW.sign, NEW.sign * op.price, 0.0
    FROM (SELECT
            json_extract(NEW.payload, '$.type') AS type,
            json_extract(NEW.payload, '$.category') AS category,
            json_extract(NEW.payload, '$.currency') AS currency,
            NEW.sign * COALESCE(json_extract(NEW.payload, '$.amount'), 0) AS amount,
            json_extract(NEW.payload, '$.bot_id') AS bot_id,
            json_extract(NEW.payload, '$.project_id') AS project_id,
            json_type(NEW.payload, '$.gold_price_at_time') AS price_type,
            json_extract(NEW.payload, '$.gold_price_at_time') AS price) AS op
    WHERE op.type = 'income' AND op.category = 'sale' AND op.price_type IN ('integer', 'real') AND op.price > 0
    ON CONFLICT DO UPDATE SET n = n + excluded.n,
        hi = hi + excluded.hi,
        lo = lo + ((hi - ((hi + excluded.hi) - ((hi + excluded.hi) - hi))) + (excluded.hi - ((hi + excluded.hi) - hi)));

    DELETE FROM finance_day_money WHERE NEW.sign < 0 AND tenant_id = NEW.tenant_id AND day = NEW.day AND n = 0;
    DELETE FROM finance_day_bots WHERE NEW.sign < 0 AND tenant_id = NEW.tenant_id AND day = NEW.day AND n = 0;
    DELETE FROM finance_day_gold WHERE NEW.sign < 0 AND tenant_id = NEW.tenant_id AND day = NEW.day AND n = 0;
    DELETE FROM finance_day_prices WHERE NEW.sign < 0 AND tenant_id = NEW.tenant_id AND day = NEW.day AND n = 0;
END;

CREATE TRIGGER finance_day_on_insert AFTER INSERT ON documents WHEN NEW.collection = 'finance_operations'
BEGIN
    INSERT INTO finance_day_change VALUES (NEW.tenant_id, NEW.day, NEW.payload, 1);
END;

CREATE TRIGGER finance_day_on_delete AFTER DELETE ON documents WHEN OLD.collection = 'finance_operations'
BEGIN
    INSERT INTO finance_day_change VALUES (OLD.tenant_id, OLD.day, OLD.payload, -1);
END;

CREATE TRIGGER finance_day_on_update AFTER UPDATE ON documents
    WHEN OLD.collection = 'finance_operations' OR NEW.collection = 'finance_operations'
BEGIN
    INSERT INTO finance_day_change SELECT OLD.tenant_id, OLD.day, OLD.payload, -1
        WHERE OLD.collection = 'finance_operations';
    INSERT INTO finance_day_change SELECT NEW.tenant_id, NEW.day, NEW.payload, 1
        WHERE NEW.collection = 'finance_operations';
END;

CREATE TRIGGER documents_search_put INSTEAD OF INSERT ON documents_search_change
BEGIN
    INSERT INTO documents_search (rowid, body)
    SELECT NEW.doc_rowid, group_concat(
        CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.atom AS TEXT) END, char(10))
    FROM json_tree(NEW.payload) AS j
    WHERE j.type IN ('text', 'integer', 'real', 'true', 'false');
END;

CREATE TRIGGER documents_search_on_insert AFTER INSERT ON documents
    WHEN NEW.collection <> 'finance_operations'
BEGIN
    INSERT INTO documents_search_change VALUES (NEW.rowid, NEW.payload);
END;

CREATE TRIGGER documents_search_on_delete AFTER DELETE ON documents
    WHEN OLD.collection <> 'finance_operations'
BEGIN
    DELETE FROM documents_search WHERE rowid = OLD.rowid;
END;

CREATE TRIGGER documents_search_on_update AFTER UPDATE ON documents
    WHEN NEW.collection <> 'finance_operations' OR OLD.collection <> 'finance_operations'
BEGIN
    DELETE FROM documents_search WHERE rowid = OLD.rowid;
    INSERT INTO documents_search_change SELECT NEW.rowid, NEW.payload WHERE NEW.collection <> 'finance_operations';
END;
