//! Evaluating an expression at one instant over the series loaded for it.

use std::collections::{BTreeMap, HashSet};

use promql_parser::parser::{Expr, SubqueryExpr};

use super::plan::{at_millis, millis, offset_millis};
use super::{aggregate, binary, functions, Loaded, QueryError, LOOKBACK_MS};
use crate::chunk::Sample;
use crate::store::{Labels, SeriesSamples, NAME_LABEL};

/// One series' value at the evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Its labels.
    pub labels: Labels,
    /// Its value.
    pub v: f64,
    /// The time of the sample it came from (what `timestamp()` returns).
    pub t: i64,
}

/// What an expression evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Scalar(f64),
    /// A string.
    String(String),
    /// One value per series.
    Vector(Vec<Element>),
    /// Samples per series over a range.
    Matrix(Vec<SeriesSamples>),
}

/// Evaluates expressions over `data` for a query running from `start` to
/// `end` (an instant query: both are its time) at every `step`.
pub(super) struct Evaluator<'d> {
    data: &'d Loaded,
    start: i64,
    end: i64,
    /// What a subquery without a step of its own uses.
    step: i64,
}

impl<'d> Evaluator<'d> {
    pub(super) fn new(data: &'d Loaded, start: i64, end: i64, step: i64) -> Evaluator<'d> {
        Evaluator { data, start, end, step }
    }

    /// The name of what `expr` gives, for messages.
    pub(super) fn type_name(&self, expr: &Expr) -> &'static str {
        match expr {
            Expr::MatrixSelector(_) | Expr::Subquery(_) => "range vector",
            Expr::StringLiteral(_) => "string",
            Expr::Paren(paren) => self.type_name(&paren.expr),
            _ => "instant vector",
        }
    }

    /// Evaluates `expr` at `t` (Unix ms).
    pub(super) fn eval(&self, expr: &Expr, t: i64) -> Result<Value, QueryError> {
        match expr {
            Expr::NumberLiteral(number) => Ok(Value::Scalar(number.val)),
            Expr::StringLiteral(text) => Ok(Value::String(text.val.clone())),
            Expr::Paren(paren) => self.eval(&paren.expr, t),
            Expr::VectorSelector(selector) => {
                let at = self.selector_time(selector.at.as_ref(), selector.offset.as_ref(), t);
                let key = std::ptr::from_ref(selector) as usize;
                Ok(Value::Vector(instant_samples(self.data.series(key), at)))
            }
            Expr::MatrixSelector(matrix) => {
                let selector = &matrix.vs;
                let at = self.selector_time(selector.at.as_ref(), selector.offset.as_ref(), t);
                let key = std::ptr::from_ref(selector) as usize;
                Ok(Value::Matrix(range_samples(self.data.series(key), at - millis(&matrix.range), at)))
            }
            Expr::Subquery(subquery) => Ok(Value::Matrix(self.subquery(subquery, t)?)),
            Expr::Unary(unary) => match self.eval(&unary.expr, t)? {
                Value::Scalar(v) => Ok(Value::Scalar(-v)),
                Value::Vector(vector) => Ok(Value::Vector(
                    vector
                        .into_iter()
                        .map(|element| Element { labels: without_name(element.labels), v: -element.v, t })
                        .collect(),
                )),
                other => Err(QueryError::BadData(format!(
                    "unary minus needs a number or a vector, not {}",
                    kind(&other)
                ))),
            },
            Expr::Binary(expr) => {
                let lhs = self.eval(&expr.lhs, t)?;
                let rhs = self.eval(&expr.rhs, t)?;
                binary::evaluate(expr, lhs, rhs, t)
            }
            Expr::Aggregate(expr) => {
                let param = match &expr.param {
                    Some(param) => Some(self.eval(param, t)?),
                    None => None,
                };
                let Value::Vector(vector) = self.eval(&expr.expr, t)? else {
                    return Err(QueryError::BadData("an aggregation needs an instant vector".into()));
                };
                aggregate::evaluate(expr, vector, param, t)
            }
            Expr::Call(call) => functions::call(self, call, t),
            Expr::Extension(_) => Err(QueryError::BadData("extension expressions are not supported".into())),
        }
    }

    /// The time a selector reads at when the query is evaluated at `t`.
    fn selector_time(
        &self,
        at: Option<&promql_parser::parser::AtModifier>,
        offset: Option<&promql_parser::parser::Offset>,
        t: i64,
    ) -> i64 {
        at_millis(at, self.start, self.end).unwrap_or(t) - offset_millis(offset)
    }

