//! Before evaluation: what each series selector of a query reads, and
//! whether the query uses only what this engine evaluates.

use std::collections::HashMap;
use std::time::Duration;

use promql_parser::parser::{AtModifier, Expr, Offset, VectorSelector};

use super::{functions, QueryError, LOOKBACK_MS};
use crate::store::Matcher;

/// One selector's reads: Unix ms `from..=to`.
pub(super) struct Need<'e> {
    /// The selector node's address (see [`super::Loaded`]).
    pub key: usize,
    pub selector: &'e VectorSelector,
    pub from: i64,
    pub to: i64,
}

/// A duration in milliseconds.
pub(super) fn millis(duration: &Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 4)
}

/// An offset in milliseconds (positive looks back).
pub(super) fn offset_millis(offset: Option<&Offset>) -> i64 {
    match offset {
        None => 0,
        Some(Offset::Pos(duration)) => millis(duration),
        Some(Offset::Neg(duration)) => -millis(duration),
    }
}

/// The time an `@` modifier fixes, if any, given the query's start and end.
pub(super) fn at_millis(at: Option<&AtModifier>, start: i64, end: i64) -> Option<i64> {
    match at? {
        AtModifier::Start => Some(start),
        AtModifier::End => Some(end),
        AtModifier::At(time) => Some(match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => millis(&after),
            Err(before) => -millis(&before.duration()),
        }),
    }
}

/// The reads of every selector in `expr` evaluated from `start` to `end`.
pub(super) fn needs(expr: &Expr, start: i64, end: i64, step: i64) -> Vec<Need<'_>> {
    let mut found: HashMap<usize, Need<'_>> = HashMap::new();
    let context = Context { query_start: start, query_end: end, step };
    walk(expr, start, end, &context, &mut found);
    let mut needs: Vec<Need<'_>> = found.into_values().collect();
    needs.sort_by_key(|need| need.key);
    needs
}

struct Context {
    query_start: i64,
    query_end: i64,
    step: i64,
}

fn add<'e>(found: &mut HashMap<usize, Need<'e>>, selector: &'e VectorSelector, from: i64, to: i64) {
    let key = std::ptr::from_ref(selector) as usize;
    let need = found.entry(key).or_insert(Need { key, selector, from, to });
    need.from = need.from.min(from);
    need.to = need.to.max(to);
}

/// The evaluation times `start..=end` shifted by a node's `@` and offset.
fn shifted(
    at: Option<&AtModifier>,
    offset: Option<&Offset>,
    start: i64,
    end: i64,
    context: &Context,
) -> (i64, i64) {
    let offset = offset_millis(offset);
    match at_millis(at, context.query_start, context.query_end) {
        Some(at) => (at - offset, at - offset),
        None => (start - offset, end - offset),
    }
}

fn walk<'e>(expr: &'e Expr, start: i64, end: i64, context: &Context, found: &mut HashMap<usize, Need<'e>>) {
    match expr {
        Expr::VectorSelector(selector) => {
            let (from, to) = shifted(selector.at.as_ref(), selector.offset.as_ref(), start, end, context);
            add(found, selector, from - LOOKBACK_MS, to);
        }
        Expr::MatrixSelector(matrix) => {
            let selector = &matrix.vs;
            let (from, to) = shifted(selector.at.as_ref(), selector.offset.as_ref(), start, end, context);
            add(found, selector, from - millis(&matrix.range), to);
        }
        Expr::Subquery(subquery) => {
            let (from, to) = shifted(subquery.at.as_ref(), subquery.offset.as_ref(), start, end, context);
            let step = subquery.step.as_ref().map_or(context.step, millis).max(1);
            walk(&subquery.expr, from - millis(&subquery.range) - step, to, context, found);
        }
        Expr::Aggregate(aggregate) => {
            walk(&aggregate.expr, start, end, context, found);
            if let Some(param) = &aggregate.param {
                walk(param, start, end, context, found);
            }
        }
        Expr::Unary(unary) => walk(&unary.expr, start, end, context, found),
        Expr::Binary(binary) => {
            walk(&binary.lhs, start, end, context, found);
            walk(&binary.rhs, start, end, context, found);
        }
        Expr::Paren(paren) => walk(&paren.expr, start, end, context, found),
        Expr::Call(call) => {
            for arg in &call.args.args {
                walk(arg, start, end, context, found);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// The store's matchers for a selector.
pub(super) fn matchers(selector: &VectorSelector) -> Result<Vec<Matcher>, QueryError> {
    crate::selector::matchers_of(selector).map_err(|error| QueryError::BadData(error.to_string()))
}

/// Refuses, before anything is read, what this engine does not evaluate.
pub(super) fn check_supported(expr: &Expr) -> Result<(), QueryError> {
    match expr {
        Expr::VectorSelector(selector) => matchers(selector).map(|_| ()),
        Expr::MatrixSelector(matrix) => matchers(&matrix.vs).map(|_| ()),
        Expr::Subquery(subquery) => check_supported(&subquery.expr),
        Expr::Aggregate(aggregate) => {
            super::aggregate::check_supported(aggregate.op)?;
            check_supported(&aggregate.expr)?;
            aggregate.param.as_deref().map_or(Ok(()), check_supported)
        }
        Expr::Unary(unary) => check_supported(&unary.expr),
        Expr::Binary(binary) => {
            if let Some(modifier) = &binary.modifier {
                if modifier.fill_values.lhs.is_some() || modifier.fill_values.rhs.is_some() {
                    return Err(QueryError::BadData("`fill` modifiers are not supported".into()));
                }
            }
            check_supported(&binary.lhs)?;
            check_supported(&binary.rhs)
        }
        Expr::Paren(paren) => check_supported(&paren.expr),
        Expr::Call(call) => {
            functions::check_supported(call.func.name)?;
            call.args.args.iter().try_for_each(|arg| check_supported(arg))
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Ok(()),
        Expr::Extension(_) => Err(QueryError::BadData("extension expressions are not supported".into())),
    }
}
