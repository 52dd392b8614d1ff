//! PromQL's functions: over ranges (`rate`, `increase`, `*_over_time`, …)
//! and over instant vectors (`histogram_quantile`, `abs`, `label_replace`,
//! …), with Prometheus' formulas (extrapolation, counter resets, running
//! sums) so that results agree with it.

use std::collections::HashMap;

use promql_parser::label::MatchOp;
use promql_parser::parser::{Call, Expr};

use super::aggregate::quantile;
use super::eval::{kind, without_name, Element, Evaluator, Value};
use super::QueryError;
use crate::chunk::Sample;
use crate::store::{Labels, NAME_LABEL};

/// Functions over a range vector, each giving one value per series.
pub(super) const RANGE_FUNCTIONS: &[&str] = &[
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "present_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "quantile_over_time",
    "changes",
    "resets",
    "absent_over_time",
];

/// Functions of an instant vector's values (the metric name is dropped).
pub(super) const MATH_FUNCTIONS: &[&str] =
    &["abs", "ceil", "floor", "sqrt", "exp", "ln", "log2", "log10", "sgn"];

/// Other functions this engine evaluates.
const OTHER_FUNCTIONS: &[&str] = &[
    "round",
    "clamp",
    "clamp_min",
    "clamp_max",
    "scalar",
    "vector",
    "time",
    "timestamp",
    "sort",
    "sort_desc",
    "label_replace",
    "label_join",
    "absent",
    "histogram_quantile",
];

/// Refuses a function this engine does not evaluate, saying so.
pub(super) fn check_supported(name: &str) -> Result<(), QueryError> {
    if RANGE_FUNCTIONS.contains(&name) || MATH_FUNCTIONS.contains(&name) || OTHER_FUNCTIONS.contains(&name) {
        Ok(())
    } else {
        Err(QueryError::BadData(format!("the function `{name}` is not supported yet")))
    }
}

