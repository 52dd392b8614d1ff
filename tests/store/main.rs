//! The store behaves the same on both backends: the embedded SQLite file and a
//! real PostgreSQL server started by the test itself.

use std::time::Duration;

use opsdeck::{Caller, Deck, DeckOptions, KeyAccess, MetadataChange, SecretType};
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

on_both_backends!(a_writer_waits_for_another_and_both_changes_land, |backend: Backend| async move {
    // Two handles on one store, as two processes would have.
    let first = Store::open(backend.location()).await.unwrap();
    let second = Store::open(backend.location()).await.unwrap();
    sqlx::query("CREATE TABLE probe_rows (id BIGINT PRIMARY KEY, note TEXT NOT NULL)")
        .execute(first.pool())
        .await
        .unwrap();
    let reader = Store::open(backend.location()).await.unwrap();
    let mut holding = first.begin_write().await.unwrap();
    sqlx::query("INSERT INTO probe_rows (id, note) VALUES (1, 'first')")
        .execute(&mut *holding)
        .await
        .unwrap();
    // Readers never wait for a writer: they read the last committed state.
    let started = std::time::Instant::now();
    let before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM probe_rows").fetch_one(reader.pool()).await.unwrap();
    assert_eq!(before, 0);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "a read waited {:?} for a writer",
        started.elapsed()
    );
    let waiter = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let mut transaction = second.begin_write().await.unwrap();
        // A read inside a write transaction sees the first writer's commit: it
        // began after it, so this never needs a stale snapshot upgraded.
        let seen: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM probe_rows").fetch_one(&mut *transaction).await.unwrap();
        sqlx::query("INSERT INTO probe_rows (id, note) VALUES (2, 'second')")
            .execute(&mut *transaction)
            .await
            .unwrap();
        transaction.commit().await.unwrap();
        (started.elapsed(), seen)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    holding.commit().await.unwrap();
    let (waited, seen) = waiter.await.unwrap();
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM probe_rows").fetch_one(first.pool()).await.unwrap();
    assert_eq!(rows, 2);
    if backend.database_url.is_none() {
        // SQLite: the second writer's transaction began only once the first committed.
        assert_eq!(seen, 1);
        assert!(waited >= Duration::from_millis(250), "the second writer did not wait: {waited:?}");
    }
    assert!(waited < Duration::from_secs(5), "the second writer waited {waited:?}");
});

on_both_backends!(writers_that_deadlock_are_retried_until_both_land, |backend: Backend| async move {
    let store = Store::open(backend.location()).await.unwrap();
    sqlx::query("CREATE TABLE probe_counts (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO probe_counts (id, n) VALUES (1, 0), (2, 0)")
        .execute(store.pool())
        .await
        .unwrap();
    let attempts = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    // Each bumps both rows, in opposite orders: on PostgreSQL one of them is
    // chosen as the deadlock victim and must be tried again.
    let bump = |store: Store, order: [i64; 2], attempts: std::sync::Arc<std::sync::atomic::AtomicU32>| async move {
        store
            .retrying(|| {
                let (store, attempts) = (store.clone(), attempts.clone());
                async move {
                    attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let mut transaction = store.begin_write().await?;
                    for (index, id) in order.iter().enumerate() {
                        sqlx::query("UPDATE probe_counts SET n = n + 1 WHERE id = $1")
                            .bind(id)
                            .execute(&mut *transaction)
                            .await?;
                        if index == 0 {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                        }
                    }
                    transaction.commit().await?;
                    Ok::<(), opsdeck_core::CoreError>(())
                }
            })
            .await
    };
    let one = tokio::spawn(bump(store.clone(), [1, 2], attempts.clone()));
    let two = tokio::spawn(bump(store.clone(), [2, 1], attempts.clone()));
    one.await.unwrap().unwrap();
    two.await.unwrap().unwrap();
    let counts: Vec<i64> =
        sqlx::query_scalar("SELECT n FROM probe_counts ORDER BY id").fetch_all(store.pool()).await.unwrap();
    assert_eq!(counts, vec![2, 2], "each bump landed exactly once");
    let attempts = attempts.load(std::sync::atomic::Ordering::SeqCst);
    if backend.database_url.is_some() {
        assert!(attempts >= 3, "the deadlock victim was not retried ({attempts} attempts)");
    } else {
        assert_eq!(attempts, 2, "SQLite's write lock serialises them: no retry needed");
    }
});

#[test]
fn the_sqlite_store_and_its_journal_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::tempdir().unwrap();
    let data_dir = DataDir::prepare(&temp.path().join("deck")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::open(StoreLocation::choose(&data_dir, None).unwrap()).await.unwrap();
        sqlx::query("INSERT INTO store_meta (key, value) VALUES ('probe', 'x')")
            .execute(store.pool())
            .await
            .unwrap();
        for name in ["opsdeck.db", "opsdeck.db-wal", "opsdeck.db-shm"] {
            let mode = std::fs::metadata(data_dir.path().join(name)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o077, 0, "{name} is readable by others: {mode:o}");
        }
        store.close().await;
    });
    assert_eq!(std::fs::metadata(data_dir.path()).unwrap().permissions().mode() & 0o777, 0o700);
}

