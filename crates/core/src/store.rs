//! The store: one database for every area of a deck.
//!
//! SQLite in the data dir is the embedded default (WAL journal, foreign keys on,
//! a busy timeout so two processes on one data dir wait rather than fail).
//! PostgreSQL is used when a `postgres://` URL is given, for a team sharing one
//! store. Both are reached through sqlx's `Any` driver so that domain crates
//! write one set of portable SQL (`$1` placeholders, integer unix times, TEXT
//! and BLOB columns); each backend keeps its own migration files because DDL
//! differs between them.
//!
//! Many processes may use one store at once (the app, `opsdeck serve`,
//! scripts calling the CLI). Every write transaction begins as a writer
//! ([`Store::begin_write`]: `BEGIN IMMEDIATE` on SQLite), so it never has to
//! upgrade a read snapshot that another writer has made stale; waiting for
//! the write lock is bounded by [`STORE_BUSY_DEADLINE`], after which the user
//! gets [`CoreError::StoreBusy`] instead of the driver's words. Readers never
//! wait: SQLite's write-ahead log gives each reader its own snapshot.
//!
//! Migration versions are shared out by owner so that every crate can ship its
//! own migrations into the one `_sqlx_migrations` table: `opsdeck-core` uses
//! 1–999, and each domain crate takes the next block of 1000.

use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Once;
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};

use crate::contention::Backoff;
use crate::{CoreError, DataDir};

/// How long one operation waits, in all, for other writers to finish before
/// it reports [`CoreError::StoreBusy`]. SQLite's own busy timeout is the same,
/// so a single statement waits as long as a whole retried operation.
pub const STORE_BUSY_DEADLINE: Duration = Duration::from_secs(10);

/// The most connections a store of this process opens (see [`limit_connections`]).
static CONNECTION_LIMIT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(u32::MAX);

/// Caps the connections each store this process opens may hold (at least
/// one). One-shot CLI commands take 2: a team's scripts may start dozens at
/// once against one PostgreSQL server, whose connection slots they share
/// with the app and `opsdeck serve`.
pub fn limit_connections(most: u32) {
    CONNECTION_LIMIT.store(most.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// A write transaction (see [`Store::begin_write`]).
pub type WriteTransaction = Transaction<'static, Any>;

/// An error that may only mean "other writers were in the way" (so the
/// operation can be tried again), and that can carry a [`CoreError`].
/// Implemented by every domain crate's error type.
pub trait StoreContention: From<CoreError> {
    /// True when the operation failed only because of other writers.
    fn is_store_contention(&self) -> bool;
}

impl StoreContention for CoreError {
    fn is_store_contention(&self) -> bool {
        CoreError::is_store_contention(self)
    }
}

/// Which database engine holds the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// A SQLite file in the data dir.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl std::fmt::Display for StoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        })
    }
}

/// Where a store lives, decided before connecting.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL server, by URL (may contain a password: never printed whole).
    Postgres(url::Url),
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreLocation({})", self.display())
    }
}

impl StoreLocation {
    /// Decides the location from an optional database URL: PostgreSQL when a URL
    /// is given, otherwise the SQLite file in `data_dir`.
    pub fn choose(data_dir: &DataDir, database_url: Option<&str>) -> Result<Self, CoreError> {
        match database_url.map(str::trim) {
            None | Some("") => {
                if let Some(filesystem) = crate::filesystem::network_filesystem(data_dir.path()) {
                    return Err(CoreError::DataDirOnNetworkFilesystem {
                        path: data_dir.path().to_path_buf(),
                        filesystem,
                    });
                }
                Ok(StoreLocation::Sqlite(data_dir.sqlite_store_path()))
            }
            Some(text) => Self::parse_postgres_url(text),
        }
    }

    fn parse_postgres_url(text: &str) -> Result<Self, CoreError> {
        let invalid = |reason: String| CoreError::InvalidDatabaseUrl { reason };
        let parsed = url::Url::parse(text).map_err(|error| invalid(error.to_string()))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(invalid(format!(
                "scheme `{}` is not supported (only postgres:// is)",
                parsed.scheme()
            )));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it names no host".to_owned()));
        }
        Ok(StoreLocation::Postgres(parsed))
    }

    /// The kind of store at this location.
    pub fn kind(&self) -> StoreKind {
        match self {
            StoreLocation::Sqlite(_) => StoreKind::Sqlite,
            StoreLocation::Postgres(_) => StoreKind::Postgres,
        }
    }

    /// A form safe to show and log: the file path, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(url) => {
                let mut shown = url.clone();
                if shown.password().is_some() {
                    // set_password only fails for URLs that cannot have one, which
                    // a parsed postgres:// URL with a host always can.
                    let _ = shown.set_password(Some("***"));
                }
                shown.to_string()
            }
        }
    }

    fn connect_url(&self) -> String {
        match self {
            // mode=rwc creates the file when it does not exist yet.
            StoreLocation::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            StoreLocation::Postgres(url) => with_default_sslmode(url).to_string(),
        }
    }
}

