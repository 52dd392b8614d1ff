//! Range queries evaluated a series at a time over every step, as
//! Prometheus' engine does, instead of the whole expression once per step.
//!
//! A series' labels are worked out once (not once per step), a range
//! function slides its window along a series' samples with two cursors
//! (nothing is copied), and aggregations and vector matching work on
//! indices into per-series value arrays. For a dashboard's typical query —
//! `rate()` over a thousand series for a day — this is what makes the
//! answer arrive in tens of milliseconds.
//!
//! It covers selectors (without `@`), range functions over range
//! selectors, math functions, `histogram_quantile`, `time()`,
//! `vector()`, `scalar()`, unary minus, binary operators with matching and
//! the aggregations computed as members come. Anything else (subqueries,
//! `@`, `topk`, `label_replace`, …) is evaluated step by step by
//! [`super::eval`]; [`supported`] decides. Both paths give the same
//! answers: `tests/promql` compares each with a real Prometheus.

use std::collections::HashMap;
use std::sync::Arc;

use promql_parser::parser::token::{T_LAND, T_LOR, T_LUNLESS};
use promql_parser::parser::{AggregateExpr, BinaryExpr, Call, Expr, VectorMatchCardinality};

use super::aggregate::{accumulates, group_labels, Accumulator};
use super::binary::{apply, drops_name, duplicate_match, is_comparison, matching, result_labels, signature};
use super::functions::{
    bucket_quantile, math_function, over_range, parse_go_float, MATH_FUNCTIONS, RANGE_FUNCTIONS,
};
use super::plan::{millis, offset_millis};
use super::{Loaded, QueryError, LOOKBACK_MS};
use crate::chunk::Sample;
use crate::store::{Labels, NAME_LABEL};

/// A histogram's buckets: (upper bound, position of the bucket's series).
type Buckets = Vec<(f64, usize)>;

/// One series over the steps: its value at each step, if it has one.
pub(super) struct Series {
    pub labels: Arc<Labels>,
    pub values: Vec<Option<f64>>,
}

/// What an expression gives over the steps.
pub(super) enum Range {
    Scalar(Vec<f64>),
    Vector(Vec<Series>),
}

/// Whether `expr` is evaluated here rather than step by step.
pub(super) fn supported(expr: &Expr) -> bool {
    match expr {
        Expr::NumberLiteral(_) => true,
        Expr::Paren(paren) => supported(&paren.expr),
        Expr::VectorSelector(selector) => selector.at.is_none(),
        Expr::Unary(unary) => supported(&unary.expr),
        Expr::Binary(binary) => supported(&binary.lhs) && supported(&binary.rhs),
        Expr::Aggregate(aggregate) => {
            accumulates(aggregate.op.id()) && aggregate.param.is_none() && supported(&aggregate.expr)
        }
        Expr::Call(call) => call_supported(call),
        _ => false,
    }
}

fn call_supported(call: &Call) -> bool {
    let name = call.func.name;
    let args = &call.args.args;
    if RANGE_FUNCTIONS.contains(&name) && name != "absent_over_time" {
        let (params, range) =
            if name == "quantile_over_time" { (&args[..1], args.get(1)) } else { (&args[..0], args.first()) };
        let plain_range = matches!(range.map(|arg| strip(arg)), Some(Expr::MatrixSelector(matrix)) if matrix.vs.at.is_none());
        return plain_range && params.iter().all(|param| supported(param));
    }
    match name {
        _ if MATH_FUNCTIONS.contains(&name) => args.iter().all(|arg| supported(arg)),
        "histogram_quantile" | "scalar" | "vector" => args.iter().all(|arg| supported(arg)),
        "time" => true,
        _ => false,
    }
}

fn strip(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(paren) => strip(&paren.expr),
        other => other,
    }
}

/// Evaluates `expr` at every time in `steps`.
pub(super) struct RangeEvaluator<'d> {
    pub data: &'d Loaded,
    pub steps: Vec<i64>,
}