on_both_backends!(
    the_metrics_series_store_appends_merges_writers_and_prunes,
    |backend: Backend| async move {
        use opsdeck_metrics::{Labels, Matcher, SeriesStore};
        let store = Store::open(backend.location()).await.unwrap();
        store.apply_migrations(opsdeck_metrics::migrator(store.kind())).await.unwrap();
        let labels = |pairs: &[(&str, &str)]| -> Labels {
            pairs.iter().map(|(label, value)| (label.to_string(), value.to_string())).collect()
        };
        let get = labels(&[("__name__", "http_requests_total"), ("method", "GET")]);
        let post = labels(&[("__name__", "http_requests_total"), ("method", "POST")]);
        let first = SeriesStore::new(store.clone(), "first");
        let second = SeriesStore::new(store.clone(), "second");
        let mut samples = Vec::new();
        for i in 0..250_i64 {
            samples.push((get.clone(), i * 15_000, i as f64));
            samples.push((post.clone(), i * 15_000, -(i as f64)));
        }
        let appended = first.append(&samples).await.unwrap();
        assert_eq!((appended.samples, appended.new_series), (500, 2));
        // Another process fills in an instant between two of the first's.
        second.append(&[(get.clone(), 7_500, 0.5)]).await.unwrap();
        second.flush().await.unwrap();
        let name = Matcher::equal("__name__", "http_requests_total");
        let gets =
            first.select(&[name.clone(), Matcher::regex("method", "G.T").unwrap()], 0, 30_000).await.unwrap();
        assert_eq!(gets.len(), 1);
        let read: Vec<(i64, f64)> = gets[0].samples.iter().map(|sample| (sample.t, sample.v)).collect();
        assert_eq!(read, [(0, 0.0), (7_500, 0.5), (15_000, 1.0), (30_000, 2.0)]);
        let chunks: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM metric_chunks").fetch_one(store.pool()).await.unwrap();
        let per_series = 250_usize.div_ceil(opsdeck_metrics::store::SAMPLES_PER_CHUNK) as i64;
        assert_eq!(chunks, 2 * per_series + 1, "each series' chunks, and one of the second writer");
        // Everything before the last chunk's end goes; the series stay while they have chunks.
        let pruned = first.prune(249 * 15_000).await.unwrap();
        assert_eq!(pruned as i64, 2 * (per_series - 1) + 1);
        assert_eq!(first.series(&[name]).await.unwrap().len(), 2);
    }
);

on_both_backends!(secrets_are_listed_whole_and_in_name_order, |backend: Backend| async move {
    // Every field a list shows comes back as it was set, however it is
    // written (the list is read as one JSON document from the store).
    let options = DeckOptions {
        keys: KeyAccess {
            passphrase: Some(zeroize::Zeroizing::new("store tests keep their keys here".into())),
            no_keychain: true,
            key_dir: None,
        },
        ..backend.deck_options()
    };
    let deck = Deck::open(options).await.unwrap();
    let caller = Caller::new("cli:store-test");
    for vault in ["prod", "dev", "empty"] {
        deck.vaults().init(&caller, vault, true).await.unwrap();
    }
    let note = "line one\nquotes \" and ' — a backslash \\, a tab\t, ünïcode and 🔑";
    let metadata = MetadataChange {
        tags: Some(vec!["payments".into(), "api".into()]),
        note: Some(note.into()),
        rotate_every_days: Some(Some(30)),
        rotate_verify: None,
        expires_at: Some(Some(4_102_444_800_000)),
    };
    deck.vaults().secret_set(&caller, "prod/zeta", SecretType::ApiKey, b"v1", &metadata).await.unwrap();
    let none = MetadataChange::default();
    deck.vaults()
        .secret_set(&caller, "prod/alpha", SecretType::DatabasePassword, b"v2", &none)
        .await
        .unwrap();
    deck.vaults()
        .secret_set(&caller, "prod/alpha", SecretType::DatabasePassword, b"v3", &none)
        .await
        .unwrap();
    deck.vaults().secret_set(&caller, "dev/beta", SecretType::OauthToken, b"v4", &none).await.unwrap();

    let all = deck.vaults().secret_list(&caller, None).await.unwrap();
    let names: Vec<(&str, &str)> =
        all.iter().map(|secret| (secret.vault.as_str(), secret.name.as_str())).collect();
    assert_eq!(names, [("dev", "beta"), ("prod", "alpha"), ("prod", "zeta")]);
    let zeta = &all[2];
    assert_eq!(zeta.note, note);
    assert_eq!(zeta.tags, ["api", "payments"]);
    assert_eq!((zeta.secret_type, zeta.version), (SecretType::ApiKey, 1));
    assert_eq!(zeta.rotate_every_days, Some(30));
    assert_eq!(zeta.rotation_due_at, Some(zeta.updated_at + 30 * 86_400_000));
    assert_eq!(zeta.expires_at, Some(4_102_444_800_000));
    assert_eq!(zeta.rotate_verify, None);
    assert_eq!(
        (all[1].version, all[1].secret_type, all[1].note.as_str()),
        (2, SecretType::DatabasePassword, "")
    );
    assert_eq!(all[1].expires_at, None);

    let prod = deck.vaults().secret_list(&caller, Some("prod")).await.unwrap();
    assert_eq!(prod.iter().map(|secret| secret.name.as_str()).collect::<Vec<_>>(), ["alpha", "zeta"]);
    assert!(deck.vaults().secret_list(&caller, Some("empty")).await.unwrap().is_empty());
    let unknown = deck.vaults().secret_list(&caller, Some("nope")).await.unwrap_err();
    assert!(unknown.to_string().contains("nope"), "{unknown}");
    deck.shutdown().await;
});
