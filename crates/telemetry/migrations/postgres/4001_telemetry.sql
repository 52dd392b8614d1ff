-- Spans and log records received over OTLP. Ids are lower-case hex; times
-- are Unix nanoseconds; attributes, resource, scope, events and links are
-- JSON (what a trace view shows whole, never filtered by the store).
CREATE TABLE telemetry_spans (
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT NOT NULL,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    start_unix_nano BIGINT NOT NULL,
    end_unix_nano BIGINT NOT NULL,
    duration_nano BIGINT NOT NULL,
    status_code INTEGER NOT NULL,
    status_message TEXT NOT NULL,
    trace_state TEXT NOT NULL,
    flags BIGINT NOT NULL,
    attributes TEXT NOT NULL,
    resource TEXT NOT NULL,
    scope TEXT NOT NULL,
    events TEXT NOT NULL,
    links TEXT NOT NULL,
    received_at_unix_ms BIGINT NOT NULL,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX telemetry_spans_by_start ON telemetry_spans (start_unix_nano);
CREATE INDEX telemetry_spans_by_service ON telemetry_spans (service, start_unix_nano);
CREATE INDEX telemetry_spans_by_name ON telemetry_spans (name, start_unix_nano);

CREATE TABLE telemetry_logs (
    id BIGSERIAL PRIMARY KEY,
    time_unix_nano BIGINT NOT NULL,
    observed_unix_nano BIGINT NOT NULL,
    severity_number INTEGER NOT NULL,
    severity_text TEXT NOT NULL,
    body TEXT NOT NULL,
    service TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    resource TEXT NOT NULL,
    scope TEXT NOT NULL,
    received_at_unix_ms BIGINT NOT NULL
);
CREATE INDEX telemetry_logs_by_time ON telemetry_logs (time_unix_nano);
CREATE INDEX telemetry_logs_by_trace ON telemetry_logs (trace_id);
