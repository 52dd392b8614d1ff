//! The store behaves the same on both backends: the embedded SQLite file and a
//! real PostgreSQL server started by the test itself.

use std::time::Duration;

use opsdeck::{Deck, DeckOptions};
use opsdeck_core::sqlx;
use opsdeck_core::{DataDir, Store, StoreKind, StoreLocation};
use opsdeck_tests::postgres;

/// Runs one check against a new SQLite store and a new PostgreSQL database.
macro_rules! on_both_backends {
    ($name:ident, $check:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                let data_dir = tempfile::tempdir().unwrap();
                ($check)(Backend { data_dir, database_url: None }).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                let data_dir = tempfile::tempdir().unwrap();
                let url = postgres::shared().fresh_database();
                ($check)(Backend { data_dir, database_url: Some(url) }).await;
            }
        }
    };
}

struct Backend {
    data_dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Backend {
    fn location(&self) -> StoreLocation {
        let data_dir = DataDir::prepare(self.data_dir.path()).unwrap();
        StoreLocation::choose(&data_dir, self.database_url.as_deref()).unwrap()
    }

    fn expected_kind(&self) -> StoreKind {
        if self.database_url.is_some() {
            StoreKind::Postgres
        } else {
            StoreKind::Sqlite
        }
    }

    fn deck_options(&self) -> DeckOptions {
        DeckOptions {
            data_dir: Some(self.data_dir.path().to_path_buf()),
            database_url: self.database_url.clone(),
            ..DeckOptions::default()
        }
    }
}

on_both_backends!(a_new_store_is_migrated_and_reports_its_schema, |backend: Backend| async move {
    let store = Store::open(backend.location()).await.unwrap();
    assert_eq!(store.kind(), backend.expected_kind());
    assert!(store.schema_version().await.unwrap() >= 1);
    let created = store.created_at_unix_ms().await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!((now - created).abs() < 60_000, "created_at {created} is not close to now {now}");
    store.close().await;
});

on_both_backends!(reopening_a_store_keeps_its_data_and_schema, |backend: Backend| async move {
    let first = Store::open(backend.location()).await.unwrap();
    let created = first.created_at_unix_ms().await.unwrap();
    let version = first.schema_version().await.unwrap();
    sqlx::query("INSERT INTO store_meta (key, value) VALUES ($1, $2)")
        .bind("probe")
        .bind("kept")
        .execute(first.pool())
        .await
        .unwrap();
    first.close().await;

    let second = Store::open(backend.location()).await.unwrap();
    assert_eq!(second.created_at_unix_ms().await.unwrap(), created);
    assert_eq!(second.schema_version().await.unwrap(), version);
    let kept: String = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = $1")
        .bind("probe")
        .fetch_one(second.pool())
        .await
        .unwrap();
    assert_eq!(kept, "kept");
    second.close().await;
});

on_both_backends!(a_store_written_by_a_newer_opsdeck_is_refused_untouched, |backend: Backend| async move {
    let store = Store::open(backend.location()).await.unwrap();
    // A core migration this build does not know, as a newer OpsDeck would leave it.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999, 'from the future', $1, $2, 0)",
    )
    .bind(true)
    .bind(vec![0_u8; 48])
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;

    let error = Store::open(backend.location()).await.unwrap_err();
    assert_eq!(error.code(), "store_from_newer_version", "{error}");
    assert!(error.to_string().contains("upgrade OpsDeck"), "{error}");
});

on_both_backends!(
    deck_shutdown_lets_background_work_finish_before_the_store_closes,
    |backend: Backend| async move {
        let deck = Deck::open(backend.deck_options()).await.unwrap();
        let pool = deck.store().pool().clone();
        // A task that holds work in memory until it is told to stop, then persists it.
        deck.tasks().spawn("buffered-writer", move |stop| async move {
            let pending: Vec<String> = (0..50).map(|n| format!("item-{n}")).collect();
            stop.cancelled().await;
            for item in pending {
                sqlx::query("INSERT INTO store_meta (key, value) VALUES ($1, 'flushed')")
                    .bind(item)
                    .execute(&pool)
                    .await
                    .expect("the store is still open while tasks stop");
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        deck.shutdown().await;

        let reopened = Deck::open(backend.deck_options()).await.unwrap();
        let flushed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM store_meta WHERE value = 'flushed'")
            .fetch_one(reopened.store().pool())
            .await
            .unwrap();
        assert_eq!(flushed, 50);
        let status = reopened.status().await.unwrap();
        assert_eq!(status.store, backend.expected_kind().to_string());
        reopened.shutdown().await;
    }
);

#[tokio::test]
async fn a_sqlite_file_that_is_not_a_database_is_refused_and_left_as_it_was() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = DataDir::prepare(temp.path()).unwrap();
    let garbage: Vec<u8> = (0..4096_u32).map(|n| (n.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(data_dir.sqlite_store_path(), &garbage).unwrap();

    let started = std::time::Instant::now();
    let error = Store::open(StoreLocation::choose(&data_dir, None).unwrap()).await.unwrap_err();
    assert_eq!(error.code(), "store_corrupt", "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the error must come at once, not after pool retries"
    );
    assert_eq!(std::fs::read(data_dir.sqlite_store_path()).unwrap(), garbage);
}

#[tokio::test]
async fn a_postgres_server_that_is_not_there_fails_fast_without_showing_the_password() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = DataDir::prepare(temp.path()).unwrap();
    let port = opsdeck_tests::process::free_port();
    let url = format!("postgres://ops:hunter2-secret@127.0.0.1:{port}/deck");
    let started = std::time::Instant::now();
    let error = Store::open(StoreLocation::choose(&data_dir, Some(&url)).unwrap()).await.unwrap_err();
    assert_eq!(error.code(), "store_unreachable");
    assert!(started.elapsed() < Duration::from_secs(3));
    let message = error.to_string();
    assert!(!message.contains("hunter2-secret"), "the password leaked: {message}");
    assert!(message.contains("127.0.0.1"), "{message}");
}

#[tokio::test]
async fn a_postgres_database_that_does_not_exist_is_named_in_the_error() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = DataDir::prepare(temp.path()).unwrap();
    let url = postgres::shared().url("no_such_database");
    let error = Store::open(StoreLocation::choose(&data_dir, Some(&url)).unwrap()).await.unwrap_err();
    assert_eq!(error.code(), "store_unreachable");
    assert!(error.to_string().contains("no_such_database"), "{error}");
}

#[test]
fn malformed_database_urls_are_rejected_before_connecting() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = DataDir::prepare(temp.path()).unwrap();
    for url in ["postgres://", "not a url", "mysql://host/db", "postgres://:5432/db", "http://host/db"] {
        let error = StoreLocation::choose(&data_dir, Some(url)).unwrap_err();
        assert_eq!(error.code(), "invalid_database_url", "{url} gave {error}");
    }
    assert_eq!(StoreLocation::choose(&data_dir, Some("  ")).unwrap().kind(), StoreKind::Sqlite);
}
