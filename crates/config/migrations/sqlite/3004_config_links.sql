-- Layers linked to files on disk: edits there become versions (when they
-- parse and meet the schema), and stored changes are written back.
CREATE TABLE config_links (
    project_id TEXT NOT NULL REFERENCES config_projects (id) ON DELETE CASCADE,
    env TEXT NOT NULL,
    layer TEXT NOT NULL,
    path TEXT NOT NULL,
    last_hash TEXT,
    last_error TEXT,
    checked_at_unix_ms BIGINT,
    PRIMARY KEY (project_id, env, layer)
);
