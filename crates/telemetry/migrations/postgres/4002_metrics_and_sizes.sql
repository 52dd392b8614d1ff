-- Each span and log record remembers how many bytes it brought, so that
-- retention can keep the store under a size (oldest records go first).
ALTER TABLE telemetry_spans ADD COLUMN size_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE telemetry_logs ADD COLUMN size_bytes BIGINT NOT NULL DEFAULT 0;
CREATE INDEX telemetry_logs_by_service ON telemetry_logs (service, time_unix_nano);

-- Metric data points received over OTLP, one row per point: gauges and sums
-- in value, histograms and summaries in data (JSON).
CREATE TABLE telemetry_metric_points (
    id BIGSERIAL PRIMARY KEY,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_unix_nano BIGINT NOT NULL,
    time_unix_nano BIGINT NOT NULL,
    value DOUBLE PRECISION,
    data TEXT NOT NULL,
    attributes TEXT NOT NULL,
    resource TEXT NOT NULL,
    scope TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    received_at_unix_ms BIGINT NOT NULL
);
CREATE INDEX telemetry_metric_points_by_name ON telemetry_metric_points (name, time_unix_nano);
CREATE INDEX telemetry_metric_points_by_time ON telemetry_metric_points (time_unix_nano);