/// Evaluates `call` at `t`.
pub(super) fn call(evaluator: &Evaluator<'_>, call: &Call, t: i64) -> Result<Value, QueryError> {
    let name = call.func.name;
    let args = &call.args.args;
    let arg = |index: usize| -> Result<&Expr, QueryError> {
        args.get(index)
            .map(|arg| arg.as_ref())
            .ok_or_else(|| QueryError::BadData(format!("`{name}` is missing argument {}", index + 1)))
    };
    let vector_of = |index: usize| -> Result<Vec<Element>, QueryError> {
        match evaluator.eval(arg(index)?, t)? {
            Value::Vector(vector) => Ok(vector),
            other => Err(QueryError::BadData(format!(
                "argument {} of `{name}` must be an instant vector, not {}",
                index + 1,
                kind(&other)
            ))),
        }
    };
    let number_of = |index: usize| -> Result<f64, QueryError> {
        match evaluator.eval(arg(index)?, t)? {
            Value::Scalar(v) => Ok(v),
            other => Err(QueryError::BadData(format!(
                "argument {} of `{name}` must be a number, not {}",
                index + 1,
                kind(&other)
            ))),
        }
    };
    let string_of = |index: usize| -> Result<String, QueryError> {
        match evaluator.eval(arg(index)?, t)? {
            Value::String(text) => Ok(text),
            other => Err(QueryError::BadData(format!(
                "argument {} of `{name}` must be a string, not {}",
                index + 1,
                kind(&other)
            ))),
        }
    };

    if RANGE_FUNCTIONS.contains(&name) {
        // quantile_over_time takes the quantile first.
        let range_index = usize::from(name == "quantile_over_time");
        let range_expr = arg(range_index)?;
        let Value::Matrix(matrix) = evaluator.eval(range_expr, t)? else {
            return Err(QueryError::BadData(format!(
                "`{name}` needs a range vector, like {name}(x[5m]), not {}",
                evaluator.type_name(range_expr)
            )));
        };
        if name == "absent_over_time" {
            return Ok(Value::Vector(if matrix.is_empty() {
                vec![Element { labels: absent_labels(range_expr), v: 1.0, t }]
            } else {
                vec![]
            }));
        }
        let q = if name == "quantile_over_time" { Some(number_of(0)?) } else { None };
        let (from, to) = evaluator.range_of(range_expr, t).unwrap_or((t, t));
        let mut out = Vec::with_capacity(matrix.len());
        for series in matrix {
            let value = over_range(name, &series.samples, from, to, q);
            if let Some(v) = value {
                let labels =
                    if name == "last_over_time" { series.labels } else { without_name(series.labels) };
                out.push(Element { labels, v, t });
            }
        }
        return Ok(Value::Vector(out));
    }

    if MATH_FUNCTIONS.contains(&name) {
        return Ok(map_values(vector_of(0)?, t, math_function(name)));
    }

    match name {
        "round" => {
            let to_nearest = if args.len() > 1 { number_of(1)? } else { 1.0 };
            let inverse = 1.0 / to_nearest;
            Ok(map_values(vector_of(0)?, t, |v| (v * inverse + 0.5).floor() / inverse))
        }
        "clamp" => {
            let (min, max) = (number_of(1)?, number_of(2)?);
            if max < min {
                return Ok(Value::Vector(vec![]));
            }
            Ok(map_values(vector_of(0)?, t, |v| go_max(min, go_min(max, v))))
        }
        "clamp_min" => {
            let min = number_of(1)?;
            Ok(map_values(vector_of(0)?, t, |v| go_max(min, v)))
        }
        "clamp_max" => {
            let max = number_of(1)?;
            Ok(map_values(vector_of(0)?, t, |v| go_min(max, v)))
        }
        "scalar" => {
            let vector = vector_of(0)?;
            Ok(Value::Scalar(if vector.len() == 1 { vector[0].v } else { f64::NAN }))
        }
        "vector" => Ok(Value::Vector(vec![Element { labels: Labels::new(), v: number_of(0)?, t }])),
        "time" => Ok(Value::Scalar(t as f64 / 1000.0)),
        "timestamp" => {
            // A selector's samples keep their own times; anything else is evaluated now.
            let vector = vector_of(0)?;
            let direct = matches!(strip_parens(arg(0)?), Expr::VectorSelector(_));
            Ok(Value::Vector(
                vector
                    .into_iter()
                    .map(|element| {
                        let at = if direct { element.t } else { t };
                        Element { labels: without_name(element.labels), v: at as f64 / 1000.0, t }
                    })
                    .collect(),
            ))
        }
        "sort" | "sort_desc" => {
            let mut vector = vector_of(0)?;
            let descending = name == "sort_desc";
            vector.sort_by(|a, b| {
                let order = match (a.v.is_nan(), b.v.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => return std::cmp::Ordering::Greater,
                    (false, true) => return std::cmp::Ordering::Less,
                    (false, false) => a.v.partial_cmp(&b.v).unwrap_or(std::cmp::Ordering::Equal),
                };
                if descending {
                    order.reverse()
                } else {
                    order
                }
            });
            Ok(Value::Vector(vector))
        }
        "label_replace" => {
            let vector = vector_of(0)?;
            let (destination, replacement, source, pattern) =
                (string_of(1)?, string_of(2)?, string_of(3)?, string_of(4)?);
            label_replace(vector, &destination, &replacement, &source, &pattern)
        }
        "label_join" => {
            let vector = vector_of(0)?;
            let (destination, separator) = (string_of(1)?, string_of(2)?);
            let sources: Vec<String> = (3..args.len()).map(string_of).collect::<Result<_, _>>()?;
            check_label_name(&destination)?;
            Ok(Value::Vector(
                vector
                    .into_iter()
                    .map(|mut element| {
                        let joined: Vec<&str> = sources
                            .iter()
                            .map(|source| element.labels.get(source).map_or("", String::as_str))
                            .collect();
                        let joined = joined.join(&separator);
                        set_or_remove(&mut element.labels, &destination, joined);
                        element
                    })
                    .collect(),
            ))
        }
        "absent" => {
            let vector = vector_of(0)?;
            Ok(Value::Vector(if vector.is_empty() {
                vec![Element { labels: absent_labels(arg(0)?), v: 1.0, t }]
            } else {
                vec![]
            }))
        }
        "histogram_quantile" => {
            let q = number_of(0)?;
            Ok(Value::Vector(histogram_quantile(q, vector_of(1)?, t)))
        }
        _ => Err(QueryError::BadData(format!("the function `{name}` is not supported yet"))),
    }
}

/// The function of one value that a math function (`abs`, `ln`, …) applies.
pub(super) fn math_function(name: &str) -> fn(f64) -> f64 {
    match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "sqrt" => f64::sqrt,
        "exp" => f64::exp,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        _ => |v: f64| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        },
    }
}

fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(paren) => strip_parens(&paren.expr),
        other => other,
    }
}

/// Go's `math.Max`: NaN wins.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: NaN wins.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn map_values(vector: Vec<Element>, t: i64, function: impl Fn(f64) -> f64) -> Value {
    Value::Vector(
        vector
            .into_iter()
            .map(|element| Element { labels: without_name(element.labels), v: function(element.v), t })
            .collect(),
    )
}

