//! OTLP metric points as Prometheus series, named the way Prometheus' own
//! OTLP receiver names them, so one query works whichever way a number
//! arrived: `http.server.duration` in seconds, a histogram, becomes
//! `http_server_duration_seconds_bucket{le="…"}`, `…_sum` and `…_count`; a
//! monotonic sum gets `_total`; the resource's `service.name` (with
//! `service.namespace`) becomes `job` and `service.instance.id` `instance`.
//!
//! Prometheus keeps cumulative values only: a point with delta temporality
//! is added to a running total per series ([`Translator`] keeps them, as
//! an OpenTelemetry Collector's delta-to-cumulative processor would; a
//! restart starts them again at zero, which `rate()` reads as a counter
//! reset). An exponential histogram becomes classic `_bucket{le}` series at
//! its bucket bounds, merged down to at most [`EXPONENTIAL_SCALE`] (2^(1/4)
//! apart, so a quantile is off by at most 19 %) and so the same bounds
//! from point to point while the SDK narrows its scale.
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
    /// An exponential histogram: bucket `i` at scale `s` holds values in
    /// (2^(i/2^s), 2^((i+1)/2^s)] (negatives mirrored).
    ExponentialHistogram {
        /// The resolution.
        scale: i32,
        /// Values within ±`zero_threshold`.
        zero_count: u64,
        /// Where the zero bucket ends.
        zero_threshold: f64,
        /// The first positive bucket's index and the counts from it.
        positive: (i32, Vec<u64>),
        /// The same for negative values (index by magnitude).
        negative: (i32, Vec<u64>),
        /// Observations.
        count: u64,
        /// Their sum, when known.
        sum: Option<f64>,
        /// How it accumulates.
        temporality: Temporality,
    },
}

/// The finest scale exponential histograms are kept at (buckets 2^(1/4)
/// apart); finer points are merged down to it.
pub const EXPONENTIAL_SCALE: i32 = 2;

/// The most series a [`Translator`] keeps running totals for; delta points
/// of further series are counted as dropped.
pub const MAX_RUNNING_SERIES: usize = 100_000;

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
    /// Points with delta temporality, added to running totals.
    pub delta_points: usize,
    /// Delta points dropped: beyond [`MAX_RUNNING_SERIES`] running totals.
    pub dropped_delta_points: usize,
    /// Exponential histogram points, stored as classic buckets.
    pub exponential_points: usize,
    /// The names of the histograms among the samples (their buckets, count
    /// and sum are stored together: see [`crate::SeriesStore::append_typed`]).
    pub histograms: crate::HistogramNames,
}

/// Turns OTLP points into series samples, one batch at a time, keeping the
/// running totals of delta series between batches.
#[derive(Debug, Default)]
pub struct Translator {
    running: std::collections::HashMap<Labels, f64>,
}

/// Turns one batch of OTLP points into series samples (delta points summed
/// within the batch only; [`Translator`] keeps them across batches).
pub fn translate(points: &[OtlpPoint]) -> Translated {
    Translator::default().translate(points)
}

impl Translator {
    /// The samples of `points`.
    pub fn translate(&mut self, points: &[OtlpPoint]) -> Translated {
        let mut out = Translated::default();
        for point in points {
            let before = out.samples.len();
            let delta = translate_point(point, &mut out);
            if delta {
                out.delta_points += 1;
                if !self.accumulate(&mut out.samples[before..]) {
                    out.samples.truncate(before);
                    out.dropped_delta_points += 1;
                }
            }
        }
        out
    }

    /// Turns delta `samples` into running totals; false when they would
    /// need more running series than allowed.
    fn accumulate(&mut self, samples: &mut [(Labels, i64, f64)]) -> bool {
        let new = samples.iter().filter(|(labels, _, _)| !self.running.contains_key(labels)).count();
        if self.running.len() + new > MAX_RUNNING_SERIES {
            return false;
        }
        for (labels, _, value) in samples.iter_mut() {
            let total = self.running.entry(labels.clone()).or_insert(0.0);
            *total += *value;
            *value = *total;
        }
        true
    }
}

