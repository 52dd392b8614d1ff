//! Helpers for OpsDeck's black-box and end-to-end tests.
//!
//! Every server a test needs is a real one started here (PostgreSQL from
//! Debian's packages, the built app under Xvfb), tied to the test process so
//! that nothing is left running when the test binary exits, even when it is
//! killed.

pub mod binaries;
pub mod bind;
pub mod deck_api;
pub mod http_server;
pub mod keychain;
pub mod pebble;
pub mod postgres;
pub mod process;
pub mod prometheus;
pub mod testpki;
pub mod webdriver;

pub use binaries::{opsdeck_binary, opsdeck_command, workspace_root};
pub use postgres::PostgresServer;