/// The URL with `sslmode=verify-full` added when it names no `sslmode` (nor
/// does `PGSSLMODE`) and the server is not on this machine: across a network
/// the connection is encrypted and the server proves its name with a
/// certificate from a trusted CA (the system's, or `sslrootcert=FILE`).
/// A loopback or Unix-socket server keeps libpq's default, `prefer`.
/// (`verify-ca` checks the host name too, stricter than libpq: the driver's
/// name-skipping verifier misses the name error rustls ≥ 0.23.24 returns.)
fn with_default_sslmode(url: &url::Url) -> url::Url {
    let named = url.query_pairs().any(|(key, _)| key == "sslmode") || std::env::var_os("PGSSLMODE").is_some();
    if named || postgres_server_is_local(url) {
        return url.clone();
    }
    let mut url = url.clone();
    url.query_pairs_mut().append_pair("sslmode", "verify-full");
    url
}

/// True for a server on this machine: `localhost`, a loopback address, or a
/// Unix socket directory (`?host=/run/postgresql`).
fn postgres_server_is_local(url: &url::Url) -> bool {
    if url.query_pairs().any(|(key, value)| key == "host" && value.starts_with('/')) {
        return true;
    }
    match url.host() {
        // postgres:// is not a scheme the URL standard knows, so an IPv4
        // address arrives as a name.
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
        }
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => true,
    }
}

/// Words for a failed TLS handshake with a PostgreSQL server, saying what
/// to change; `None` when the failure was not about TLS.
fn tls_problem(error: &sqlx::Error) -> Option<String> {
    let text = error.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("unknownissuer") || lower.contains("unknown issuer") || lower.contains("badsignature") {
        Some(format!(
            "the server's certificate is not signed by a CA this machine trusts ({text}); give your CA's \
             certificate with sslrootcert=FILE in the URL, or install it in the system's trust store"
        ))
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        Some(format!(
            "the server's certificate is not valid for the host name in the URL ({text}); connect by the \
             name the certificate was issued for (here verify-ca checks the name as well)"
        ))
    } else if lower.contains("server does not support tls") || lower.contains("tls upgrade required") {
        Some(format!(
            "the server does not offer TLS, and the connection must be encrypted ({text}); turn ssl on in \
             the server, or use sslmode=disable only on a network you trust"
        ))
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        Some(format!("the TLS connection failed: {text}"))
    } else {
        None
    }
}

/// This crate's migrations for the store's backend (versions 1–999).
fn core_migrator(kind: StoreKind) -> Migrator {
    match kind {
        StoreKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        StoreKind::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

/// An open store with its schema up to date.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    location: StoreLocation,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("location", &self.location).finish()
    }
}

