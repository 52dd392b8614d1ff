-- Vaults (opsdeck-vault owns versions 1000-1999).
-- Each vault has a random data key, stored only wrapped by its key slots.
CREATE TABLE vaults (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL UNIQUE,
    created_at_unix_ms  BIGINT NOT NULL
);

-- A key slot wraps the vault's data key (AES-256-GCM) under a key kept in the
-- OS keychain ('keychain') or derived from a passphrase ('passphrase').
CREATE TABLE vault_slots (
    id                  TEXT PRIMARY KEY NOT NULL,
    vault_id            TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    kind                TEXT NOT NULL,
    kdf_salt            BLOB,
    kdf_params          TEXT,
    wrapped_key         BLOB NOT NULL,
    created_at_unix_ms  BIGINT NOT NULL
);

-- Secret metadata, readable without unlocking.
CREATE TABLE secrets (
    id                  TEXT PRIMARY KEY NOT NULL,
    vault_id            TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    secret_type         TEXT NOT NULL,
    current_version     BIGINT NOT NULL,
    created_at_unix_ms  BIGINT NOT NULL,
    updated_at_unix_ms  BIGINT NOT NULL,
    UNIQUE (vault_id, name)
);

-- Every value a secret ever had, sealed; the AAD binds vault, secret and version.
CREATE TABLE secret_versions (
    secret_id           TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version             BIGINT NOT NULL,
    nonce               BLOB NOT NULL,
    ciphertext          BLOB NOT NULL,
    created_at_unix_ms  BIGINT NOT NULL,
    created_by          TEXT NOT NULL,
    PRIMARY KEY (secret_id, version)
);
