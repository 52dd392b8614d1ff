-- Histograms stored whole: a histogram's bucket, count and sum series keep
-- their rows in metric_series (and the label index), but their samples go
-- into one chunk per histogram (see the crate's histogram_chunk.rs), the
-- timestamps once and a column per member series. A series belongs to the
-- histogram named by its labels without `le` and its name without
-- `_bucket`/`_count`/`_sum`; samples it had before stay in metric_chunks
-- and reads merge both.
CREATE TABLE metric_histograms (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    labels TEXT NOT NULL,
    created_at_unix_ms INTEGER NOT NULL
);
ALTER TABLE metric_series ADD COLUMN histogram_id INTEGER;
CREATE INDEX metric_series_by_histogram ON metric_series (histogram_id);
CREATE TABLE metric_histogram_chunks (
    histogram_id INTEGER NOT NULL REFERENCES metric_histograms (id) ON DELETE CASCADE,
    writer TEXT NOT NULL,
    min_t INTEGER NOT NULL,
    max_t INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (histogram_id, writer, min_t)
);
CREATE INDEX metric_histogram_chunks_by_end ON metric_histogram_chunks (max_t);
