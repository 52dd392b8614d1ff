//! Aggregations (`sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`,
//! `stdvar`, `topk`, `bottomk`, `quantile`, `count_values`) by or without
//! labels, computed in the same order and with the same running formulas as
//! Prometheus so that floating-point results agree.

use std::collections::HashMap;

use promql_parser::parser::token::{
    TokenType, T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV,
    T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::{AggregateExpr, LabelModifier};

use super::eval::{Element, Value};
use super::{format_value, QueryError};
use crate::store::{Labels, NAME_LABEL};

/// Refuses aggregations this engine does not evaluate.
pub(super) fn check_supported(op: TokenType) -> Result<(), QueryError> {
    match op.id() {
        T_SUM | T_AVG | T_MIN | T_MAX | T_COUNT | T_GROUP | T_STDDEV | T_STDVAR | T_TOPK | T_BOTTOMK
        | T_QUANTILE | T_COUNT_VALUES => Ok(()),
        _ => Err(QueryError::BadData(format!("the aggregation `{op}` is not supported"))),
    }
}

/// The labels a series is grouped by.
pub(super) fn group_labels(labels: &Labels, modifier: Option<&LabelModifier>) -> Labels {
    match modifier {
        Some(LabelModifier::Include(names)) => labels
            .iter()
            .filter(|(name, _)| names.labels.iter().any(|kept| kept == *name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        Some(LabelModifier::Exclude(names)) => labels
            .iter()
            .filter(|(name, _)| *name != NAME_LABEL && !names.labels.iter().any(|dropped| dropped == *name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        None => Labels::new(),
    }
}

/// One group's running value for the aggregations computed as members
/// come (`sum`, `avg`, `min`, `max`, `count`, `group`, `stddev`, `stdvar`),
/// with Prometheus' formulas.
#[derive(Debug, Clone, Copy)]
pub(super) struct Accumulator {
    value: f64,
    mean: f64,
    count: u64,
}

impl Accumulator {
    /// A group whose first member is `v`.
    pub(super) fn first(op: u16, v: f64) -> Accumulator {
        let value = match op {
            T_GROUP => 1.0,
            T_STDDEV | T_STDVAR => 0.0,
            _ => v,
        };
        Accumulator { value, mean: v, count: 1 }
    }

    /// Adds the next member, `v`.
    pub(super) fn add(&mut self, op: u16, v: f64) {
        self.count += 1;
        match op {
            T_SUM => self.value += v,
            T_AVG => {
                // Prometheus' running mean; an infinite mean stays as it is
                // unless the new value is NaN or the opposite infinity.
                let count = self.count as f64;
                if self.mean.is_infinite() {
                    if v.is_infinite() && (self.mean > 0.0) == (v > 0.0) {
                        return;
                    }
                    if !v.is_infinite() && !v.is_nan() {
                        return;
                    }
                }
                self.mean += v / count - self.mean / count;
            }
            T_MAX if self.value < v || self.value.is_nan() => self.value = v,
            T_MIN if self.value > v || self.value.is_nan() => self.value = v,
            T_STDDEV | T_STDVAR => {
                let delta = v - self.mean;
                self.mean += delta / self.count as f64;
                self.value += delta * (v - self.mean);
            }
            _ => {}
        }
    }

    /// The group's value.
    pub(super) fn result(&self, op: u16) -> f64 {
        match op {
            T_AVG => self.mean,
            T_COUNT => self.count as f64,
            T_STDDEV => (self.value / self.count as f64).sqrt(),
            T_STDVAR => self.value / self.count as f64,
            _ => self.value,
        }
    }
}

/// Whether `op` is computed by an [`Accumulator`] (no parameter, one value
/// per group).
pub(super) fn accumulates(op: u16) -> bool {
    matches!(op, T_SUM | T_AVG | T_MIN | T_MAX | T_COUNT | T_GROUP | T_STDDEV | T_STDVAR)
}

struct Group {
    labels: Labels,
    running: Accumulator,
    members: Vec<Element>,
}

/// Evaluates `expr` over `vector` at `t`; `param` is the evaluated
/// parameter of `topk`, `bottomk`, `quantile` and `count_values`.
pub(super) fn evaluate(
    expr: &AggregateExpr,
    vector: Vec<Element>,
    param: Option<Value>,
    t: i64,
) -> Result<Value, QueryError> {
    let op = expr.op.id();
    let modifier = expr.modifier.as_ref();
    let number = |what: &str| match &param {
        Some(Value::Scalar(v)) => Ok(*v),
        _ => Err(QueryError::BadData(format!("`{}` needs a number as its {what}", expr.op))),
    };
    if op == T_COUNT_VALUES {
        let Some(Value::String(label)) = &param else {
            return Err(QueryError::BadData("count_values needs a label name as its first argument".into()));
        };
        return Ok(Value::Vector(count_values(label, vector, modifier, t)?));
    }
    let k = match op {
        T_TOPK | T_BOTTOMK => {
            let k = number("first argument (how many)")?;
            if !k.is_finite() {
                return Err(QueryError::BadData(format!("the k of {} must be a finite number", expr.op)));
            }
            Some(k.max(0.0) as usize)
        }
        _ => None,
    };
    let q = if op == T_QUANTILE { Some(number("first argument (the quantile)")?) } else { None };

    // Groups in the order their first member comes, as Prometheus adds them.
    let mut order: Vec<Labels> = Vec::new();
    let mut groups: HashMap<Labels, Group> = HashMap::new();
    for element in vector {
        let key = group_labels(&element.labels, modifier);
        let Some(group) = groups.get_mut(&key) else {
            order.push(key.clone());
            let running = Accumulator::first(op, element.v);
            let members = if accumulates(op) { vec![] } else { vec![element] };
            groups.insert(key.clone(), Group { labels: key, running, members });
            continue;
        };
        if accumulates(op) {
            group.running.add(op, element.v);
        } else {
            group.members.push(element);
        }
    }

    let mut out = Vec::new();
    for key in order {
        let Some(mut group) = groups.remove(&key) else { continue };
        let value = match op {
            T_QUANTILE => {
                quantile(q.unwrap_or(f64::NAN), group.members.iter().map(|member| member.v).collect())
            }
            T_TOPK | T_BOTTOMK => {
                let k = k.unwrap_or(0);
                let top = op == T_TOPK;
                // NaN ranks below every number either way.
                group.members.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    (false, false) => {
                        let order = a.v.partial_cmp(&b.v).unwrap_or(std::cmp::Ordering::Equal);
                        if top {
                            order.reverse()
                        } else {
                            order
                        }
                    }
                });
                for member in group.members.into_iter().take(k) {
                    out.push(Element { labels: member.labels, v: member.v, t });
                }
                continue;
            }
            _ => group.running.result(op),
        };
        out.push(Element { labels: group.labels, v: value, t });
    }
    Ok(Value::Vector(out))
}

/// The `q` quantile of `values` by linear interpolation between the
/// closest ranks, as Prometheus' `quantile` and `quantile_over_time`.
pub(super) fn quantile(q: f64, mut values: Vec<f64>) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

fn count_values(
    label: &str,
    vector: Vec<Element>,
    modifier: Option<&LabelModifier>,
    t: i64,
) -> Result<Vec<Element>, QueryError> {
    if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(QueryError::BadData(format!("`{label}` is not a valid label name for count_values")));
    }
    let mut order: Vec<Labels> = Vec::new();
    let mut counts: HashMap<Labels, f64> = HashMap::new();
    for element in vector {
        let mut key = group_labels(&element.labels, modifier);
        key.insert(label.to_owned(), format_value(element.v));
        let count = counts.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            0.0
        });
        *count += 1.0;
    }
    Ok(order
        .into_iter()
        .map(|labels| {
            let v = counts.get(&labels).copied().unwrap_or(0.0);
            Element { labels, v, t }
        })
        .collect())
}
