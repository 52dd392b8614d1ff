//! Where remote data sources' definitions are kept (the deck seals them and
//! does the querying): one JSON document per name.

use opsdeck_core::Store;

use crate::store::MetricsError;

/// Stores (or replaces) the definition of source `name`.
pub async fn put(store: &Store, name: &str, definition: &str) -> Result<(), MetricsError> {
    let mut transaction = store.begin_write().await?;
    sqlx::query("DELETE FROM metric_sources WHERE name = $1").bind(name).execute(&mut *transaction).await?;
    sqlx::query("INSERT INTO metric_sources (name, definition, updated_at_unix_ms) VALUES ($1, $2, $3)")
        .bind(name)
        .bind(definition)
        .bind(opsdeck_core::clock::now_unix_ms())
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(())
}

/// Every source's definition, by name.
pub async fn list(store: &Store) -> Result<Vec<String>, MetricsError> {
    Ok(sqlx::query_scalar("SELECT definition FROM metric_sources ORDER BY name")
        .fetch_all(store.pool())
        .await?)
}

/// The definition of source `name`, if there is one.
pub async fn get(store: &Store, name: &str) -> Result<Option<String>, MetricsError> {
    Ok(sqlx::query_scalar("SELECT definition FROM metric_sources WHERE name = $1")
        .bind(name)
        .fetch_optional(store.pool())
        .await?)
}

/// Removes source `name`; whether it was there.
pub async fn remove(store: &Store, name: &str) -> Result<bool, MetricsError> {
    let mut transaction = store.begin_write().await?;
    let removed = sqlx::query("DELETE FROM metric_sources WHERE name = $1")
        .bind(name)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(removed.rows_affected() > 0)
}
