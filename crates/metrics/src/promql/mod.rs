//! PromQL over the series store: instant and range queries, evaluated as
//! Prometheus evaluates them (the correctness bar is equal answers on equal
//! data; `tests/promql` compares with a real Prometheus).
//!
//! A query is parsed by the `promql-parser` crate, never by hand. It then
//! runs in two steps: [`plan`] walks the expression and works out, for each
//! series selector, which time range it reads (lookback, ranges, offsets
//! and subqueries widen it); those ranges are loaded from the store once;
//! [`eval`] then evaluates the expression at each step over what was
//! loaded, without touching the store again. Keeping evaluation pure keeps
//! it testable without a store and its cost visible.
//!
//! Semantics follow Prometheus 2.x, which this project compares against:
//! ranges and the lookback window are closed at both ends (`[t-5m, t]`);
//! Prometheus 3 made them open on the left, which only changes answers
//! where a sample falls exactly on the window's start.

mod aggregate;
mod binary;
mod eval;
mod functions;
mod plan;
mod range;

use std::collections::HashMap;

use promql_parser::parser::{self, Expr};
use serde::Serialize;

use crate::store::{Labels, MetricsError, SeriesSamples, SeriesStore};

pub use eval::Value;

/// How far back an instant selector looks for a series' latest sample.
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// The step of a subquery that names none, in an instant query (a range
/// query uses its own step), as Prometheus' default evaluation interval.
pub const DEFAULT_SUBQUERY_STEP_MS: i64 = 60 * 1000;

/// At most this many steps in one range query (Prometheus' limit too).
pub const MAX_STEPS: i64 = 11_000;

/// What a query returns at one instant: its result type and value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum QueryResult {
    /// A number.
    Scalar(ScalarValue),
    /// A string.
    String(StringValue),
    /// One value per series.
    Vector(Vec<VectorItem>),
    /// Many values per series (a range query, or a range selector).
    Matrix(Vec<MatrixItem>),
}

/// A time and a value, written as Prometheus' API writes them:
/// `[1700000000.5, "42"]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalarValue {
    /// Unix milliseconds.
    pub t: i64,
    /// The value (its text is made when the answer is written).
    pub v: f64,
}

/// `[seconds, "text"]`, the pair Prometheus' API writes for a point.
fn serialize_point<S: serde::Serializer>(serializer: S, t: i64, text: &str) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeTuple;
    let mut tuple = serializer.serialize_tuple(2)?;
    tuple.serialize_element(&seconds(t))?;
    tuple.serialize_element(text)?;
    tuple.end()
}

impl Serialize for ScalarValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_point(serializer, self.t, &format_value(self.v))
    }
}

/// A time and a string: `[1700000000.5, "text"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct StringValue {
    /// Unix milliseconds.
    pub t: i64,
    /// The string.
    pub value: String,
}

impl Serialize for StringValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_point(serializer, self.t, &self.value)
    }
}

/// One series' value at an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VectorItem {
    /// Its labels.
    pub metric: Labels,
    /// When and what.
    pub value: ScalarValue,
}

/// One series' values over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixItem {
    /// Its labels.
    pub metric: Labels,
    /// Its values, oldest first.
    pub values: Vec<ScalarValue>,
}

/// Unix milliseconds as the seconds Prometheus' API writes.
fn seconds(t: i64) -> serde_json::Number {
    serde_json::Number::from_f64(t as f64 / 1000.0).unwrap_or_else(|| serde_json::Number::from(0))
}

/// A value as Prometheus writes it: the shortest text that reads back the
/// same, `+Inf`, `-Inf`, `NaN`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

/// A value as written by [`format_value`] or Prometheus' API (`+Inf`,
/// `NaN`, `1e3`) read back; anything else is NaN.
pub fn parse_value(text: &str) -> f64 {
    functions::parse_go_float(text).unwrap_or(f64::NAN)
}

/// A duration in PromQL's notation (`1m30s`, `2h`) in milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    promql_parser::util::parse_duration(text)
        .map(|duration| i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
}

