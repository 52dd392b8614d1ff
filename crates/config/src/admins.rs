//! The admins of a config project: the people who may set what runs or is
//! written on its behalf (reload hooks, linked files) and its approval rules.
//!
//! People are named by user name, as in approvals. The rule itself (who may
//! do what) lives in the deck; this module keeps the list.

use opsdeck_core::clock::now_unix_ms;
use serde::Serialize;
use ts_rs::TS;

use crate::store::{check_name, Configs};
use crate::ConfigError;

/// One admin of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ProjectAdmin {
    /// The user name.
    pub member: String,
    /// Who made them an admin (an actor, `cli:ana`).
    pub added_by: String,
    /// When.
    #[ts(type = "number")]
    pub added_at_unix_ms: i64,
}

impl Configs {
    /// The project's admins, oldest first (none for a project not yet claimed).
    pub async fn admins(&self, project: &str) -> Result<Vec<ProjectAdmin>, ConfigError> {
        let (id, _, _) = self.project_row(project).await?;
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT member, added_by, added_at_unix_ms FROM config_project_admins \
             WHERE project_id = $1 ORDER BY added_at_unix_ms, member",
        )
        .bind(&id)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(member, added_by, added_at_unix_ms)| ProjectAdmin { member, added_by, added_at_unix_ms })
            .collect())
    }

    /// Makes `member` an admin of `project` (nothing changes when they are one).
    pub async fn add_admin(&self, project: &str, member: &str, added_by: &str) -> Result<(), ConfigError> {
        check_name("member", member)?;
        let (id, _, _) = self.project_row(project).await?;
        sqlx::query(
            "INSERT INTO config_project_admins (project_id, member, added_by, added_at_unix_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, member) DO NOTHING",
        )
        .bind(&id)
        .bind(member)
        .bind(added_by)
        .bind(now_unix_ms())
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Takes `member`'s admin role on `project` away; never the last admin's.
    pub async fn remove_admin(&self, project: &str, member: &str) -> Result<(), ConfigError> {
        let admins = self.admins(project).await?;
        if !admins.iter().any(|admin| admin.member == member) {
            return Err(ConfigError::Invalid(format!("{member} is not an admin of project {project}")));
        }
        if admins.len() == 1 {
            return Err(ConfigError::Invalid(format!(
                "{member} is the last admin of project {project}; make someone else an admin first"
            )));
        }
        let (id, _, _) = self.project_row(project).await?;
        sqlx::query("DELETE FROM config_project_admins WHERE project_id = $1 AND member = $2")
            .bind(&id)
            .bind(member)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }
}
