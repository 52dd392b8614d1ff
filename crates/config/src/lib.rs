//! OpsDeck configs: reading YAML, TOML and JSON into one tree that remembers
//! where each value came from (file and line), and merging layers —
//! defaults < committed file < local override < environment variables — into
//! the effective config with, for every key, the layer that set it and the
//! values it overrode.
//!
//! JSON Schema checks name the key and the layer, file and line that set a
//! bad value; environment strings take the types the schema names.
//!
//! [`store`] keeps each environment's layers as versions (history and
//! byte-identical rollback), diffs them key by key and as text
//! ([`textdiff`]), promotes one environment's committed layer to the next,
//! and checks drafts as a save would (the editor's lint). [`render`] writes
//! the effective config out; [`edit`] changes one key keeping the layout.

mod error;

pub mod admins;
pub mod approval;
pub mod edit;
pub mod env;
pub mod layers;
pub mod layout;
pub mod links;
pub mod parse;
pub mod promotion;
pub mod reload;
pub mod render;
pub mod schema;
pub mod store;
pub mod textdiff;
pub mod tree;

pub use admins::ProjectAdmin;
pub use approval::{PromotionRequest, PromotionStatus};
pub use error::ConfigError;
pub use layers::{diff, effective, Change, Effective, Layer, Provenance};
pub use links::ConfigLink;
pub use parse::{parse, Format};
pub use promotion::{Promotion, PromotionPreview};
pub use reload::{ReloadHook, ReloadOutcome};
pub use render::{env_pairs, render, RenderFormat};
pub use schema::{Schema, Violation};
pub use store::{migrator, ConfigVersion, Configs, DraftCheck, ProjectInfo, SyntaxProblem};
pub use textdiff::LayerChange;
pub use tree::{Node, Value};
