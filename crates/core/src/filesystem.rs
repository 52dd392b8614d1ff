//! The file system: writing a file so no reader sees half of it
//! ([`write_atomically`]), and whether a directory is on a network file
//! system.
//!
//! Network file systems:
//! SQLite's locking relies on the operating system's file locks and, in WAL
//! mode, on shared memory between the processes of one machine. Over NFS, SMB
//! and the like those locks are unreliable or absent, so two processes can
//! both believe they hold the write lock and corrupt the store. A SQLite
//! store is therefore refused on such a file system (see
//! [`crate::CoreError::DataDirOnNetworkFilesystem`]); PostgreSQL is the store
//! for data shared between machines.
//!
//! Linux says where each file system is mounted, and its type, in
//! `/proc/self/mountinfo`; elsewhere the check finds nothing and lets the
//! store open (macOS and Windows users on a network share are warned in the
//! README).

use std::path::Path;

/// The kind of network file system `path` is on, or `None` when it is local
/// (or cannot be told: then it is treated as local).
pub fn network_filesystem(path: &Path) -> Option<String> {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let kind = filesystem_of(&mounts, path)?;
    is_network_kind(&kind).then_some(kind)
}

/// The file system type of the mount that holds `path`, from the text of
/// Linux's `/proc/self/mountinfo` (the mount with the longest mount point
/// that is a prefix of the path; the last such line wins, as later mounts
/// cover earlier ones).
fn filesystem_of(mountinfo: &str, path: &Path) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for line in mountinfo.lines() {
        // ID PARENT MAJOR:MINOR ROOT MOUNT_POINT OPTIONS [OPTIONAL…] - TYPE SOURCE SUPER_OPTIONS
        let mut fields = line.split(' ');
        let Some(mount_point) = fields.nth(4) else { continue };
        let Some(kind) = line.split(" - ").nth(1).and_then(|rest| rest.split(' ').next()) else {
            continue;
        };
        let mount_point = unescape_octal(mount_point);
        if path.starts_with(&mount_point) {
            let depth = Path::new(&mount_point).components().count();
            if best.as_ref().is_none_or(|(best_depth, _)| depth >= *best_depth) {
                best = Some((depth, kind.to_owned()));
            }
        }
    }
    best.map(|(_, kind)| kind)
}

/// Mount points write space, tab, newline and backslash as `\NNN` (octal).
fn unescape_octal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find('\\') {
        out.push_str(&rest[..index]);
        let code = rest.get(index + 1..index + 4).and_then(|digits| u8::from_str_radix(digits, 8).ok());
        match code {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[index + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[index + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// File system types reached over a network (FUSE ones by their subtype).
fn is_network_kind(kind: &str) -> bool {
    const NETWORK: [&str; 14] = [
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "coda",
        "ncpfs",
        "ceph",
        "lustre",
        "glusterfs",
    ];
    const NETWORK_FUSE: [&str; 5] =
        ["fuse.sshfs", "fuse.s3fs", "fuse.rclone", "fuse.glusterfs", "fuse.davfs"];
    NETWORK.contains(&kind) || NETWORK_FUSE.contains(&kind)
}

/// The permissions a file written by [`write_atomically`] ends up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    /// Exactly these (Unix mode bits), whatever the file had.
    Exactly(u32),
    /// The replaced file's, or these for a new file.
    KeepOr(u32),
}

/// Writes `content` to `path` so that readers see the old text or the new
/// one, never a part: into a new sibling file, synced, then renamed over
/// `path`.
///
/// The sibling gets a random name and is created exclusively (`O_EXCL`), so
/// a file or symlink planted in the directory under a name we would pick
/// (`.key.pem.tmp` pointing at `/etc/…`) is never opened and written
/// through; the rename replaces the directory entry itself, never what a
/// symlink at `path` points to. The directory must exist.
pub fn write_atomically(path: &Path, content: &[u8], mode: FileMode) -> std::io::Result<()> {
    use std::io::Write as _;
    let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let bits = match mode {
        FileMode::Exactly(bits) => bits,
        FileMode::KeepOr(bits) => existing_mode(path).unwrap_or(bits),
    };
    let mut file = tempfile::Builder::new().prefix(".opsdeck-new-").tempfile_in(directory)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(bits))?;
    }
    #[cfg(not(unix))]
    let _ = bits; // Windows has no mode bits; the file keeps the directory's defaults.
    file.write_all(content)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(unix)]
fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|metadata| metadata.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn existing_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:25 / /home rw,relatime shared:2 - nfs4 server:/export/home rw,vers=4.2
31 30 0:26 / /home/me/local\\040disk rw shared:3 - xfs /dev/sdb1 rw
32 22 0:27 / /mnt/share rw shared:4 - cifs //nas/share rw
33 22 0:28 / /mnt/remote rw shared:5 - fuse.sshfs me@host: rw
34 22 0:29 / /tmp rw shared:6 - tmpfs tmpfs rw
";

    fn check(path: &str, kind: Option<&str>, network: bool) {
        let found = filesystem_of(MOUNTINFO, Path::new(path));
        assert_eq!(found.as_deref(), kind, "{path}");
        assert_eq!(found.as_deref().is_some_and(is_network_kind), network, "{path}");
    }

    #[test]
    fn the_deepest_mount_holding_a_path_decides_its_file_system() {
        check("/var/lib/opsdeck", Some("ext4"), false);
        check("/home/me/.local/share/opsdeck", Some("nfs4"), true);
        check("/home/me/local disk/opsdeck", Some("xfs"), false);
        check("/home/me/local", Some("nfs4"), true);
        check("/mnt/share/deck", Some("cifs"), true);
        check("/mnt/remote", Some("fuse.sshfs"), true);
        check("/tmp/x", Some("tmpfs"), false);
        check("/mnt/sharealike", Some("ext4"), false);
    }

    #[test]
    fn a_local_temporary_directory_is_not_on_a_network_file_system() {
        let temp = tempfile::tempdir().unwrap();
        assert_eq!(network_filesystem(temp.path()), None);
    }

    #[cfg(unix)]
    #[test]
    fn an_atomic_write_replaces_the_entry_not_what_a_symlink_points_to() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.txt");
        std::fs::write(&target, "keep me").unwrap();
        let path = dir.path().join("out.txt");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        write_atomically(&path, b"new", FileMode::Exactly(0o600)).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert!(!std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        // Only the written file and the symlink's old target are left: no temporary files.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn an_atomic_write_keeps_the_replaced_files_mode_when_asked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.yaml");
        std::fs::write(&path, "a: 1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, b"a: 2\n", FileMode::KeepOr(0o600)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a: 2\n");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        let fresh = dir.path().join("new.yaml");
        write_atomically(&fresh, b"b: 1\n", FileMode::KeepOr(0o600)).unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn an_atomic_write_into_a_missing_directory_fails_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("out.txt");
        assert!(write_atomically(&path, b"x", FileMode::Exactly(0o600)).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