/// `text` with `holt_winters(` (its name up to Prometheus 2) written as
/// `double_exponential_smoothing(` (its name since, the only one the parser
/// knows), outside string literals, so queries and rules written for either
/// version read the same.
fn with_current_names(text: &str) -> String {
    const OLD: &str = "holt_winters";
    let mut out = String::with_capacity(text.len() + 16);
    let mut quote: Option<char> = None;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(open) = quote {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            if c == '\\' {
                if let Some(escaped) = rest.chars().next() {
                    out.push(escaped);
                    rest = &rest[escaped.len_utf8()..];
                }
            } else if c == open {
                quote = None;
            }
            continue;
        }
        if matches!(c, '"' | '\'' | '`') {
            quote = Some(c);
        } else if rest.starts_with(OLD)
            && !out
                .chars()
                .last()
                .is_some_and(|before| before.is_ascii_alphanumeric() || before == '_' || before == ':')
            && rest[OLD.len()..].trim_start().starts_with('(')
        {
            out.push_str("double_exponential_smoothing");
            rest = &rest[OLD.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// What a query failed for, in the categories of Prometheus' API.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query or its parameters are malformed (`bad_data`).
    #[error("{0}")]
    BadData(String),
    /// The query is well formed but cannot be evaluated on this data
    /// (`execution`), e.g. a one-to-one match that found many series.
    #[error("{0}")]
    Execution(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] MetricsError),
}

impl QueryError {
    /// Prometheus' `errorType` for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            QueryError::BadData(_) => "bad_data",
            QueryError::Execution(_) => "execution",
            QueryError::Store(_) => "internal",
        }
    }

    /// A stable, machine-readable code for OpsDeck's own front ends.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::BadData(_) => "invalid_input",
            QueryError::Execution(_) => "query_failed",
            QueryError::Store(error) => error.code(),
        }
    }
}

/// A parsed query, ready to run at an instant or over a range.
#[derive(Debug, Clone)]
pub struct Query {
    text: String,
    /// Shared, never copied: what was loaded for a query is found again by
    /// the addresses of its selector nodes.
    expr: std::sync::Arc<Expr>,
}

impl Query {
    /// Parses `text`; a malformed query is refused with the parser's words.
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(QueryError::BadData("the query is empty; write one, like up or rate(x[5m])".into()));
        }
        let expr = parser::parse(&with_current_names(text))
            .map_err(|error| QueryError::BadData(format!("`{text}` is not valid PromQL: {error}")))?;
        plan::check_supported(&expr)?;
        Ok(Query { text: text.to_owned(), expr: std::sync::Arc::new(expr) })
    }

    fn root(&self) -> usize {
        std::sync::Arc::as_ptr(&self.expr) as usize
    }

    /// The query's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates the query at `t` (Unix ms) over series loaded from `store`.
    pub async fn instant(&self, store: &SeriesStore, t: i64) -> Result<QueryResult, QueryError> {
        let data = Loaded::load(store, self, t, t, DEFAULT_SUBQUERY_STEP_MS).await?;
        self.instant_on(&data, t)
    }

    /// Evaluates the query at every `step` from `start` to `end` (Unix ms).
    pub async fn range(
        &self,
        store: &SeriesStore,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        check_range(start, end, step)?;
        let data = Loaded::load(store, self, start, end, step).await?;
        self.range_on(&data, start, end, step)
    }

    /// [`Query::instant`] over series already loaded.
    pub fn instant_on(&self, data: &Loaded, t: i64) -> Result<QueryResult, QueryError> {
        data.check_loaded_for(self)?;
        let evaluator = eval::Evaluator::new(data, t, t, DEFAULT_SUBQUERY_STEP_MS);
        Ok(match evaluator.eval(&self.expr, t)? {
            Value::Scalar(v) => QueryResult::Scalar(ScalarValue { t, v }),
            Value::String(text) => QueryResult::String(StringValue { t, value: text }),
            Value::Vector(vector) => {
                eval::check_unique(&vector)?;
                QueryResult::Vector(
                    vector
                        .into_iter()
                        .map(|element| VectorItem {
                            metric: element.labels,
                            value: ScalarValue { t, v: element.v },
                        })
                        .collect(),
                )
            }
            Value::Matrix(matrix) => QueryResult::Matrix(
                matrix
                    .into_iter()
                    .map(|series| MatrixItem {
                        metric: series.labels,
                        values: series
                            .samples
                            .iter()
                            .map(|sample| ScalarValue { t: sample.t, v: sample.v })
                            .collect(),
                    })
                    .collect(),
            ),
        })
    }

    /// [`Query::range`] over series already loaded.
    pub fn range_on(
        &self,
        data: &Loaded,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        check_range(start, end, step)?;
        data.check_loaded_for(self)?;
        if range::supported(&self.expr) {
            return self.range_by_series(data, start, end, step);
        }
        let evaluator = eval::Evaluator::new(data, start, end, step);
        let mut series: HashMap<Labels, Vec<ScalarValue>> = HashMap::new();
        let mut t = start;
        while t <= end {
            match evaluator.eval(&self.expr, t)? {
                Value::Scalar(v) => series.entry(Labels::new()).or_default().push(ScalarValue { t, v }),
                Value::Vector(vector) => {
                    eval::check_unique(&vector)?;
                    for element in vector {
                        series.entry(element.labels).or_default().push(ScalarValue { t, v: element.v });
                    }
                }
                Value::Matrix(_) | Value::String(_) => {
                    return Err(QueryError::BadData(format!(
                    "`{}` gives a {}; a range query needs a number or an instant vector (drop the [range])",
                    self.text,
                    evaluator.type_name(&self.expr)
                )))
                }
            }
            t += step;
        }
        let mut matrix: Vec<MatrixItem> =
            series.into_iter().map(|(metric, values)| MatrixItem { metric, values }).collect();
        matrix.sort_by(|a, b| a.metric.cmp(&b.metric));
        Ok(QueryResult::Matrix(matrix))
    }
}