/// Adds the samples of one point to `out`; true when they are deltas.
fn translate_point(point: &OtlpPoint, out: &mut Translated) -> bool {
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
            let shape = if *monotonic { Shape::Counter } else { Shape::Gauge };
            out.samples.push((named(&base, &metric_name(&point.name, &point.unit, shape)), at, *value));
            // A non-monotonic delta sum (an up-down counter) adds up too.
            return *temporality == Temporality::Delta;
        }
        PointValue::Histogram { bounds, counts, count, sum, temporality } => {
            let buckets = bounds
                .iter()
                .enumerate()
                .map(|(index, bound)| (*bound, counts.get(index).copied().unwrap_or(0)));
            push_histogram(out, point, &base, buckets, *count, *sum);
            return *temporality == Temporality::Delta;
        }
        PointValue::ExponentialHistogram {
            scale,
            zero_count,
            zero_threshold,
            positive,
            negative,
            count,
            sum,
            temporality,
        } => {
            out.exponential_points += 1;
            let buckets = exponential_buckets(*scale, *zero_count, *zero_threshold, positive, negative);
            push_histogram(out, point, &base, buckets.into_iter(), *count, *sum);
            return *temporality == Temporality::Delta;
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
    }
    false
}

/// A histogram's classic series: `_bucket{le}` for each (upper bound, count)
/// given in ascending order (made cumulative), `_bucket{le="+Inf"}`, `_sum`
/// when known and `_count`.
fn push_histogram(
    out: &mut Translated,
    point: &OtlpPoint,
    base: &Labels,
    buckets: impl Iterator<Item = (f64, u64)>,
    count: u64,
    sum: Option<f64>,
) {
    let name = metric_name(&point.name, &point.unit, Shape::Histogram);
    let at = point.time_ms;
    let bucket_name = format!("{name}_bucket");
    if !out.histograms.contains(&name) {
        out.histograms.insert(name.clone());
    }
    let mut cumulative = 0_u64;
    for (bound, bucket) in buckets.chain(std::iter::once((f64::INFINITY, 0))) {
        // The +Inf bucket holds every observation, whatever the finite ones add up to.
        cumulative = if bound == f64::INFINITY { count } else { cumulative + bucket };
        let mut labels = named(base, &bucket_name);
        labels.insert("le".to_owned(), format_bound(bound));
        out.samples.push((labels, at, cumulative as f64));
    }
    if let Some(sum) = sum {
        out.samples.push((named(base, &format!("{name}_sum")), at, sum));
    }
    out.samples.push((named(base, &format!("{name}_count")), at, count as f64));
}

