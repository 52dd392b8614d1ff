-- Remote Prometheus servers queries can be sent to (the definition is
-- sealed: see the deck's definition seals).
CREATE TABLE metric_sources (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at_unix_ms INTEGER NOT NULL
);