impl Query {
    /// A range query evaluated a series at a time (see [`range`]).
    fn range_by_series(
        &self,
        data: &Loaded,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        let steps: Vec<i64> = (0..=(end - start) / step).map(|index| start + index * step).collect();
        let evaluator = range::RangeEvaluator { data, steps };
        let series = match evaluator.eval(&self.expr)? {
            range::Range::Scalar(values) => vec![range::Series {
                labels: std::sync::Arc::new(Labels::new()),
                values: values.into_iter().map(Some).collect(),
            }],
            range::Range::Vector(series) => series,
        };
        // One answer per label set: two series that became alike (their
        // names dropped) may not both have a value at one step.
        let mut merged: HashMap<std::sync::Arc<Labels>, Vec<Option<f64>>> = HashMap::new();
        for one in series {
            match merged.get_mut(&one.labels) {
                None => {
                    merged.insert(one.labels, one.values);
                }
                Some(values) => {
                    for (slot, value) in values.iter_mut().zip(one.values) {
                        if value.is_some() {
                            if slot.is_some() {
                                return Err(QueryError::Execution(
                                    "vector cannot contain metrics with the same labelset".to_owned(),
                                ));
                            }
                            *slot = value;
                        }
                    }
                }
            }
        }
        let mut matrix: Vec<MatrixItem> = merged
            .into_iter()
            .filter_map(|(labels, values)| {
                let values: Vec<ScalarValue> = values
                    .into_iter()
                    .zip(&evaluator.steps)
                    .filter_map(|(value, &t)| value.map(|v| ScalarValue { t, v }))
                    .collect();
                (!values.is_empty())
                    .then(|| MatrixItem { metric: std::sync::Arc::unwrap_or_clone(labels), values })
            })
            .collect();
        matrix.sort_by(|a, b| a.metric.cmp(&b.metric));
        Ok(QueryResult::Matrix(matrix))
    }
}

fn check_range(start: i64, end: i64, step: i64) -> Result<(), QueryError> {
    if step <= 0 {
        return Err(QueryError::BadData(
            "zero or negative query resolution step widths are not accepted; give a positive step".into(),
        ));
    }
    if end < start {
        return Err(QueryError::BadData("the end of the range is before its start".into()));
    }
    if (end - start) / step > MAX_STEPS {
        return Err(QueryError::BadData(format!(
            "exceeded maximum resolution of {MAX_STEPS} points per series; try a wider step or a shorter range"
        )));
    }
    Ok(())
}

/// The series a query reads, loaded once for the whole evaluation.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The address of the expression it was loaded for.
    root: usize,
    /// Per selector node of the expression (its address while the query
    /// lives), the series it selects with every sample it may read.
    by_selector: HashMap<usize, Vec<SeriesSamples>>,
}

