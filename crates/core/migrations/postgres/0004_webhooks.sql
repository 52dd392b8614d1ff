-- Notification targets: where signed webhooks go. The signing secret is
-- sealed (AES-256-GCM under the deck's `webhooks` key), never stored plain.
CREATE TABLE webhook_targets (
    name                TEXT PRIMARY KEY NOT NULL,
    url                 TEXT NOT NULL,
    secret_sealed       BYTEA NOT NULL,
    created_at_unix_ms  BIGINT NOT NULL
);

-- Every notification to every target; the id is the idempotency id receivers see.
CREATE TABLE webhook_deliveries (
    id                  TEXT PRIMARY KEY NOT NULL,
    target              TEXT NOT NULL REFERENCES webhook_targets (name) ON DELETE CASCADE,
    event               TEXT NOT NULL,
    body                TEXT NOT NULL,
    created_at_unix_ms  BIGINT NOT NULL,
    status              TEXT NOT NULL,       -- pending, delivered, failed
    attempts            BIGINT NOT NULL DEFAULT 0,
    last_status         BIGINT,
    last_error          TEXT NOT NULL DEFAULT '',
    delivered_at_unix_ms BIGINT
);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at_unix_ms);
