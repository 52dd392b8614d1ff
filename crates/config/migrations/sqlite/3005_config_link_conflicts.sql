-- A linked file and OpsDeck agree on the text whose hash is `synced_hash`
-- (stored from the file, or written to it). A stored change is written back
-- only while the file still has that text; otherwise the file holds words
-- OpsDeck has not stored, and the link records a conflict instead of
-- overwriting them.
ALTER TABLE config_links ADD COLUMN synced_hash TEXT;
ALTER TABLE config_links ADD COLUMN conflict_since_unix_ms BIGINT;
ALTER TABLE config_links ADD COLUMN conflict_version BIGINT;
-- Links whose last look found no problem were in step with their file.
UPDATE config_links SET synced_hash = last_hash WHERE last_error IS NULL;
