//! Layers linked to files on disk. The deck watches each linked file: an
//! outside edit becomes a new version when it parses and meets the schema
//! (otherwise the problem is kept on the link and nothing is stored), and a
//! change stored through OpsDeck is written back to the file, so the two
//! never drift apart.
//!
//! Writing back never loses a person's words: it happens only while the
//! file still holds the text OpsDeck and the file last agreed on (its hash
//! is `synced_hash`). A file edited since — an edit refused by the checks,
//! or one made while no OpsDeck process ran — is left as it is and the link
//! records a **conflict** until someone chooses which text wins.

use opsdeck_core::clock::now_unix_ms;
use serde::Serialize;
use ts_rs::TS;

use crate::store::{check_name, Configs, LAYERS};
use crate::ConfigError;

/// One linked layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ConfigLink {
    /// The project.
    pub project: String,
    /// The environment.
    pub env: String,
    /// `committed` or `local`.
    pub layer: String,
    /// The file (absolute).
    pub path: String,
    /// SHA-256 of the file's text when last seen.
    pub last_hash: Option<String>,
    /// Why the last outside edit was not stored (the file does not parse,
    /// breaks the schema, or cannot be read); none when all is well.
    pub last_error: Option<String>,
    /// When the file was last looked at (Unix ms).
    #[ts(type = "number | null")]
    pub checked_at: Option<i64>,
    /// SHA-256 of the text the file and OpsDeck last agreed on (stored from
    /// the file or written to it); none when unknown.
    pub synced_hash: Option<String>,
    /// Since when a stored change waits because the file holds an edit
    /// OpsDeck has not stored (Unix ms); none when there is no conflict.
    #[ts(type = "number | null")]
    pub conflict_since: Option<i64>,
    /// The stored version that could not be written to the file.
    #[ts(type = "number | null")]
    pub conflict_version: Option<i64>,
}

type LinkRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

impl Configs {
    /// Links `layer` of `project/env` to `path` (replacing an earlier link).
    pub async fn link(
        &self,
        project: &str,
        env: &str,
        layer: &str,
        path: &str,
        hash: &str,
    ) -> Result<(), ConfigError> {
        check_name("environment", env)?;
        if !LAYERS.contains(&layer) {
            return Err(ConfigError::Invalid(format!("unknown layer {layer:?}; use committed or local")));
        }
        let (id, _, _) = self.project_row(project).await?;
        let mut transaction = self.store.begin_write().await?;
        sqlx::query("DELETE FROM config_links WHERE project_id = $1 AND env = $2 AND layer = $3")
            .bind(&id)
            .bind(env)
            .bind(layer)
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO config_links (project_id, env, layer, path, last_hash, synced_hash, checked_at_unix_ms) \
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(&id)
        .bind(env)
        .bind(layer)
        .bind(path)
        .bind(hash)
        .bind(now_unix_ms())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Removes a link; false when there was none.
    pub async fn unlink(&self, project: &str, env: &str, layer: &str) -> Result<bool, ConfigError> {
        let (id, _, _) = self.project_row(project).await?;
        let removed =
            sqlx::query("DELETE FROM config_links WHERE project_id = $1 AND env = $2 AND layer = $3")
                .bind(&id)
                .bind(env)
                .bind(layer)
                .execute(self.store.pool())
                .await?
                .rows_affected();
        Ok(removed > 0)
    }

    /// Every link, by project, environment and layer.
    pub async fn links(&self) -> Result<Vec<ConfigLink>, ConfigError> {
        self.links_matching(None).await
    }

    /// The link of one layer, if it is linked (asked after every stored change).
    pub async fn link_of(
        &self,
        project: &str,
        env: &str,
        layer: &str,
    ) -> Result<Option<ConfigLink>, ConfigError> {
        Ok(self.links_matching(Some((project, env, layer))).await?.into_iter().next())
    }

    async fn links_matching(
        &self,
        layer: Option<(&str, &str, &str)>,
    ) -> Result<Vec<ConfigLink>, ConfigError> {
        let rows: Vec<LinkRow> = sqlx::query_as(
            "SELECT p.name, l.env, l.layer, l.path, l.last_hash, l.last_error, l.checked_at_unix_ms, \
                    l.synced_hash, l.conflict_since_unix_ms, l.conflict_version \
             FROM config_links l JOIN config_projects p ON p.id = l.project_id \
             WHERE ($1 IS NULL OR p.name = $1) AND ($2 IS NULL OR l.env = $2) AND ($3 IS NULL OR l.layer = $3) \
             ORDER BY p.name, l.env, l.layer",
        )
        .bind(layer.map(|(project, _, _)| project))
        .bind(layer.map(|(_, env, _)| env))
        .bind(layer.map(|(_, _, layer)| layer))
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    project,
                    env,
                    layer,
                    path,
                    last_hash,
                    last_error,
                    checked_at,
                    synced_hash,
                    conflict_since,
                    conflict_version,
                )| ConfigLink {
                    project,
                    env,
                    layer,
                    path,
                    last_hash,
                    last_error,
                    checked_at,
                    synced_hash,
                    conflict_since,
                    conflict_version,
                },
            )
            .collect())
    }

    /// Records what the last look at a linked file found.
    pub async fn record_link(
        &self,
        link: &ConfigLink,
        hash: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), ConfigError> {
        let (id, _, _) = self.project_row(&link.project).await?;
        sqlx::query(
            "UPDATE config_links SET last_hash = COALESCE($1, last_hash), last_error = $2, checked_at_unix_ms = $3 \
             WHERE project_id = $4 AND env = $5 AND layer = $6",
        )
        .bind(hash)
        .bind(error)
        .bind(now_unix_ms())
        .bind(&id)
        .bind(&link.env)
        .bind(&link.layer)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Records that the file and OpsDeck agree on the text with `hash`
    /// (stored from the file, or written to it): any conflict is over.
    pub async fn record_link_synced(&self, link: &ConfigLink, hash: &str) -> Result<(), ConfigError> {
        let (id, _, _) = self.project_row(&link.project).await?;
        sqlx::query(
            "UPDATE config_links SET last_hash = $1, synced_hash = $1, last_error = NULL, checked_at_unix_ms = $2, \
             conflict_since_unix_ms = NULL, conflict_version = NULL \
             WHERE project_id = $3 AND env = $4 AND layer = $5",
        )
        .bind(hash)
        .bind(now_unix_ms())
        .bind(&id)
        .bind(&link.env)
        .bind(&link.layer)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Records that stored `version` was not written to the file because the
    /// file holds an edit OpsDeck has not stored (the first time is kept as
    /// the conflict's start). Returns true when the conflict is new.
    pub async fn record_link_conflict(&self, link: &ConfigLink, version: i64) -> Result<bool, ConfigError> {
        let (id, _, _) = self.project_row(&link.project).await?;
        let now = now_unix_ms();
        sqlx::query(
            "UPDATE config_links SET conflict_since_unix_ms = COALESCE(conflict_since_unix_ms, $1), \
             conflict_version = $2, checked_at_unix_ms = $1 WHERE project_id = $3 AND env = $4 AND layer = $5",
        )
        .bind(now)
        .bind(version)
        .bind(&id)
        .bind(&link.env)
        .bind(&link.layer)
        .execute(self.store.pool())
        .await?;
        Ok(link.conflict_since.is_none())
    }
}
