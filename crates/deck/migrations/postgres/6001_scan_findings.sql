-- Secret scanning (the deck owns versions 6000-6999).
-- Folders and repositories the Scanning page remembers, with how each is
-- scanned (files or history, vault values, paths whose findings are not
-- reported) and its last scan.
CREATE TABLE scan_targets (
    path                  TEXT PRIMARY KEY NOT NULL,
    history               BIGINT NOT NULL,
    vault_values          BIGINT NOT NULL,
    allow_paths           TEXT NOT NULL,
    every_hours           BIGINT,
    added_by              TEXT NOT NULL,
    added_at_unix_ms      BIGINT NOT NULL,
    last_scan_at_unix_ms  BIGINT,
    last_scan             TEXT
);
-- Every finding of a target's scans, by fingerprint (rule, path below the
-- target, secret hash: stable when lines move), with its triage state:
-- new, confirmed, false_positive or fixed. `finding` is the redacted
-- finding as last seen (JSON); no secret is stored.
CREATE TABLE scan_findings (
    target                TEXT NOT NULL,
    fingerprint           TEXT NOT NULL,
    finding               TEXT NOT NULL,
    state                 TEXT NOT NULL,
    first_seen_unix_ms    BIGINT NOT NULL,
    last_seen_unix_ms     BIGINT NOT NULL,
    state_by              TEXT,
    state_at_unix_ms      BIGINT,
    PRIMARY KEY (target, fingerprint)
);
CREATE INDEX scan_findings_state ON scan_findings (state);