impl Store {
    /// Opens (creating when needed) the store at `location` and applies this
    /// crate's migrations.
    pub async fn open(location: StoreLocation) -> Result<Store, CoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);

        let options = AnyConnectOptions::from_str(&location.connect_url())
            .map_err(|error| CoreError::InvalidDatabaseUrl { reason: error.to_string() })?;
        let kind = location.kind();

        // One connection first, so that a wrong file, URL, password or server
        // fails at once with its own message instead of as a pool timeout
        // after the pool has retried for its whole acquire timeout.
        // A PostgreSQL server with every connection slot taken (many CLI
        // processes at once) is busy, not unreachable: wait for a slot.
        let started = Instant::now();
        let mut backoff = Backoff::new();
        let mut probe = loop {
            match AnyConnection::connect_with(&options).await {
                Ok(connection) => break connection,
                Err(error) if crate::contention::is_contention(&error) => {
                    let waited = started.elapsed();
                    let Some(left) = STORE_BUSY_DEADLINE.checked_sub(waited).filter(|left| !left.is_zero())
                    else {
                        return Err(Store::busy_at(&location, waited));
                    };
                    tokio::time::sleep(backoff.next_wait(left)).await;
                }
                Err(error) => return Err(Self::open_error(&location, error)),
            }
        };
        Self::prepare_connection(kind, &mut probe)
            .await
            .map_err(|error| Self::open_error(&location, error))?;
        if let StoreLocation::Sqlite(path) = &location {
            Self::keep_private(path)?;
        }
        probe.close().await.map_err(|error| Self::open_error(&location, error))?;

        let pool = AnyPoolOptions::new()
            .max_connections(
                match kind {
                    StoreKind::Sqlite => 4,
                    StoreKind::Postgres => 8,
                }
                .min(CONNECTION_LIMIT.load(std::sync::atomic::Ordering::Relaxed)),
            )
            .acquire_timeout(STORE_BUSY_DEADLINE)
            .after_connect(move |connection, _meta| {
                Box::pin(async move { Self::prepare_connection(kind, connection).await })
            })
            .connect_with(options)
            .await
            .map_err(|error| Self::open_error(&location, error))?;

        let store = Store { pool, location };
        store.apply_migrations(core_migrator(kind)).await?;
        Ok(store)
    }

    /// Makes the SQLite file readable by its owner only (SQLite creates the
    /// write-ahead log and shared-memory files with the same mode).
    fn keep_private(path: &std::path::Path) -> Result<(), CoreError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let unavailable = |error: std::io::Error| CoreError::SqliteUnavailable {
                path: path.to_path_buf(),
                reason: error.to_string(),
            };
            let mode = std::fs::metadata(path).map_err(unavailable)?.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))
                    .map_err(unavailable)?;
            }
        }
        #[cfg(not(unix))]
        let _ = path;
        Ok(())
    }

    /// Settings every connection gets before use.
    async fn prepare_connection(kind: StoreKind, connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
        if kind == StoreKind::Sqlite {
            // The busy timeout comes first, so even switching the journal mode
            // (which takes a lock) waits for another process instead of failing.
            // WAL lets readers and one writer work at once: readers read their
            // snapshot and never wait for the writer.
            connection
                .execute(
                    format!(
                        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                         PRAGMA synchronous = NORMAL;",
                        STORE_BUSY_DEADLINE.as_millis()
                    )
                    .as_str(),
                )
                .await?;
        } else {
            // PostgreSQL waits for a row lock forever by default; wait as long
            // as SQLite does, then report the store busy the same way.
            connection
                .execute(format!("SET lock_timeout = {}", STORE_BUSY_DEADLINE.as_millis()).as_str())
                .await?;
        }
        Ok(())
    }

    fn open_error(location: &StoreLocation, error: sqlx::Error) -> CoreError {
        match (location, &error) {
            (StoreLocation::Sqlite(path), sqlx::Error::Database(db))
                if db.message().contains("not a database") || db.message().contains("malformed") =>
            {
                CoreError::StoreCorrupt { path: path.clone(), reason: db.message().to_owned() }
            }
            (StoreLocation::Sqlite(path), _) => {
                CoreError::SqliteUnavailable { path: path.clone(), reason: error.to_string() }
            }
            (StoreLocation::Postgres(_), _) => match tls_problem(&error) {
                Some(problem) => CoreError::StoreTlsRefused { location: location.display(), problem },
                None => {
                    CoreError::StoreUnreachable { location: location.display(), reason: error.to_string() }
                }
            },
        }
    }

    /// Applies one crate's migrations (all within one block of 1000 versions).
    ///
    /// Migrations of other crates already in the store are expected and left
    /// alone; a migration in this crate's block that this build does not know
    /// means a newer OpsDeck wrote the store, and is refused.
    pub async fn apply_migrations(&self, mut migrator: Migrator) -> Result<(), CoreError> {
        migrator.set_ignore_missing(true);
        let known = migrator.iter().map(|migration| migration.version).max().unwrap_or(0);
        migrator.run(&self.pool).await.map_err(|error| match (&self.location, error) {
            (
                StoreLocation::Sqlite(path),
                sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(db)),
            ) if db.message().contains("not a database") => {
                CoreError::StoreCorrupt { path: path.clone(), reason: db.message().to_owned() }
            }
            (_, other) => CoreError::Migration(other.to_string()),
        })?;

        let block_start = known / 1000 * 1000;
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE version >= $1 AND version < $2",
        )
        .bind(block_start)
        .bind(block_start + 1000)
        .fetch_one(&self.pool)
        .await?;
        match found {
            Some(found) if found > known => Err(CoreError::StoreFromNewerVersion { found, known }),
            _ => Ok(()),
        }
    }

    /// Begins a transaction that will write. On SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`): a transaction that read first and
    /// wrote later would have to upgrade its snapshot, which fails outright
    /// (SQLITE_BUSY_SNAPSHOT) whenever another process wrote in between. While
    /// another process writes, this waits — with backoff, for at most
    /// [`STORE_BUSY_DEADLINE`] in all — and then reports
    /// [`CoreError::StoreBusy`]. On PostgreSQL it is a plain `BEGIN`: rows are
    /// locked as they are written.
    pub async fn begin_write(&self) -> Result<WriteTransaction, CoreError> {
        let started = Instant::now();
        let mut backoff = Backoff::new();
        loop {
            let attempt = match &self.location {
                StoreLocation::Sqlite(path) => self.begin_immediate_in_turn(path, started).await?,
                StoreLocation::Postgres(_) => self.pool.begin().await,
            };
            match attempt {
                Ok(transaction) => {
                    // How long writers wait for each other, for `OPSDECK_LOG=opsdeck_core::store=debug`
                    // (the contention benchmark reads it).
                    tracing::debug!(waited_us = started.elapsed().as_micros() as u64, "write lock taken");
                    return Ok(transaction);
                }
                Err(error) if crate::contention::is_contention(&error) => {
                    self.wait_or_give_up(started, &mut backoff).await?;
                }
                Err(error) => return Err(CoreError::Database(error)),
            }
        }
    }

    /// `BEGIN IMMEDIATE` on a pooled connection, taken in turn with every
    /// other writer of this SQLite file (see [`WriterTurnstile`]).
    async fn begin_immediate_in_turn(
        &self,
        database: &std::path::Path,
        started: Instant,
    ) -> Result<Result<WriteTransaction, sqlx::Error>, CoreError> {
        let connection = match self.pool.acquire().await {
            Ok(connection) => connection,
            Err(error) => return Ok(Err(error)),
        };
        let turn = match WriterTurnstile::enter(database, started).await {
            Ok(turn) => turn,
            Err(TurnstileError::Deadline) => return Err(self.busy(started.elapsed())),
            Err(TurnstileError::Io(error)) => {
                return Err(CoreError::SqliteUnavailable {
                    path: database.to_path_buf(),
                    reason: format!("its writers' queue file cannot be used: {error}"),
                })
            }
        };
        // (`Transaction::begin` is sqlx's own way to begin on a connection
        // already taken from the pool; the pool's `begin_with` would take
        // another one while this process holds its turn.)
        let begun = Transaction::begin(connection, Some("BEGIN IMMEDIATE".into())).await;
        drop(turn);
        Ok(begun)
    }

    /// Runs `attempt` until it succeeds, fails for a reason other than
    /// contention, or [`STORE_BUSY_DEADLINE`] passes (then
    /// [`CoreError::StoreBusy`], naming this store and the time waited).
    ///
    /// Only for work whose every effect is inside the store transaction that
    /// failed (a failed transaction is rolled back, so trying again is safe):
    /// PostgreSQL deadlocks and serialization failures can strike any
    /// statement, and must be retried from the start of the transaction.
    pub async fn retrying<T, E, F, Fut>(&self, mut attempt: F) -> Result<T, E>
    where
        E: StoreContention,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = Instant::now();
        let mut backoff = Backoff::new();
        loop {
            match attempt().await {
                Err(error) if error.is_store_contention() => {
                    self.wait_or_give_up(started, &mut backoff).await?;
                }
                done => return done,
            }
        }
    }

    /// Sleeps before the next attempt, or reports the store busy once the
    /// deadline has passed.
    async fn wait_or_give_up(&self, started: Instant, backoff: &mut Backoff) -> Result<(), CoreError> {
        let waited = started.elapsed();
        let Some(left) = STORE_BUSY_DEADLINE.checked_sub(waited).filter(|left| !left.is_zero()) else {
            return Err(self.busy(waited));
        };
        tokio::time::sleep(backoff.next_wait(left)).await;
        Ok(())
    }

    /// The error for "waited `waited` for other writers, in vain".
    pub fn busy(&self, waited: Duration) -> CoreError {
        Store::busy_at(&self.location, waited)
    }

    fn busy_at(location: &StoreLocation, waited: Duration) -> CoreError {
        match location {
            StoreLocation::Sqlite(path) => CoreError::StoreBusy {
                store: format!("the SQLite store {}", path.display()),
                waited,
                holder: "another OpsDeck process held its write lock",
                advice: "try again when it finishes; a team whose processes write this much at once is better served by a PostgreSQL store",
            },
            StoreLocation::Postgres(_) => CoreError::StoreBusy {
                store: format!("the PostgreSQL store {}", location.display()),
                waited,
                holder: "another session held a lock on the rows this change needs, or every connection slot",
                advice: "try again when it finishes (pg_stat_activity shows who holds it)",
            },
        }
    }

    /// The highest migration version applied to this store.
    pub async fn schema_version(&self) -> Result<i64, CoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = $1")
                .bind(true)
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// When this store was created, in milliseconds since the Unix epoch.
    pub async fn created_at_unix_ms(&self) -> Result<i64, CoreError> {
        let value: String =
            sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'created_at_unix_ms'")
                .fetch_one(&self.pool)
                .await?;
        value.parse().map_err(|_| {
            CoreError::Migration(format!("store_meta.created_at_unix_ms holds `{value}`, not a number"))
        })
    }

    /// This store's random id (names its keys in the OS keychain).
    pub async fn store_id(&self) -> Result<String, CoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'store_id'")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The kind of database behind this store.
    pub fn kind(&self) -> StoreKind {
        self.location.kind()
    }

    /// Where the store lives.
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The database's size in bytes (SQLite: its pages; PostgreSQL:
    /// `pg_database_size`).
    pub async fn size_bytes(&self) -> Result<i64, CoreError> {
        let query = match self.kind() {
            StoreKind::Sqlite => {
                "SELECT CAST(p.page_count * s.page_size AS BIGINT) FROM pragma_page_count() p, pragma_page_size() s"
            }
            StoreKind::Postgres => "SELECT CAST(pg_database_size(current_database()) AS BIGINT)",
        };
        Ok(sqlx::query_scalar(query).fetch_one(&self.pool).await?)
    }

    /// The connection pool, for domain crates' queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Waits for running queries and closes every connection (on SQLite this
    /// also checkpoints the write-ahead log into the database file).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Why a writer did not get its turn.
