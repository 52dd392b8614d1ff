-- What to signal after an environment's config changes: a command to run
-- and/or a webhook target to send a signed `config.changed` event to.
CREATE TABLE config_reload_hooks (
    project_id TEXT NOT NULL REFERENCES config_projects (id) ON DELETE CASCADE,
    env TEXT NOT NULL,
    command TEXT,
    webhook TEXT,
    PRIMARY KEY (project_id, env)
);
