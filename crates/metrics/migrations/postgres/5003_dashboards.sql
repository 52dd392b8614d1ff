-- Dashboards, every saved version kept (history and rollback); the latest
-- version of a name is the dashboard.
CREATE TABLE metric_dashboards (
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at_unix_ms BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);
