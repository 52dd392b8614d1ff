//! Binary operators: arithmetic, comparisons (filtering or `bool`), and the
//! set operators, with vector matching (`on`, `ignoring`, `group_left`,
//! `group_right`) as Prometheus matches.

use std::collections::{HashMap, HashSet};

use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD, T_MUL, T_NEQ,
    T_POW, T_SUB,
};
use promql_parser::parser::{BinModifier, BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::eval::{kind, without_name, Element, Value};
use super::QueryError;
use crate::store::{series_text, Labels, NAME_LABEL};

/// Applies `expr`'s operator to its evaluated sides at `t`.
pub(super) fn evaluate(expr: &BinaryExpr, lhs: Value, rhs: Value, t: i64) -> Result<Value, QueryError> {
    let op = expr.op.id();
    let return_bool = expr.modifier.as_ref().is_some_and(|modifier| modifier.return_bool);
    match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(r)) => {
            let (value, keep) = apply(op, l, r)?;
            if is_comparison(op) && !return_bool {
                return Err(QueryError::BadData(
                    "comparisons between numbers must use the bool modifier".into(),
                ));
            }
            Ok(Value::Scalar(if return_bool { f64::from(u8::from(keep)) } else { value }))
        }
        (Value::Vector(vector), Value::Scalar(r)) => vector_scalar(op, vector, r, false, return_bool, t),
        (Value::Scalar(l), Value::Vector(vector)) => vector_scalar(op, vector, l, true, return_bool, t),
        (Value::Vector(lhs), Value::Vector(rhs)) => {
            let modifier = expr.modifier.as_ref();
            match op {
                T_LAND => Ok(Value::Vector(and(lhs, rhs, modifier))),
                T_LOR => Ok(Value::Vector(or(lhs, rhs, modifier))),
                T_LUNLESS => Ok(Value::Vector(unless(lhs, rhs, modifier))),
                _ => vector_vector(op, lhs, rhs, modifier, return_bool, t),
            }
        }
        (lhs, rhs) => Err(QueryError::BadData(format!(
            "binary operators need numbers or instant vectors on both sides, not {} and {}",
            kind(&lhs),
            kind(&rhs)
        ))),
    }
}

pub(super) fn is_comparison(op: u16) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Arithmetic drops the metric name: the result is no longer that metric.
pub(super) fn drops_name(op: u16) -> bool {
    matches!(op, T_ADD | T_SUB | T_MUL | T_DIV | T_MOD | T_POW | T_ATAN2)
}

/// The value of `l op r`, and for comparisons whether it holds (the value
/// of a comparison is its left side's).
pub(super) fn apply(op: u16, l: f64, r: f64) -> Result<(f64, bool), QueryError> {
    Ok(match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_POW => (l.powf(r), true),
        // Go's math.Mod: the sign of the dividend, NaN for a zero divisor.
        T_MOD => (l % r, true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => {
            return Err(QueryError::BadData(
                "the set operators and, or, unless need instant vectors on both sides".into(),
            ))
        }
    })
}

fn vector_scalar(
    op: u16,
    vector: Vec<Element>,
    scalar: f64,
    scalar_on_left: bool,
    return_bool: bool,
    t: i64,
) -> Result<Value, QueryError> {
    let mut out = Vec::with_capacity(vector.len());
    for element in vector {
        let (l, r) = if scalar_on_left { (scalar, element.v) } else { (element.v, scalar) };
        let (mut value, mut keep) = apply(op, l, r)?;
        // A comparison keeps the vector's value, on whichever side it is.
        if is_comparison(op) && scalar_on_left {
            value = r;
        }
        if return_bool {
            value = f64::from(u8::from(keep));
            keep = true;
        }
        if keep {
            let labels =
                if drops_name(op) || return_bool { without_name(element.labels) } else { element.labels };
            out.push(Element { labels, v: value, t });
        }
    }
    Ok(Value::Vector(out))
}

