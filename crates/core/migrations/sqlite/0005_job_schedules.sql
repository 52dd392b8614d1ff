-- Cron schedules and one-off jobs. A cron job has every_ms = 0 and a cron
-- expression; a one-off job has neither and is completed after its run.
ALTER TABLE jobs ADD COLUMN cron TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN completed_at_unix_ms BIGINT;
