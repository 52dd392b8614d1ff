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

/// Functions fitting a range's samples, with numbers after the range
/// (`predict_linear(x[10m], 3600)`); evaluated at each step.
pub(super) const FITTING_FUNCTIONS: &[&str] = &["deriv", "predict_linear", "double_exponential_smoothing"];

/// Parts of a Unix time, in UTC (of the argument's values, or of the
/// evaluation time without one).
const DATE_FUNCTIONS: &[&str] =
    &["day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"];

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
    let known = [RANGE_FUNCTIONS, FITTING_FUNCTIONS, DATE_FUNCTIONS, MATH_FUNCTIONS, OTHER_FUNCTIONS];
    if known.iter().any(|names| names.contains(&name)) {
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

    if FITTING_FUNCTIONS.contains(&name) {
        let range_expr = arg(0)?;
        let Value::Matrix(matrix) = evaluator.eval(range_expr, t)? else {
            return Err(QueryError::BadData(format!(
                "`{name}` needs a range vector first, like {name}(x[10m], …), not {}",
                evaluator.type_name(range_expr)
            )));
        };
        let params = (1..args.len()).map(number_of).collect::<Result<Vec<f64>, _>>()?;
        if name == "double_exponential_smoothing" {
            for (what, factor) in [("smoothing", params.first()), ("trend", params.get(1))] {
                let factor = factor.copied().unwrap_or(f64::NAN);
                if !(factor > 0.0 && factor < 1.0) {
                    return Err(QueryError::Execution(format!(
                        "invalid {what} factor. Expected: 0 < {} < 1, got: {factor}",
                        if what == "smoothing" { "sf" } else { "tf" }
                    )));
                }
            }
        }
        let out = matrix
            .into_iter()
            .filter_map(|series| {
                let v = fit(name, &series.samples, &params, t)?;
                Some(Element { labels: without_name(series.labels), v, t })
            })
            .collect();
        return Ok(Value::Vector(out));
    }

    if DATE_FUNCTIONS.contains(&name) {
        let input = if args.is_empty() {
            vec![Element { labels: Labels::new(), v: t as f64 / 1000.0, t }]
        } else {
            vector_of(0)?
        };
        return Ok(map_values(input, t, |seconds| date_part(name, seconds)));
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

/// `deriv`, `predict_linear` and `double_exponential_smoothing` (Prometheus
/// 2's `holt_winters`) over one series' samples at
/// evaluation time `t`.
fn fit(name: &str, samples: &[Sample], params: &[f64], t: i64) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    match name {
        "deriv" => Some(linear_regression(samples, samples[0].t).0),
        "predict_linear" => {
            let (slope, intercept) = linear_regression(samples, t);
            Some(slope * params.first().copied().unwrap_or(f64::NAN) + intercept)
        }
        "double_exponential_smoothing" => {
            let (smoothing, trend_factor) = (params[0], params[1]);
            // Double exponential smoothing: a level and a trend, the trend
            // taken first as the first two samples' difference.
            let (mut previous, mut level) = (0.0, samples[0].v);
            let mut trend = samples[1].v - samples[0].v;
            for (index, sample) in samples.iter().enumerate().skip(1) {
                if index > 1 {
                    trend = trend_factor * (level - previous) + (1.0 - trend_factor) * trend;
                }
                let next = smoothing * sample.v + (1.0 - smoothing) * (level + trend);
                previous = level;
                level = next;
            }
            Some(level)
        }
        _ => None,
    }
}

/// The least-squares line through the samples, x in seconds from
/// `intercept_at` (ms): (slope per second, value at `intercept_at`). Sums
/// are compensated, and a constant series has slope 0, as Prometheus.
fn linear_regression(samples: &[Sample], intercept_at: i64) -> (f64, f64) {
    let first = samples[0].v;
    if samples.iter().all(|sample| sample.v == first) {
        return if first.is_infinite() { (f64::NAN, f64::NAN) } else { (0.0, first) };
    }
    let (mut n, mut x_sum, mut x_c, mut y_sum, mut y_c) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut xy_sum, mut xy_c, mut xx_sum, mut xx_c) = (0.0, 0.0, 0.0, 0.0);
    for sample in samples {
        n += 1.0;
        let x = (sample.t - intercept_at) as f64 / 1000.0;
        (x_sum, x_c) = kahan_add(x, x_sum, x_c);
        (y_sum, y_c) = kahan_add(sample.v, y_sum, y_c);
        (xy_sum, xy_c) = kahan_add(x * sample.v, xy_sum, xy_c);
        (xx_sum, xx_c) = kahan_add(x * x, xx_sum, xx_c);
    }
    let (x_sum, y_sum, xy_sum, xx_sum) = (x_sum + x_c, y_sum + y_c, xy_sum + xy_c, xx_sum + xx_c);
    let covariance = xy_sum - x_sum * y_sum / n;
    let variance = xx_sum - x_sum * x_sum / n;
    let slope = covariance / variance;
    (slope, y_sum / n - slope * x_sum / n)
}

/// A part of the UTC date and time `seconds` after the Unix epoch
/// (truncated to whole seconds, as Prometheus does).
fn date_part(name: &str, seconds: f64) -> f64 {
    if !seconds.is_finite() {
        return f64::NAN;
    }
    let whole = seconds.trunc() as i64;
    let days = whole.div_euclid(86_400);
    let of_day = whole.rem_euclid(86_400);
    // Days to a proleptic Gregorian date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year_from_march = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year_from_march + 2) / 153;
    let day = day_of_year_from_march - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let value = match name {
        "day_of_month" => day,
        "day_of_week" => (days + 4).rem_euclid(7),
        "day_of_year" => month_days[..(month - 1) as usize].iter().sum::<i64>() + day,
        "days_in_month" => month_days[(month - 1) as usize],
        "hour" => of_day / 3600,
        "minute" => of_day / 60 % 60,
        "month" => month,
        "year" => year,
        _ => return f64::NAN,
    };
    value as f64
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

#[cfg(test)]
mod date_and_fit_tests {
    use super::*;

    #[test]
    fn dates_are_utc_parts_of_unix_seconds() {
        // 2024-02-29 13:45:10 UTC, a Thursday in a leap year.
        let at = 1_709_214_310.0;
        let parts: Vec<f64> = DATE_FUNCTIONS.iter().map(|name| date_part(name, at)).collect();
        assert_eq!(parts, [29.0, 4.0, 60.0, 29.0, 13.0, 45.0, 2.0, 2024.0]);
        assert_eq!(date_part("year", -1.0), 1969.0);
        assert!(date_part("hour", f64::NAN).is_nan());
    }

    #[test]
    fn a_straight_line_is_fitted_exactly() {
        let samples: Vec<Sample> =
            (0..10).map(|i| Sample { t: i * 15_000, v: 100.0 + 3.0 * i as f64 }).collect();
        assert!((fit("deriv", &samples, &[], 135_000).unwrap() - 0.2).abs() < 1e-12);
        // 0.2 per second; at t=135 s the line is at 127, an hour later 127 + 720.
        assert!((fit("predict_linear", &samples, &[3600.0], 135_000).unwrap() - 847.0).abs() < 1e-9);
        let flat = vec![Sample { t: 0, v: 5.0 }, Sample { t: 15_000, v: 5.0 }];
        assert_eq!(fit("deriv", &flat, &[], 15_000), Some(0.0));
        assert_eq!(fit("deriv", &flat[..1], &[], 15_000), None);
    }
}