impl RangeEvaluator<'_> {
    pub(super) fn eval(&self, expr: &Expr) -> Result<Range, QueryError> {
        let steps = self.steps.len();
        match expr {
            Expr::NumberLiteral(number) => Ok(Range::Scalar(vec![number.val; steps])),
            Expr::Paren(paren) => self.eval(&paren.expr),
            Expr::VectorSelector(selector) => {
                let offset = offset_millis(selector.offset.as_ref());
                let key = std::ptr::from_ref(selector) as usize;
                Ok(Range::Vector(
                    self.data
                        .series(key)
                        .iter()
                        .map(|one| Series {
                            labels: Arc::new(one.labels.clone()),
                            values: self.latest(&one.samples, offset),
                        })
                        .collect(),
                ))
            }
            Expr::Unary(unary) => Ok(match self.eval(&unary.expr)? {
                Range::Scalar(values) => Range::Scalar(values.into_iter().map(|v| -v).collect()),
                Range::Vector(series) => Range::Vector(
                    series
                        .into_iter()
                        .map(|one| Series {
                            labels: without_name(&one.labels),
                            values: one.values.into_iter().map(|v| v.map(|v| -v)).collect(),
                        })
                        .collect(),
                ),
            }),
            Expr::Binary(binary) => self.binary(binary),
            Expr::Aggregate(aggregate) => self.aggregate(aggregate),
            Expr::Call(call) => self.call(call),
            _ => Err(QueryError::Execution("this expression is evaluated step by step".into())),
        }
    }

    /// A series' latest sample at each step within the lookback window,
    /// none where that is a staleness marker.
    fn latest(&self, samples: &[Sample], offset: i64) -> Vec<Option<f64>> {
        let mut cursor = 0;
        self.steps
            .iter()
            .map(|&t| {
                let at = t - offset;
                while cursor < samples.len() && samples[cursor].t <= at {
                    cursor += 1;
                }
                let sample = samples[..cursor].last()?;
                (sample.t >= at - LOOKBACK_MS && !sample.is_stale()).then_some(sample.v)
            })
            .collect()
    }

    fn scalar_arg(&self, expr: &Expr) -> Result<Vec<f64>, QueryError> {
        match self.eval(expr)? {
            Range::Scalar(values) => Ok(values),
            Range::Vector(_) => Err(QueryError::BadData("expected a number, got an instant vector".into())),
        }
    }

    fn vector_arg(&self, expr: &Expr) -> Result<Vec<Series>, QueryError> {
        match self.eval(expr)? {
            Range::Vector(series) => Ok(series),
            Range::Scalar(_) => Err(QueryError::BadData("expected an instant vector, got a number".into())),
        }
    }

    fn call(&self, call: &Call) -> Result<Range, QueryError> {
        let name = call.func.name;
        let args = &call.args.args;
        let arg = |index: usize| {
            args.get(index)
                .map(|arg| arg.as_ref())
                .ok_or_else(|| QueryError::BadData(format!("`{name}` is missing argument {}", index + 1)))
        };
        if RANGE_FUNCTIONS.contains(&name) {
            let (q, range_expr) = if name == "quantile_over_time" {
                (Some(self.scalar_arg(arg(0)?)?), arg(1)?)
            } else {
                (None, arg(0)?)
            };
            let Expr::MatrixSelector(matrix) = strip(range_expr) else {
                return Err(QueryError::BadData(format!("`{name}` needs a range selector")));
            };
            let offset = offset_millis(matrix.vs.offset.as_ref());
            let range = millis(&matrix.range);
            let key = std::ptr::from_ref(&matrix.vs) as usize;
            let mut out = Vec::new();
            for one in self.data.series(key) {
                // Staleness markers are not samples of a range.
                let samples: Vec<Sample> =
                    one.samples.iter().filter(|sample| !sample.is_stale()).copied().collect();
                let (mut first, mut last) = (0, 0);
                let mut values = Vec::with_capacity(self.steps.len());
                let mut any = false;
                for (index, &t) in self.steps.iter().enumerate() {
                    let (from, to) = (t - offset - range, t - offset);
                    while last < samples.len() && samples[last].t <= to {
                        last += 1;
                    }
                    while first < last && samples[first].t < from {
                        first += 1;
                    }
                    let window = &samples[first.min(last)..last];
                    let value = if window.is_empty() {
                        None
                    } else {
                        over_range(name, window, from, to, q.as_ref().map(|q| q[index]))
                    };
                    any |= value.is_some();
                    values.push(value);
                }
                if any {
                    let labels = if name == "last_over_time" {
                        Arc::new(one.labels.clone())
                    } else {
                        without_name(&one.labels)
                    };
                    out.push(Series { labels, values });
                }
            }
            return Ok(Range::Vector(out));
        }
        if MATH_FUNCTIONS.contains(&name) {
            let function = math_function(name);
            return Ok(Range::Vector(
                self.vector_arg(arg(0)?)?
                    .into_iter()
                    .map(|one| Series {
                        labels: without_name(&one.labels),
                        values: one.values.into_iter().map(|v| v.map(function)).collect(),
                    })
                    .collect(),
            ));
        }
        match name {
            "time" => Ok(Range::Scalar(self.steps.iter().map(|&t| t as f64 / 1000.0).collect())),
            "vector" => Ok(Range::Vector(vec![Series {
                labels: Arc::new(Labels::new()),
                values: self.scalar_arg(arg(0)?)?.into_iter().map(Some).collect(),
            }])),
            "scalar" => {
                let series = self.vector_arg(arg(0)?)?;
                Ok(Range::Scalar(
                    (0..self.steps.len())
                        .map(|index| {
                            let mut present = series.iter().filter_map(|one| one.values[index]);
                            match (present.next(), present.next()) {
                                (Some(v), None) => v,
                                _ => f64::NAN,
                            }
                        })
                        .collect(),
                ))
            }
            "histogram_quantile" => {
                let q = self.scalar_arg(arg(0)?)?;
                let series = self.vector_arg(arg(1)?)?;
                // Buckets grouped by every label but `le` and the name, in
                // the order their first bucket comes.
                let mut groups: Vec<(Arc<Labels>, Buckets)> = Vec::new();
                let mut index_of: HashMap<Labels, usize> = HashMap::new();
                for (position, one) in series.iter().enumerate() {
                    let Some(bound) = one.labels.get("le").and_then(|le| parse_go_float(le)) else {
                        continue;
                    };
                    let mut labels = (*one.labels).clone();
                    labels.remove("le");
                    labels.remove(NAME_LABEL);
                    let group = *index_of.entry(labels.clone()).or_insert_with(|| {
                        groups.push((Arc::new(labels), Vec::new()));
                        groups.len() - 1
                    });
                    groups[group].1.push((bound, position));
                }
                Ok(Range::Vector(
                    groups
                        .into_iter()
                        .map(|(labels, members)| {
                            let values = (0..self.steps.len())
                                .map(|index| {
                                    let buckets: Vec<(f64, f64)> = members
                                        .iter()
                                        .filter_map(|&(bound, position)| {
                                            Some((bound, series[position].values[index]?))
                                        })
                                        .collect();
                                    (!buckets.is_empty()).then(|| bucket_quantile(q[index], buckets))
                                })
                                .collect();
                            Series { labels, values }
                        })
                        .collect(),
                ))
            }
            _ => Err(QueryError::Execution(format!("`{name}` is evaluated step by step"))),
        }
    }

    fn aggregate(&self, expr: &AggregateExpr) -> Result<Range, QueryError> {
        let op = expr.op.id();
        let series = self.vector_arg(&expr.expr)?;
        let modifier = expr.modifier.as_ref();
        // Each series' group, worked out once.
        let mut groups: Vec<Arc<Labels>> = Vec::new();
        let mut index_of: HashMap<Labels, usize> = HashMap::new();
        let member_of: Vec<usize> = series
            .iter()
            .map(|one| {
                let key = group_labels(&one.labels, modifier);
                *index_of.entry(key.clone()).or_insert_with(|| {
                    groups.push(Arc::new(key));
                    groups.len() - 1
                })
            })
            .collect();
        let mut values: Vec<Vec<Option<f64>>> = vec![vec![None; self.steps.len()]; groups.len()];
        let mut running: Vec<Option<Accumulator>> = vec![None; groups.len()];
        for index in 0..self.steps.len() {
            running.iter_mut().for_each(|slot| *slot = None);
            for (one, &group) in series.iter().zip(&member_of) {
                let Some(v) = one.values[index] else { continue };
                match &mut running[group] {
                    Some(accumulator) => accumulator.add(op, v),
                    slot @ None => *slot = Some(Accumulator::first(op, v)),
                }
            }
            for (group_values, accumulator) in values.iter_mut().zip(&running) {
                group_values[index] = accumulator.map(|accumulator| accumulator.result(op));
            }
        }
        Ok(Range::Vector(
            groups.into_iter().zip(values).map(|(labels, values)| Series { labels, values }).collect(),
        ))
    }

    fn binary(&self, expr: &BinaryExpr) -> Result<Range, QueryError> {
        let op = expr.op.id();
        let modifier = expr.modifier.as_ref();
        let return_bool = modifier.is_some_and(|modifier| modifier.return_bool);
        let steps = self.steps.len();
        match (self.eval(&expr.lhs)?, self.eval(&expr.rhs)?) {
            (Range::Scalar(l), Range::Scalar(r)) => {
                if is_comparison(op) && !return_bool {
                    return Err(QueryError::BadData(
                        "comparisons between numbers must use the bool modifier".into(),
                    ));
                }
                let mut out = Vec::with_capacity(steps);
                for (l, r) in l.into_iter().zip(r) {
                    let (value, keep) = apply(op, l, r)?;
                    out.push(if return_bool { f64::from(u8::from(keep)) } else { value });
                }
                Ok(Range::Scalar(out))
            }
            (Range::Vector(series), Range::Scalar(scalar)) => {
                self.vector_scalar(op, series, &scalar, false, return_bool)
            }
            (Range::Scalar(scalar), Range::Vector(series)) => {
                self.vector_scalar(op, series, &scalar, true, return_bool)
            }
            (Range::Vector(lhs), Range::Vector(rhs)) => match op {
                T_LAND | T_LOR | T_LUNLESS => {
                    Ok(Range::Vector(set_operation(op, lhs, rhs, matching(modifier), steps)))
                }
                _ => self.vector_vector(expr, lhs, rhs),
            },
        }
    }

    fn vector_scalar(
        &self,
        op: u16,
        series: Vec<Series>,
        scalar: &[f64],
        scalar_on_left: bool,
        return_bool: bool,
    ) -> Result<Range, QueryError> {
        let mut out = Vec::with_capacity(series.len());
        for one in series {
            let mut values = Vec::with_capacity(one.values.len());
            for (index, value) in one.values.iter().enumerate() {
                let Some(v) = *value else {
                    values.push(None);
                    continue;
                };
                let (l, r) = if scalar_on_left { (scalar[index], v) } else { (v, scalar[index]) };
                let (mut result, keep) = apply(op, l, r)?;
                if is_comparison(op) && scalar_on_left {
                    result = r;
                }
                values.push(if return_bool {
                    Some(f64::from(u8::from(keep)))
                } else {
                    keep.then_some(result)
                });
            }
            let labels = if drops_name(op) || return_bool { without_name(&one.labels) } else { one.labels };
            out.push(Series { labels, values });
        }
        Ok(Range::Vector(out))
    }

    fn vector_vector(
        &self,
        expr: &BinaryExpr,
        lhs: Vec<Series>,
        rhs: Vec<Series>,
    ) -> Result<Range, QueryError> {
        let op = expr.op.id();
        let modifier = expr.modifier.as_ref();
        let return_bool = modifier.is_some_and(|modifier| modifier.return_bool);
        let on = matching(modifier);
        let card = modifier.map_or(&VectorMatchCardinality::OneToOne, |modifier| &modifier.card);
        let (include, one_to_many) = match card {
            VectorMatchCardinality::OneToOne => (None, false),
            VectorMatchCardinality::ManyToOne(labels) => (Some(labels), false),
            VectorMatchCardinality::OneToMany(labels) => (Some(labels), true),
            VectorMatchCardinality::ManyToMany => {
                return Err(QueryError::BadData("many-to-many matching is only for and, or, unless".into()))
            }
        };
        let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
        // Signatures, once per series, as small numbers.
        let mut signature_ids: HashMap<Vec<(String, String)>, usize> = HashMap::new();
        let mut id_of = |labels: &Labels| {
            let next = signature_ids.len();
            *signature_ids.entry(signature(labels, on)).or_insert(next)
        };
        let many_signature: Vec<usize> = many.iter().map(|series| id_of(&series.labels)).collect();
        let one_signature: Vec<usize> = one.iter().map(|series| id_of(&series.labels)).collect();
        let signatures = signature_ids.len();
        // Result series by (many series, one series), made when first matched.
        let mut out: Vec<Series> = Vec::new();
        let mut out_by_labels: HashMap<Arc<Labels>, usize> = HashMap::new();
        let mut out_of_pair: HashMap<(usize, usize), usize> = HashMap::new();
        let mut one_at: Vec<Option<usize>> = vec![None; signatures];
        let mut matched_at: Vec<bool> = vec![false; signatures];
        let mut written_at: Vec<usize> = Vec::new();
        for index in 0..self.steps.len() {
            one_at.iter_mut().for_each(|slot| *slot = None);
            matched_at.iter_mut().for_each(|slot| *slot = false);
            for (position, series) in one.iter().enumerate() {
                if series.values[index].is_none() {
                    continue;
                }
                let signature = one_signature[position];
                if let Some(earlier) = one_at[signature].replace(position) {
                    return Err(duplicate_match(one_to_many, &series.labels, &one[earlier].labels));
                }
            }
            for (position, series) in many.iter().enumerate() {
                let Some(v) = series.values[index] else { continue };
                let signature = many_signature[position];
                let Some(other) = one_at[signature] else { continue };
                let Some(w) = one[other].values[index] else { continue };
                let (l, r) = if one_to_many { (w, v) } else { (v, w) };
                let (mut value, keep) = apply(op, l, r)?;
                if return_bool {
                    value = f64::from(u8::from(keep));
                } else if !keep {
                    continue;
                }
                if include.is_none() {
                    if matched_at[signature] {
                        return Err(QueryError::Execution(
                            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                                .into(),
                        ));
                    }
                    matched_at[signature] = true;
                }
                let target = match out_of_pair.get(&(position, other)) {
                    Some(&target) => target,
                    None => {
                        let mut labels =
                            result_labels((*series.labels).clone(), &one[other].labels, op, on, include);
                        if return_bool {
                            labels.remove(NAME_LABEL);
                        }
                        let labels = Arc::new(labels);
                        let target = *out_by_labels.entry(labels.clone()).or_insert_with(|| {
                            out.push(Series { labels, values: vec![None; self.steps.len()] });
                            written_at.push(usize::MAX);
                            out.len() - 1
                        });
                        out_of_pair.insert((position, other), target);
                        target
                    }
                };
                if written_at[target] == index && include.is_some() {
                    return Err(QueryError::Execution(
                        "multiple matches for labels: grouping labels must ensure unique matches".into(),
                    ));
                }
                written_at[target] = index;
                out[target].values[index] = Some(value);
            }
        }
        Ok(Range::Vector(out))
    }
}

