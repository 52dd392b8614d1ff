-- Files OpsDeck wrote that a person may also edit (rendered configs, injected
-- templates, export bundles): what each looked like right after the write
-- (device, inode, size, modification time — nothing of its content, which
-- may hold secrets), so a later write can tell whether someone changed it.
CREATE TABLE written_files (
    path                TEXT PRIMARY KEY NOT NULL,
    fingerprint         TEXT NOT NULL,
    written_at_unix_ms  BIGINT NOT NULL
);
