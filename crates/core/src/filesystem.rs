//! Is a directory on a network file system?
//!
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
}
