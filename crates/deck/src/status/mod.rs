//! `status`: what a deck is running on (the Overview page and `opsdeck status`).

pub mod operations;

use serde::Serialize;
use ts_rs::TS;

use crate::{Deck, DeckError};

/// The deck's data dir, store and schema, as shown on the Overview page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct DeckStatus {
    /// Absolute path of the data dir.
    pub data_dir: String,
    /// `sqlite` or `postgres`.
    #[ts(type = "\"sqlite\" | \"postgres\"")]
    pub store: String,
    /// Where the store lives: the SQLite file, or the PostgreSQL URL without its password.
    pub store_location: String,
    /// The highest schema migration applied to the store.
    #[ts(type = "number")]
    pub schema_version: i64,
    /// When the store was created, in milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub store_created_at_unix_ms: i64,
    /// The version of OpsDeck answering.
    pub opsdeck_version: String,
    /// The local HTTP API this process serves (`http://127.0.0.1:7878`);
    /// none when it serves none.
    pub api: Option<String>,
}

impl Deck {
    /// Reports the data dir, the store and its schema version.
    pub async fn status(&self) -> Result<DeckStatus, DeckError> {
        Ok(DeckStatus {
            data_dir: self.data_dir().path().display().to_string(),
            store: self.store().kind().to_string(),
            store_location: self.store().location().display(),
            schema_version: self.store().schema_version().await?,
            store_created_at_unix_ms: self.store().created_at_unix_ms().await?,
            opsdeck_version: env!("CARGO_PKG_VERSION").to_owned(),
            api: self.api_address().map(|address| format!("http://{address}")),
        })
    }
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![entry::<operations::Status>()]
}
