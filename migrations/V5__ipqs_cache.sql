-- Fresh IPQualityScore answers per tenant and IP, so repeated checks do not spend credits.
CREATE TABLE ipqs_cache (
    tenant_id   TEXT NOT NULL,
    ip          TEXT NOT NULL,
    result      TEXT NOT NULL,
    checked_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, ip)
) WITHOUT ROWID;
