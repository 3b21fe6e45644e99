-- Logs sent by browsers, kept per tenant for a bounded time and count.
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
CREATE INDEX client_logs_by_tenant ON client_logs (tenant_id, seq DESC);
