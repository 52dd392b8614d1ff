-- Configs (opsdeck-config owns versions 3000-3999).
-- A project (a service) with its JSON Schema and environment-variable prefix.
CREATE TABLE config_projects (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL UNIQUE,
    env_prefix          TEXT NOT NULL,
    schema              TEXT,
    created_at_unix_ms  BIGINT NOT NULL
);

-- Every change of an environment's layer is a version: the layer's whole
-- text as written (so a rollback restores it byte for byte), its format,
-- a SHA-256 of it, who changed it and why. Versions count per environment,
-- across its layers ('committed', 'local').
CREATE TABLE config_versions (
    project_id          TEXT NOT NULL REFERENCES config_projects (id) ON DELETE CASCADE,
    env                 TEXT NOT NULL,
    version             BIGINT NOT NULL,
    layer               TEXT NOT NULL,
    format              TEXT NOT NULL,
    content             TEXT NOT NULL,
    content_hash        TEXT NOT NULL,
    author              TEXT NOT NULL,
    message             TEXT NOT NULL,
    created_at_unix_ms  BIGINT NOT NULL,
    PRIMARY KEY (project_id, env, version)
);
