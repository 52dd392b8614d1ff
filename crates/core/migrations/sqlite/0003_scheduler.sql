-- Scheduled jobs. A job is due when next_run_at_unix_ms has passed; a process
-- runs it only after taking its lease (lease_owner, lease_until_unix_ms) in
-- one conditional UPDATE, so two processes never run one due time at once.
CREATE TABLE jobs (
    name                 TEXT PRIMARY KEY NOT NULL,
    kind                 TEXT NOT NULL,              -- which handler runs it
    every_ms             BIGINT NOT NULL,            -- recurring interval; 0 = one-off
    payload              TEXT NOT NULL,              -- JSON for the handler
    paused               BIGINT NOT NULL DEFAULT 0,  -- 1 = paused
    next_run_at_unix_ms  BIGINT NOT NULL,
    due_at_unix_ms       BIGINT NOT NULL,            -- the due time being worked on (stays through retries)
    attempt              BIGINT NOT NULL DEFAULT 0,  -- failed attempts at due_at so far
    lease_owner          TEXT,
    lease_until_unix_ms  BIGINT,
    created_at_unix_ms   BIGINT NOT NULL
);
CREATE INDEX jobs_next_run ON jobs (next_run_at_unix_ms);

-- Every attempt at a due time: one row when it starts, completed when it ends.
CREATE TABLE job_runs (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    job_name             TEXT NOT NULL REFERENCES jobs (name) ON DELETE CASCADE,
    due_at_unix_ms       BIGINT NOT NULL,
    attempt              BIGINT NOT NULL,
    owner                TEXT NOT NULL,
    started_at_unix_ms   BIGINT NOT NULL,
    finished_at_unix_ms  BIGINT,
    outcome              TEXT NOT NULL,              -- running, ok, failed, abandoned
    message              TEXT NOT NULL DEFAULT '',
    UNIQUE (job_name, due_at_unix_ms, attempt)
);
CREATE INDEX job_runs_job ON job_runs (job_name, id);
