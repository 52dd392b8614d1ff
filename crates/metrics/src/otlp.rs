//! OTLP metric points as Prometheus series, named the way Prometheus' own
//! OTLP receiver names them, so one query works whichever way a number
//! arrived: `http.server.duration` in seconds, a histogram, becomes
//! `http_server_duration_seconds_bucket{le="…"}`, `…_sum` and `…_count`; a
//! monotonic sum gets `_total`; the resource's `service.name` (with
//! `service.namespace`) becomes `job` and `service.instance.id` `instance`.
//!
//! The input types are this crate's own (the telemetry receivers hand their
//! decoded points over through the deck; the two areas do not depend on
//! each other).

use crate::store::{Labels, NAME_LABEL};

/// How a sum's or histogram's values accumulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    /// Since a fixed start (what Prometheus stores).
    Cumulative,
    /// Since the previous point (not stored: Prometheus has no such series).
    Delta,
}

/// One OTLP data point's value.
#[derive(Debug, Clone, PartialEq)]
pub enum PointValue {
    /// A gauge.
    Gauge(f64),
    /// A sum: a counter when monotonic, else a gauge.
    Sum {
        /// Its value.
        value: f64,
        /// Whether it only goes up.
        monotonic: bool,
        /// How it accumulates.
        temporality: Temporality,
    },
    /// An explicit-bucket histogram.
    Histogram {
        /// Upper bounds of the buckets (the last bucket, to +Inf, has none).
        bounds: Vec<f64>,
        /// Count per bucket (one more than `bounds`).
        counts: Vec<u64>,
        /// Observations.
        count: u64,
        /// Their sum, when known.
        sum: Option<f64>,
        /// How it accumulates.
        temporality: Temporality,
    },
    /// Quantiles, sum and count.
    Summary {
        /// (quantile, value) pairs.
        quantiles: Vec<(f64, f64)>,
        /// Observations.
        count: u64,
        /// Their sum.
        sum: f64,
    },
    /// An exponential histogram (stored once native histograms are).
    ExponentialHistogram,
}

/// One OTLP data point with what names it.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpPoint {
    /// The instrument's name (`http.server.duration`).
    pub name: String,
    /// Its UCUM unit (`s`, `By`, `1`, `{request}`).
    pub unit: String,
    /// The point's attributes as text.
    pub attributes: Vec<(String, String)>,
    /// The resource's attributes as text.
    pub resource: Vec<(String, String)>,
    /// When it was measured, Unix milliseconds.
    pub time_ms: i64,
    /// Its value.
    pub value: PointValue,
}

/// The series samples of a batch, and what could not be stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Translated {
    /// (labels, Unix ms, value).
    pub samples: Vec<(Labels, i64, f64)>,
    /// Points with delta temporality (Prometheus keeps cumulative values only).
    pub delta_points: usize,
    /// Exponential histogram points (not yet stored).
    pub exponential_points: usize,
}

/// Turns OTLP points into series samples.
pub fn translate(points: &[OtlpPoint]) -> Translated {
    let mut out = Translated::default();
    for point in points {
        let base = base_labels(point);
        let at = point.time_ms;
        match &point.value {
            PointValue::Gauge(value) => {
                out.samples.push((
                    named(&base, &metric_name(&point.name, &point.unit, Shape::Gauge)),
                    at,
                    *value,
                ));
            }
            PointValue::Sum { value, monotonic, temporality } => {
                if *temporality == Temporality::Delta && *monotonic {
                    out.delta_points += 1;
                    continue;
                }
                let shape = if *monotonic { Shape::Counter } else { Shape::Gauge };
                out.samples.push((named(&base, &metric_name(&point.name, &point.unit, shape)), at, *value));
            }
            PointValue::Histogram { bounds, counts, count, sum, temporality } => {
                if *temporality == Temporality::Delta {
                    out.delta_points += 1;
                    continue;
                }
                let name = metric_name(&point.name, &point.unit, Shape::Histogram);
                let mut cumulative = 0_u64;
                for (index, bound) in bounds.iter().enumerate() {
                    cumulative += counts.get(index).copied().unwrap_or(0);
                    let mut labels = named(&base, &format!("{name}_bucket"));
                    labels.insert("le".to_owned(), format_bound(*bound));
                    out.samples.push((labels, at, cumulative as f64));
                }
                let mut labels = named(&base, &format!("{name}_bucket"));
                labels.insert("le".to_owned(), "+Inf".to_owned());
                out.samples.push((labels, at, *count as f64));
                if let Some(sum) = sum {
                    out.samples.push((named(&base, &format!("{name}_sum")), at, *sum));
                }
                out.samples.push((named(&base, &format!("{name}_count")), at, *count as f64));
            }
            PointValue::Summary { quantiles, count, sum } => {
                let name = metric_name(&point.name, &point.unit, Shape::Summary);
                for (quantile, value) in quantiles {
                    let mut labels = named(&base, &name);
                    labels.insert("quantile".to_owned(), format_bound(*quantile));
                    out.samples.push((labels, at, *value));
                }
                out.samples.push((named(&base, &format!("{name}_sum")), at, *sum));
                out.samples.push((named(&base, &format!("{name}_count")), at, *count as f64));
            }
            PointValue::ExponentialHistogram => out.exponential_points += 1,
        }
    }
    out
}

