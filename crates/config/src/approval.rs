//! The approval step: environments (prod, typically) whose promotions need a
//! second person. Promoting to one makes a request holding the exact text
//! that was checked; another person approves it (it is checked again against
//! the target as it is then, and stored) or rejects it. The requester cannot
//! approve their own request.
//!
//! People are compared by user name, whatever interface they use (`cli:ana`
//! and `app:ana` are the same person). On a shared store each person runs
//! OpsDeck as their own OS user; this is a review step, not a lock against
//! someone who can already write to the store.

use opsdeck_core::clock::now_unix_ms;
use serde::Serialize;
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::promotion::PromotionPreview;
use crate::store::{check_name, ConfigVersion, Configs};
use crate::{ConfigError, Format};

opsdeck_core::word_enum! {
    /// Where a promotion request stands.
    "promotion status" pub enum PromotionStatus {
        /// Waiting for a second person.
        Pending = "pending",
        /// Approved and written.
        Approved = "approved",
        /// Refused, with a reason.
        Rejected = "rejected",
    }
}

/// A promotion waiting for (or past) its approval.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct PromotionRequest {
    /// Its id (`pr_…`).
    pub id: String,
    /// The project.
    pub project: String,
    /// Promoted from, with its version (`staging v4`).
    pub from: String,
    /// The environment promoted to.
    pub to: String,
    /// SHA-256 of the text that would be promoted.
    pub content_hash: String,
    /// Who asked.
    pub requested_by: String,
    /// Why.
    pub message: String,
    /// Where it stands.
    pub status: PromotionStatus,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// Why it was rejected, or the version an approval wrote (`v7`).
    pub reason: Option<String>,
    /// When it was asked (Unix ms).
    #[ts(type = "number")]
    pub created_at: i64,
    /// When it was decided (Unix ms).
    #[ts(type = "number | null")]
    pub decided_at: Option<i64>,
}

type RequestRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

const REQUEST_COLUMNS: &str = "r.id, p.name, r.source, r.to_env, r.content_hash, r.requested_by, r.message, \
     r.status, r.decided_by, r.reason, r.created_at_unix_ms, r.decided_at_unix_ms";

fn request_of(row: RequestRow) -> Result<PromotionRequest, ConfigError> {
    let (
        id,
        project,
        from,
        to,
        content_hash,
        requested_by,
        message,
        status,
        decided_by,
        reason,
        created,
        decided,
    ) = row;
    Ok(PromotionRequest {
        id,
        project,
        from,
        to,
        content_hash,
        requested_by,
        message,
        status: status.parse()?,
        decided_by,
        reason,
        created_at: created,
        decided_at: decided,
    })
}

/// The environments of a stored comma-separated list (`prod,staging`).
pub(crate) fn env_list(text: &str) -> Vec<String> {
    text.split(',').filter(|env| !env.is_empty()).map(str::to_owned).collect()
}

/// The person behind an actor (`cli:ana` → `ana`).
pub fn person(actor: &str) -> &str {
    actor.split_once(':').map_or(actor, |(_, user)| user)
}

impl Configs {
    /// The environments of `project` whose promotions need approval.
    pub async fn approval_envs(&self, project: &str) -> Result<Vec<String>, ConfigError> {
        let (id, _, _) = self.project_row(project).await?;
        let text: String = sqlx::query_scalar("SELECT approval_envs FROM config_projects WHERE id = $1")
            .bind(&id)
            .fetch_one(self.store.pool())
            .await?;
        Ok(env_list(&text))
    }