/// An exponential histogram's buckets as (upper bound, count), ascending:
/// negative buckets (most negative first), the zero bucket, then positive
/// ones, merged down to [`EXPONENTIAL_SCALE`]. Empty buckets at either end
/// are left out, those between kept.
fn exponential_buckets(
    scale: i32,
    zero_count: u64,
    zero_threshold: f64,
    positive: &(i32, Vec<u64>),
    negative: &(i32, Vec<u64>),
) -> Vec<(f64, u64)> {
    let target = scale.min(EXPONENTIAL_SCALE);
    // Merging 2^(scale - target) buckets: index i goes to i >> shift.
    let shift = (scale - target).clamp(0, 62) as u32;
    let merged = |(offset, counts): &(i32, Vec<u64>)| {
        let mut by_index: std::collections::BTreeMap<i64, u64> = std::collections::BTreeMap::new();
        for (at, bucket) in counts.iter().enumerate() {
            if *bucket > 0 {
                let index = (i64::from(*offset) + at as i64) >> shift;
                *by_index.entry(index).or_default() += bucket;
            }
        }
        // Empty buckets between the first and the last are kept: a classic
        // bucket spans from the bound below it, and a gap would widen it.
        if let (Some(first), Some(last)) =
            (by_index.keys().next().copied(), by_index.keys().next_back().copied())
        {
            for index in first..last {
                by_index.entry(index).or_default();
            }
        }
        by_index
    };
    // Bucket i at scale t ends at 2^((i + 1) / 2^t): a whole power of two
    // times one of 2^(m/4), so √2 is exactly √2 and equal bounds are equal.
    let quarters = [1.0, 2_f64.powf(0.25), std::f64::consts::SQRT_2, 2_f64.powf(0.75)];
    let bound = |index: i64| {
        let n = index + 1;
        if target < 0 {
            return 2_f64.powi((n << (-target).min(30)).clamp(-1100, 1100) as i32);
        }
        let per = 1_i64 << target;
        let whole = n.div_euclid(per).clamp(-1100, 1100) as i32;
        let part = n.rem_euclid(per) * (4 / per);
        quarters[part as usize] * 2_f64.powi(whole)
    };
    let mut buckets = Vec::new();
    // A negative bucket i holds [-2^((i+1)/2^t), -2^(i/2^t)): its upper bound is -2^(i/2^t).
    for (index, bucket) in merged(negative).into_iter().rev() {
        buckets.push((-bound(index - 1), bucket));
    }
    if zero_count > 0 || !buckets.is_empty() {
        buckets.push((zero_threshold.max(0.0), zero_count));
    }
    for (index, bucket) in merged(positive) {
        buckets.push((bound(index), bucket));
    }
    buckets
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
            point(
                "sizes",
                "By",
                PointValue::ExponentialHistogram {
                    scale: 3,
                    zero_count: 1,
                    zero_threshold: 0.0,
                    positive: (8, vec![1, 0, 0, 0, 2, 0]),
                    negative: (0, vec![3]),
                    count: 7,
                    sum: Some(12.5),
                    temporality: Temporality::Cumulative,
                },
            ),
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
                "sent_total{} 1",
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
                // Scale 3 merged down to 2: buckets 8 and 9 end at 2^(5/4),
                // 10 and 11 at 2^(6/4) (empty, kept), 12 and 13 at 2^(7/4).
                "sizes_bytes_bucket{le=-1} 3",
                "sizes_bytes_bucket{le=0} 4",
                "sizes_bytes_bucket{le=2.378414230005442} 5",
                "sizes_bytes_bucket{le=2.8284271247461903} 5",
                "sizes_bytes_bucket{le=3.363585661014858} 7",
                "sizes_bytes_bucket{le=+Inf} 7",
                "sizes_bytes_sum{} 12.5",
                "sizes_bytes_count{} 7",
            ]
        );
    }

    #[test]
    fn delta_points_add_up_across_batches_and_running_totals_are_bounded() {
        let delta = |value: f64| {
            point("sent", "", PointValue::Sum { value, monotonic: true, temporality: Temporality::Delta })
        };
        let histogram = |counts: Vec<u64>| {
            point(
                "wait",
                "s",
                PointValue::Histogram {
                    bounds: vec![1.0],
                    count: counts.iter().sum(),
                    counts,
                    sum: Some(1.0),
                    temporality: Temporality::Delta,
                },
            )
        };
        let mut translator = Translator::default();
        let first = translator.translate(&[delta(1.0), histogram(vec![2, 1])]);
        let second = translator.translate(&[delta(2.5), histogram(vec![0, 4])]);
        assert_eq!(second.delta_points, 2);
        let value = |out: &Translated, name: &str, le: Option<&str>| {
            out.samples
                .iter()
                .find(|(labels, _, _)| {
                    labels[NAME_LABEL] == name && labels.get("le").map(String::as_str) == le
                })
                .map(|(_, _, value)| *value)
        };
        assert_eq!(value(&first, "sent_total", None), Some(1.0));
        assert_eq!(value(&second, "sent_total", None), Some(3.5));
        assert_eq!(value(&second, "wait_seconds_bucket", Some("1")), Some(2.0));
        assert_eq!(value(&second, "wait_seconds_bucket", Some("+Inf")), Some(7.0));
        assert_eq!(value(&second, "wait_seconds_sum", None), Some(2.0));

        // Beyond the bound, new delta series are dropped and counted, known ones go on.
        let mut full = Translator::default();
        for index in 0..MAX_RUNNING_SERIES {
            full.running.insert([("__name__".to_owned(), format!("x{index}"))].into_iter().collect(), 0.0);
        }
        let refused = full.translate(&[delta(1.0)]);
        assert_eq!((refused.samples.len(), refused.dropped_delta_points), (0, 1));
    }
}