#[derive(Debug)]
enum TurnstileError {
    /// [`STORE_BUSY_DEADLINE`] passed while others went first.
    Deadline,
    /// The queue file cannot be opened or locked.
    Io(std::io::Error),
}

/// The queue SQLite writers pass through, one at a time, just before they
/// take the write lock; it is left again as soon as the lock is held.
///
/// SQLite's own waiting is not fair: a waiting writer sleeps and looks again,
/// and a busy writer that commits and begins again at once (the telemetry
/// writer, many times a second) takes the lock back in between, so a script
/// setting a secret could wait seconds behind ingest. In the queue, the next
/// writer holds its turn while it waits for the lock, so the busy writer,
/// coming back for its next transaction, waits behind it instead. The queue
/// is an exclusive lock on `opsdeck.db-writers` beside the store (released
/// by the operating system if the process dies).
struct WriterTurnstile {
    file: std::fs::File,
}

impl WriterTurnstile {
    /// How often a waiting writer looks again; short, so the lock changes
    /// hands within about a millisecond.
    const POLL: Duration = Duration::from_millis(1);

    async fn enter(database: &std::path::Path, started: Instant) -> Result<WriterTurnstile, TurnstileError> {
        let mut path = database.as_os_str().to_owned();
        path.push("-writers");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(TurnstileError::Io)?;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(WriterTurnstile { file }),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if started.elapsed() >= STORE_BUSY_DEADLINE {
                        return Err(TurnstileError::Deadline);
                    }
                    tokio::time::sleep(Self::POLL).await;
                }
                Err(std::fs::TryLockError::Error(error)) => return Err(TurnstileError::Io(error)),
            }
        }
    }
}