/// `and`, `or` and `unless` at every step.
fn set_operation(
    op: u16,
    mut lhs: Vec<Series>,
    rhs: Vec<Series>,
    on: Option<&promql_parser::parser::LabelModifier>,
    steps: usize,
) -> Vec<Series> {
    let mut ids: HashMap<Vec<(String, String)>, usize> = HashMap::new();
    let mut id_of = |labels: &Labels| {
        let next = ids.len();
        *ids.entry(signature(labels, on)).or_insert(next)
    };
    let left: Vec<usize> = lhs.iter().map(|series| id_of(&series.labels)).collect();
    let right: Vec<usize> = rhs.iter().map(|series| id_of(&series.labels)).collect();
    let mut present = vec![false; ids.len()];
    let presence = |series: &[Series], ids: &[usize], index: usize, present: &mut Vec<bool>| {
        present.iter_mut().for_each(|slot| *slot = false);
        for (one, &id) in series.iter().zip(ids) {
            if one.values[index].is_some() {
                present[id] = true;
            }
        }
    };
    match op {
        T_LAND | T_LUNLESS => {
            let keep_matched = op == T_LAND;
            for index in 0..steps {
                presence(&rhs, &right, index, &mut present);
                for (one, &id) in lhs.iter_mut().zip(&left) {
                    if present[id] != keep_matched {
                        one.values[index] = None;
                    }
                }
            }
            lhs
        }
        _ => {
            let mut rhs = rhs;
            for index in 0..steps {
                presence(&lhs, &left, index, &mut present);
                for (one, &id) in rhs.iter_mut().zip(&right) {
                    if present[id] {
                        one.values[index] = None;
                    }
                }
            }
            lhs.extend(rhs);
            lhs
        }
    }
}

fn without_name(labels: &Labels) -> Arc<Labels> {
    let mut labels = labels.clone();
    labels.remove(NAME_LABEL);
    Arc::new(labels)
}
