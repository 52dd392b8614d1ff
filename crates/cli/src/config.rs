//! `opsdeck config …`: config projects, their layers, history and checks.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::{Deck, DeckError};

use opsdeck::catalogue::config_changes::{
    CompareInput, ConfigApprove, ConfigCompare, ConfigPreviewPromotion, ConfigPromote, ConfigReject,
    ConfigRequests, ConfigRollback, ConfigRollbackInput, OneProject, OneRequest, PromoteInput,
    PromotionInput, RejectInput,
};
use opsdeck::catalogue::config_editor::{
    ConfigLinks, ConfigResolveLink, ConfigUnlink, OneLayer, ResolveInput,
};
use opsdeck::catalogue::configs::{ConfigHistory, ConfigProjects, ConfigValidate, ProjectEnv};
use opsdeck::catalogue::Nothing;

use super::{operation, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// List a project's admins.
    List {
        /// The project.
        project: String,
    },
    /// Make a user an admin of a project (admins only).
    Add {
        /// The project.
        project: String,
        /// The user (their OS user name).
        user: String,
    },
    /// Take a user's admin role away (admins only; never the last admin's).
    Rm {
        /// The project.
        project: String,
        /// The user.
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// List config projects and their environments.
    List,
    /// Set a project's JSON Schema (refused if an environment breaks it).
    Schema {
        /// The project (made if missing).
        project: String,
        /// The schema file (JSON).
        file: PathBuf,
    },
    /// Store a YAML, TOML or JSON file as an environment's layer (a new version).
    Import {
        /// The project (made if missing).
        project: String,
        /// The environment (dev, staging, prod, …).
        env: String,
        /// The file (.yaml, .yml, .toml or .json).
        file: PathBuf,
        /// The layer it becomes.
        #[arg(long, default_value = "committed", value_parser = ["committed", "local"])]
        layer: String,
        /// Why (kept in the history).
        #[arg(short, long, default_value = "")]
        message: String,
    },
    /// Import a whole project from a directory as `config export` writes it
    /// (schema.json, ENV/committed.EXT, ENV/local.EXT). Everything is checked
    /// before anything is stored; unchanged layers are passed over.
    ImportDir {
        /// The project (made if missing).
        project: String,
        /// The directory.
        dir: PathBuf,
        /// Why (kept in the history).
        #[arg(short, long, default_value = "")]
        message: String,
    },
    /// Show or set what to signal after each change to an environment: a
    /// command (told OPSDECK_CONFIG_PROJECT, _ENV, _VERSION, _HASH) and/or a
    /// signed `config.changed` webhook to one target.
    Reload {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// The command to run (`systemctl reload shop`).
        #[arg(long)]
        command: Option<String>,
        /// The webhook target to notify (`opsdeck notify add` makes one).
        #[arg(long)]
        webhook: Option<String>,
        /// Signal nothing any more.
        #[arg(long, conflicts_with_all = ["command", "webhook"])]
        clear: bool,
    },
    /// Show or set the environments whose promotions need a second person's
    /// approval (a promotion there becomes a request).
    Approvals {
        /// The project.
        project: String,
        /// The environments, comma-separated (e.g. prod).
        #[arg(long, value_delimiter = ',')]
        envs: Option<Vec<String>>,
        /// No environment needs approval any more.
        #[arg(long, conflicts_with = "envs")]
        none: bool,
    },
    /// The promotion requests of a project, newest first.
    Requests {
        /// The project.
        project: String,
    },
    /// Approve someone else's promotion request: checked against the target
    /// now, then stored.
    Approve {
        /// The request id (pr_…).
        id: String,
    },
    /// Reject someone else's promotion request.
    Reject {
        /// The request id (pr_…).
        id: String,
        /// Why.
        #[arg(short, long, default_value = "")]
        message: String,
    },
    /// Link a layer to a file on disk: its text is stored now (checked like
    /// any save); while the app or `opsdeck serve` runs, edits to the file
    /// become versions and stored changes are written back to it.
    Link {
        /// The project (made if missing).
        project: String,
        /// The environment.
        env: String,
        /// The file (.yaml, .yml, .toml or .json).
        file: PathBuf,
        /// The layer it is.
        #[arg(long, default_value = "committed", value_parser = ["committed", "local"])]
        layer: String,
    },
    /// Stop following a layer's file (its versions stay).
    Unlink {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// The layer.
        #[arg(long, default_value = "committed", value_parser = ["committed", "local"])]
        layer: String,
    },
    /// Every linked layer, with the last problem an edit on disk had and
    /// any open conflict; exit 1 while a conflict is open.
    Links,
    /// Look at every linked file now (the app and `opsdeck serve` do this
    /// every 2 s); exit 1 when an edit was refused or a conflict is open.
    Sync,
    /// The admins of a project: only they set its reload hooks, linked files
    /// and approval rules.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// End a conflict between a linked file and its stored layer: take the
    /// file's text as a new version, or write the stored version over the
    /// file (the file is first copied to FILE.opsdeck-conflict-TIME).
    Resolve {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// The layer.
        #[arg(long, default_value = "committed", value_parser = ["committed", "local"])]
        layer: String,
        /// Store the file's text as a new version (after the usual checks).
        #[arg(long, conflicts_with = "keep_stored", required_unless_present = "keep_stored")]
        take_file: bool,
        /// Write the stored version over the file, keeping a copy of the file beside it.
        #[arg(long)]
        keep_stored: bool,
    },
    /// Set one key in an environment's committed layer (a new version).
    Set {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// The dotted key (db.pool.size).
        key: String,
        /// The value: typed as YAML would (20, true, text), or JSON for lists and maps.
        value: String,
        /// Why (kept in the history).
        #[arg(short, long, default_value = "")]
        message: String,
    },
    /// One key's effective value and the layer that set it.
    Get {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// The dotted key (db.pool.size).
        key: String,
    },
    /// Every key (or one, or those under a prefix) with the layer, source and
    /// line that set it, and the values it overrode.
    Explain {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// A dotted key or prefix.
        key: Option<String>,
    },
    /// Check the effective config against the project's schema; exit 1 when it fails.
    Validate {
        /// The project.
        project: String,
        /// The environment.
        env: String,
    },
    /// The versions of an environment, newest first.
    History {
        /// The project.
        project: String,
        /// The environment.
        env: String,
    },
    /// Write the effective config with secret references resolved (to stdout, or -o FILE written 0600).
    Render {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// yaml, toml, json or env.
        #[arg(long, default_value = "yaml", value_parser = ["yaml", "toml", "json", "env"])]
        format: String,
        /// Write to this file (mode 0600) instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Replace the file even when OpsDeck did not write it, or it changed since.
        #[arg(long, requires = "output")]
        force: bool,
    },
    /// Write the whole project into a directory: schema.json and ENV/committed.*, ENV/local.* as stored.
    Export {
        /// The project.
        project: String,
        /// The directory (made if missing).
        dir: PathBuf,
    },
    /// The keys that differ between two versions of an environment.
    Diff {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// The earlier version.
        v1: i64,
        /// The later version.
        v2: i64,
        /// Also show each changed layer's text as a unified diff (with `--json`:
        /// `{"changes": [...], "text": [...]}`).
        #[arg(long)]
        text: bool,
    },
    /// Copy one environment's committed layer to another, after checking the
    /// result against the schema (refused, nothing stored, when it fails).
    Promote {
        /// The project.
        project: String,
        /// From (e.g. staging).
        from: String,
        /// To (e.g. prod).
        to: String,
        /// Why (kept in the history).
        #[arg(short, long, default_value = "")]
        message: String,
        /// Only show what would change and whether the schema allows it
        /// (exit 1 when it does not); store nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Make an environment's layers what they were at a version (as new versions).
    Rollback {
        /// The project.
        project: String,
        /// The environment.
        env: String,
        /// The version to go back to.
        #[arg(long)]
        to: i64,
    },
}

/// Tells the user on stderr what the reload hook did after a change (the
/// JSON answer carries it as `reload`). A failed signal does not undo the
/// change, so the command still succeeds.
fn report_reload(version: &opsdeck::ConfigVersion) {
    if let Some(reload) = &version.reload {
        match &reload.error {
            None => eprintln!("reload: {}", reload.done.join("; ")),
            Some(error) => eprintln!(
                "warning: the change is stored, but signalling the service failed: {error}{}",
                if reload.done.is_empty() {
                    String::new()
                } else {
                    format!(" (done: {})", reload.done.join("; "))
                }
            ),
        }
    }
}

fn changes_text(changes: &[opsdeck::ConfigChange], when_none: &str) -> String {
    if changes.is_empty() {
        return when_none.to_owned();
    }
    changes.iter().fold(String::new(), |mut text, change| {
        let _ = match change.kind.as_str() {
            "added" => writeln!(text, "+ {} = {}", change.key, change.after),
            "removed" => writeln!(text, "- {} = {}", change.key, change.before),
            _ => writeln!(text, "~ {}: {} -> {}", change.key, change.before, change.after),
        };
        text
    })
}

pub(crate) async fn run(deck: &Deck, command: ConfigCommand, output: Output) -> Result<ExitCode, DeckError> {
    let caller = super::cli_caller()?;
    match command {
        ConfigCommand::List => {
            let projects = operation::<ConfigProjects>(deck, Nothing {}).await?;
            output.print(&projects, |projects| {
                if projects.is_empty() {
                    return "No config projects yet. `opsdeck config import PROJECT ENV FILE` makes one.\n"
                        .to_owned();
                }
                projects.iter().fold(String::new(), |mut text, project| {
                    let _ = writeln!(
                        text,
                        "{:<20} envs: {}  (variables {}_*{})",
                        project.name,
                        if project.envs.is_empty() { "—".to_owned() } else { project.envs.join(", ") },
                        project.env_prefix,
                        if project.has_schema { ", schema" } else { "" }
                    );
                    text
                })
            });
        }
        ConfigCommand::Schema { project, file } => {
            deck.configs().set_schema(&caller, &project, &file).await?;
            output.print(&serde_json::json!({ "project": project, "schema": file }), |_| {
                format!("schema of {project} set from {}\n", file.display())
            });
        }
        ConfigCommand::Import { project, env, file, layer, message } => {
            let version = deck.configs().import(&caller, &project, &env, &file, &layer, &message).await?;
            output.print(&version, |version| {
                format!(
                    "{project}/{env} {layer} is version {} ({})\n",
                    version.version,
                    &version.content_hash[..12]
                )
            });
            report_reload(&version);
        }
        ConfigCommand::ImportDir { project, dir, message } => {
            let written = deck.configs().import_dir(&caller, &project, &dir, &message).await?;
            let shown: Vec<serde_json::Value> = written
                .iter()
                .map(|(env, version)| serde_json::json!({ "env": env, "version": version }))
                .collect();
            output.print(&shown, |_| {
                if written.is_empty() {
                    return format!("{project} already matches {}\n", dir.display());
                }
                written.iter().fold(String::new(), |mut text, (env, version)| {
                    let _ =
                        writeln!(text, "{project}/{env} {} is version {}", version.layer, version.version);
                    text
                })
            });
            written.iter().for_each(|(_, version)| report_reload(version));
        }
        ConfigCommand::Reload { project, env, command, webhook, clear } => {
            if clear || command.is_some() || webhook.is_some() {
                let hook = opsdeck_config::ReloadHook { command, webhook };
                deck.configs().set_reload_hook(&caller, &project, &env, &hook).await?;
            }
            let hook = deck.configs().reload_hook(&project, &env).await?;
            output.print(&hook, |hook| {
                if hook.is_empty() {
                    return format!("{project}/{env} signals nothing after a change\n");
                }
                let mut text = format!("after each change to {project}/{env}:\n");
                if let Some(command) = &hook.command {
                    let _ = writeln!(text, "  run {command}");
                }
                if let Some(webhook) = &hook.webhook {
                    let _ = writeln!(text, "  send config.changed to {webhook}");
                }
                text
            });
        }
        ConfigCommand::Approvals { project, envs, none } => {
            if none || envs.is_some() {
                let envs: Vec<String> = envs
                    .unwrap_or_default()
                    .into_iter()
                    .map(|env| env.trim().to_owned())
                    .filter(|env| !env.is_empty())
                    .collect();
                deck.configs().set_approval_envs(&caller, &project, &envs).await?;
            }
            let envs = deck.configs().approval_envs(&project).await?;
            output.print(&envs, |envs| {
                if envs.is_empty() {
                    format!("{project}: promotions need no approval\n")
                } else {
                    format!("{project}: promotions to {} need another person's approval\n", envs.join(", "))
                }
            });
        }
        ConfigCommand::Requests { project } => {
            let requests = operation::<ConfigRequests>(deck, OneProject { project: project.clone() }).await?;
            output.print(&requests, |requests| {
                if requests.is_empty() {
                    return format!("{project} has no promotion requests\n");
                }
                requests.iter().fold(String::new(), |mut text, request| {
                    let decided = match (&request.decided_by, request.status.as_str()) {
                        (Some(by), "approved") => {
                            format!(" by {by} as {}", request.reason.as_deref().unwrap_or(""))
                        }
                        (Some(by), _) => format!(
                            " by {by}{}",
                            request
                                .reason
                                .as_deref()
                                .filter(|reason| !reason.is_empty())
                                .map(|reason| format!(": {reason}"))
                                .unwrap_or_default()
                        ),
                        _ => String::new(),
                    };
                    let _ = writeln!(
                        text,
                        "{}  {} -> {}  {}{}  asked by {}: {}",
                        request.id,
                        request.from,
                        request.to,
                        request.status,
                        decided,
                        request.requested_by,
                        request.message
                    );
                    text
                })
            });
        }
        ConfigCommand::Approve { id } => {
            let version = operation::<ConfigApprove>(deck, OneRequest { id: id.clone() }).await?;
            output.print(&version, |version| format!("approved {id}: version {}\n", version.version));
            report_reload(&version);
        }
        ConfigCommand::Reject { id, message } => {
            let request =
                operation::<ConfigReject>(deck, RejectInput { id: id.clone(), reason: message }).await?;
            output.print(&request, |request| {
                format!("rejected {id}: {}/{} stays as it is\n", request.project, request.to)
            });
        }
        ConfigCommand::Link { project, env, file, layer } => {
            let (link, version) = deck.configs().link(&caller, &project, &env, &layer, &file).await?;
            let shown = serde_json::json!({ "link": link, "version": version });
            output.print(&shown, |_| match &version {
                Some(version) => {
                    format!(
                        "{project}/{env} {layer} follows {} (stored as version {})\n",
                        link.path, version.version
                    )
                }
                None => format!("{project}/{env} {layer} follows {} (already stored)\n", link.path),
            });
            if let Some(version) = &version {
                report_reload(version);
            }
        }
        ConfigCommand::Unlink { project, env, layer } => {
            let layer_named = OneLayer { project: project.clone(), env: env.clone(), layer: layer.clone() };
            if !operation::<ConfigUnlink>(deck, layer_named).await?.unlinked {
                return Err(opsdeck_config::ConfigError::Invalid(format!(
                    "{project}/{env} {layer} is not linked to a file; `opsdeck config links` lists the links"
                ))
                .into());
            }
            output.print(&serde_json::json!({ "unlinked": true }), |_| {
                format!("{project}/{env} {layer} no longer follows its file\n")
            });
        }
        ConfigCommand::Links => {
            let links = operation::<ConfigLinks>(deck, Nothing {}).await?;
            output.print(&links, |links| {
                if links.is_empty() {
                    return "no layer is linked to a file; `opsdeck config link PROJECT ENV FILE` links one\n".to_owned();
                }
                links.iter().fold(String::new(), |mut text, link| {
                    let _ = writeln!(text, "{}/{} {}  {}", link.project, link.env, link.layer, link.path);
                    if let Some(error) = &link.last_error {
                        let _ = writeln!(text, "  last edit not stored: {error}");
                    }
                    if let Some(since) = link.conflict_since {
                        let _ = writeln!(
                            text,
                            "  conflict since {}: the file holds an edit OpsDeck has not stored; stored version {} waits.\n  \
                             `opsdeck config resolve {} {} --layer {} --take-file` stores the file's text, `--keep-stored` writes the stored version (the file is copied beside it first)",
                            crate::time::minute(since),
                            link.conflict_version.map_or_else(|| "?".to_owned(), |version| version.to_string()),
                            link.project,
                            link.env,
                            link.layer
                        );
                    }
                    text
                })
            });
            if links.iter().any(|link| link.conflict_since.is_some()) {
                return Ok(ExitCode::from(1));
            }
        }
        ConfigCommand::Admin(AdminCommand::List { project }) => {
            let admins = deck.configs().admins(&project).await?;
            output.print(&admins, |admins| {
                if admins.is_empty() {
                    return format!(
                        "Project `{project}` has no admin yet: the first person to set its reload hook, a linked file \
                         or its approval rules becomes one (or run `opsdeck config admin add {project} USER`).\n"
                    );
                }
                admins.iter().fold(String::new(), |mut text, admin| {
                    let _ = writeln!(text, "{:<24} added by {}", admin.member, admin.added_by);
                    text
                })
            });
        }
        ConfigCommand::Admin(AdminCommand::Add { project, user }) => {
            deck.configs().admin_add(&caller, &project, &user).await?;
            output.print(&serde_json::json!({ "project": project, "admin": user }), |_| {
                format!("{user} is now an admin of config project `{project}`\n")
            });
        }
        ConfigCommand::Admin(AdminCommand::Rm { project, user }) => {
            deck.configs().admin_remove(&caller, &project, &user).await?;
            output.print(&serde_json::json!({ "project": project, "removed": user }), |_| {
                format!("{user} is no longer an admin of config project `{project}`\n")
            });
        }
        ConfigCommand::Resolve { project, env, layer, take_file, keep_stored: _ } => {
            let resolution = if take_file {
                opsdeck::LinkResolution::TakeFile
            } else {
                opsdeck::LinkResolution::KeepStored
            };
            let input =
                ResolveInput { project: project.clone(), env: env.clone(), layer: layer.clone(), resolution };
            let resolved = operation::<ConfigResolveLink>(deck, input).await?;
            output.print(&resolved, |resolved| match (&resolved.version, &resolved.copy) {
                (Some(version), _) => format!(
                    "{project}/{env} {layer}: stored {} as version {}; the conflict is over\n",
                    resolved.link.path, version.version
                ),
                (None, Some(copy)) => format!(
                    "{project}/{env} {layer}: wrote the stored version to {} (its text is kept in {copy}); the conflict is over\n",
                    resolved.link.path
                ),
                (None, None) => format!(
                    "{project}/{env} {layer}: wrote the stored version to {}; the conflict is over\n",
                    resolved.link.path
                ),
            });
            if let Some(version) = &resolved.version {
                report_reload(version);
            }
        }
        ConfigCommand::Sync => {
            let results = deck.configs().sync_links(&caller).await?;
            output.print(&results, |results| {
                results.iter().fold(String::new(), |mut text, result| {
                    let what = format!("{}/{} {}", result.link.project, result.link.env, result.link.layer);
                    let _ = match (&result.version, &result.error) {
                        (Some(version), _) => writeln!(text, "{what}: stored version {version}"),
                        (_, Some(error)) if result.outcome == opsdeck::SyncOutcome::Conflict => {
                            writeln!(text, "{what}: conflict: {error}")
                        }
                        (_, Some(error)) => writeln!(text, "{what}: not stored: {error}"),
                        _ => writeln!(text, "{what}: unchanged"),
                    };
                    text
                })
            });
            if results.iter().any(|result| result.error.is_some()) {
                return Ok(ExitCode::from(1));
            }
        }
        ConfigCommand::Set { project, env, key, value, message } => {
            let (version, kept) = deck.configs().set(&caller, &project, &env, &key, &value, &message).await?;
            if !kept {
                eprintln!(
                    "note: the file was written anew (comments and key order are not kept for this format)"
                );
            }
            output.print(&version, |version| {
                format!("{project}/{env} {key} set: version {}\n", version.version)
            });
            report_reload(&version);
        }
        ConfigCommand::Get { project, env, key } => {
            let explained = deck.configs().explain(&project, &env, Some(&key)).await?;
            let exact = explained.iter().find(|entry| entry.key == key);
            let document = match exact {
                Some(entry) => serde_json::json!({ "key": key, "value": entry.value, "layer": entry.layer }),
                None => {
                    // A map: its keys below, from whichever layers set them.
                    let mut map = serde_json::Map::new();
                    for entry in &explained {
                        map.insert(entry.key[key.len() + 1..].to_owned(), entry.value.clone());
                    }
                    serde_json::json!({ "key": key, "value": map, "layer": "mixed" })
                }
            };
            output.print(&document, |document| match &document["value"] {
                serde_json::Value::String(text) => format!("{text}\n"),
                other => format!("{other}\n"),
            });
        }
        ConfigCommand::Explain { project, env, key } => {
            let explained = deck.configs().explain(&project, &env, key.as_deref()).await?;
            output.print(&explained, |explained| {
                explained.iter().fold(String::new(), |mut text, entry| {
                    let at = entry.line.map(|line| format!(":{line}")).unwrap_or_default();
                    let _ = write!(
                        text,
                        "{} = {}  [{} · {}{at}]",
                        entry.key, entry.value, entry.layer, entry.source
                    );
                    if !entry.overridden.is_empty() {
                        let earlier: Vec<String> = entry
                            .overridden
                            .iter()
                            .map(|(layer, value)| format!("{layer} {value}"))
                            .collect();
                        let _ = write!(text, "  overrides {}", earlier.join(", "));
                    }
                    text.push('\n');
                    text
                })
            });
        }
        ConfigCommand::Validate { project, env } => {
            let report =
                operation::<ConfigValidate>(deck, ProjectEnv { project: project.clone(), env: env.clone() })
                    .await?;
            output.print(&report, |report| {
                if !report.has_schema {
                    return format!(
                        "{project} has no schema; set one with `opsdeck config schema {project} FILE`\n"
                    );
                }
                if report.ok {
                    return format!("{project}/{env} meets the schema\n");
                }
                report.violations.iter().fold(String::new(), |mut text, violation| {
                    let _ = writeln!(text, "{violation}");
                    text
                })
            });
            if !report.ok {
                return Ok(ExitCode::from(1));
            }
        }
        ConfigCommand::History { project, env } => {
            let versions =
                operation::<ConfigHistory>(deck, ProjectEnv { project: project.clone(), env: env.clone() })
                    .await?;
            output.print(&versions, |versions| {
                versions.iter().fold(String::new(), |mut text, version| {
                    let _ = writeln!(
                        text,
                        "v{:<4} {}  {:<9} {}  {}  {}",
                        version.version,
                        crate::time::minute(version.created_at),
                        version.layer,
                        &version.content_hash[..12],
                        version.author,
                        version.message
                    );
                    text
                })
            });
        }
        ConfigCommand::Render { project, env, format, output: file, force } => {
            let text = deck.configs().render(&caller, &project, &env, &format).await?;
            match file {
                Some(path) => deck.write_private_output(&path, text.as_bytes(), force).await?,
                None => print!("{}", text.as_str()),
            }
        }
        ConfigCommand::Export { project, dir } => {
            let files = deck.configs().export(&project, &dir).await?;
            output.print(&files, |files| {
                files.iter().fold(format!("exported {project}:\n"), |mut text, file| {
                    let _ = writeln!(text, "  {file}");
                    text
                })
            });
        }
        ConfigCommand::Diff { project, env, v1, v2, text: false } => {
            let changes = deck.configs().diff(&project, &env, v1, v2).await?;
            output
                .print(&changes, |changes| changes_text(changes, &format!("v{v1} and v{v2} are the same\n")));
        }
        ConfigCommand::Diff { project, env, v1, v2, text: true } => {
            let input = CompareInput { project: project.clone(), env: env.clone(), from: v1, to: v2 };
            let both = operation::<ConfigCompare>(deck, input).await?;
            output.print(&both, |both| {
                let mut text = changes_text(&both.changes, "");
                for layer in &both.text {
                    text.push_str(&layer.unified);
                }
                if text.is_empty() {
                    text = format!("v{v1} and v{v2} are the same\n");
                }
                text
            });
        }
        ConfigCommand::Promote { project, from, to, dry_run: true, .. } => {
            let input = PromotionInput { project: project.clone(), from, to: to.clone() };
            let preview = operation::<ConfigPreviewPromotion>(deck, input).await?;
            output.print(&preview, |preview| {
                if preview.unchanged {
                    return format!("{project}/{to} already has {}'s committed layer\n", preview.from);
                }
                let mut text = changes_text(&preview.changes, "");
                for layer in &preview.text {
                    text.push_str(&layer.unified);
                }
                if preview.violations.is_empty() {
                    let _ =
                        writeln!(text, "{project}/{to} would meet the schema; nothing was stored (dry run)");
                } else {
                    let _ = writeln!(
                        text,
                        "{project}/{to} would break the schema; a promotion would be refused:"
                    );
                    for violation in &preview.violations {
                        let _ = writeln!(text, "  {violation}");
                    }
                }
                text
            });
            if !preview.violations.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        ConfigCommand::Promote { project, from, to, message, dry_run: false } => {
            let input = PromoteInput { project: project.clone(), from, to: to.clone(), message };
            let promotion = operation::<ConfigPromote>(deck, input).await?;
            output.print(&promotion, |promotion| {
                let mut text = changes_text(&promotion.changes, "");
                if let Some(request) = &promotion.request {
                    let _ = writeln!(
                        text,
                        "{project}/{to} needs another person's approval: request {} waits \
                         (`opsdeck config approve {}`); nothing was stored yet",
                        request.id, request.id
                    );
                    return text;
                }
                match &promotion.version {
                    Some(version) => {
                        let _ = writeln!(
                            text,
                            "{project}/{to} is now {} as version {}",
                            promotion.from, version.version
                        );
                    }
                    None => {
                        let _ =
                            writeln!(text, "{project}/{to} already has {}'s committed layer", promotion.from);
                    }
                }
                text
            });
            if let Some(version) = &promotion.version {
                report_reload(version);
            }
        }
        ConfigCommand::Rollback { project, env, to } => {
            let input = ConfigRollbackInput { project: project.clone(), env: env.clone(), to };
            let written = operation::<ConfigRollback>(deck, input).await?;
            output.print(&written, |written| {
                if written.is_empty() {
                    return format!("{project}/{env} is already as it was at version {to}\n");
                }
                let versions: Vec<String> =
                    written.iter().map(|version| format!("v{}", version.version)).collect();
                format!("{project}/{env} restored to version {to} as {}\n", versions.join(", "))
            });
            written.iter().for_each(report_reload);
        }
    }
    Ok(ExitCode::SUCCESS)
}