impl Drop for WriterTurnstile {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first hands the
        // turn on without waiting for the close.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sslmode_of(url: &str) -> Option<String> {
        let url = with_default_sslmode(&url::Url::parse(url).unwrap());
        url.query_pairs().find(|(key, _)| key == "sslmode").map(|(_, value)| value.into_owned())
    }

    #[test]
    fn a_server_across_the_network_must_prove_its_name_unless_the_url_says_otherwise() {
        if std::env::var_os("PGSSLMODE").is_some() {
            return; // the environment decides; nothing of ours to check
        }
        assert_eq!(sslmode_of("postgres://u@db.example.com/opsdeck").as_deref(), Some("verify-full"));
        assert_eq!(sslmode_of("postgres://u@10.1.2.3:5432/opsdeck").as_deref(), Some("verify-full"));
        assert_eq!(sslmode_of("postgres://u@[2001:db8::1]/opsdeck").as_deref(), Some("verify-full"));
        // What the URL says is kept, whatever it is.
        assert_eq!(sslmode_of("postgres://u@db.example.com/o?sslmode=require").as_deref(), Some("require"));
        // A server on this machine keeps the driver's default (prefer).
        assert_eq!(sslmode_of("postgres://u@127.0.0.1/opsdeck"), None);
        assert_eq!(sslmode_of("postgres://u@localhost/opsdeck"), None);
        assert_eq!(sslmode_of("postgres://u@[::1]/opsdeck"), None);
        assert_eq!(sslmode_of("postgres://u@x/opsdeck?host=/run/postgresql"), None);
    }
}
