//! The catalogue of operations: every user-visible operation as one value in
//! one place — its name, its input and output types (with JSON Schema), the
//! role it needs and on what, what it does beyond reading, its HTTP route,
//! and `run`. Front ends (the app's generated commands, the local HTTP API,
//! MCP and `opsdeck call`) read the catalogue instead of hand-writing an
//! adapter per operation.
//!
//! Adding an operation: write a type implementing [`Operation`] in its
//! area's file (`vaults.rs`, `audit.rs`, …) and list it in [`catalogue`].
//! The HTTP route, the OpenAPI entry and the role gate follow.
//!
//! The deck's own methods still check roles and audit; the catalogue's
//! `role` and `effect` are what front ends show and gate on before calling
//! (a viewer token never reaches an operation that needs an operator).

// Each area keeps its operations in its own folder; the catalogue names
// them by area.
pub use crate::alerts::operations as alerts;
pub use crate::audit::operations as audit;
pub use crate::certs::change_operations as cert_changes;
pub use crate::certs::operations as certs;
pub use crate::configs::change_operations as config_changes;
pub use crate::configs::editor_operations as config_editor;
pub use crate::configs::operations as configs;
pub use crate::jobs::operations as jobs;
pub use crate::metrics::operations as metrics;
pub use crate::notify::operations as notify;
pub use crate::status::operations as status;
pub use crate::telemetry::operations as telemetry;
pub use crate::tokens::operations as tokens;
pub use crate::vaults::member_operations as vault_access;
pub use crate::vaults::operations as vaults;
pub use crate::vaults::secret_operations as secret_changes;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use opsdeck_core::CoreError;
use opsdeck_vault::Role;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::Serialize;
use ts_rs::{TypeVisitor, TS};

use crate::{Caller, Deck, DeckError};

/// What an operation does beyond reading: for confirmation in the app, for
/// MCP's hints, for gating tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Reads metadata only.
    Read,
    /// Changes stored data (audited).
    Change,
    /// Reveals a secret value (audited; needs a token's reveal grant).
    Reveal,
}

/// The HTTP method of an operation's route: reads are GET, changes POST,
/// PUT or DELETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Reads.
    Get,
    /// Actions and creations.
    Post,
    /// Writing a resource at its own path (a secret's new version).
    Put,
    /// Removals.
    Delete,
}

impl Method {
    /// The method's name as OpenAPI writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Delete => "delete",
        }
    }
}

/// One operation, written once.
pub trait Operation: Send + Sync + 'static {
    /// What it takes. Path parameters of its route are fields of it.
    type Input: DeserializeOwned + JsonSchema + TS + Send + 'static;
    /// What it returns.
    type Output: Serialize + JsonSchema + TS + Send + 'static;
    /// Its name, `area.verb` (`secret.list`).
    const NAME: &'static str;
    /// One sentence for people and models choosing an operation.
    const SUMMARY: &'static str;
    /// What it does beyond reading.
    const EFFECT: Effect;
    /// The least role it needs on its vault (or, for deck-wide operations,
    /// on every vault the caller reaches).
    const ROLE: Role;
    /// Its HTTP method.
    const METHOD: Method;
    /// Its HTTP route under the API's root, with `{field}` path parameters.
    const PATH: &'static str;
    /// Input fields (dotted paths) that hold a shell command this machine
    /// will run or a file path it will write: the app asks before sending
    /// them, MCP and the OpenAPI document say so.
    const MACHINE_INPUTS: &'static [&'static str] = &[];

    /// Does it.
    fn run<'a>(
        deck: &'a Deck,
        caller: &'a Caller,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, DeckError>> + Send + 'a;
}

/// A running operation as the JSON front ends see it.
pub type Call<'a> = Pin<Box<dyn Future<Output = Result<serde_json::Value, DeckError>> + Send + 'a>>;