/// What kind of series a name is made for (it decides the suffixes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A gauge (or a sum that goes down).
    Gauge,
    /// A monotonic sum: `_total`.
    Counter,
    /// A histogram (its series add `_bucket`, `_sum`, `_count`).
    Histogram,
    /// A summary.
    Summary,
}

/// The Prometheus name of an OTLP metric: characters outside `[a-zA-Z0-9_:]`
/// become `_` (runs of them one), the unit is added as a word unless the
/// name has it already, counters end in `_total`, and a dimensionless
/// gauge (unit `1`) in `_ratio`.
pub fn metric_name(name: &str, unit: &str, shape: Shape) -> String {
    let mut words: Vec<String> =
        sanitize(name, true).split('_').filter(|word| !word.is_empty()).map(str::to_owned).collect();
    let unit_words = unit_words(unit);
    for word in unit_words.iter() {
        if !words.iter().any(|known| known == word) {
            words.push(word.clone());
        }
    }
    if shape == Shape::Gauge && unit == "1" && words.last().is_none_or(|last| last != "ratio") {
        words.push("ratio".to_owned());
    }
    if shape == Shape::Counter {
        if words.last().is_some_and(|last| last == "total") {
            words.pop();
        }
        words.push("total".to_owned());
    }
    let joined = words.join("_");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// The words a UCUM unit adds to a name (`ms` → `milliseconds`, `By/s` →
/// `bytes_per_second`; annotations in braces add nothing).
fn unit_words(unit: &str) -> Vec<String> {
    let unit = unit.trim();
    if unit.is_empty() || unit == "1" || (unit.starts_with('{') && unit.ends_with('}')) {
        return Vec::new();
    }
    let (main, per) = match unit.split_once('/') {
        Some((main, per)) => (main, Some(per)),
        None => (unit, None),
    };
    let mut words = Vec::new();
    let main = unit_word(main);
    if !main.is_empty() {
        words.push(main);
    }
    if let Some(per) = per.map(per_unit_word).filter(|word| !word.is_empty()) {
        words.push("per".to_owned());
        words.push(per);
    }
    words
}

fn unit_word(unit: &str) -> String {
    let known = match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        other if other.starts_with('{') => return String::new(),
        other => return sanitize(other, false).trim_matches('_').to_owned(),
    };
    known.to_owned()
}

fn per_unit_word(unit: &str) -> String {
    match unit {
        "s" => "second".to_owned(),
        "m" => "minute".to_owned(),
        "h" => "hour".to_owned(),
        "d" => "day".to_owned(),
        "w" => "week".to_owned(),
        "mo" => "month".to_owned(),
        "y" => "year".to_owned(),
        other => unit_word(other),
    }
}

/// Characters outside the allowed set as `_` (`:` allowed in metric names only).
fn sanitize(text: &str, colon: bool) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':') { c } else { '_' })
        .collect()
}

/// A label name from an attribute key: invalid characters as `_`, a
/// leading digit behind `key_`, runs of `_` kept (as Prometheus does).
pub fn label_name(key: &str) -> String {
    let name = sanitize(key, false);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{name}")
    } else {
        name
    }
}

/// The labels every series of a point carries: its attributes, and `job`
/// and `instance` from the resource.
fn base_labels(point: &OtlpPoint) -> Labels {
    let mut labels = Labels::new();
    for (key, value) in &point.attributes {
        let name = label_name(key);
        if name.is_empty() || name == NAME_LABEL || value.is_empty() {
            continue;
        }
        // Two keys that sanitize to one name: their values joined, in key order, as Prometheus does.
        labels
            .entry(name)
            .and_modify(|known: &mut String| {
                known.push(';');
                known.push_str(value);
            })
            .or_insert_with(|| value.clone());
    }
    let resource =
        |key: &str| point.resource.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str());
    if let Some(service) = resource("service.name") {
        let job = match resource("service.namespace") {
            Some(namespace) if !namespace.is_empty() => format!("{namespace}/{service}"),
            _ => service.to_owned(),
        };
        labels.insert("job".to_owned(), job);
    }
    if let Some(instance) = resource("service.instance.id").filter(|instance| !instance.is_empty()) {
        labels.insert("instance".to_owned(), instance.to_owned());
    }
    labels
}

fn named(base: &Labels, name: &str) -> Labels {
    let mut labels = base.clone();
    labels.insert(NAME_LABEL.to_owned(), name.to_owned());
    labels
}

