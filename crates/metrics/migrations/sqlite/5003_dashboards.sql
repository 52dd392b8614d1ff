-- Dashboards, every saved version kept (history and rollback); the latest
-- version of a name is the dashboard.
CREATE TABLE metric_dashboards (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at_unix_ms INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);
