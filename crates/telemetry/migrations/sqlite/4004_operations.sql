-- Each service's operations with the newest time they were seen, kept by
-- the writer: the search form's lists without reading every span.
CREATE TABLE telemetry_operations (
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    last_seen_unix_nano BIGINT NOT NULL,
    PRIMARY KEY (service, name)
);

INSERT INTO telemetry_operations
SELECT service, name, MAX(start_unix_nano) FROM telemetry_spans GROUP BY service, name;

-- Searches start from the trace summaries and the form from the table above:
-- these two indexes only slowed every span insert down.
DROP INDEX telemetry_spans_by_service;
DROP INDEX telemetry_spans_by_name;
