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
        status: opsdeck_telemetry::SpanStatus::Unset,
        status_message: String::new(),
        trace_state: String::new(),
        flags: 0,
        attributes: opsdeck_telemetry::JsonText::from_value(&serde_json::json!({})).unwrap(),
        resource: opsdeck_telemetry::JsonText::from_value(&serde_json::json!({})).unwrap(),
        scope: opsdeck_telemetry::JsonText::from_value(&serde_json::json!({})).unwrap(),
        events: opsdeck_telemetry::JsonText::from_value(&serde_json::json!([])).unwrap(),
        links: opsdeck_telemetry::JsonText::from_value(&serde_json::json!([])).unwrap(),
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
    let mut counts: Vec<(String, i64)> = traces.into_iter().map(|t| (t.trace_id, t.span_count)).collect();
    counts.sort();
    assert_eq!(
        counts,
        [(format!("{:032x}", 1), 6), (format!("{:032x}", 3), 4), (format!("{:032x}", 4), 12)],
        "everything accepted was stored, the refused batch was not"
    );
}

async fn fresh_telemetry(dir: &std::path::Path) -> Telemetry {
    let store = opsdeck_core::Store::open(opsdeck_core::store::StoreLocation::Sqlite(dir.join("t.db")))
        .await
        .unwrap();
    store.apply_migrations(opsdeck_telemetry::migrator(store.kind())).await.unwrap();
    Telemetry::new(store)
}

#[tokio::test]
async fn retention_by_size_removes_the_oldest_records_whatever_their_kind() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = fresh_telemetry(dir.path()).await;
    // 100 spans at times 1..=100 s and a JSON metrics request whose points sit between them.
    let spans: Vec<Span> = (1..=100u8)
        .map(|id| {
            let mut one = span(id, 1);
            one.start_unix_nano = i64::from(id) * 1_000_000_000;
            one.end_unix_nano = one.start_unix_nano + 1_000;
            one.attributes =
                opsdeck_telemetry::JsonText::from_value(&serde_json::json!({ "padding": "x".repeat(400) }))
                    .unwrap();
            one
        })
        .collect();
    telemetry.insert_spans(&spans).await.unwrap();
    let metrics = serde_json::json!({ "resourceMetrics": [{
        "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "shop" } }] },
        "scopeMetrics": [{ "metrics": [
            { "name": "orders", "unit": "1", "sum": { "aggregationTemporality": 2, "isMonotonic": true,
              "dataPoints": [{ "timeUnixNano": "10000000000", "asInt": "7" }, { "timeUnixNano": 90000000000u64, "asDouble": 2.5 }] } },
            { "name": "latency", "histogram": { "aggregationTemporality": 1, "dataPoints": [{
              "timeUnixNano": "95000000000", "count": "3", "sum": 42.5, "bucketCounts": ["1", 2], "explicitBounds": [10] }] } }
        ] }]
    }] });
    let decoded = opsdeck_telemetry::otlp::decode_metrics(
        metrics.to_string().as_bytes(),
        opsdeck_telemetry::otlp::Encoding::Json,
    )
    .unwrap();
    assert_eq!(decoded.rejected, 0);
    let values: Vec<Option<f64>> = decoded.records.iter().map(|point| point.value).collect();
    assert_eq!(values, [Some(7.0), Some(2.5), None]);
    assert_eq!(decoded.records[2].data["counts"], serde_json::json!([1, 2]));
    assert_eq!(decoded.records[0].data["temporality"], "cumulative");
    telemetry.insert_metric_points(&decoded.records).await.unwrap();

    let before = telemetry.stored_bytes().await.unwrap();
    let budget = before / 2;
    let retention =
        opsdeck_telemetry::Retention { max_age_days: 36_500, max_bytes: budget, ..Default::default() };
    let pruned = telemetry.prune(&retention, 100 * 1_000_000_000).await.unwrap();
    let after = telemetry.stored_bytes().await.unwrap();
    assert!(after <= budget && after > budget - 1_000, "kept {after} of {before} bytes, budget {budget}");
    // The oldest half went: spans from the start and the metric point at 10 s,
    // the newer points stay.
    assert!((45..=55).contains(&pruned.spans), "{pruned:?}");
    assert_eq!(pruned.metric_points, 1, "{pruned:?}");
    let kept = telemetry.metric_points(None, None, 0, 10).await.unwrap();
    assert_eq!(kept.iter().map(|point| point.name.as_str()).collect::<Vec<_>>(), ["latency", "orders"]);
    let oldest = telemetry.traces(&TraceQuery { limit: 1000, ..TraceQuery::default() }).await.unwrap();
    let first_kept = oldest.iter().map(|trace| trace.start_unix_nano).min().unwrap();
    assert!(oldest.iter().all(|trace| trace.start_unix_nano >= first_kept));
    assert_eq!(oldest.len() as i64, 100 - pruned.spans);
    assert_eq!(first_kept, (pruned.spans + 1) * 1_000_000_000, "exactly the oldest spans went");
}