/// An operation with its types erased to JSON, for front ends that route by
/// name (HTTP, MCP).
#[derive(Clone, Copy)]
pub struct Entry {
    /// [`Operation::NAME`].
    pub name: &'static str,
    /// [`Operation::SUMMARY`].
    pub summary: &'static str,
    /// [`Operation::EFFECT`].
    pub effect: Effect,
    /// [`Operation::ROLE`].
    pub role: Role,
    /// [`Operation::METHOD`].
    pub method: Method,
    /// [`Operation::PATH`].
    pub path: &'static str,
    /// [`Operation::MACHINE_INPUTS`].
    pub machine_inputs: &'static [&'static str],
    /// The input's JSON Schema.
    pub input_schema: fn(&mut SchemaGenerator) -> Schema,
    /// The output's JSON Schema.
    pub output_schema: fn(&mut SchemaGenerator) -> Schema,
    /// The operation's Rust type (`opsdeck::catalogue::vaults::SecretList`),
    /// for front ends generated as code (the app's commands).
    pub rust_type: &'static str,
    /// The input's and output's TypeScript type names.
    pub typescript: fn(&ts_rs::Config) -> (String, String),
    /// Adds the TypeScript files of the input, the output and every type
    /// they use to a map of file name → text.
    pub typescript_files: fn(&ts_rs::Config, &mut BTreeMap<String, String>),
    /// Runs it on a JSON input; a malformed input is `invalid_input`.
    pub call: for<'a> fn(&'a Deck, &'a Caller, serde_json::Value) -> Call<'a>,
    /// Runs it on named text fields (an HTTP GET's path and query
    /// parameters: `limit=5` fills a number field).
    pub call_with_fields: for<'a> fn(&'a Deck, &'a Caller, Vec<(String, String)>) -> Call<'a>,
}

/// Why a caller may not use an operation at all, before the deck's own
/// checks (each front end words it for its users).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The caller's token has a lesser role than the operation needs.
    Role,
    /// The operation reveals a value, and the caller may not.
    Reveal,
}

impl Entry {
    /// Whether `caller` may use this operation at all: a token needs the
    /// operation's role, and a revealing operation needs `may_reveal`.
    pub fn refusal(&self, caller: &Caller, may_reveal: bool) -> Option<Refusal> {
        if let Some(grant) = &caller.grant {
            if Role::parse(&grant.role).map_or(true, |role| role < self.role) {
                return Some(Refusal::Role);
            }
        }
        (self.effect == Effect::Reveal && !may_reveal).then_some(Refusal::Reveal)
    }
}

impl Entry {
    /// The input's JSON Schema as one self-contained object (no `$ref`s),
    /// as MCP tools and `opsdeck call --list` show it.
    pub fn input_schema_inline(&self) -> serde_json::Value {
        let mut settings = schemars::generate::SchemaSettings::draft2020_12();
        settings.inline_subschemas = true;
        settings.meta_schema = None;
        let mut generator = settings.into_generator();
        let mut schema = serde_json::to_value((self.input_schema)(&mut generator)).unwrap_or_default();
        if let Some(object) = schema.as_object_mut() {
            object.insert("type".to_owned(), serde_json::json!("object"));
        }
        schema
    }

    /// The names of the input's fields.
    pub fn input_fields(&self) -> std::collections::BTreeSet<String> {
        self.input_schema_inline()["properties"]
            .as_object()
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Entry")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Runs `O` on an input already decoded, and encodes its answer as JSON.
async fn run_encoded<O: Operation>(
    deck: &Deck,
    caller: &Caller,
    input: O::Input,
) -> Result<serde_json::Value, DeckError> {
    let output = O::run(deck, caller, input).await?;
    serde_json::to_value(output).map_err(|error| {
        CoreError::InvalidInput(format!("`{}` gave an answer that is not JSON: {error}", O::NAME)).into()
    })
}

fn call_erased<'a, O: Operation>(deck: &'a Deck, caller: &'a Caller, input: serde_json::Value) -> Call<'a> {
    Box::pin(async move {
        let input: O::Input = serde_json::from_value(input).map_err(|error| {
            CoreError::InvalidInput(format!("the input of `{}` does not fit its schema: {error}", O::NAME))
        })?;
        run_encoded::<O>(deck, caller, input).await
    })
}

fn call_with_fields<'a, O: Operation>(
    deck: &'a Deck,
    caller: &'a Caller,
    fields: Vec<(String, String)>,
) -> Call<'a> {
    Box::pin(async move {
        let encoded = serde_urlencoded::to_string(&fields)
            .map_err(|error| CoreError::InvalidInput(format!("unreadable parameters: {error}")))?;
        let input: O::Input = serde_urlencoded::from_str(&encoded).map_err(|error| {
            CoreError::InvalidInput(format!("the parameters of `{}` do not fit its schema: {error}", O::NAME))
        })?;
        run_encoded::<O>(deck, caller, input).await
    })
}

