//! Who may do what in a vault. The deck checks a caller's role before every
//! action; this module stores the roles and keeps every vault with an admin.

use opsdeck_core::audit::AuditScope;
use opsdeck_core::clock::now_unix_ms;
use serde::Serialize;
use ts_rs::TS;

use crate::{VaultError, Vaults};

/// A member's role in one vault.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    TS,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees metadata and history; cannot reveal or change values.
    Viewer,
    /// Also reveals, sets, rotates, rolls back and imports secrets.
    Operator,
    /// Also removes secrets, manages members and key slots, exports.
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Parses `admin`, `operator` or `viewer`.
    pub fn parse(text: &str) -> Result<Role, VaultError> {
        match text {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => {
                Err(VaultError::Invalid(format!("unknown role `{other}`; use admin, operator or viewer")))
            }
        }
    }
}

/// One member of a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct MemberInfo {
    /// The user name (as the OS reports it).
    pub member: String,
    /// Their role.
    pub role: Role,
    /// When they were added or last changed.
    #[ts(type = "number")]
    pub added_at_unix_ms: i64,
}

impl Vaults {
    /// The role of `member` in `vault`: `None` when they are not a member. A
    /// vault with no members at all (made before roles existed) treats every
    /// local user as an admin.
    pub async fn role_of(&self, vault: &str, member: &str) -> Result<Option<Role>, VaultError> {
        let vault_id = self.vault_id(vault).await?;
        let roles: Vec<(String, String)> =
            sqlx::query_as("SELECT member, role FROM vault_members WHERE vault_id = $1")
                .bind(&vault_id)
                .fetch_all(self.store.pool())
                .await?;
        if roles.is_empty() {
            return Ok(Some(Role::Admin));
        }
        roles.into_iter().find(|(name, _)| name == member).map(|(_, role)| Role::parse(&role)).transpose()
    }

    /// The members of `vault`, by name.
    pub async fn members(&self, vault: &str) -> Result<Vec<MemberInfo>, VaultError> {
        let vault_id = self.vault_id(vault).await?;
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT member, role, added_at_unix_ms FROM vault_members WHERE vault_id = $1 ORDER BY member",
        )
        .bind(&vault_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(|(member, role, added_at_unix_ms)| {
                Ok(MemberInfo { member, role: Role::parse(&role)?, added_at_unix_ms })
            })
            .collect()
    }

    /// Gives `member` `role` in `vault` (adding them, or changing their role).
    /// Refuses to demote the last admin.
    pub async fn set_member(
        &self,
        vault: &str,
        member: &str,
        role: Role,
        audit: &AuditScope<'_>,
    ) -> Result<MemberInfo, VaultError> {
        check_member_name(member)?;
        let vault_id = self.vault_id(vault).await?;
        let mut transaction = self.store.begin_write().await?;
        let current = stored_role(&mut transaction, &vault_id, member).await?;
        if current.as_deref() == Some("admin") && role != Role::Admin {
            refuse_if_last_admin(&mut transaction, &vault_id, vault, member).await?;
        }
        let now = now_unix_ms();
        sqlx::query("DELETE FROM vault_members WHERE vault_id = $1 AND member = $2")
            .bind(&vault_id)
            .bind(member)
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO vault_members (vault_id, member, role, added_at_unix_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(&vault_id)
        .bind(member)
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        audit.append(&mut transaction, serde_json::json!({ "role": role.as_str() })).await?;
        transaction.commit().await?;
        Ok(MemberInfo { member: member.to_owned(), role, added_at_unix_ms: now })
    }

    /// Takes `member` out of `vault`. Refuses to remove the last admin.
    pub async fn remove_member(
        &self,
        vault: &str,
        member: &str,
        audit: &AuditScope<'_>,
    ) -> Result<(), VaultError> {
        let vault_id = self.vault_id(vault).await?;
        let mut transaction = self.store.begin_write().await?;
        let current = stored_role(&mut transaction, &vault_id, member).await?;
        match current.as_deref() {
            None => {
                return Err(VaultError::Invalid(format!("`{member}` is not a member of vault `{vault}`")))
            }
            Some("admin") => refuse_if_last_admin(&mut transaction, &vault_id, vault, member).await?,
            Some(_) => {}
        }
        sqlx::query("DELETE FROM vault_members WHERE vault_id = $1 AND member = $2")
            .bind(&vault_id)
            .bind(member)
            .execute(&mut *transaction)
            .await?;
        audit.append(&mut transaction, serde_json::json!({ "role": current })).await?;
        transaction.commit().await?;
        Ok(())
    }
}

fn check_member_name(member: &str) -> Result<(), VaultError> {
    let valid = !member.is_empty()
        && member.len() <= 64
        && member.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if valid {
        Ok(())
    } else {
        Err(VaultError::Invalid(format!(
            "`{member}` is not a valid user name: use 1–64 letters, digits, `-`, `_`, `.` or `@`"
        )))
    }
}

/// The role stored for `member` (its text), read inside the change's transaction.
async fn stored_role(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    vault_id: &str,
    member: &str,
) -> Result<Option<String>, VaultError> {
    Ok(sqlx::query_scalar("SELECT role FROM vault_members WHERE vault_id = $1 AND member = $2")
        .bind(vault_id)
        .bind(member)
        .fetch_optional(&mut **transaction)
        .await?)
}

async fn refuse_if_last_admin(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    vault_id: &str,
    vault: &str,
    member: &str,
) -> Result<(), VaultError> {
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM vault_members WHERE vault_id = $1 AND role = 'admin'")
            .bind(vault_id)
            .fetch_one(&mut **transaction)
            .await?;
    if admins <= 1 {
        return Err(VaultError::Invalid(format!(
            "`{member}` is the last admin of vault `{vault}`; make someone else admin first"
        )));
    }
    Ok(())
}