/// The most samples one query may read: `OPSDECK_QUERY_MAX_SAMPLES`, or 50
/// million (Prometheus' `--query.max-samples`), so a query over everything
/// fails with a reason instead of exhausting memory.
pub fn max_samples() -> usize {
    static LIMIT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("OPSDECK_QUERY_MAX_SAMPLES")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .filter(|limit| *limit > 0)
            .unwrap_or(50_000_000)
    })
}

impl Loaded {
    /// Loads, from `store`, what evaluating `expr` from `start` to `end`
    /// (range queries: at every `step`) reads.
    pub async fn load(
        store: &SeriesStore,
        query: &Query,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Loaded, QueryError> {
        let mut loaded = Loaded { root: query.root(), ..Loaded::default() };
        let limit = max_samples();
        let mut samples = 0_usize;
        for need in plan::needs(&query.expr, start, end, step) {
            let matchers = plan::matchers(need.selector)?;
            let series = store.select(&matchers, need.from, need.to).await?;
            samples += series.iter().map(|one| one.samples.len()).sum::<usize>();
            if samples > limit {
                return Err(QueryError::Execution(format!(
                    "`{}` would read more than {limit} samples, the most a query may (OPSDECK_QUERY_MAX_SAMPLES); \
                     narrow its selectors or its time range",
                    query.text
                )));
            }
            loaded.by_selector.insert(need.key, series);
        }
        Ok(loaded)
    }

    /// Loads from series given here (tests, and data already in memory):
    /// every selector of `query` sees whichever of `series` it matches.
    pub fn from_series(query: &Query, series: &[SeriesSamples]) -> Result<Loaded, QueryError> {
        let mut loaded = Loaded { root: query.root(), ..Loaded::default() };
        for need in plan::needs(&query.expr, i64::MIN / 4, i64::MAX / 4, 1) {
            let matchers = plan::matchers(need.selector)?;
            let selected = series
                .iter()
                .filter(|one| matchers.iter().all(|matcher| matcher.accepts(&one.labels)))
                .cloned()
                .collect();
            loaded.by_selector.insert(need.key, selected);
        }
        Ok(loaded)
    }

    fn check_loaded_for(&self, query: &Query) -> Result<(), QueryError> {
        if self.root == query.root() {
            Ok(())
        } else {
            Err(QueryError::Execution(format!("the series loaded are not those of `{}`", query.text)))
        }
    }

    fn series(&self, key: usize) -> &[SeriesSamples] {
        self.by_selector.get(&key).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{Sample, STALE_NAN_BITS};

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    /// A series sampled every `every_s` from 0 with `value(i)`.
    fn series(pairs: &[(&str, &str)], every_s: i64, values: &[f64]) -> SeriesSamples {
        let samples =
            values.iter().enumerate().map(|(i, v)| Sample { t: i as i64 * every_s * 1000, v: *v }).collect();
        SeriesSamples { labels: labels(pairs), samples }
    }

    fn instant(text: &str, data: &[SeriesSamples], at_s: i64) -> Result<QueryResult, QueryError> {
        let query = Query::parse(text)?;
        let loaded = Loaded::from_series(&query, data)?;
        query.instant_on(&loaded, at_s * 1000)
    }

    /// The vector's (labels, value) pairs, sorted by labels.
    fn vector(result: QueryResult) -> Vec<(String, f64)> {
        let QueryResult::Vector(items) = result else { panic!("not a vector: {result:?}") };
        let mut pairs: Vec<(String, f64)> =
            items.into_iter().map(|item| (crate::store::series_text(&item.metric), item.value.v)).collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    fn counter() -> Vec<SeriesSamples> {
        // +1 every 15 s, reset to 0 at sample 20 (300 s).
        let values: Vec<f64> = (0..40).map(|i| if i < 20 { i as f64 } else { (i - 20) as f64 }).collect();
        vec![series(&[("__name__", "requests_total"), ("job", "shop")], 15, &values)]
    }

    #[test]
    fn rate_and_increase_extrapolate_to_the_range_and_add_back_counter_resets() {
        let data = counter();
        let rate = vector(instant("rate(requests_total[1m])", &data, 240).unwrap());
        assert_eq!(rate.len(), 1);
        assert_eq!(rate[0].0, "{job=\"shop\"}", "rate drops the name");
        assert!(close(rate[0].1, 1.0 / 15.0), "{rate:?}");
        // Across the reset at 300 s (19 -> 0) the drop is added back: 16..19, then 0..4.
        let across = vector(instant("increase(requests_total[2m])", &data, 360).unwrap());
        assert!(close(across[0].1, 7.0), "{across:?}");
        // Samples at 15 s from the range's start: extrapolated by half an interval.
        let half = vector(instant("increase(requests_total[70s])", &data, 240).unwrap());
        // 5 samples (180..240 s) cover 60 s with 4 increments; 10 s to the
        // start is within 1.1 intervals, so the range's 70 s is covered.
        assert!(close(half[0].1, 4.0 * 70.0 / 60.0), "{half:?}");
        let irate = vector(instant("irate(requests_total[1m])", &data, 300).unwrap());
        assert!(close(irate[0].1, 0.0), "a reset to 0 gives 0/15 s: {irate:?}");
    }

    #[test]
    fn an_instant_selector_looks_back_five_minutes_and_stops_at_a_staleness_marker() {
        let mut data = vec![series(&[("__name__", "up"), ("job", "a")], 60, &[1.0, 1.0, 1.0])];
        data.push(series(&[("__name__", "up"), ("job", "b")], 60, &[1.0, 1.0]));
        data[1].samples.push(Sample { t: 120_000, v: f64::from_bits(STALE_NAN_BITS) });
        let at_150 = vector(instant("up", &data, 150).unwrap());
        assert_eq!(at_150.len(), 1, "b ended with a staleness marker: {at_150:?}");
        let at_119 = vector(instant("up", &data, 119).unwrap());
        assert_eq!(at_119.len(), 2);
        assert_eq!(vector(instant("up", &data, 120 + 300).unwrap()).len(), 1, "300 s back is still in");
        assert!(vector(instant("up", &data, 120 + 301).unwrap()).is_empty(), "past the lookback");
        let counted = vector(instant("count_over_time(up[10m])", &data, 200).unwrap());
        assert_eq!(
            counted,
            vec![("{job=\"a\"}".into(), 3.0), ("{job=\"b\"}".into(), 2.0)],
            "markers are not samples"
        );
    }

    #[test]
    fn aggregations_group_by_and_without_labels() {
        let data = vec![
            series(&[("__name__", "m"), ("job", "a"), ("instance", "1")], 60, &[1.0]),
            series(&[("__name__", "m"), ("job", "a"), ("instance", "2")], 60, &[3.0]),
            series(&[("__name__", "m"), ("job", "b"), ("instance", "1")], 60, &[10.0]),
        ];
        let by_job = vector(instant("sum by (job) (m)", &data, 0).unwrap());
        assert_eq!(by_job, vec![("{job=\"a\"}".into(), 4.0), ("{job=\"b\"}".into(), 10.0)]);
        let without = vector(instant("avg without (instance) (m)", &data, 0).unwrap());
        assert_eq!(without, vec![("{job=\"a\"}".into(), 2.0), ("{job=\"b\"}".into(), 10.0)]);
        let top = vector(instant("topk(1, m)", &data, 0).unwrap());
        assert_eq!(top, vec![("m{instance=\"1\", job=\"b\"}".into(), 10.0)]);
        let q = vector(instant("quantile(0.5, m)", &data, 0).unwrap());
        assert_eq!(q, vec![("{}".into(), 3.0)]);
        let values = vector(instant("count_values(\"v\", m)", &data, 0).unwrap());
        assert_eq!(values.len(), 3);
    }

    #[test]
    fn binary_operators_match_series_and_refuse_ambiguous_matches() {
        let data = vec![
            series(&[("__name__", "errors"), ("job", "a"), ("code", "500")], 60, &[2.0]),
            series(&[("__name__", "errors"), ("job", "a"), ("code", "503")], 60, &[6.0]),
            series(&[("__name__", "requests"), ("job", "a")], 60, &[100.0]),
        ];
        let ratio = vector(instant("errors / on(job) group_left requests", &data, 0).unwrap());
        assert_eq!(
            ratio,
            vec![("{code=\"500\", job=\"a\"}".into(), 0.02), ("{code=\"503\", job=\"a\"}".into(), 0.06)]
        );
        let error = instant("errors / on(job) requests", &data, 0).unwrap_err();
        assert!(error.to_string().contains("many-to-one matching must be explicit"), "{error}");
        assert_eq!(error.error_type(), "execution");
        let filtered = vector(instant("errors > 3", &data, 0).unwrap());
        assert_eq!(filtered, vec![("errors{code=\"503\", job=\"a\"}".into(), 6.0)]);
        let as_bool = vector(instant("errors > bool 3", &data, 0).unwrap());
        assert_eq!(as_bool.iter().map(|pair| pair.1).collect::<Vec<_>>(), vec![0.0, 1.0]);
        let unless = vector(instant("errors unless on(code) errors{code=\"500\"}", &data, 0).unwrap());
        assert_eq!(unless.len(), 1);
        let QueryResult::Scalar(scalar) = instant("2 ^ 3 % 5", &data, 0).unwrap() else { panic!() };
        assert_eq!(scalar.v, 3.0);
    }

    #[test]
    fn histogram_quantile_interpolates_within_the_bucket() {
        let bucket = |le: &str, count: f64| {
            series(&[("__name__", "latency_seconds_bucket"), ("job", "a"), ("le", le)], 60, &[count])
        };
        let data = vec![bucket("0.1", 50.0), bucket("0.5", 90.0), bucket("1", 100.0), bucket("+Inf", 100.0)];
        let p50 = vector(instant("histogram_quantile(0.5, latency_seconds_bucket)", &data, 0).unwrap());
        assert_eq!(p50.len(), 1);
        assert!(close(p50[0].1, 0.1), "{p50:?}");
        let p95 = vector(instant("histogram_quantile(0.95, latency_seconds_bucket)", &data, 0).unwrap());
        assert!(close(p95[0].1, 0.5 + 0.5 * 0.5), "{p95:?}");
    }

    #[test]
    fn absent_offset_and_subqueries() {
        let data = counter();
        let absent = vector(instant("absent(nothing{job=\"shop\", env=~\"p.*\"})", &data, 0).unwrap());
        assert_eq!(absent, vec![("{job=\"shop\"}".into(), 1.0)]);
        let offset = vector(instant("requests_total offset 1m", &data, 120).unwrap());
        assert_eq!(offset[0].1, 4.0);
        // The rate is 1/15 everywhere but across the reset.
        let sub = vector(instant("max_over_time(rate(requests_total[1m])[2m:30s])", &data, 240).unwrap());
        assert!(close(sub[0].1, 1.0 / 15.0), "{sub:?}");
    }

    #[test]
    fn bad_queries_are_refused_with_what_was_wrong() {
        for (text, problem) in
            [("", "empty"), ("rate(x[5m]", "is not valid PromQL"), ("acos(x)", "not supported")]
        {
            let error = Query::parse(text).unwrap_err();
            assert!(error.to_string().contains(problem), "{text}: {error}");
            assert_eq!(error.error_type(), "bad_data");
        }
        let query = Query::parse("x[5m]").unwrap();
        let loaded = Loaded::from_series(&query, &counter()).unwrap();
        let error = query.range_on(&loaded, 0, 60_000, 15_000).unwrap_err();
        assert!(error.to_string().contains("range query needs"), "{error}");
        let other = Query::parse("x[5m]").unwrap();
        assert!(other.instant_on(&loaded, 0).is_err(), "data loaded for another query is refused");
    }
}

#[cfg(test)]
mod name_tests {
    #[test]
    fn holt_winters_is_read_under_its_current_name_outside_strings() {
        assert_eq!(
            super::with_current_names(
                r#"holt_winters(x[5m], 0.5, 0.5) + y{a="holt_winters(", b='\'holt_winters('}"#
            ),
            r#"double_exponential_smoothing(x[5m], 0.5, 0.5) + y{a="holt_winters(", b='\'holt_winters('}"#
        );
        assert_eq!(super::with_current_names("my_holt_winters(x)"), "my_holt_winters(x)");
        assert!(super::Query::parse("holt_winters(x[10m], 0.3, 0.6)").is_ok());
    }
}