#[tokio::test]
async fn a_stored_span_reads_back_exactly_as_it_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = fresh_telemetry(dir.path()).await;
    let mut one = span(7, 1);
    let attributes = serde_json::json!({
        "text": "quote \" back\\slash ü 🦀 \n tab\t", "big": 9_007_199_254_740_993_i64, "double": 0.1,
        "nested": { "list": [1, null, true, "x"] }, "empty": {},
    });
    one.attributes = opsdeck_telemetry::JsonText::from_value(&attributes).unwrap();
    one.status_message = "it's \"broken\"".to_owned();
    one.start_unix_nano = 1_795_000_000_123_456_789;
    one.end_unix_nano = 1_795_000_000_223_456_789;
    telemetry.insert_spans(&[one.clone()]).await.unwrap();
    let back = telemetry.trace(&one.trace_id).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].attributes.to_value(), attributes);
    assert_eq!((back[0].start_unix_nano, back[0].end_unix_nano), (one.start_unix_nano, one.end_unix_nano));
    assert_eq!(back[0].status_message, one.status_message);
    assert_eq!(back[0], one, "every field as written");
}

#[tokio::test]
async fn a_trace_summary_follows_its_spans_as_they_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = fresh_telemetry(dir.path()).await;
    let list =
        || async { telemetry.traces(&TraceQuery { limit: 10, ..TraceQuery::default() }).await.unwrap() };
    // A child first: with no root stored yet, the earliest span stands for the trace.
    let mut child = span(9, 2);
    child.parent_span_id = format!("{:016x}", 1);
    child.name = "charge card".to_owned();
    child.start_unix_nano = 2_000;
    child.end_unix_nano = 3_000;
    child.status_code = 2;
    telemetry.insert_spans(&[child]).await.unwrap();
    let first = list().await;
    assert_eq!(
        (first[0].root_operation.as_str(), first[0].span_count, first[0].error),
        ("charge card", 1, true)
    );
    // Then the root, later in a separate batch: it becomes the root, the times widen.
    let mut root = span(9, 1);
    root.name = "POST /checkout".to_owned();
    root.start_unix_nano = 1_000;
    root.end_unix_nano = 5_000;
    telemetry.insert_spans(&[root.clone()]).await.unwrap();
    let second = list().await;
    assert_eq!(
        (
            second[0].root_operation.as_str(),
            second[0].span_count,
            second[0].duration_nano,
            second[0].error_count
        ),
        ("POST /checkout", 2, 4_000, 1)
    );
    // The root sent again (a retried export) replaces itself: still two spans.
    telemetry.insert_spans(&[root]).await.unwrap();
    assert_eq!(list().await[0].span_count, 2);
}

#[tokio::test]
async fn a_waiting_submit_gets_in_once_the_writer_makes_room() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = fresh_telemetry(dir.path()).await;
    let (writer, task) = Writer::start(telemetry.clone(), 10);
    // One thread, nothing stored yet: the queue is full for an immediate submit…
    writer.submit(Batch::Spans((1..=8).map(|id| span(1, id)).collect())).unwrap();
    assert!(writer.submit(Batch::Spans((1..=5).map(|id| span(2, id)).collect())).is_err());
    // …while a waiting one gets in as soon as the writer has stored the first batch.
    let patience = std::time::Duration::from_secs(10);
    writer.submit_waiting(Batch::Spans((1..=5).map(|id| span(2, id)).collect()), patience).await.unwrap();
    drop(writer);
    task.await.unwrap();
    let traces = telemetry.traces(&TraceQuery { limit: 10, ..TraceQuery::default() }).await.unwrap();
    assert_eq!(traces.iter().map(|trace| trace.span_count).sum::<i64>(), 13);
}

#[tokio::test]
async fn a_new_traces_summary_equals_the_one_recomputed_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let telemetry = fresh_telemetry(dir.path()).await;
    let mut spans = Vec::new();
    for (id, parent, start, end, status, name) in [
        (2u8, 1u8, 1_500, 2_500, 2, "charge"),
        (1, 0, 1_000, 9_000, 0, "GET /"),
        (3, 1, 3_000, 8_500, 0, "render"),
    ] {
        let mut one = span(5, id);
        one.parent_span_id = if parent == 0 { String::new() } else { format!("{parent:016x}") };
        (one.start_unix_nano, one.end_unix_nano, one.status_code) = (start, end, status);
        one.name = name.to_owned();
        spans.push(one);
    }
    // First sight: summarised from the batch itself.
    telemetry.insert_spans(&spans).await.unwrap();
    let list =
        || async { telemetry.traces(&TraceQuery { limit: 10, ..TraceQuery::default() }).await.unwrap() };
    let computed = list().await;
    // Sent again: the trace is known, so its summary is recomputed from the store.
    telemetry.insert_spans(&spans).await.unwrap();
    assert_eq!(list().await, computed);
    let summary = &computed[0];
    assert_eq!(
        (summary.root_operation.as_str(), summary.start_unix_nano, summary.duration_nano),
        ("GET /", 1_000, 8_000)
    );
    assert_eq!((summary.span_count, summary.error_count, summary.error), (3, 1, true));
}