/// A bucket bound or quantile as Prometheus writes it (`0.005`, `1`, `+Inf`).
fn format_bound(value: f64) -> String {
    if value == f64::INFINITY {
        "+Inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(name: &str, unit: &str, value: PointValue) -> OtlpPoint {
        OtlpPoint {
            name: name.to_owned(),
            unit: unit.to_owned(),
            attributes: vec![
                ("http.route".to_owned(), "/cart".to_owned()),
                ("1st".to_owned(), "yes".to_owned()),
            ],
            resource: vec![
                ("service.name".to_owned(), "checkout".to_owned()),
                ("service.namespace".to_owned(), "shop".to_owned()),
                ("service.instance.id".to_owned(), "pod-7".to_owned()),
            ],
            time_ms: 1_700_000_000_000,
            value,
        }
    }

    #[test]
    fn names_follow_prometheus_otlp_naming() {
        let cases = [
            ("http.server.duration", "s", Shape::Histogram, "http_server_duration_seconds"),
            ("http.server.request.count", "{request}", Shape::Counter, "http_server_request_count_total"),
            ("process.runtime.memory", "By", Shape::Gauge, "process_runtime_memory_bytes"),
            ("requests_total", "1", Shape::Counter, "requests_total"),
            ("cpu.utilization", "1", Shape::Gauge, "cpu_utilization_ratio"),
            ("network.io", "By/s", Shape::Gauge, "network_io_bytes_per_second"),
            ("latency.seconds", "s", Shape::Summary, "latency_seconds"),
            ("2xx.count", "", Shape::Counter, "_2xx_count_total"),
            ("queue--depth", "", Shape::Gauge, "queue_depth"),
        ];
        for (name, unit, shape, expected) in cases {
            assert_eq!(metric_name(name, unit, shape), expected, "{name} {unit}");
        }
        assert_eq!(label_name("http.route"), "http_route");
        assert_eq!(label_name("1st"), "key_1st");
    }

    #[test]
    fn each_kind_of_point_becomes_the_series_prometheus_would_have() {
        let points = [
            point("queue.depth", "{item}", PointValue::Gauge(3.0)),
            point(
                "http.server.requests",
                "{request}",
                PointValue::Sum { value: 10.0, monotonic: true, temporality: Temporality::Cumulative },
            ),
            point(
                "pool.size",
                "",
                PointValue::Sum { value: -2.0, monotonic: false, temporality: Temporality::Cumulative },
            ),
            point(
                "sent",
                "",
                PointValue::Sum { value: 1.0, monotonic: true, temporality: Temporality::Delta },
            ),
            point(
                "http.server.duration",
                "s",
                PointValue::Histogram {
                    bounds: vec![0.005, 0.1, 1.0],
                    counts: vec![2, 3, 4, 1],
                    count: 10,
                    sum: Some(3.5),
                    temporality: Temporality::Cumulative,
                },
            ),
            point(
                "rpc.latency",
                "ms",
                PointValue::Summary { quantiles: vec![(0.5, 12.0), (0.99, 80.0)], count: 7, sum: 140.0 },
            ),
            point("sizes", "By", PointValue::ExponentialHistogram),
        ];
        let translated = translate(&points);
        assert_eq!((translated.delta_points, translated.exponential_points), (1, 1));
        let shown: Vec<String> = translated
            .samples
            .iter()
            .map(|(labels, t, value)| {
                assert_eq!(*t, 1_700_000_000_000);
                assert_eq!(labels["job"], "shop/checkout");
                assert_eq!(labels["instance"], "pod-7");
                assert_eq!(labels["http_route"], "/cart");
                assert_eq!(labels["key_1st"], "yes");
                let extra: Vec<String> = ["le", "quantile"]
                    .iter()
                    .filter_map(|label| labels.get(*label).map(|value| format!("{label}={value}")))
                    .collect();
                format!("{}{{{}}} {value}", labels[NAME_LABEL], extra.join(","))
            })
            .collect();
        assert_eq!(
            shown,
            [
                "queue_depth{} 3",
                "http_server_requests_total{} 10",
                "pool_size{} -2",
                "http_server_duration_seconds_bucket{le=0.005} 2",
                "http_server_duration_seconds_bucket{le=0.1} 5",
                "http_server_duration_seconds_bucket{le=1} 9",
                "http_server_duration_seconds_bucket{le=+Inf} 10",
                "http_server_duration_seconds_sum{} 3.5",
                "http_server_duration_seconds_count{} 10",
                "rpc_latency_milliseconds{quantile=0.5} 12",
                "rpc_latency_milliseconds{quantile=0.99} 80",
                "rpc_latency_milliseconds_sum{} 140",
                "rpc_latency_milliseconds_count{} 7",
            ]
        );
    }
}
