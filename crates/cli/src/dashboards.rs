//! `opsdeck metrics dashboards` and `opsdeck metrics dashboard …` (show,
//! export, import, history, rm), and `opsdeck metrics render`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use opsdeck::catalogue::metrics::{
    DashboardGet, DashboardHistory, DashboardImport, DashboardJson, DashboardList, DashboardName,
    DashboardOnly, DashboardRemove, ImageFormat, Render, RenderInput,
};
use opsdeck::catalogue::Nothing;
use opsdeck::{Deck, DeckError};

use crate::{input_error, operation, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum DashboardCommand {
    /// A dashboard's panels and variables (`--json`: the JSON to export).
    Show {
        /// Its name.
        name: String,
        /// A saved version (default the latest).
        #[arg(long)]
        version: Option<i64>,
    },
    /// Writes a dashboard's JSON to a file, or prints it (`-o -`).
    Export {
        /// Its name.
        name: String,
        /// Where to write it.
        #[arg(short, long, default_value = "-")]
        output: std::path::PathBuf,
        /// A saved version (default the latest).
        #[arg(long)]
        version: Option<i64>,
    },
    /// Imports a dashboard's JSON (saved as the next version of its name).
    Import {
        /// The file (`-` reads standard input).
        file: std::path::PathBuf,
    },
    /// A dashboard's saved versions, newest first.
    History {
        /// Its name.
        name: String,
    },
    /// Removes a saved dashboard and all its versions.
    Rm {
        /// Its name.
        name: String,
    },
}

/// `opsdeck metrics render`.
#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// The dashboard to draw (or give --expr).
    #[arg(required_unless_present = "expr", conflicts_with = "expr")]
    dashboard: Option<String>,
    /// One PromQL query, drawn as a time series.
    #[arg(long)]
    expr: Option<String>,
    /// Only this panel of the dashboard (0 for the first; `metrics dashboard show` lists them).
    #[arg(long, value_name = "N", conflicts_with = "expr")]
    panel: Option<u32>,
    /// The image: FILE.png or FILE.svg.
    #[arg(short, long)]
    output: std::path::PathBuf,
    /// Minutes up to now (default the dashboard's range, or 60).
    #[arg(long)]
    minutes: Option<i64>,
    /// A variable's value (repeat: --var service=shop).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    variables: Vec<String>,
    /// Width in pixels.
    #[arg(long)]
    width: Option<u32>,
    /// A dark background.
    #[arg(long)]
    dark: bool,
    /// Replace the file even if OpsDeck did not write it.
    #[arg(long)]
    force: bool,
}

pub(crate) async fn list(deck: &Deck, output: Output) -> Result<ExitCode, DeckError> {
    let dashboards = operation::<DashboardList>(deck, Nothing {}).await?;
    output.print(&dashboards, |dashboards| {
        crate::table::table(
            ["NAME", "TITLE", "PANELS", "VERSION", "SAVED BY"],
            dashboards.iter().map(|one| {
                [
                    one.name.clone(),
                    one.title.clone(),
                    one.panels.to_string(),
                    if one.generated { "generated".to_owned() } else { one.version.to_string() },
                    if one.generated { String::new() } else { one.saved_by.clone() },
                ]
            }),
        )
    });
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn run(
    deck: &Deck,
    command: DashboardCommand,
    output: Output,
) -> Result<ExitCode, DeckError> {
    match command {
        DashboardCommand::Show { name, version } => {
            let detail = operation::<DashboardGet>(deck, DashboardName { name, version }).await?;
            output.print(&detail, |detail| {
                let dashboard = &detail.dashboard;
                let mut text = format!(
                    "{} ({}{})\n{}\n",
                    dashboard.title,
                    dashboard.name,
                    if detail.generated {
                        ", generated".to_owned()
                    } else {
                        format!(", version {}", detail.version)
                    },
                    dashboard.description
                );
                for variable in &dashboard.variables {
                    text.push_str(&format!("variable ${} from label {}\n", variable.name, variable.label));
                }
                text.push_str(&crate::table::table(
                    ["PANEL", "KIND", "QUERY"],
                    dashboard
                        .panels
                        .iter()
                        .map(|panel| [panel.title.clone(), panel.kind.to_string(), panel.expr.clone()]),
                ));
                text
            });
        }
        DashboardCommand::Export { name, output: path, version } => {
            let detail =
                operation::<DashboardGet>(deck, DashboardName { name: name.clone(), version }).await?;
            let json = serde_json::to_string_pretty(&detail.dashboard).map_err(|error| {
                input_error(format!("the dashboard could not be written as JSON: {error}"))
            })?;
            if path.as_os_str() == "-" {
                println!("{json}");
            } else {
                std::fs::write(&path, format!("{json}\n")).map_err(|error| {
                    input_error(format!("{} could not be written: {error}", path.display()))
                })?;
                output.print(&serde_json::json!({ "exported": name, "path": path }), |_| {
                    format!("wrote {name} to {}\n", path.display())
                });
            }
        }
        DashboardCommand::Import { file } => {
            let text = crate::read_file_or_stdin(&file)?;
            let saved = operation::<DashboardImport>(deck, DashboardJson { text }).await?;
            output.print(&saved, |saved| format!("saved {} as version {}\n", saved.name, saved.version));
        }
        DashboardCommand::History { name } => {
            let versions = operation::<DashboardHistory>(deck, DashboardOnly { name }).await?;
            output.print(&versions, |versions| {
                crate::table::table(
                    ["VERSION", "SAVED", "BY", "TITLE", "PANELS"],
                    versions.iter().map(|version| {
                        [
                            version.version.to_string(),
                            crate::time::second(version.saved_at_unix_ms),
                            version.saved_by.clone(),
                            version.title.clone(),
                            version.panels.to_string(),
                        ]
                    }),
                )
            });
        }
        DashboardCommand::Rm { name } => {
            operation::<DashboardRemove>(deck, DashboardOnly { name: name.clone() }).await?;
            output.print(&serde_json::json!({ "removed": name }), |_| format!("removed dashboard {name}\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn render(deck: &Deck, args: RenderArgs, output: Output) -> Result<ExitCode, DeckError> {
    let format = match args.output.extension().and_then(|extension| extension.to_str()) {
        Some(extension) if extension.eq_ignore_ascii_case("png") => ImageFormat::Png,
        Some(extension) if extension.eq_ignore_ascii_case("svg") => ImageFormat::Svg,
        _ => {
            return Err(input_error(format!(
                "{} should end in .png or .svg (the format is taken from it)",
                args.output.display()
            )))
        }
    };
    let input = RenderInput {
        dashboard: args.dashboard,
        expr: args.expr,
        panel: args.panel,
        variables: args.variables.join(","),
        minutes: args.minutes,
        end_unix_ms: None,
        format,
        width: args.width,
        dark: args.dark,
    };
    let image = operation::<Render>(deck, input).await?;
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&image.data_base64)
        .map_err(|error| input_error(format!("the image came back unreadable: {error}")))?;
    deck.write_private_output(&args.output, &bytes, args.force).await?;
    let path = args.output.display().to_string();
    output.print(
        &serde_json::json!({ "path": path, "width": image.width, "height": image.height, "format": image.format }),
        |_| format!("drew {path} ({} × {} px)\n", image.width, image.height),
    );
    Ok(ExitCode::SUCCESS)
}
