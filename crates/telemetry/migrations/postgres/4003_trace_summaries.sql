-- One row per trace, kept by the writer as spans arrive: what trace lists
-- and searches read first (newest traces through the start index), so that
-- a search over millions of spans looks at the traces it shows, not at
-- every span. The root is the span without a parent (else the earliest).
CREATE TABLE telemetry_traces (
    trace_id TEXT PRIMARY KEY,
    start_unix_nano BIGINT NOT NULL,
    end_unix_nano BIGINT NOT NULL,
    duration_nano BIGINT NOT NULL,
    span_count BIGINT NOT NULL,
    error_count BIGINT NOT NULL,
    root_service TEXT NOT NULL,
    root_operation TEXT NOT NULL
);
CREATE INDEX telemetry_traces_by_start ON telemetry_traces (start_unix_nano);
CREATE INDEX telemetry_traces_by_root ON telemetry_traces (root_service, root_operation, start_unix_nano);

INSERT INTO telemetry_traces
SELECT s.trace_id, MIN(s.start_unix_nano), MAX(s.end_unix_nano), MAX(s.end_unix_nano) - MIN(s.start_unix_nano),
       COUNT(*), SUM(CASE WHEN s.status_code = 2 THEN 1 ELSE 0 END),
       COALESCE((SELECT r.service FROM telemetry_spans r WHERE r.trace_id = s.trace_id
                 ORDER BY CASE WHEN r.parent_span_id = '' THEN 0 ELSE 1 END, r.start_unix_nano LIMIT 1), ''),
       COALESCE((SELECT r.name FROM telemetry_spans r WHERE r.trace_id = s.trace_id
                 ORDER BY CASE WHEN r.parent_span_id = '' THEN 0 ELSE 1 END, r.start_unix_nano LIMIT 1), '')
FROM telemetry_spans s GROUP BY s.trace_id;
