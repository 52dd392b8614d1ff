-- Secret metadata beyond the type, readable while locked: tags (a JSON array
-- of strings), a note, a rotation policy (every N days, optionally checked
-- by a shell command) and an expiry.
ALTER TABLE secrets ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE secrets ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE secrets ADD COLUMN rotate_every_days BIGINT;
ALTER TABLE secrets ADD COLUMN rotate_verify TEXT;
ALTER TABLE secrets ADD COLUMN expires_at_unix_ms BIGINT;

-- Who may do what in a vault: 'admin' (everything, members and key slots),
-- 'operator' (reveal and change secrets), 'viewer' (metadata and history only).
-- A vault without members is open to every local user as admin (vaults made
-- before roles existed); `vault init` makes its creator the first admin.
CREATE TABLE vault_members (
    vault_id            TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    member              TEXT NOT NULL,
    role                TEXT NOT NULL,
    added_at_unix_ms    BIGINT NOT NULL,
    PRIMARY KEY (vault_id, member)
);
