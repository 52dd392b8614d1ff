-- A random id for this store, so keys kept outside it (the OS keychain) are
-- named per store and two data dirs never share a key by accident.
INSERT INTO store_meta (key, value) VALUES ('store_id', md5(random()::text || clock_timestamp()::text));

-- Where each of the deck's own keys is kept, and a value that proves a key is
-- the right one without revealing it.
CREATE TABLE deck_keys (
    name         TEXT PRIMARY KEY NOT NULL,
    source       TEXT NOT NULL,            -- 'keychain' or 'passphrase'
    kdf_salt     BYTEA,                     -- Argon2id salt (passphrase keys)
    kdf_params   TEXT,                     -- 'm_kib,t,p' (passphrase keys)
    check_mac    BYTEA NOT NULL,            -- HMAC-SHA256(key, 'opsdeck key check')
    created_at_unix_ms BIGINT NOT NULL
);

-- The audit trail: append-only, each entry MACed together with the previous
-- entry's MAC (a keyed hash chain).
CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY NOT NULL,
    at_unix_ms     BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    target         TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    details        TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    prev_mac       BYTEA NOT NULL,
    mac            BYTEA NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at_unix_ms);
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_action ON audit_log (action);