    /// The range `(from, to)` a range argument (selector or subquery) reads
    /// at `t`: what `rate` extrapolates to.
    pub(super) fn range_of(&self, expr: &Expr, t: i64) -> Option<(i64, i64)> {
        match expr {
            Expr::MatrixSelector(matrix) => {
                let selector = &matrix.vs;
                let to = self.selector_time(selector.at.as_ref(), selector.offset.as_ref(), t);
                Some((to - millis(&matrix.range), to))
            }
            Expr::Subquery(subquery) => {
                let to = self.selector_time(subquery.at.as_ref(), subquery.offset.as_ref(), t);
                Some((to - millis(&subquery.range), to))
            }
            Expr::Paren(paren) => self.range_of(&paren.expr, t),
            _ => None,
        }
    }

    /// A subquery at `t`: its inner expression evaluated at every multiple
    /// of its step within its range, as one series per label set.
    fn subquery(&self, subquery: &SubqueryExpr, t: i64) -> Result<Vec<SeriesSamples>, QueryError> {
        let step = subquery.step.as_ref().map_or(self.step, millis);
        if step <= 0 {
            return Err(QueryError::BadData("a subquery's step must be positive".into()));
        }
        let end = self.selector_time(subquery.at.as_ref(), subquery.offset.as_ref(), t);
        let from = end - millis(&subquery.range);
        // The first multiple of the step at or after the range's start (so
        // that every step of a range query sees the same inner points).
        let mut at = from.div_euclid(step) * step;
        if at < from {
            at += step;
        }
        let inner = Evaluator { data: self.data, start: self.start, end: self.end, step: self.step };
        let mut series: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
        while at <= end {
            match inner.eval(&subquery.expr, at)? {
                Value::Scalar(v) => series.entry(Labels::new()).or_default().push(Sample { t: at, v }),
                Value::Vector(vector) => {
                    for element in vector {
                        series.entry(element.labels).or_default().push(Sample { t: at, v: element.v });
                    }
                }
                other => {
                    return Err(QueryError::BadData(format!(
                        "a subquery needs an instant vector or a number inside, not {}",
                        kind(&other)
                    )))
                }
            }
            at += step;
        }
        Ok(series.into_iter().map(|(labels, samples)| SeriesSamples { labels, samples }).collect())
    }
}

/// Each series' latest sample within the lookback window ending at `at`,
/// unless that sample is a staleness marker (the series ended).
fn instant_samples(series: &[SeriesSamples], at: i64) -> Vec<Element> {
    let mut vector = Vec::new();
    for one in series {
        // The last sample at or before `at`.
        let end = one.samples.partition_point(|sample| sample.t <= at);
        let Some(sample) = end.checked_sub(1).map(|index| one.samples[index]) else { continue };
        if sample.t < at - LOOKBACK_MS || sample.is_stale() {
            continue;
        }
        vector.push(Element { labels: one.labels.clone(), v: sample.v, t: sample.t });
    }
    vector
}

/// Each series' samples in `from..=to`, staleness markers left out.
fn range_samples(series: &[SeriesSamples], from: i64, to: i64) -> Vec<SeriesSamples> {
    let mut matrix = Vec::new();
    for one in series {
        let first = one.samples.partition_point(|sample| sample.t < from);
        let last = one.samples.partition_point(|sample| sample.t <= to);
        let samples: Vec<Sample> =
            one.samples[first..last].iter().filter(|sample| !sample.is_stale()).copied().collect();
        if !samples.is_empty() {
            matrix.push(SeriesSamples { labels: one.labels.clone(), samples });
        }
    }
    matrix
}

/// `labels` without the metric name.
pub(super) fn without_name(mut labels: Labels) -> Labels {
    labels.remove(NAME_LABEL);
    labels
}

/// The kind of a value, for messages.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Scalar(_) => "a number",
        Value::String(_) => "a string",
        Value::Vector(_) => "an instant vector",
        Value::Matrix(_) => "a range vector",
    }
}

/// Refuses a vector with two elements of one label set (as Prometheus:
/// e.g. `rate({__name__=~"a|b"}[5m])` once the names are dropped).
pub(super) fn check_unique(vector: &[Element]) -> Result<(), QueryError> {
    let mut seen = HashSet::with_capacity(vector.len());
    for element in vector {
        if !seen.insert(&element.labels) {
            return Err(QueryError::Execution(
                "vector cannot contain metrics with the same labelset".to_owned(),
            ));
        }
    }
    Ok(())
}
