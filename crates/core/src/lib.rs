//! Shared foundations of OpsDeck, used by every domain crate.
//!
//! - [`data_dir`]: where a deck keeps its files, checked before anything is written.
//! - [`store`]: the database behind every area (SQLite embedded by default,
//!   PostgreSQL for a shared team store), with migrations run at open.
//! - [`tasks`]: background tasks with an ordered, loss-free shutdown.
//! - [`keys`]: the deck's own keys, in the OS keychain or under a passphrase.
//! - [`audit`]: the append-only, keyed hash-chained audit trail.
//! - [`events`]: the event bus services publish to and interfaces subscribe to.
//! - [`scheduler`]: recurring jobs with leases, retries and run history.
//! - [`http`]: the outbound HTTP client with timeouts, safe retries and circuit breakers.
//! - [`webhooks`]: signed notification deliveries to targets, with a delivery log.
//! - [`words`]: states kept as words (enum in Rust, word in the store, union in TypeScript).
//! - [`error`]: the crate's error type, with messages a user can act on.
//!
//! This crate knows nothing of vaults, certificates or telemetry, and nothing of
//! Tauri or the command line: those depend on it, never the other way round.

pub mod api_tokens;
pub mod audit;
pub mod caller;
pub mod child_process;
pub mod clock;
pub mod contention;
pub mod data_dir;
pub mod definitions;
pub mod error;
pub mod events;
pub mod filesystem;
pub mod http;
pub mod keys;
pub mod locked_key;
pub mod scheduler;
pub mod store;
pub mod tasks;
pub mod webhooks;
pub mod words;
pub mod written_files;

pub use caller::{Caller, Grant};
pub use data_dir::DataDir;
pub use error::CoreError;
pub use store::{Store, StoreContention, StoreKind, StoreLocation, WriteTransaction, STORE_BUSY_DEADLINE};
pub use tasks::BackgroundTasks;

/// The database toolkit behind [`Store`], re-exported so every crate queries the
/// store with the same version.
pub use sqlx;
