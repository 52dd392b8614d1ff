-- The metrics series store: each series once (its labels), an inverted
-- index from each label pair to the series that carry it, and the series'
-- samples in compressed chunks (see the crate's chunk.rs). Each process
-- that appends writes its own chunks (`writer`), so two processes taking
-- in the same series never overwrite each other; reads merge them.
CREATE TABLE metric_series (
    id BIGSERIAL PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    labels TEXT NOT NULL,
    created_at_unix_ms BIGINT NOT NULL
);
CREATE TABLE metric_label_index (
    label TEXT NOT NULL,
    value TEXT NOT NULL,
    series_id BIGINT NOT NULL REFERENCES metric_series (id) ON DELETE CASCADE,
    PRIMARY KEY (label, value, series_id)
);
CREATE INDEX metric_label_index_by_series ON metric_label_index (series_id);
CREATE TABLE metric_chunks (
    series_id BIGINT NOT NULL REFERENCES metric_series (id) ON DELETE CASCADE,
    writer TEXT NOT NULL,
    min_t BIGINT NOT NULL,
    max_t BIGINT NOT NULL,
    samples BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (series_id, writer, min_t)
);
CREATE INDEX metric_chunks_by_end ON metric_chunks (max_t);
