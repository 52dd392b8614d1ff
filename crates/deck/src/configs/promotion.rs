//! Comparing versions, rolling back, and promotion between environments
//! with its second-person approvals.

use opsdeck_config::{Change, ConfigVersion, LayerChange, Promotion, PromotionPreview, PromotionRequest};

use super::Configs;
use crate::{Caller, DeckError, Outcome};

impl Configs<'_> {
    /// The keys that differ between two versions of `project/env`.
    pub async fn diff(self, project: &str, env: &str, from: i64, to: i64) -> Result<Vec<Change>, DeckError> {
        Ok(self.deck.configs.diff(project, env, from, to).await?)
    }

    /// The layers whose text differs between two versions of `project/env`.
    pub async fn text_diff(
        self,
        project: &str,
        env: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<LayerChange>, DeckError> {
        Ok(self.deck.configs.text_diff(project, env, from, to).await?)
    }

    /// What promoting `from` to `to` would change, and whether the schema allows it.
    pub async fn preview_promotion(
        self,
        project: &str,
        from: &str,
        to: &str,
    ) -> Result<PromotionPreview, DeckError> {
        Ok(self.deck.configs.preview_promotion(project, from, to).await?)
    }

    /// Promotes `from`'s committed layer to `to` (refused, nothing stored,
    /// when `to` would break the schema); audited either way.
    pub async fn promote(
        self,
        caller: &Caller,
        project: &str,
        from: &str,
        to: &str,
        message: &str,
    ) -> Result<Promotion, DeckError> {
        let target = format!("{project}/{from}->{to}");
        if self.deck.configs.approval_envs(project).await?.iter().any(|env| env == to) {
            return self.request_promotion(caller, project, from, to, message).await;
        }
        match self.deck.configs.promote(project, from, to, &caller.actor, message).await {
            Ok(mut promotion) => {
                let details = serde_json::json!({
                    "from": promotion.from, "version": promotion.version.as_ref().map(|version| version.version),
                    "changes": promotion.changes.len(),
                });
                self.deck.audit(caller, "config.promote", &target, Outcome::Ok, details).await?;
                if let Some(version) = promotion.version.as_mut() {
                    self.signal_change(caller, project, to, version).await?;
                }
                Ok(promotion)
            }
            Err(error) => {
                let details = serde_json::json!({ "error": error.to_string() });
                self.deck.audit(caller, "config.promote", &target, Outcome::Failed, details).await?;
                Err(error.into())
            }
        }
    }

    /// Restores every layer of `project/env` to version `to`, as new versions.
    pub async fn rollback(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        to: i64,
    ) -> Result<Vec<ConfigVersion>, DeckError> {
        let mut written = self.deck.configs.rollback(project, env, to, &caller.actor).await?;
        let details = serde_json::json!({ "to": to, "versions": written.iter().map(|v| v.version).collect::<Vec<_>>() });
        self.deck.audit(caller, "config.rollback", &format!("{project}/{env}"), Outcome::Ok, details).await?;
        // One signal for the whole rollback, on its last version.
        if let Some(last) = written.last_mut() {
            self.signal_change(caller, project, env, last).await?;
        }
        Ok(written)
    }

    /// The environments of `project` whose promotions need a second person.
    pub async fn approval_envs(self, project: &str) -> Result<Vec<String>, DeckError> {
        Ok(self.deck.configs.approval_envs(project).await?)
    }

    /// Sets the environments of `project` whose promotions need a second person.
    pub async fn set_approval_envs(
        self,
        caller: &Caller,
        project: &str,
        envs: &[String],
    ) -> Result<(), DeckError> {
        self.require_project_admin(
            caller,
            project,
            "config.approvals",
            "changing which environments need approval",
        )
        .await?;
        self.deck.configs.set_approval_envs(project, envs).await?;
        self.deck
            .audit(caller, "config.approvals", project, Outcome::Ok, serde_json::json!({ "envs": envs }))
            .await?;
        Ok(())
    }

    /// A promotion into an environment that needs approval: checked now,
    /// kept as a request until another person decides (audited either way).
    async fn request_promotion(
        self,
        caller: &Caller,
        project: &str,
        from: &str,
        to: &str,
        message: &str,
    ) -> Result<Promotion, DeckError> {
        let target = format!("{project}/{from}->{to}");
        match self.deck.configs.request_promotion(project, from, to, &caller.actor, message).await {
            Ok((request, preview)) => {
                let details = serde_json::json!({ "request": request.id, "from": request.from, "changes": preview.changes.len() });
                self.deck.audit(caller, "config.promote_requested", &target, Outcome::Ok, details).await?;
                Ok(Promotion {
                    from: preview.from,
                    to: to.to_owned(),
                    version: None,
                    changes: preview.changes,
                    request: Some(request),
                })
            }
            Err(error) => {
                let details = serde_json::json!({ "error": error.to_string() });
                self.deck
                    .audit(caller, "config.promote_requested", &target, Outcome::Failed, details)
                    .await?;
                Err(error.into())
            }
        }
    }

    /// The promotion requests of `project`, newest first.
    pub async fn promotion_requests(self, project: &str) -> Result<Vec<PromotionRequest>, DeckError> {
        Ok(self.deck.configs.promotion_requests(project).await?)
    }

    /// Approves a pending promotion request (not the requester's own): its
    /// text is checked against the target now and stored; audited either way.
    pub async fn approve(self, caller: &Caller, id: &str) -> Result<ConfigVersion, DeckError> {
        match self.deck.configs.approve_promotion(id, &caller.actor).await {
            Ok((request, mut version)) => {
                let target = format!("{}/{}->{}", request.project, request.from, request.to);
                let details = serde_json::json!({ "request": id, "version": version.version, "requested_by": request.requested_by });
                self.deck.audit(caller, "config.promote_approved", &target, Outcome::Ok, details).await?;
                self.signal_change(caller, &request.project, &request.to, &mut version).await?;
                Ok(version)
            }
            Err(error) => {
                let details = serde_json::json!({ "request": id, "error": error.to_string() });
                self.deck.audit(caller, "config.promote_approved", id, Outcome::Failed, details).await?;
                Err(error.into())
            }
        }
    }

    /// Rejects a pending promotion request (not the requester's own).
    pub async fn reject(
        self,
        caller: &Caller,
        id: &str,
        reason: &str,
    ) -> Result<PromotionRequest, DeckError> {
        let request = self.deck.configs.reject_promotion(id, &caller.actor, reason).await?;
        let target = format!("{}/{}->{}", request.project, request.from, request.to);
        let details = serde_json::json!({ "request": id, "reason": reason });
        self.deck.audit(caller, "config.promote_rejected", &target, Outcome::Ok, details).await?;
        Ok(request)
    }
}