/// How a side's series are matched: `on` the listed labels, or on all
/// labels but the listed ones (`ignoring`, and by default none) and the name.
pub(super) fn signature(labels: &Labels, matching: Option<&LabelModifier>) -> Vec<(String, String)> {
    match matching {
        Some(LabelModifier::Include(names)) => labels
            .iter()
            .filter(|(name, _)| names.labels.iter().any(|wanted| wanted == *name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        Some(LabelModifier::Exclude(names)) => labels
            .iter()
            .filter(|(name, _)| *name != NAME_LABEL && !names.labels.iter().any(|ignored| ignored == *name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        None => labels
            .iter()
            .filter(|(name, _)| *name != NAME_LABEL)
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
    }
}

pub(super) fn matching(modifier: Option<&BinModifier>) -> Option<&LabelModifier> {
    modifier.and_then(|modifier| modifier.matching.as_ref())
}

fn and(lhs: Vec<Element>, rhs: Vec<Element>, modifier: Option<&BinModifier>) -> Vec<Element> {
    let on = matching(modifier);
    let right: HashSet<_> = rhs.iter().map(|element| signature(&element.labels, on)).collect();
    lhs.into_iter().filter(|element| right.contains(&signature(&element.labels, on))).collect()
}

fn or(lhs: Vec<Element>, rhs: Vec<Element>, modifier: Option<&BinModifier>) -> Vec<Element> {
    let on = matching(modifier);
    let left: HashSet<_> = lhs.iter().map(|element| signature(&element.labels, on)).collect();
    let mut out = lhs;
    out.extend(rhs.into_iter().filter(|element| !left.contains(&signature(&element.labels, on))));
    out
}

fn unless(lhs: Vec<Element>, rhs: Vec<Element>, modifier: Option<&BinModifier>) -> Vec<Element> {
    let on = matching(modifier);
    let right: HashSet<_> = rhs.iter().map(|element| signature(&element.labels, on)).collect();
    lhs.into_iter().filter(|element| !right.contains(&signature(&element.labels, on))).collect()
}

fn vector_vector(
    op: u16,
    lhs: Vec<Element>,
    rhs: Vec<Element>,
    modifier: Option<&BinModifier>,
    return_bool: bool,
    t: i64,
) -> Result<Value, QueryError> {
    let card = modifier.map_or(&VectorMatchCardinality::OneToOne, |modifier| &modifier.card);
    let on = matching(modifier);
    let (include, one_to_many) = match card {
        VectorMatchCardinality::OneToOne => (None, false),
        VectorMatchCardinality::ManyToOne(labels) => (Some(labels), false),
        VectorMatchCardinality::OneToMany(labels) => (Some(labels), true),
        VectorMatchCardinality::ManyToMany => {
            return Err(QueryError::BadData("many-to-many matching is only for and, or, unless".into()))
        }
    };
    // The "one" side is hashed; with group_right that is the left side.
    let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let mut one_by_signature: HashMap<Vec<(String, String)>, &Element> = HashMap::with_capacity(one.len());
    for element in &one {
        let signature = signature(&element.labels, on);
        if let Some(earlier) = one_by_signature.insert(signature, element) {
            return Err(duplicate_match(one_to_many, &element.labels, &earlier.labels));
        }
    }
    let mut matched: HashMap<Vec<(String, String)>, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for element in many {
        let signature = signature(&element.labels, on);
        let Some(other) = one_by_signature.get(&signature) else { continue };
        let (l, r) = if one_to_many { (other.v, element.v) } else { (element.v, other.v) };
        let (mut value, keep) = apply(op, l, r)?;
        if return_bool {
            value = f64::from(u8::from(keep));
        } else if !keep {
            continue;
        }
        let mut labels = result_labels(element.labels, &other.labels, op, on, include);
        if return_bool {
            labels = without_name(labels);
        }
        let seen = matched.entry(signature).or_default();
        if include.is_none() {
            if !seen.is_empty() {
                return Err(QueryError::Execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                        .into(),
                ));
            }
        } else if seen.contains(&labels) {
            return Err(QueryError::Execution(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        seen.insert(labels.clone());
        out.push(Element { labels, v: value, t });
    }
    Ok(Value::Vector(out))
}

/// A matched pair's labels: the "many" side's, without the name for
/// arithmetic; one-to-one keeps only the `on` labels (or drops the
/// `ignoring` ones); `group_*(labels)` copies those from the "one" side.
pub(super) fn result_labels(
    mut labels: Labels,
    one: &Labels,
    op: u16,
    on: Option<&LabelModifier>,
    include: Option<&promql_parser::label::Labels>,
) -> Labels {
    if drops_name(op) {
        labels.remove(NAME_LABEL);
    }
    match include {
        None => match on {
            Some(LabelModifier::Include(names)) => {
                labels.retain(|name, _| names.labels.iter().any(|kept| kept == name));
            }
            Some(LabelModifier::Exclude(names)) => {
                labels.retain(|name, _| !names.labels.iter().any(|ignored| ignored == name));
            }
            None => {}
        },
        Some(names) => {
            for name in &names.labels {
                match one.get(name) {
                    Some(value) if !value.is_empty() => {
                        labels.insert(name.clone(), value.clone());
                    }
                    _ => {
                        labels.remove(name);
                    }
                }
            }
        }
    }
    labels
}

/// The error for two series of the "one" side of a match with one
/// signature, in Prometheus' words.
pub(super) fn duplicate_match(one_to_many: bool, first: &Labels, second: &Labels) -> QueryError {
    let side = if one_to_many { "left" } else { "right" };
    QueryError::Execution(format!(
        "found duplicate series for the match group on the {side} hand-side of the operation: [{}, {}]; \
         many-to-many matching not allowed: matching labels must be unique on one side",
        series_text(first),
        series_text(second)
    ))
}
