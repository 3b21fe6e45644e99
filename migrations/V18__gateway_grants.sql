-- The service-UI gateway's credentials (src/gateway): one-use hand-off tickets the app mints,
-- and the cookies of the gateway origin they are exchanged for. Both are stored as SHA-256
-- hashes and bound to one session (deleted with it) and one service.

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
CREATE INDEX gateway_tickets_by_session ON gateway_tickets (session_id);
CREATE INDEX gateway_grants_by_session ON gateway_grants (session_id);
