//! `opsdeck call OPERATION [FIELD=VALUE…]`: any operation of the catalogue
//! from the shell, with no command written for it — the same input the HTTP
//! API, MCP and the app take, and its answer as JSON.

use std::process::ExitCode;

use clap::Args;
use opsdeck::catalogue::{catalogue, Effect, Entry};
use opsdeck::{Deck, DeckError};
use serde::Serialize;

use super::{input_error, Output};

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The operation's name (`secret.list`); omit it with --list.
    operation: Option<String>,
    /// Its input fields as NAME=VALUE (`vault=prod limit=5`).
    fields: Vec<String>,
    /// Its whole input as one JSON object instead of fields.
    #[arg(long, conflicts_with = "fields")]
    input: Option<String>,
    /// List the operations: name, what they do, the role they need.
    #[arg(long, conflicts_with_all = ["operation", "input"])]
    list: bool,
}

/// One operation as `--list --json` shows it.
#[derive(Serialize)]
struct Listed {
    name: &'static str,
    summary: &'static str,
    effect: Effect,
    role: String,
    input_schema: serde_json::Value,
}

pub(crate) async fn run(deck: &Deck, args: CallArgs, output: Output) -> Result<ExitCode, DeckError> {
    let entries = catalogue();
    if args.list {
        let listed: Vec<Listed> = entries.iter().map(listed).collect();
        output.print(&listed, |listed| {
            crate::table::table(
                ["OPERATION", "ROLE", "WHAT IT DOES"],
                listed
                    .iter()
                    .map(|entry| [entry.name.to_owned(), entry.role.clone(), entry.summary.to_owned()]),
            )
        });
        return Ok(ExitCode::SUCCESS);
    }
    let Some(name) = args.operation else {
        return Err(input_error(
            "name an operation (`opsdeck call secret.list vault=prod`); `opsdeck call --list` shows them"
                .into(),
        ));
    };
    let Some(entry) = entries.iter().find(|entry| entry.name == name) else {
        return Err(input_error(format!("there is no operation `{name}`: `opsdeck call --list` shows them")));
    };
    let caller = super::cli_caller()?;
    let answer = match args.input {
        Some(json) => {
            let input: serde_json::Value = serde_json::from_str(&json)
                .map_err(|error| input_error(format!("--input is not JSON: {error}")))?;
            (entry.call)(deck, &caller, input).await?
        }
        None => {
            let mut fields = Vec::new();
            for field in args.fields {
                match field.split_once('=') {
                    Some((key, value)) if !key.is_empty() => fields.push((key.to_owned(), value.to_owned())),
                    _ => {
                        return Err(input_error(format!(
                            "`{field}` is not NAME=VALUE: write each input field as name=value (or use --input JSON)"
                        )))
                    }
                }
            }
            (entry.call_with_fields)(deck, &caller, fields).await?
        }
    };
    // The answer is already JSON; people get it pretty-printed too.
    output.print(&answer, |answer| {
        format!("{}\n", serde_json::to_string_pretty(answer).unwrap_or_else(|_| answer.to_string()))
    });
    Ok(ExitCode::SUCCESS)
}

fn listed(entry: &Entry) -> Listed {
    Listed {
        name: entry.name,
        summary: entry.summary,
        effect: entry.effect,
        role: entry.role.as_str().to_owned(),
        input_schema: entry.input_schema_inline(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use opsdeck::mcp::{tool_name, McpServer};
    use opsdeck::Caller;

    use super::*;

    /// The input fields of an operation as the HTTP API's OpenAPI document
    /// gives them (path, query and body).
    fn http_fields(document: &serde_json::Value, entry: &Entry) -> BTreeSet<String> {
        let operation = &document["paths"][entry.path][entry.method.as_str()];
        assert!(operation.is_object(), "{}: no route {} in the OpenAPI document", entry.name, entry.path);
        let mut fields: BTreeSet<String> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|parameter| parameter["name"].as_str().map(str::to_owned))
            .collect();
        if let Some(reference) =
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
        {
            let name = reference.rsplit('/').next().unwrap_or_default();
            if let Some(properties) = document["components"]["schemas"][name]["properties"].as_object() {
                fields.extend(properties.keys().cloned());
            }
        }
        fields
    }

    /// The app's generated command names (src-tauri, `make bindings`).
    fn app_commands() -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../src-tauri/src/commands/operation_names.in");
        let text = std::fs::read_to_string(path).expect("the app's generated command list");
        text.lines()
            .filter_map(|line| line.trim().strip_prefix('"').and_then(|line| line.strip_suffix("\",")))
            .map(str::to_owned)
            .collect()
    }

    /// Every operation reaches every front end, with the same input fields:
    /// the CLI's `call` (by name), the HTTP API (its route), MCP (a tool) and
    /// the app (a generated command).
    #[tokio::test]
    async fn every_operation_reaches_each_front_end_with_the_same_input_fields() {
        let dir = tempfile::tempdir().unwrap();
        let options = opsdeck::DeckOptions {
            data_dir: Some(dir.path().to_path_buf()),
            keys: opsdeck::KeyAccess {
                passphrase: Some(zeroize::Zeroizing::new("front ends unit test passphrase".into())),
                no_keychain: true,
                key_dir: None,
            },
            ..opsdeck::DeckOptions::default()
        };
        let deck = Arc::new(Deck::open(options).await.unwrap());
        let caller = Caller::new("mcp:test");
        let tools = McpServer::new(deck.clone(), caller.clone(), true).tools(&caller, true);
        let document = opsdeck::http_api::openapi_document();
        let app = app_commands();
        let entries = catalogue();
        for entry in &entries {
            let cli = listed(entry);
            let cli_fields: BTreeSet<String> = cli.input_schema["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            assert_eq!(cli_fields, entry.input_fields(), "{}: the CLI lists other fields", entry.name);
            assert_eq!(http_fields(&document, entry), cli_fields, "{}: HTTP and the CLI differ", entry.name);
            let tool = tools.iter().find(|tool| tool.name == tool_name(entry.name));
            let tool = tool.unwrap_or_else(|| panic!("{} is not an MCP tool", entry.name));
            let tool_fields: BTreeSet<String> = tool
                .input_schema
                .get("properties")
                .and_then(|properties| properties.as_object())
                .map(|properties| properties.keys().cloned().collect())
                .unwrap_or_default();
            assert_eq!(tool_fields, cli_fields, "{}: MCP and the CLI differ", entry.name);
            let command = entry.name.replace('.', "_");
            assert!(
                app.contains(&command),
                "{}: the app has no command {command} (run `make bindings`)",
                entry.name
            );
        }
        assert_eq!(tools.len(), entries.len());
        assert_eq!(
            app.len(),
            entries.len(),
            "the app has commands for operations no longer in the catalogue"
        );
        deck.shutdown().await;
    }
}