/// Neumaier's compensated sum step, as Prometheus' `kahanSumInc`.
fn kahan_add(increment: f64, sum: f64, compensation: f64) -> (f64, f64) {
    let total = sum + increment;
    let compensation = if sum.abs() >= increment.abs() {
        compensation + ((sum - total) + increment)
    } else {
        compensation + ((increment - total) + sum)
    };
    (total, compensation)
}

/// One range function over one series' samples read from `from..=to`.
pub(super) fn over_range(name: &str, samples: &[Sample], from: i64, to: i64, q: Option<f64>) -> Option<f64> {
    let values = || samples.iter().map(|sample| sample.v);
    let last = samples.last()?;
    match name {
        "rate" => extrapolated(samples, from, to, true, true),
        "increase" => extrapolated(samples, from, to, true, false),
        "delta" => extrapolated(samples, from, to, false, false),
        "irate" | "idelta" => {
            let [.., previous, last] = samples else { return None };
            let rate = name == "irate";
            let value = if rate && last.v < previous.v { last.v } else { last.v - previous.v };
            let interval = last.t - previous.t;
            if interval == 0 {
                return None;
            }
            Some(if rate { value / (interval as f64 / 1000.0) } else { value })
        }
        "avg_over_time" => {
            let (mut mean, mut compensation, mut count) = (0.0_f64, 0.0_f64, 0.0_f64);
            for v in values() {
                count += 1.0;
                if mean.is_infinite() {
                    if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                        continue;
                    }
                    if !v.is_infinite() && !v.is_nan() {
                        continue;
                    }
                }
                (mean, compensation) = kahan_add(v / count - mean / count, mean, compensation);
            }
            Some(if mean.is_infinite() { mean } else { mean + compensation })
        }
        "sum_over_time" => {
            let (mut sum, mut compensation) = (0.0, 0.0);
            for v in values() {
                (sum, compensation) = kahan_add(v, sum, compensation);
            }
            Some(if sum.is_infinite() { sum } else { sum + compensation })
        }
        "min_over_time" => {
            Some(values().fold(samples[0].v, |min, v| if v < min || min.is_nan() { v } else { min }))
        }
        "max_over_time" => {
            Some(values().fold(samples[0].v, |max, v| if v > max || max.is_nan() { v } else { max }))
        }
        "count_over_time" => Some(samples.len() as f64),
        "last_over_time" => Some(last.v),
        "present_over_time" => Some(1.0),
        "stddev_over_time" | "stdvar_over_time" => {
            let (mut count, mut mean, mut mean_c, mut aux, mut aux_c) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for v in values() {
                count += 1.0;
                let delta = v - (mean + mean_c);
                (mean, mean_c) = kahan_add(delta / count, mean, mean_c);
                (aux, aux_c) = kahan_add(delta * (v - (mean + mean_c)), aux, aux_c);
            }
            let variance = (aux + aux_c) / count;
            Some(if name == "stddev_over_time" { variance.sqrt() } else { variance })
        }
        "quantile_over_time" => Some(quantile(q.unwrap_or(f64::NAN), values().collect())),
        "changes" => Some(
            samples
                .windows(2)
                .filter(|pair| !(pair[1].v == pair[0].v || (pair[1].v.is_nan() && pair[0].v.is_nan())))
                .count() as f64,
        ),
        "resets" => Some(samples.windows(2).filter(|pair| pair[1].v < pair[0].v).count() as f64),
        _ => None,
    }
}

