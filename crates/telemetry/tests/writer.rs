//! The batching writer: it stores what it is given, and a full queue
//! refuses more (the receiver then answers 503 with Retry-After) instead of
//! growing without bound.

use opsdeck_telemetry::writer::{Batch, Writer};
use opsdeck_telemetry::{Span, Telemetry, TraceQuery};

fn span(trace: u8, id: u8) -> Span {
    Span {
        trace_id: format!("{trace:032x}"),
        span_id: format!("{id:016x}"),
        parent_span_id: String::new(),
        service: "svc".to_owned(),
        name: "op".to_owned(),
        kind: 2,
        start_unix_nano: 1_000,
        end_unix_nano: 2_000,
        status_code: 0,
        status_message: String::new(),
        trace_state: String::new(),
        flags: 0,
        attributes: serde_json::json!({}),
        resource: serde_json::json!({}),
        scope: serde_json::json!({}),
        events: serde_json::json!([]),
        links: serde_json::json!([]),
    }
}

#[tokio::test]
async fn a_full_queue_refuses_more_and_takes_it_again_once_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        opsdeck_core::Store::open(opsdeck_core::store::StoreLocation::Sqlite(dir.path().join("t.db")))
            .await
            .unwrap();
    store.apply_migrations(opsdeck_telemetry::migrator(store.kind())).await.unwrap();
    let telemetry = Telemetry::new(store);
    let (writer, task) = Writer::start(telemetry.clone(), 10);

    // This test's runtime runs one task at a time: nothing is stored until it awaits.
    writer.submit(Batch::Spans((1..=6).map(|id| span(1, id)).collect())).unwrap();
    assert_eq!(writer.queued(), 6);
    assert!(writer.submit(Batch::Spans((1..=5).map(|id| span(2, id)).collect())).is_err(), "6 + 5 > 10");
    assert_eq!(writer.queued(), 6, "a refused batch is not counted");
    writer.submit(Batch::Spans((1..=4).map(|id| span(3, id)).collect())).unwrap();

    while writer.queued() > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Room again; a batch larger than the whole queue is taken when the queue is empty.
    writer.submit(Batch::Spans((1..=12).map(|id| span(4, id)).collect())).unwrap();
    drop(writer);
    task.await.unwrap();
    let traces = telemetry.traces(&TraceQuery { limit: 10, ..TraceQuery::default() }).await.unwrap();
    let mut counts: Vec<(String, i64)> = traces.into_iter().map(|t| (t.trace_id, t.spans)).collect();
    counts.sort();
    assert_eq!(
        counts,
        [(format!("{:032x}", 1), 6), (format!("{:032x}", 3), 4), (format!("{:032x}", 4), 12)],
        "everything accepted was stored, the refused batch was not"
    );
}