    /// Sets the environments of `project` whose promotions need approval (none: empty).
    pub async fn set_approval_envs(&self, project: &str, envs: &[String]) -> Result<(), ConfigError> {
        for env in envs {
            check_name("environment", env)?;
        }
        let (id, _, _) = self.project_row(project).await?;
        sqlx::query("UPDATE config_projects SET approval_envs = $1 WHERE id = $2")
            .bind(envs.join(","))
            .bind(&id)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Asks for `from` to be promoted to `to`: checked now like a promotion
    /// (refused, nothing kept, when it would break the schema), then kept
    /// with its exact text until another person decides.
    pub async fn request_promotion(
        &self,
        project: &str,
        from: &str,
        to: &str,
        author: &str,
        message: &str,
    ) -> Result<(PromotionRequest, PromotionPreview), ConfigError> {
        let (preview, source) = self.plan_promotion(project, from, to).await?;
        if preview.unchanged {
            return Err(ConfigError::Invalid(format!(
                "{project}/{to} already has {}'s committed layer; there is nothing to approve",
                preview.from
            )));
        }
        if !preview.violations.is_empty() {
            return Err(ConfigError::SchemaViolations {
                what: format!("{project}/{to} with {}", preview.from),
                violations: preview.violations,
            });
        }
        let (project_id, _, _) = self.project_row(project).await?;
        let hash = hex::encode(Sha256::digest(source.content.as_bytes()));
        // Asking twice for the same text gives the request already waiting.
        let waiting: Option<String> = sqlx::query_scalar(
            "SELECT id FROM config_promotion_requests WHERE project_id = $1 AND to_env = $2 \
             AND content_hash = $3 AND status = 'pending'",
        )
        .bind(&project_id)
        .bind(to)
        .bind(&hash)
        .fetch_optional(self.store.pool())
        .await?;
        if let Some(id) = waiting {
            return Ok((self.promotion_request(&id).await?, preview));
        }
        let mut random = [0u8; 8];
        getrandom::fill(&mut random)
            .map_err(|error| ConfigError::Core(opsdeck_core::CoreError::Random(error.to_string())))?;
        let id = format!("pr_{}", hex::encode(random));
        let message =
            if message.is_empty() { format!("promote from {}", preview.from) } else { message.to_owned() };
        sqlx::query(
            "INSERT INTO config_promotion_requests (id, project_id, from_env, to_env, source, format, content, \
             content_hash, requested_by, message, status, created_at_unix_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11)",
        )
        .bind(&id)
        .bind(&project_id)
        .bind(from)
        .bind(to)
        .bind(&preview.from)
        .bind(source.format.as_str())
        .bind(&source.content)
        .bind(&hash)
        .bind(author)
        .bind(&message)
        .bind(now_unix_ms())
        .execute(self.store.pool())
        .await?;
        Ok((self.promotion_request(&id).await?, preview))
    }

    /// One request.
    pub async fn promotion_request(&self, id: &str) -> Result<PromotionRequest, ConfigError> {
        let row: Option<RequestRow> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM config_promotion_requests r \
             JOIN config_projects p ON p.id = r.project_id WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        row.map(request_of).ok_or_else(|| ConfigError::UnknownRequest { id: id.to_owned() })?
    }

    /// The requests of `project`, newest first (the latest 100).
    pub async fn promotion_requests(&self, project: &str) -> Result<Vec<PromotionRequest>, ConfigError> {
        let (project_id, _, _) = self.project_row(project).await?;
        let rows: Vec<RequestRow> = sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM config_promotion_requests r \
             JOIN config_projects p ON p.id = r.project_id WHERE r.project_id = $1 \
             ORDER BY r.created_at_unix_ms DESC, r.id LIMIT 100"
        ))
        .bind(&project_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter().map(request_of).collect()
    }

    async fn pending(&self, id: &str, decider: &str) -> Result<PromotionRequest, ConfigError> {
        let request = self.promotion_request(id).await?;
        if request.status != PromotionStatus::Pending {
            return Err(ConfigError::Approval(format!(
                "request {id} was already {} by {}",
                request.status,
                request.decided_by.as_deref().unwrap_or("someone")
            )));
        }
        if person(decider) == person(&request.requested_by) {
            return Err(ConfigError::Approval(format!(
                "you asked for this promotion ({}); another person must approve or reject it",
                request.requested_by
            )));
        }
        Ok(request)
    }

    /// Approves a pending request: its text is checked against the target as
    /// it is now and stored as the target's committed layer. Refused when the
    /// approver asked for it, or the result would break the schema (the
    /// request stays pending).
    pub async fn approve_promotion(
        &self,
        id: &str,
        approver: &str,
    ) -> Result<(PromotionRequest, ConfigVersion), ConfigError> {
        let request = self.pending(id, approver).await?;
        let (format, content): (String, String) =
            sqlx::query_as("SELECT format, content FROM config_promotion_requests WHERE id = $1")
                .bind(id)
                .fetch_one(self.store.pool())
                .await?;
        let format = Format::from_path(&format!("request.{format}"))?;
        let message = format!("{} (approved by {approver})", request.message);
        // Claim the request first, so two approvers at once cannot both store it.
        self.decide(id, PromotionStatus::Approved, approver, "").await?;
        let saved = self
            .save(
                &request.project,
                &request.to,
                "committed",
                format,
                &content,
                &request.from,
                &request.requested_by,
                &message,
            )
            .await;
        let version = match saved {
            Ok(version) => version,
            Err(error) => {
                // Nothing was stored: the request waits again (fix the target, approve again, or reject).
                sqlx::query(
                    "UPDATE config_promotion_requests SET status = 'pending', decided_by = NULL, reason = NULL, \
                     decided_at_unix_ms = NULL WHERE id = $1",
                )
                .bind(id)
                .execute(self.store.pool())
                .await?;
                return Err(error);
            }
        };
        sqlx::query("UPDATE config_promotion_requests SET reason = $1 WHERE id = $2")
            .bind(format!("v{}", version.version))
            .bind(id)
            .execute(self.store.pool())
            .await?;
        Ok((self.promotion_request(id).await?, version))
    }

    /// Rejects a pending request (nothing is stored in the target).
    pub async fn reject_promotion(
        &self,
        id: &str,
        by: &str,
        reason: &str,
    ) -> Result<PromotionRequest, ConfigError> {
        self.pending(id, by).await?;
        self.decide(id, PromotionStatus::Rejected, by, reason).await?;
        self.promotion_request(id).await
    }

    async fn decide(
        &self,
        id: &str,
        status: PromotionStatus,
        by: &str,
        reason: &str,
    ) -> Result<(), ConfigError> {
        // Only a pending request changes: two people deciding at once cannot both win.
        let changed = sqlx::query(
            "UPDATE config_promotion_requests SET status = $1, decided_by = $2, reason = $3, \
             decided_at_unix_ms = $4 WHERE id = $5 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(by)
        .bind(reason)
        .bind(now_unix_ms())
        .bind(id)
        .execute(self.store.pool())
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(ConfigError::Approval(format!("request {id} was decided by someone else meanwhile")));
        }
        Ok(())
    }
}
