//! The table of API tokens (see `opsdeck::api_tokens` for who may make
//! them and what they allow): only a SHA-256 of each token is stored.

use serde::Serialize;
use ts_rs::TS;

use crate::{CoreError, Store};

/// One API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct ApiToken {
    /// Its name; requests made with it are audited as `api:NAME`.
    pub name: String,
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    /// The vault it is limited to; `null` for every vault.
    pub vault: Option<String>,
    /// Whether it may reveal secret values.
    pub reveal: bool,
    /// Who made it.
    pub created_by: String,
    /// When.
    #[ts(type = "number")]
    pub created_at_unix_ms: i64,
    /// When it stops working, if ever.
    #[ts(type = "number | null")]
    pub expires_at_unix_ms: Option<i64>,
    /// When it was revoked, if it was.
    #[ts(type = "number | null")]
    pub revoked_at_unix_ms: Option<i64>,
    /// When it was last used.
    #[ts(type = "number | null")]
    pub last_used_at_unix_ms: Option<i64>,
}

type TokenRow =
    (String, String, String, Option<String>, i64, String, i64, Option<i64>, Option<i64>, Option<i64>);

const TOKEN_COLUMNS: &str = "name, token_hash, role, vault, reveal, created_by, created_at_unix_ms, \
     expires_at_unix_ms, revoked_at_unix_ms, last_used_at_unix_ms";

fn info_of(row: TokenRow) -> (String, ApiToken) {
    let (name, hash, role, vault, reveal, created_by, created, expires, revoked, used) = row;
    let info = ApiToken {
        name,
        role,
        vault,
        reveal: reveal != 0,
        created_by,
        created_at_unix_ms: created,
        expires_at_unix_ms: expires,
        revoked_at_unix_ms: revoked,
        last_used_at_unix_ms: used,
    };
    (hash, info)
}

/// Stores a new token; `false` when one of that name exists.
pub async fn insert(store: &Store, hash: &str, token: &ApiToken) -> Result<bool, CoreError> {
    let inserted = sqlx::query(
        "INSERT INTO api_tokens (name, token_hash, role, vault, reveal, created_by, created_at_unix_ms, expires_at_unix_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&token.name)
    .bind(hash)
    .bind(&token.role)
    .bind(&token.vault)
    .bind(i64::from(token.reveal))
    .bind(&token.created_by)
    .bind(token.created_at_unix_ms)
    .bind(token.expires_at_unix_ms)
    .execute(store.pool())
    .await?;
    Ok(inserted.rows_affected() > 0)
}

/// Every token, newest first.
pub async fn list(store: &Store) -> Result<Vec<ApiToken>, CoreError> {
    let rows: Vec<TokenRow> = sqlx::query_as(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at_unix_ms DESC, name"
    ))
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(|row| info_of(row).1).collect())
}

/// The token with this hash, with its stored hash.
pub async fn find_by_hash(store: &Store, hash: &str) -> Result<Option<(String, ApiToken)>, CoreError> {
    let row: Option<TokenRow> =
        sqlx::query_as(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"))
            .bind(hash)
            .fetch_optional(store.pool())
            .await?;
    Ok(row.map(info_of))
}

/// Marks a token revoked at `at` (a revoked one keeps its first time).
pub async fn revoke(store: &Store, name: &str, at: i64) -> Result<(), CoreError> {
    sqlx::query(
        "UPDATE api_tokens SET revoked_at_unix_ms = $1 WHERE name = $2 AND revoked_at_unix_ms IS NULL",
    )
    .bind(at)
    .bind(name)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Records a token's last use.
pub async fn touch(store: &Store, name: &str, at: i64) -> Result<(), CoreError> {
    sqlx::query("UPDATE api_tokens SET last_used_at_unix_ms = $1 WHERE name = $2")
        .bind(at)
        .bind(name)
        .execute(store.pool())
        .await?;
    Ok(())
}
