-- Seals of stored definitions that make OpsDeck run a command or write a
-- file (command jobs, verification commands, reload hooks, deploy hooks,
-- DNS hooks, linked files): an HMAC, under a deck key kept outside the
-- store, of the definition, who defined it, on which host and whether it
-- may run on any host. A definition changed or added in the database
-- without the key has no valid seal and is refused, never run.
CREATE TABLE definition_seals (
    kind                TEXT NOT NULL,
    subject             TEXT NOT NULL,
    defined_by          TEXT NOT NULL,
    host                TEXT NOT NULL,
    run_anywhere        BIGINT NOT NULL,
    defined_at_unix_ms  BIGINT NOT NULL,
    mac                 BYTEA NOT NULL,
    PRIMARY KEY (kind, subject)
);

-- A job with side effects on a machine (a command, a deploy hook) runs only
-- on the host that set it: other hosts' schedulers do not claim it.
ALTER TABLE jobs ADD COLUMN run_on_host TEXT;
