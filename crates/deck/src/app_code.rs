//! The desktop app's side of the catalogue, generated as code: a Tauri
//! command for every operation (`src-tauri/src/commands/operations.rs`), its
//! name in `build.rs`'s command list, its permission in a capability file,
//! and a typed function in the UI (`ui/src/lib/operations.ts`).
//!
//! Adding an operation to the catalogue and running `make bindings` is all
//! the app needs; a test fails while any generated file is stale. The files
//! are committed so a reader (and the Tauri build) sees plain code. The
//! generator lives here, not in the app, so it runs even while the app's
//! generated code is stale and does not compile.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::catalogue::{catalogue, Effect, Entry};

/// The Tauri command of an operation: its name with `_` for `.`.
pub fn command_name(entry: &Entry) -> String {
    entry.name.replace('.', "_")
}

/// The UI's function name of an operation: its name in camel case.
fn function_name(entry: &Entry) -> String {
    let mut name = String::new();
    let mut upper = false;
    for character in entry.name.chars() {
        if character == '.' || character == '_' {
            upper = true;
        } else if upper {
            name.extend(character.to_uppercase());
            upper = false;
        } else {
            name.push(character);
        }
    }
    name
}

const HEADER: &str = "Generated from the catalogue of operations by `make bindings`; do not edit.";

/// Every generated file, as (path relative to the repository, text).
pub fn generate() -> Vec<(PathBuf, String)> {
    let entries = catalogue();
    vec![
        (PathBuf::from("src-tauri/src/commands/operations.rs"), rust_commands(&entries)),
        (PathBuf::from("src-tauri/src/commands/operation_names.in"), command_list(&entries)),
        (PathBuf::from("src-tauri/capabilities/operations.json"), capability(&entries)),
        (PathBuf::from("ui/src/lib/operations.ts"), typescript(&entries)),
    ]
}

/// TypeScript files of every operation's input and output types, for the
/// bindings directory.
pub fn typescript_types() -> BTreeMap<String, String> {
    let config = ts_rs::Config::new();
    let mut files = BTreeMap::new();
    for entry in catalogue() {
        (entry.typescript_files)(&config, &mut files);
    }
    files
}

fn rust_commands(entries: &[Entry]) -> String {
    let mut text = format!(
        "// {HEADER}\n\n\
         //! One Tauri command per catalogue operation, each running the\n\
         //! operation as the app's user.\n\n\
         use opsdeck::catalogue::Operation;\n\
         use tauri::State;\n\n\
         use super::run_operation;\n\
         use crate::{{AppState, CommandError}};\n\n\
         /// The names of these commands.\n\
         pub const NAMES: &[&str] = &include!(\"operation_names.in\");\n\n\
         /// The invoke handler for these commands.\n\
         pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {{\n\
         \x20   tauri::generate_handler![\n"
    );
    for entry in entries {
        text.push_str(&format!("        {},\n", command_name(entry)));
    }
    text.push_str("    ]\n}\n");
    for entry in entries {
        let operation = entry.rust_type;
        text.push_str(&format!(
            "\n/// `{name}`: {summary}\n\
             #[tauri::command]\n\
             pub async fn {command}(\n\
             \x20   state: State<'_, AppState>,\n\
             \x20   input: <{operation} as Operation>::Input,\n\
             ) -> Result<<{operation} as Operation>::Output, CommandError> {{\n\
             \x20   run_operation::<{operation}>(&state, input).await\n\
             }}\n",
            name = entry.name,
            summary = entry.summary,
            command = command_name(entry),
        ));
    }
    text
}

fn command_list(entries: &[Entry]) -> String {
    let mut text = format!("// {HEADER}\n[\n");
    for entry in entries {
        text.push_str(&format!("    \"{}\",\n", command_name(entry)));
    }
    text.push_str("]\n");
    text
}

fn capability(entries: &[Entry]) -> String {
    let permissions: Vec<String> =
        entries.iter().map(|entry| format!("allow-{}", command_name(entry).replace('_', "-"))).collect();
    let capability = serde_json::json!({
        "$schema": "../gen/schemas/desktop-schema.json",
        "identifier": "operations",
        "description": format!("The catalogue's operations, callable by the main window. {HEADER}"),
        "windows": ["main"],
        "permissions": permissions,
    });
    let mut text = serde_json::to_string_pretty(&capability).expect("a capability is JSON");
    text.push('\n');
    text
}

fn typescript(entries: &[Entry]) -> String {
    let config = ts_rs::Config::new();
    let known = typescript_types();
    let mut imports = std::collections::BTreeSet::new();
    let mut functions = String::new();
    for entry in entries {
        let (input, output) = (entry.typescript)(&config);
        for word in format!("{input} {output}").split(|c: char| !c.is_alphanumeric() && c != '_') {
            if known.contains_key(&format!("{word}.ts")) {
                imports.insert(word.to_owned());
            }
        }
        let marks = match entry.effect {
            Effect::Read => "",
            Effect::Change => " Changes stored data (audited).",
            Effect::Reveal => " Reveals a secret value (audited).",
        };
        functions.push_str(&format!("  /** `{}`: {}{marks} */\n", entry.name, entry.summary));
        let command = command_name(entry);
        let function = function_name(entry);
        if input == "Nothing" {
            functions
                .push_str(&format!("  {function}: () => call<{output}>('{command}', {{ input: {{}} }}),\n"));
        } else {
            functions.push_str(&format!(
                "  {function}: (input: {input}) => call<{output}>('{command}', {{ input }}),\n"
            ));
        }
    }
    let mut text = format!("// {HEADER}\n\nimport {{ call }} from './ipc';\n");
    for name in &imports {
        text.push_str(&format!("import type {{ {name} }} from './bindings/{name}';\n"));
    }
    text.push_str(&format!(
        "\n/** A typed function for each operation of the catalogue. */\nexport const operations = {{\n{functions}}};\n"
    ));
    text.push_str(
        "\n/** Input fields (dotted paths) holding a command this machine runs or a file it writes, by command. */\n\
         export const machineInputs: Record<string, readonly string[]> = {\n",
    );
    for entry in entries.iter().filter(|entry| !entry.machine_inputs.is_empty()) {
        let fields: Vec<String> = entry.machine_inputs.iter().map(|field| format!("'{field}'")).collect();
        text.push_str(&format!("  {}: [{}],\n", command_name(entry), fields.join(", ")));
    }
    text.push_str("};\n");
    text
}

/// The repository's root.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_app_commands_match_the_catalogue() {
        let root = repository();
        let update = std::env::var_os("UPDATE_BINDINGS").is_some();
        let mut stale = Vec::new();
        for (path, text) in generate() {
            let path = root.join(path);
            if update {
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(path);
            }
        }
        assert!(
            stale.is_empty(),
            "stale generated files {stale:?}: run `make bindings` and commit the result"
        );
    }

    #[test]
    fn every_operation_has_a_command_a_permission_and_a_function() {
        let files: BTreeMap<PathBuf, String> = generate().into_iter().collect();
        let rust = &files[Path::new("src-tauri/src/commands/operations.rs")];
        let capability = &files[Path::new("src-tauri/capabilities/operations.json")];
        let typescript = &files[Path::new("ui/src/lib/operations.ts")];
        for entry in catalogue() {
            let command = command_name(&entry);
            assert!(rust.contains(&format!("pub async fn {command}(")), "{command}");
            assert!(capability.contains(&format!("\"allow-{}\"", command.replace('_', "-"))), "{command}");
            assert!(typescript.contains(&format!("('{command}', ")), "{command}");
        }
        assert_eq!(function_name(&catalogue()[0]), "vaultList");
    }
}
