//! The error type of `opsdeck-core`.
//!
//! Each variant names what went wrong in the user's terms and its message says
//! what to do next; adapters (CLI, app) map [`CoreError::code`] to exit codes
//! and UI wording, never the message text.

use std::path::PathBuf;

/// Everything that can go wrong while opening or using the shared foundations.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The data dir path names an existing file.
    #[error(
        "data dir {path} is a file, not a directory; pass --data-dir (or OPSDECK_DATA_DIR) a directory path"
    )]
    DataDirNotADirectory {
        /// The path that was given.
        path: PathBuf,
    },

    /// The data dir cannot be created or written to.
    #[error("data dir {path} is not writable ({reason}); choose a directory you can write to with --data-dir or OPSDECK_DATA_DIR")]
    DataDirNotWritable {
        /// The path that was given.
        path: PathBuf,
        /// What the operating system said.
        reason: String,
    },

    /// No data dir was given and the platform has no home directory to derive one from.
    #[error("no home directory found to keep OpsDeck's data in; pass --data-dir or set OPSDECK_DATA_DIR")]
    NoDefaultDataDir,

    /// `OPSDECK_DATABASE_URL` could not be understood.
    #[error("OPSDECK_DATABASE_URL is not a usable database URL: {reason}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, or unset it to use the embedded SQLite store")]
    InvalidDatabaseUrl {
        /// What was wrong with it.
        reason: String,
    },

    /// The PostgreSQL server could not be reached or refused the login.
    #[error("cannot connect to the PostgreSQL store at {location}: {reason}; check that the server is running and the URL (user, password, database) is right")]
    StoreUnreachable {
        /// Where it was looked for (without any password).
        location: String,
        /// What the driver said.
        reason: String,
    },

    /// The PostgreSQL server's TLS did not prove who it is (or was missing).
    #[error("refused to use the PostgreSQL store at {location}: {problem}")]
    StoreTlsRefused {
        /// Where it was looked for (without any password).
        location: String,
        /// What was wrong and what to do.
        problem: String,
    },

    /// The SQLite store file could not be opened or created.
    #[error(
        "cannot open the SQLite store at {path}: {reason}; check the data dir's permissions and free space"
    )]
    SqliteUnavailable {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },

    /// The data dir is on a network file system, where SQLite's locks cannot be trusted.
    #[error("the data dir {path} is on a network file system ({filesystem}), where SQLite's file locks are unreliable and two processes could corrupt the store; choose a directory on a local disk (--data-dir or OPSDECK_DATA_DIR), or share a PostgreSQL store instead (OPSDECK_DATABASE_URL)")]
    DataDirOnNetworkFilesystem {
        /// The data dir.
        path: PathBuf,
        /// Which kind of network file system (nfs, cifs, …).
        filesystem: String,
    },

    /// The store file exists but is not a database OpsDeck can read.
    #[error("{path} is not a readable OpsDeck store ({reason}); move the file aside to start a new store, or restore it from a backup")]
    StoreCorrupt {
        /// The file that failed to open.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },

    /// The store was last written by a newer OpsDeck whose schema this build does not know.
    #[error("the store's schema version {found} is newer than this OpsDeck knows ({known}); upgrade OpsDeck to open it")]
    StoreFromNewerVersion {
        /// The highest migration found in the store.
        found: i64,
        /// The highest migration this build knows.
        known: i64,
    },

    /// A row holds a state word this build does not know.
    #[error("{0}")]
    UnknownWord(#[from] crate::words::UnknownWord),

    /// Applying the schema migrations failed.
    #[error("could not bring the store's schema up to date: {0}")]
    Migration(String),

    /// A new passphrase too short to protect anything.
    #[error("{why}")]
    WeakPassphrase {
        /// What was wrong and what to do.
        why: String,
    },

    /// The operating system's random number generator failed.
    #[error("could not get random bytes from the operating system: {0}")]
    Random(String),

    /// No OS keychain is reachable and no passphrase was given to derive a key from.
    #[error("no OS keychain is reachable ({reason}); set OPSDECK_PASSPHRASE (or pass --passphrase-stdin) to keep OpsDeck's keys under a passphrase instead")]
    NoKeySource {
        /// Why the keychain could not be used.
        reason: String,
    },

    /// The key lives in the keychain, which cannot be reached now.
    #[error("the OS keychain holding OpsDeck's keys cannot be reached: {reason}; unlock your keychain (on Linux, a Secret Service such as GNOME Keyring) and try again")]
    KeychainUnavailable {
        /// What the keychain said.
        reason: String,
    },

    /// The store says the key is in the keychain, but the keychain has no such item.
    #[error("the key `{name}` is not in this keychain; the data dir may come from another user or machine: restore the keychain item or use that machine")]
    KeyNotInKeychain {
        /// The key's name.
        name: String,
    },

    /// The keychain holds a different key than the one this store was set up with.
    #[error("the keychain holds a different `{name}` key than this store was set up with; restore the original keychain item")]
    KeyMismatch {
        /// The key's name.
        name: String,
    },

    /// The key is derived from a passphrase and none was given.
    #[error(
        "the key `{name}` is protected by a passphrase; set OPSDECK_PASSPHRASE or pass --passphrase-stdin"
    )]
    PassphraseNeeded {
        /// The key's name.
        name: String,
    },

    /// The passphrase does not derive the stored key.
    #[error("wrong passphrase: it does not unlock this deck's keys; check OPSDECK_PASSPHRASE and try again")]
    WrongPassphrase,

    /// A key record in the store cannot be read.
    #[error("a key record in the store is damaged ({0}); restore the store from a backup")]
    KeyRecordDamaged(String),

    /// The audit trail's chain is broken, so nothing more is written to it (and
    /// nothing that must be audited is done) until someone looks.
    #[error("the audit trail has been tampered with ({problem}); nothing more is recorded until it is investigated: run `opsdeck audit verify`")]
    AuditChainBroken {
        /// What is wrong.
        problem: String,
    },

    /// A key's record is gone from the store while the key (or what it
    /// protects) is still there: a new key is not made over it.
    #[error("the store has no record of its `{name}` key, yet {evidence}: the record was deleted (or the store replaced). A new key would hide what the old one protects, so none is made; restore the store from a backup, or ask whoever administers it what changed")]
    KeyRecordMissing {
        /// The key's name.
        name: String,
        /// What shows the key existed.
        evidence: String,
    },

    /// A stored definition that runs a command or writes a file failed its
    /// seal check, so it was not used.
    #[error("the stored {kind} `{subject}` was not used: {why}. Someone who can write the store may have planted it; look at who can, then set it again with OpsDeck (which seals it)")]
    DefinitionNotAuthentic {
        /// What kind of definition (`job.command`, `config.reload_hook`, …).
        kind: String,
        /// Which one.
        subject: String,
        /// What is wrong with its seal.
        why: String,
    },

    /// A definition pinned to the host that set it, asked to run elsewhere.
    #[error("the {kind} `{subject}` runs only on `{host}`, where it was set, and this is `{here}`; set it again with --run-anywhere to let every host sharing the store run it")]
    DefinitionPinned {
        /// What kind of definition.
        kind: String,
        /// Which one.
        subject: String,
        /// The host it was set on.
        host: String,
        /// This host.
        here: String,
    },

    /// The part of a passphrase key kept in the data dir is not there.
    #[error("the `{name}` key is made of the passphrase and a file kept beside the store, and {} is missing on this machine; copy it (mode 0600) from the machine that set the deck up, or restore it from a backup", path.display())]
    KeyPartMissing {
        /// The key's name.
        name: String,
        /// Where the file should be.
        path: PathBuf,
    },

    /// Sealed data in the store failed its integrity check.
    #[error("sealed data in the store failed its integrity check (changed, damaged or sealed under another key); restore it from a backup or set it again")]
    SealedDataDamaged,

    /// No notification target has this name.
    #[error("there is no notification target called `{name}`; `opsdeck notify list` shows them")]
    UnknownTarget {
        /// The name given.
        name: String,
    },

    /// A notification target that cannot be used.
    #[error("invalid notification target: {0}")]
    InvalidTarget(String),

    /// No job has this name.
    #[error("there is no job called `{name}`; `opsdeck jobs list` shows the jobs")]
    UnknownJob {
        /// The name given.
        name: String,
    },

    /// A job definition that cannot be run.
    #[error("invalid job: {0}")]
    InvalidJob(String),

    /// Another process (or a long task of this one) held the store's write
    /// lock for the whole time this operation was willing to wait.
    #[error("{store} stayed busy for {:.1} s: {holder} all that time (is a long import or a stuck process running?); {advice}", waited.as_secs_f64())]
    StoreBusy {
        /// Which store (its file, or the PostgreSQL URL without a password).
        store: String,
        /// How long this operation waited, in all.
        waited: std::time::Duration,
        /// Who was in the way, in words fit for the store's kind.
        holder: &'static str,
        /// What to do next, in words fit for the store's kind.
        advice: &'static str,
    },

    /// A file OpsDeck was asked to write holds words it did not write.
    #[error("{} was not replaced: {why}; nothing was written. Look at it first, then write elsewhere or replace it anyway (--force)", path.display())]
    OutputFileChanged {
        /// The file.
        path: PathBuf,
        /// Why it may not be replaced.
        why: String,
    },

    /// A request whose input does not have the operation's shape (a missing
    /// field, a wrong type, unreadable JSON).
    #[error("{0}")]
    InvalidInput(String),

    /// An API request without a usable token (none, unknown, expired,
    /// revoked, or one whose stored rights fail their seal).
    #[error("{why}")]
    Unauthenticated {
        /// What was wrong and what to do.
        why: String,
    },

    /// An API token whose grant does not allow the action (revealing a
    /// value without the reveal grant, say).
    #[error("{why}")]
    NotGranted {
        /// What was refused and what to do.
        why: String,
    },

    /// `OPSDECK_ACT_AS` was set by someone who may not take on another identity.
    #[error("{why}")]
    IdentityOverrideRefused {
        /// What was wrong and what to do.
        why: String,
    },

    /// Any other database error.
    #[error("store error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for CoreError {
    /// Lock contention becomes [`CoreError::StoreBusy`] (never the driver's
    /// "database is locked"); everything else stays a database error. Code
    /// that knows its store and how long it waited (see
    /// [`crate::Store::begin_write`] and [`crate::Store::retrying`]) reports
    /// those facts; this fallback names SQLite's busy timeout, which is how
    /// long SQLite waits before it answers busy.
    fn from(error: sqlx::Error) -> Self {
        if crate::contention::is_contention(&error) {
            CoreError::StoreBusy {
                store: "the store".to_owned(),
                waited: crate::store::STORE_BUSY_DEADLINE,
                holder: "another OpsDeck process held the lock this change needs",
                advice: "try again when it finishes",
            }
        } else {
            CoreError::Database(error)
        }
    }
}