/// `rate`, `increase` and `delta`: the change over the samples in the
/// range, counter resets added back for counters, extrapolated towards the
/// range's edges as Prometheus does (to the edge when the first or last
/// sample is within 1.1 average intervals of it, else half an interval; a
/// counter never extrapolated below zero).
fn extrapolated(samples: &[Sample], from: i64, to: i64, counter: bool, per_second: bool) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let (first, last) = (samples[0], samples[samples.len() - 1]);
    let mut result = last.v - first.v;
    if counter {
        let mut previous = 0.0;
        for sample in samples {
            if sample.v < previous {
                result += previous;
            }
            previous = sample.v;
        }
    }
    let mut to_start = (first.t - from) as f64 / 1000.0;
    let to_end = (to - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let average_interval = sampled / (samples.len() - 1) as f64;
    if counter && result > 0.0 && first.v >= 0.0 {
        let to_zero = sampled * (first.v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = average_interval * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold { to_start } else { average_interval / 2.0 };
    interval += if to_end < threshold { to_end } else { average_interval / 2.0 };
    result *= interval / sampled;
    if per_second {
        result /= (to - from) as f64 / 1000.0;
    }
    Some(result)
}

/// The labels `absent` gives: the selector's equality matchers (a label
/// matched twice, or not by `=`, is left out).
fn absent_labels(expr: &Expr) -> Labels {
    let selector = match expr {
        Expr::VectorSelector(selector) => selector,
        Expr::MatrixSelector(matrix) => &matrix.vs,
        _ => return Labels::new(),
    };
    let mut labels = Labels::new();
    let mut left_out = Vec::new();
    for matcher in &selector.matchers.matchers {
        if matcher.name == NAME_LABEL {
            continue;
        }
        if matches!(matcher.op, MatchOp::Equal) && !labels.contains_key(&matcher.name) {
            labels.insert(matcher.name.clone(), matcher.value.clone());
        } else {
            left_out.push(matcher.name.clone());
        }
    }
    for name in left_out {
        labels.remove(&name);
    }
    labels
}

fn check_label_name(name: &str) -> Result<(), QueryError> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(QueryError::BadData(format!("invalid destination label name in label_replace(): {name}")))
    }
}

fn set_or_remove(labels: &mut Labels, name: &str, value: String) {
    if value.is_empty() {
        labels.remove(name);
    } else {
        labels.insert(name.to_owned(), value);
    }
}

fn label_replace(
    vector: Vec<Element>,
    destination: &str,
    replacement: &str,
    source: &str,
    pattern: &str,
) -> Result<Value, QueryError> {
    let regex = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|error| {
        QueryError::BadData(format!("invalid regular expression in label_replace(): {error}"))
    })?;
    check_label_name(destination)?;
    let mut out = Vec::with_capacity(vector.len());
    for mut element in vector {
        let value = element.labels.get(source).cloned().unwrap_or_default();
        if let Some(captures) = regex.captures(&value) {
            let mut replaced = String::new();
            captures.expand(replacement, &mut replaced);
            set_or_remove(&mut element.labels, destination, replaced);
        }
        out.push(element);
    }
    Ok(Value::Vector(out))
}

/// `histogram_quantile` over classic buckets (series with an `le` label),
/// grouped by every other label, as Prometheus' `bucketQuantile`.
fn histogram_quantile(q: f64, vector: Vec<Element>, t: i64) -> Vec<Element> {
    let mut order: Vec<Labels> = Vec::new();
    let mut groups: HashMap<Labels, Vec<(f64, f64)>> = HashMap::new();
    for element in vector {
        let Some(bound) = element.labels.get("le").and_then(|le| parse_go_float(le)) else { continue };
        let mut labels = element.labels;
        labels.remove("le");
        labels.remove(NAME_LABEL);
        groups
            .entry(labels.clone())
            .or_insert_with(|| {
                order.push(labels);
                Vec::new()
            })
            .push((bound, element.v));
    }
    order
        .into_iter()
        .filter_map(|labels| {
            let buckets = groups.remove(&labels)?;
            Some(Element { v: bucket_quantile(q, buckets), labels, t })
        })
        .collect()
}

/// A float as Go's `strconv.ParseFloat` reads an `le` value (`+Inf`, `1e3`).
pub(super) fn parse_go_float(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// The `q` quantile of buckets `(upper bound, cumulative count)`.
pub(super) fn bucket_quantile(q: f64, mut buckets: Vec<(f64, f64)>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    if buckets.last().is_none_or(|last| last.0 != f64::INFINITY) {
        return f64::NAN;
    }
    // Buckets of one bound (from several series) count together.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for (bound, count) in buckets {
        match merged.last_mut() {
            Some(last) if last.0 == bound => last.1 += count,
            _ => merged.push((bound, count)),
        }
    }
    // Counts must not fall as bounds rise (scrapes of buckets are not atomic).
    let mut highest = f64::NEG_INFINITY;
    for bucket in &mut merged {
        if bucket.1 > highest {
            highest = bucket.1;
        } else {
            bucket.1 = highest;
        }
    }
    if merged.len() < 2 {
        return f64::NAN;
    }
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let last_finite = merged.len() - 1;
    let b = merged[..last_finite].partition_point(|bucket| bucket.1 < rank);
    if b == last_finite {
        return merged[last_finite - 1].0;
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return merged[0].0;
    }
    let (mut start, end, mut count) = (0.0, merged[b].0, merged[b].1);
    if b > 0 {
        start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    start + (end - start) * (rank / count)
}
