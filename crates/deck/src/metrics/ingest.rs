//! From the telemetry writer to the series store: the writer hands over
//! each stored batch of OTLP metric points (without waiting); a task turns
//! them into Prometheus-named series samples, appends them, and flushes the
//! store once a second and when it stops. The task keeps the running
//! totals of delta series (`Translator`): OTLP reaches one process per
//! machine (the receivers' ports are taken once), so they are not split.

use std::sync::Arc;
use std::time::Duration;

use opsdeck_metrics::otlp::{OtlpPoint, PointValue, Temporality, Translator};
use opsdeck_metrics::SeriesStore;
use opsdeck_telemetry::writer::OnMetricPoints;
use opsdeck_telemetry::MetricPoint;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::Deck;

/// Batches waiting for the series store before new ones are dropped (and
/// said so in the log): the points themselves stay in the telemetry store.
const QUEUE: usize = 256;

/// How often appended samples are written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Starts the task and returns the hook for the telemetry writer.
pub(crate) fn start_ingest(deck: &Arc<Deck>) -> OnMetricPoints {
    let (sender, receiver) = mpsc::channel::<Vec<MetricPoint>>(QUEUE);
    let series = deck.metrics.clone();
    deck.tasks.spawn("metrics-ingest", move |stop| run(series, receiver, stop));
    Arc::new(move |points: &[MetricPoint]| {
        if sender.try_send(points.to_vec()).is_err() {
            tracing::warn!(
                points = points.len(),
                "the series store is behind; these metric points are kept as points only"
            );
        }
    })
}

async fn run(
    series: Arc<SeriesStore>,
    mut receiver: mpsc::Receiver<Vec<MetricPoint>>,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    let mut translator = Translator::default();
    loop {
        tokio::select! {
            batch = receiver.recv() => match batch {
                Some(points) => append(&series, &mut translator, &points).await,
                None => break,
            },
            _ = tick.tick() => flush(&series).await,
            () = stop.cancelled() => {
                while let Ok(points) = receiver.try_recv() {
                    append(&series, &mut translator, &points).await;
                }
                break;
            }
        }
    }
    flush(&series).await;
}

async fn append(series: &SeriesStore, translator: &mut Translator, points: &[MetricPoint]) {
    let translated = translator.translate(&points.iter().filter_map(otlp_point).collect::<Vec<_>>());
    if translated.dropped_delta_points > 0 {
        tracing::warn!(
            dropped = translated.dropped_delta_points,
            limit = opsdeck_metrics::otlp::MAX_RUNNING_SERIES,
            "delta metric points of too many series to keep running totals for; these are kept as points only"
        );
    }
    match series.append_typed(&translated.samples, &translated.histograms).await {
        Ok(appended) if appended.out_of_order > 0 => {
            tracing::debug!(
                late = appended.out_of_order,
                "samples not after their series' last were refused"
            );
        }
        Ok(_) => {}
        Err(error) => {
            tracing::error!(%error, samples = translated.samples.len(), "metric samples were not stored")
        }
    }
}

async fn flush(series: &SeriesStore) {
    if let Err(error) = series.flush().await {
        tracing::error!(%error, "metric samples could not be written; the next flush tries again");
    }
}

/// A stored point in the metrics crate's terms.
fn otlp_point(point: &MetricPoint) -> Option<OtlpPoint> {
    let data = &point.data;
    let number = |key: &str| data.get(key).and_then(Value::as_f64);
    let count = || data.get("count").and_then(Value::as_u64).unwrap_or(0);
    let temporality = || match data.get("temporality").and_then(Value::as_str) {
        Some("delta") => Temporality::Delta,
        _ => Temporality::Cumulative,
    };
    let value = match point.kind.as_str() {
        "gauge" => PointValue::Gauge(point.value.unwrap_or(f64::NAN)),
        "sum" => PointValue::Sum {
            value: point.value.unwrap_or(f64::NAN),
            monotonic: data.get("monotonic").and_then(Value::as_bool).unwrap_or(false),
            temporality: temporality(),
        },
        "histogram" => PointValue::Histogram {
            bounds: floats(data.get("bounds")),
            counts: data
                .get("counts")
                .and_then(Value::as_array)
                .map(|counts| counts.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default(),
            count: count(),
            sum: number("sum"),
            temporality: temporality(),
        },
        "summary" => PointValue::Summary {
            quantiles: data
                .get("quantiles")
                .and_then(Value::as_array)
                .map(|quantiles| {
                    quantiles
                        .iter()
                        .filter_map(|q| Some((q.get("quantile")?.as_f64()?, q.get("value")?.as_f64()?)))
                        .collect()
                })
                .unwrap_or_default(),
            count: count(),
            sum: number("sum").unwrap_or(0.0),
        },
        "exponential_histogram" => {
            let buckets = |key: &str| {
                let side = data.get(key);
                let offset = side.and_then(|side| side.get("offset")).and_then(Value::as_i64).unwrap_or(0);
                let counts = side
                    .and_then(|side| side.get("counts"))
                    .and_then(Value::as_array)
                    .map(|counts| counts.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                (offset.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32, counts)
            };
            PointValue::ExponentialHistogram {
                scale: data.get("scale").and_then(Value::as_i64).unwrap_or(0).clamp(-10, 20) as i32,
                zero_count: data.get("zero_count").and_then(Value::as_u64).unwrap_or(0),
                zero_threshold: number("zero_threshold").unwrap_or(0.0),
                positive: buckets("positive"),
                negative: buckets("negative"),
                count: count(),
                sum: number("sum"),
                temporality: temporality(),
            }
        }
        // The receivers store no other kinds.
        _ => return None,
    };
    Some(OtlpPoint {
        name: point.name.clone(),
        unit: point.unit.clone(),
        attributes: texts(&point.attributes),
        resource: texts(&point.resource),
        time_ms: point.time_unix_nano / 1_000_000,
        value,
    })
}

fn floats(value: Option<&Value>) -> Vec<f64> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// Attributes as text pairs (strings as they are, other values as JSON).
fn texts(attributes: &Value) -> Vec<(String, String)> {
    attributes
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default()
}
