-- The admins of a config project: only they may set what runs or is written
-- on its behalf (reload hooks, linked files) and its approval rules. A
-- project with none is claimed by the first person who sets one of those.
CREATE TABLE config_project_admins (
    project_id        TEXT NOT NULL REFERENCES config_projects(id) ON DELETE CASCADE,
    member            TEXT NOT NULL,
    added_by          TEXT NOT NULL,
    added_at_unix_ms  BIGINT NOT NULL,
    PRIMARY KEY (project_id, member)
);
