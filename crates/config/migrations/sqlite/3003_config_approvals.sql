-- Environments whose promotions need a second person (comma-separated), and
-- the promotion requests waiting for (or past) that approval. A request keeps
-- the exact text it would promote, so what is approved is what was checked.
ALTER TABLE config_projects ADD COLUMN approval_envs TEXT NOT NULL DEFAULT '';

CREATE TABLE config_promotion_requests (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES config_projects (id) ON DELETE CASCADE,
    from_env TEXT NOT NULL,
    to_env TEXT NOT NULL,
    source TEXT NOT NULL,
    format TEXT NOT NULL,
    content TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    reason TEXT,
    created_at_unix_ms BIGINT NOT NULL,
    decided_at_unix_ms BIGINT
);
CREATE INDEX config_promotion_requests_by_project ON config_promotion_requests (project_id, created_at_unix_ms);
