-- Bearer tokens of the local HTTP API and the MCP server. Only a SHA-256 of
-- each token is kept (the token is shown once, when it is made); its rights
-- (role, vault, reveal) are sealed with the definitions key, so a row
-- planted or widened in the database is refused.
CREATE TABLE api_tokens (
    name                  TEXT PRIMARY KEY NOT NULL,
    token_hash            TEXT NOT NULL UNIQUE,
    role                  TEXT NOT NULL,
    vault                 TEXT,
    reveal                BIGINT NOT NULL,
    created_by            TEXT NOT NULL,
    created_at_unix_ms    BIGINT NOT NULL,
    expires_at_unix_ms    BIGINT,
    revoked_at_unix_ms    BIGINT,
    last_used_at_unix_ms  BIGINT
);
