-- The installation operator: the one flag that allows actions spanning every tenant (the
-- vault key). Granted and revoked only from the CLI, never through the API.
ALTER TABLE users ADD COLUMN operator INTEGER NOT NULL DEFAULT 0;

-- An existing installation keeps an operator: its first admin, the one setup created.
UPDATE users SET operator = 1
WHERE id = (SELECT id FROM users WHERE roles LIKE '%"admin"%' ORDER BY created_at, rowid LIMIT 1);
