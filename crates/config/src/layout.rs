//! A project as a directory: `schema.json` beside one folder per
//! environment holding its layers as `committed.EXT` and `local.EXT` — what
//! `opsdeck config export` writes and `opsdeck config import DIR` reads.
//! Reading checks everything (names, syntax, each environment against the
//! directory's schema) before the caller stores anything.

use std::path::{Path, PathBuf};

use crate::layers::{effective, Layer};
use crate::parse::{parse, Format};
use crate::schema::Schema;
use crate::store::{check_name, LAYERS};
use crate::ConfigError;

/// The schema's file name in a project directory.
pub const SCHEMA_FILE: &str = "schema.json";

/// Where a layer's file goes in a project directory (`DIR/ENV/LAYER.EXT`).
pub fn layer_path(dir: &Path, env: &str, layer: &str, format: Format) -> PathBuf {
    dir.join(env).join(format!("{layer}.{format}"))
}

/// One layer file of a project directory, read and parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerFile {
    /// The environment (its folder's name).
    pub env: String,
    /// The layer (`committed` or `local`).
    pub layer: String,
    /// The format (its extension).
    pub format: Format,
    /// The text as written.
    pub text: String,
    /// The file, for messages and provenance.
    pub shown: String,
}

/// A project directory as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDir {
    /// `schema.json`'s text, when there is one.
    pub schema: Option<String>,
    /// Every layer file, environments in name order.
    pub layers: Vec<LayerFile>,
}

/// Reads a config file's text (a config file must be UTF-8).
pub fn read_text(file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|error| {
        ConfigError::Invalid(format!(
            "cannot read {}: {error} (a config file must be UTF-8 text)",
            file.display()
        ))
    })
}

/// Reads `dir` as a project directory: every file read and parsed, and each
/// environment checked against the directory's schema. `project` names the
/// project in messages.
pub fn read_project_dir(dir: &Path, project: &str) -> Result<ProjectDir, ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|error| {
        ConfigError::Invalid(format!("cannot read the directory {}: {error}", dir.display()))
    })?;
    let schema_path = dir.join(SCHEMA_FILE);
    let schema_text = schema_path.is_file().then(|| read_text(&schema_path)).transpose()?;
    let schema = schema_text.as_deref().map(Schema::parse).transpose()?;
    let mut layers: Vec<LayerFile> = Vec::new();
    let mut env_dirs: Vec<PathBuf> =
        entries.filter_map(Result::ok).map(|entry| entry.path()).filter(|path| path.is_dir()).collect();
    env_dirs.sort();
    for env_dir in env_dirs {
        let env = env_dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        check_name("environment", &env)?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&env_dir)
            .map_err(|error| ConfigError::Invalid(format!("cannot read {}: {error}", env_dir.display())))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        for path in files {
            let layer = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
            if !LAYERS.contains(&layer.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "{}: a project directory holds ENV/committed.EXT and ENV/local.EXT only (as `opsdeck config \
                     export` writes them)",
                    path.display()
                )));
            }
            let shown = path.display().to_string();
            let format = Format::from_path(&shown)?;
            let text = read_text(&path)?;
            parse(&text, format, &shown)?;
            if layers.iter().any(|file| file.env == env && file.layer == layer) {
                return Err(ConfigError::Invalid(format!(
                    "{}: two files give the {layer} layer of {env}; keep one",
                    path.display()
                )));
            }
            layers.push(LayerFile { env: env.clone(), layer, format, text, shown });
        }
    }
    if layers.is_empty() && schema_text.is_none() {
        return Err(ConfigError::Invalid(format!(
            "{} holds no {SCHEMA_FILE} and no ENV/committed.* or ENV/local.* files",
            dir.display()
        )));
    }
    // Each environment as the directory describes it, against the directory's schema.
    if let Some(schema) = &schema {
        let mut envs: Vec<&str> = layers.iter().map(|file| file.env.as_str()).collect();
        envs.dedup();
        for env in envs {
            let mut stack = vec![Layer {
                name: "defaults".to_owned(),
                source: "schema defaults".to_owned(),
                root: schema.defaults(),
            }];
            for file in layers.iter().filter(|file| file.env == env) {
                let root = parse(&file.text, file.format, &file.shown)?;
                stack.push(Layer { name: file.layer.clone(), source: file.shown.clone(), root });
            }
            let violations = schema.check(&effective(&stack));
            if !violations.is_empty() {
                return Err(ConfigError::SchemaViolations {
                    what: format!("{project}/{env} in {}", dir.display()),
                    violations,
                });
            }
        }
    }
    Ok(ProjectDir { schema: schema_text, layers })
}

/// Writes one file of a project directory (its folder made first); returns
/// the path written.
pub fn write_project_file(path: &Path, text: &str) -> Result<String, ConfigError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| ConfigError::Invalid(format!("cannot create {}: {error}", parent.display())))?;
    }
    std::fs::write(path, text)
        .map_err(|error| ConfigError::Invalid(format!("cannot write {}: {error}", path.display())))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_directory_reads_back_and_a_stray_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_project_file(&dir.path().join(SCHEMA_FILE), r#"{"type":"object"}"#).unwrap();
        write_project_file(&layer_path(dir.path(), "dev", "committed", Format::Yaml), "a: 1\n").unwrap();
        write_project_file(&layer_path(dir.path(), "prod", "local", Format::Toml), "a = 2\n").unwrap();
        let read = read_project_dir(dir.path(), "shop").unwrap();
        assert_eq!(read.schema.as_deref(), Some(r#"{"type":"object"}"#));
        let found: Vec<(&str, &str, Format)> =
            read.layers.iter().map(|file| (file.env.as_str(), file.layer.as_str(), file.format)).collect();
        assert_eq!(found, [("dev", "committed", Format::Yaml), ("prod", "local", Format::Toml)]);

        write_project_file(&dir.path().join("dev").join("notes.txt"), "hello").unwrap();
        let error = read_project_dir(dir.path(), "shop").unwrap_err().to_string();
        assert!(
            error.contains("notes.txt") && error.contains("ENV/committed.EXT and ENV/local.EXT only (as"),
            "{error}"
        );
    }
}
