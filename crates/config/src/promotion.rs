//! Comparing two versions of an environment and promoting one environment's
//! committed layer to another (dev → staging → prod): previewed first, with
//! the target's schema checked against the promoted text.

use serde::Serialize;
use ts_rs::TS;

use crate::layers::{diff, Change};
use crate::store::{check_name, merge, ConfigVersion, Configs, StoredLayer};
use crate::ConfigError;

/// What promoting one environment to another would do, before it is done.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct PromotionPreview {
    /// The environment promoted from, and its version (`staging v4`).
    pub from: String,
    /// The environment promoted to.
    pub to: String,
    /// True when `to` already has this committed text (nothing to do).
    pub unchanged: bool,
    /// The keys of `to` that would change.
    pub changes: Vec<Change>,
    /// The committed layer's text change in `to`.
    pub text: Vec<crate::LayerChange>,
    /// What `to` would break in the schema (a promotion is refused unless empty).
    pub violations: Vec<crate::Violation>,
}

/// What a promotion did (or would do, when refused).
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct Promotion {
    /// The environment promoted from, and its version.
    pub from: String,
    /// The environment promoted to.
    pub to: String,
    /// The version written in `to` (none when nothing changed).
    pub version: Option<ConfigVersion>,
    /// The keys of `to` that change.
    pub changes: Vec<Change>,
    /// When `to` needs approval: the request waiting for another person
    /// (nothing was stored in `to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub request: Option<crate::PromotionRequest>,
}

impl Configs {
    /// The keys that differ between versions `from` and `to` of `project/env`
    /// (the written layers, without variables).
    pub async fn diff(
        &self,
        project: &str,
        env: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Change>, ConfigError> {
        let before = merge(&None, &self.layers_at(project, env, Some(from)).await?, None)?;
        let after = merge(&None, &self.layers_at(project, env, Some(to)).await?, None)?;
        Ok(diff(&before.root, &after.root))
    }

    /// The layers whose text differs between versions `from` and `to`, with
    /// both texts and a unified diff.
    pub async fn text_diff(
        &self,
        project: &str,
        env: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<crate::LayerChange>, ConfigError> {
        let before = self.layers_at(project, env, Some(from)).await?;
        let after = self.layers_at(project, env, Some(to)).await?;
        Ok(crate::textdiff::layer_changes(&before, &after))
    }

    /// What promoting `from` to `to` would change and whether the schema
    /// allows it; nothing is stored.
    pub async fn preview_promotion(
        &self,
        project: &str,
        from: &str,
        to: &str,
    ) -> Result<PromotionPreview, ConfigError> {
        Ok(self.plan_promotion(project, from, to).await?.0)
    }

    /// The preview and the committed layer it would copy (so the promotion
    /// stores exactly what was previewed).
    pub(crate) async fn plan_promotion(
        &self,
        project: &str,
        from: &str,
        to: &str,
    ) -> Result<(PromotionPreview, StoredLayer), ConfigError> {
        check_name("environment", to)?;
        if from == to {
            return Err(ConfigError::Invalid(format!("cannot promote {project}/{from} to itself")));
        }
        let source = self
            .layers_at(project, from, None)
            .await?
            .into_iter()
            .find(|layer| layer.layer == "committed")
            .ok_or_else(|| {
                ConfigError::Invalid(format!("{project}/{from} has no committed layer to promote"))
            })?;
        let target_before = self.layers_at(project, to, None).await?;
        let mut target_after: Vec<StoredLayer> =
            target_before.iter().filter(|layer| layer.layer != "committed").cloned().collect();
        let promoted_source = format!("{from} v{}", source.version);
        target_after.push(StoredLayer { source: promoted_source.clone(), version: 0, ..source.clone() });
        let before = merge(&None, &target_before, None)?;
        let after = merge(&None, &target_after, None)?;
        let violations = self
            .violations_with(project, to, "committed", source.format, &source.content, &promoted_source)
            .await?;
        let preview = PromotionPreview {
            from: promoted_source,
            to: to.to_owned(),
            unchanged: target_before
                .iter()
                .any(|layer| layer.layer == "committed" && layer.content == source.content),
            changes: diff(&before.root, &after.root),
            text: crate::textdiff::layer_changes(&target_before, &target_after),
            violations,
        };
        Ok((preview, source))
    }

    /// Copies `from`'s committed layer to `to`'s committed layer (a new
    /// version), after checking `to` with it against the schema; refused,
    /// with nothing stored, when the result breaks the schema.
    pub async fn promote(
        &self,
        project: &str,
        from: &str,
        to: &str,
        author: &str,
        message: &str,
    ) -> Result<Promotion, ConfigError> {
        let (preview, source) = self.plan_promotion(project, from, to).await?;
        if preview.unchanged {
            return Ok(Promotion {
                from: preview.from,
                to: to.to_owned(),
                version: None,
                changes: preview.changes,
                request: None,
            });
        }
        let message =
            if message.is_empty() { format!("promote from {}", preview.from) } else { message.to_owned() };
        // `save` checks the schema again with `to`'s other layers and stores nothing when it fails.
        let version = self
            .save(project, to, "committed", source.format, &source.content, &preview.from, author, &message)
            .await?;
        Ok(Promotion {
            from: preview.from,
            to: to.to_owned(),
            version: Some(version),
            changes: preview.changes,
            request: None,
        })
    }
}