/// The erased entry of one operation.
pub fn entry<O: Operation>() -> Entry {
    Entry {
        name: O::NAME,
        summary: O::SUMMARY,
        effect: O::EFFECT,
        role: O::ROLE,
        method: O::METHOD,
        path: O::PATH,
        machine_inputs: O::MACHINE_INPUTS,
        input_schema: |generator| generator.subschema_for::<O::Input>(),
        output_schema: |generator| generator.subschema_for::<O::Output>(),
        rust_type: std::any::type_name::<O>(),
        typescript: |config| (O::Input::name(config), O::Output::name(config)),
        typescript_files: |config, files| {
            let mut exporter = TypeScriptFiles { config, files };
            exporter.visit::<O::Input>();
            exporter.visit::<O::Output>();
        },
        call: call_erased::<O>,
        call_with_fields: call_with_fields::<O>,
    }
}

/// Collects the TypeScript file of each exportable type it visits and of
/// the types those use; wrappers (`Vec<T>`, `Option<T>`) are looked through.
struct TypeScriptFiles<'a> {
    config: &'a ts_rs::Config,
    files: &'a mut BTreeMap<String, String>,
}

impl TypeVisitor for TypeScriptFiles<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        match T::output_path() {
            Some(path) => {
                let file = path.to_string_lossy().into_owned();
                if self.files.contains_key(&file) {
                    return;
                }
                let text = T::export_to_string(self.config)
                    .unwrap_or_else(|error| panic!("ts-rs could not generate {file}: {error}"));
                self.files.insert(file, text);
                T::visit_dependencies(self);
            }
            None => {
                T::visit_dependencies(self);
                T::visit_generics(self);
            }
        }
    }
}

/// Every operation in the catalogue.
pub fn catalogue() -> Vec<Entry> {
    // Each area lists its own operations (`catalogue_entries` in its mod.rs).
    [
        crate::vaults::catalogue_entries(),
        crate::audit::catalogue_entries(),
        crate::tokens::catalogue_entries(),
        crate::jobs::catalogue_entries(),
        crate::status::catalogue_entries(),
        crate::notify::catalogue_entries(),
        crate::certs::catalogue_entries(),
        crate::configs::catalogue_entries(),
        crate::telemetry::catalogue_entries(),
        crate::metrics::catalogue_entries(),
        crate::alerts::catalogue_entries(),
        crate::scan::catalogue_entries(),
    ]
    .concat()
}

/// An input with no fields.
#[derive(Debug, Clone, Default, serde::Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct Nothing {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_routes_are_unique_and_path_parameters_are_input_fields() {
        let entries = catalogue();
        let mut names = std::collections::HashSet::new();
        let mut routes = std::collections::HashSet::new();
        for entry in &entries {
            assert!(names.insert(entry.name), "{} twice", entry.name);
            assert!(routes.insert((entry.method, entry.path)), "{:?} {} twice", entry.method, entry.path);
            assert!(entry.path.starts_with("/v1/"), "{}", entry.path);
            // Reads are GET, except a read whose input is a whole document
            // (a config draft can be megabytes: too much for a query string)
            // or a list (the paths a scan reads).
            let read_with_a_body = matches!(entry.name, "config.check_draft" | "scan.run");
            assert_eq!(
                entry.method == Method::Get,
                entry.effect == Effect::Read && !read_with_a_body,
                "{}: reads are GET",
                entry.name
            );
            let resolved = entry.input_schema_inline();
            for field in entry.machine_inputs {
                let mut schema = resolved.clone();
                for part in field.split('.') {
                    schema = schema["properties"][part].clone();
                    assert!(!schema.is_null(), "{}: machine input {field} is not an input field", entry.name);
                }
            }
            for part in entry.path.split('/').filter(|part| part.starts_with('{')) {
                let field = part.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    resolved["properties"].get(field).is_some(),
                    "{}: path parameter {field} is not an input field ({resolved})",
                    entry.name
                );
            }
        }
    }
}