impl CoreError {
    /// True when the operation failed only because others were writing: it
    /// can be tried again as it was (see [`crate::Store::retrying`]).
    pub fn is_store_contention(&self) -> bool {
        match self {
            CoreError::StoreBusy { .. } => true,
            CoreError::Database(error) => crate::contention::is_contention(error),
            _ => false,
        }
    }

    /// A stable, machine-readable code for this error (used by the UI and `--json`).
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::DataDirNotADirectory { .. } => "data_dir_not_a_directory",
            CoreError::DataDirNotWritable { .. } => "data_dir_not_writable",
            CoreError::NoDefaultDataDir => "no_default_data_dir",
            CoreError::InvalidDatabaseUrl { .. } => "invalid_database_url",
            CoreError::StoreUnreachable { .. } => "store_unreachable",
            CoreError::StoreTlsRefused { .. } => "store_tls_refused",
            CoreError::SqliteUnavailable { .. } => "store_unavailable",
            CoreError::StoreCorrupt { .. } => "store_corrupt",
            CoreError::DataDirOnNetworkFilesystem { .. } => "data_dir_on_network_filesystem",
            CoreError::StoreFromNewerVersion { .. } => "store_from_newer_version",
            CoreError::Migration(_) => "migration_failed",
            CoreError::UnknownWord(_) => "unknown_stored_word",
            CoreError::Database(_) => "database",
            CoreError::StoreBusy { .. } => "store_busy",
            CoreError::OutputFileChanged { .. } => "output_file_changed",
            CoreError::Random(_) => "random_unavailable",
            CoreError::NoKeySource { .. } => "no_key_source",
            CoreError::KeychainUnavailable { .. } => "keychain_unavailable",
            CoreError::KeyNotInKeychain { .. } => "key_not_in_keychain",
            CoreError::KeyMismatch { .. } => "key_mismatch",
            CoreError::PassphraseNeeded { .. } => "passphrase_needed",
            CoreError::WrongPassphrase => "wrong_passphrase",
            CoreError::AuditChainBroken { .. } => "audit_chain_broken",
            CoreError::KeyRecordMissing { .. } => "key_record_missing",
            CoreError::KeyPartMissing { .. } => "key_part_missing",
            CoreError::WeakPassphrase { .. } => "weak_passphrase",
            CoreError::DefinitionNotAuthentic { .. } => "definition_not_authentic",
            CoreError::DefinitionPinned { .. } => "definition_pinned",
            CoreError::UnknownJob { .. } => "unknown_job",
            CoreError::SealedDataDamaged => "sealed_data_damaged",
            CoreError::UnknownTarget { .. } => "unknown_target",
            CoreError::InvalidTarget(_) => "invalid_target",
            CoreError::InvalidJob(_) => "invalid_job",
            CoreError::IdentityOverrideRefused { .. } => "identity_override_refused",
            CoreError::Unauthenticated { .. } => "unauthenticated",
            CoreError::NotGranted { .. } => "forbidden",
            CoreError::InvalidInput(_) => "invalid_input",
            CoreError::KeyRecordDamaged(_) => "key_record_damaged",
        }
    }
}
