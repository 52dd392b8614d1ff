-- Certificates (opsdeck-certs owns versions 2000-2999).
-- One row per certificate we know of: imported from files, served by probed
-- endpoints, or managed here through ACME (a managed row keeps its id across
-- renewals; its columns describe the current certificate).
CREATE TABLE certificates (
    id                  TEXT PRIMARY KEY NOT NULL,
    fingerprint         TEXT NOT NULL,
    subject             TEXT NOT NULL,
    sans                TEXT NOT NULL,
    issuer              TEXT NOT NULL,
    serial              TEXT NOT NULL,
    key_type            TEXT NOT NULL,
    not_before          BIGINT NOT NULL,
    not_after           BIGINT NOT NULL,
    self_signed         BIGINT NOT NULL,
    is_ca               BIGINT NOT NULL,
    chain_pem           TEXT NOT NULL,
    chain_status        TEXT NOT NULL,
    chain_reason        TEXT NOT NULL,
    source              TEXT NOT NULL,
    state               TEXT NOT NULL,
    managed             TEXT,
    next_renewal_at     BIGINT,
    last_error          TEXT,
    alerted_days        BIGINT,
    created_at_unix_ms  BIGINT NOT NULL,
    updated_at_unix_ms  BIGINT NOT NULL
);
CREATE INDEX certificates_fingerprint ON certificates (fingerprint);

-- Where a certificate lives: files it was imported from, endpoints serving it,
-- files a deploy hook wrote.
CREATE TABLE certificate_locations (
    certificate_id      TEXT NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    kind                TEXT NOT NULL,
    location            TEXT NOT NULL,
    seen_at_unix_ms     BIGINT NOT NULL,
    PRIMARY KEY (certificate_id, kind, location)
);

-- The lifecycle history: every state change with what happened.
CREATE TABLE certificate_events (
    certificate_id      TEXT NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    seq                 BIGINT NOT NULL,
    at_unix_ms          BIGINT NOT NULL,
    state               TEXT NOT NULL,
    message             TEXT NOT NULL,
    actor               TEXT NOT NULL,
    PRIMARY KEY (certificate_id, seq)
);
