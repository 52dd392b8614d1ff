//! What a trace's timing says: the critical path (the chain of work that
//! decided when the trace ended) and each span's self time (its own work,
//! not waiting on children).
//!
//! Real traces are untidy, and both measures stay within each parent's
//! window: a child that outlives its parent (async work) counts only until
//! the parent ended, and a child that seems to start before its parent
//! (clocks of two services disagreeing) counts from the parent's start.

use std::collections::HashMap;

use serde::Serialize;
use ts_rs::TS;

use crate::model::Span;

/// One stretch of the critical path: the span whose own work it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct PathSegment {
    /// The span doing the work.
    pub span_id: String,
    /// Its service.
    pub service: String,
    /// Its operation.
    pub name: String,
    /// From, Unix nanoseconds.
    #[ts(type = "number")]
    pub start_unix_nano: i64,
    /// To, Unix nanoseconds.
    #[ts(type = "number")]
    pub end_unix_nano: i64,
}

/// The trace's root: a span whose parent is not in the trace (the longest
/// such, when several are).
pub fn root_of(spans: &[Span]) -> Option<&Span> {
    let ids: std::collections::HashSet<&str> = spans.iter().map(|span| span.span_id.as_str()).collect();
    spans
        .iter()
        .filter(|span| span.parent_span_id.is_empty() || !ids.contains(span.parent_span_id.as_str()))
        .max_by_key(|span| (span.duration_nano(), std::cmp::Reverse(span.start_unix_nano)))
}

fn children_of(spans: &[Span]) -> HashMap<&str, Vec<&Span>> {
    let mut children: HashMap<&str, Vec<&Span>> = HashMap::new();
    for span in spans {
        if !span.parent_span_id.is_empty() {
            children.entry(span.parent_span_id.as_str()).or_default().push(span);
        }
    }
    children
}

/// The critical path from the root, in time order. Empty for no spans.
pub fn critical_path(spans: &[Span]) -> Vec<PathSegment> {
    let Some(root) = root_of(spans) else { return Vec::new() };
    let children = children_of(spans);
    let mut latest_first = Vec::new();
    walk(root, root.start_unix_nano, root.end_unix_nano, &children, &mut latest_first, 0);
    latest_first.reverse();
    latest_first
}

/// Pushes the path through `span` within [`from`, `to`), latest stretch first.
fn walk<'a>(
    span: &'a Span,
    from: i64,
    to: i64,
    children: &HashMap<&str, Vec<&'a Span>>,
    out: &mut Vec<PathSegment>,
    depth: usize,
) {
    let start = span.start_unix_nano.max(from);
    let end = span.end_unix_nano.min(to);
    // Broken data can list a span as its own ancestor: stop rather than recurse forever.
    if end <= start || depth > 10_000 {
        return;
    }
    let segment = |from: i64, to: i64| PathSegment {
        span_id: span.span_id.clone(),
        service: span.service.clone(),
        name: span.name.clone(),
        start_unix_nano: from,
        end_unix_nano: to,
    };
    let kids = children.get(span.span_id.as_str()).map(Vec::as_slice).unwrap_or_default();
    let mut cursor = end;
    // The cursor only moves back (to a start before it), so this ends.
    loop {
        // The child that finished last before the cursor decided when this span could go on.
        let next = kids
            .iter()
            .filter(|child| child.start_unix_nano.max(start) < cursor && child.end_unix_nano > start)
            .max_by_key(|child| (child.end_unix_nano.min(cursor), child.start_unix_nano));
        let Some(child) = next else { break };
        let child_end = child.end_unix_nano.min(cursor);
        if child_end < cursor {
            out.push(segment(child_end, cursor));
        }
        let child_start = child.start_unix_nano.max(start);
        walk(child, child_start, child_end, children, out, depth + 1);
        cursor = child_start;
    }
    if cursor > start {
        out.push(segment(start, cursor));
    }
}

/// Each span's own time in nanoseconds: its duration less the time its
/// children (clamped to its window, overlaps counted once) were running.
pub fn self_times(spans: &[Span]) -> HashMap<String, i64> {
    let children = children_of(spans);
    spans
        .iter()
        .map(|span| {
            let (start, end) = (span.start_unix_nano, span.end_unix_nano.max(span.start_unix_nano));
            let mut busy: Vec<(i64, i64)> = children
                .get(span.span_id.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|child| (child.start_unix_nano.max(start), child.end_unix_nano.min(end)))
                .filter(|(from, to)| to > from)
                .collect();
            busy.sort_unstable();
            let mut covered = 0;
            let mut reach = start;
            for (from, to) in busy {
                let from = from.max(reach);
                if to > from {
                    covered += to - from;
                    reach = to;
                }
            }
            (span.span_id.clone(), (end - start) - covered)
        })
        .collect()
}

/// How one span of a trace compares with its match in another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct SpanComparison {
    /// The service.
    pub service: String,
    /// The operation.
    pub name: String,
    /// Which occurrence of service+operation in its trace, by start (0 first).
    pub occurrence: usize,
    /// `added` (only in the second), `removed` (only in the first), `slower`, `faster` or `same`.
    pub change: String,
    /// Duration in the first trace, ns.
    #[ts(type = "number | null")]
    pub before_nano: Option<i64>,
    /// Duration in the second trace, ns.
    #[ts(type = "number | null")]
    pub after_nano: Option<i64>,
}

/// Compares two traces span by span: spans are matched by service,
/// operation and occurrence (the n-th such span by start). A change of less
/// than 10% or 1 ms counts as the same.
pub fn compare(before: &[Span], after: &[Span]) -> Vec<SpanComparison> {
    type Key = (String, String, usize);
    fn keyed(spans: &[Span]) -> Vec<(Key, i64)> {
        let mut sorted: Vec<&Span> = spans.iter().collect();
        // By start; of spans starting together, the longer (the parent) first.
        sorted.sort_by_key(|span| {
            (span.start_unix_nano, std::cmp::Reverse(span.duration_nano()), span.span_id.clone())
        });
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        sorted
            .into_iter()
            .map(|span| {
                let counter = seen.entry((span.service.clone(), span.name.clone())).or_default();
                let key = (span.service.clone(), span.name.clone(), *counter);
                *counter += 1;
                (key, span.duration_nano())
            })
            .collect()
    }
    let old = keyed(before);
    let new: HashMap<Key, i64> = keyed(after).into_iter().collect();
    let mut result = Vec::new();
    let mut matched = std::collections::HashSet::new();
    for (key, before_nano) in &old {
        let after_nano = new.get(key).copied();
        let change = match after_nano {
            None => "removed",
            Some(after_nano) => {
                let delta = after_nano - before_nano;
                let threshold = (before_nano / 10).max(1_000_000);
                if delta >= threshold {
                    "slower"
                } else if -delta >= threshold {
                    "faster"
                } else {
                    "same"
                }
            }
        };
        matched.insert(key.clone());
        result.push(SpanComparison {
            service: key.0.clone(),
            name: key.1.clone(),
            occurrence: key.2,
            change: change.to_owned(),
            before_nano: Some(*before_nano),
            after_nano,
        });
    }
    for (key, after_nano) in keyed(after) {
        if !matched.contains(&key) {
            result.push(SpanComparison {
                service: key.0,
                name: key.1,
                occurrence: key.2,
                change: "added".to_owned(),
                before_nano: None,
                after_nano: Some(after_nano),
            });
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: &str, start: i64, end: i64) -> Span {
        Span {
            trace_id: "t".repeat(32),
            span_id: id.to_owned(),
            parent_span_id: parent.to_owned(),
            service: "svc".to_owned(),
            name: id.to_owned(),
            kind: 0,
            start_unix_nano: start,
            end_unix_nano: end,
            status_code: 0,
            status: crate::model::SpanStatus::Unset,
            status_message: String::new(),
            trace_state: String::new(),
            flags: 0,
            attributes: crate::JsonText::from_value(&serde_json::json!({})).unwrap(),
            resource: crate::JsonText::from_value(&serde_json::json!({})).unwrap(),
            scope: crate::JsonText::from_value(&serde_json::json!({})).unwrap(),
            events: crate::JsonText::from_value(&serde_json::json!([])).unwrap(),
            links: crate::JsonText::from_value(&serde_json::json!([])).unwrap(),
        }
    }

    fn path(spans: &[Span]) -> Vec<(String, i64, i64)> {
        critical_path(spans)
            .into_iter()
            .map(|segment| (segment.span_id, segment.start_unix_nano, segment.end_unix_nano))
            .collect()
    }

    fn seg(id: &str, from: i64, to: i64) -> (String, i64, i64) {
        (id.to_owned(), from, to)
    }

    #[test]
    fn sequential_children_alternate_with_the_parents_own_work() {
        let spans = [span("root", "", 0, 100), span("a", "root", 10, 40), span("b", "root", 50, 90)];
        assert_eq!(
            path(&spans),
            [
                seg("root", 0, 10),
                seg("a", 10, 40),
                seg("root", 40, 50),
                seg("b", 50, 90),
                seg("root", 90, 100)
            ]
        );
        let own = self_times(&spans);
        assert_eq!((own["root"], own["a"], own["b"]), (30, 30, 40));
    }

    #[test]
    fn of_overlapping_children_the_one_that_ends_last_is_on_the_path() {
        let spans = [span("root", "", 0, 100), span("a", "root", 10, 80), span("b", "root", 20, 60)];
        assert_eq!(path(&spans), [seg("root", 0, 10), seg("a", 10, 80), seg("root", 80, 100)]);
        // Overlapping children count once in the parent's self time.
        let spans = [span("root", "", 0, 100), span("a", "root", 10, 60), span("b", "root", 40, 90)];
        assert_eq!(self_times(&spans)["root"], 20);
        assert_eq!(
            path(&spans),
            [seg("root", 0, 10), seg("a", 10, 40), seg("b", 40, 90), seg("root", 90, 100)]
        );
    }

    #[test]
    fn an_async_child_that_outlives_its_parent_counts_until_the_parent_ends() {
        let spans = [span("root", "", 0, 100), span("async", "root", 90, 150)];
        assert_eq!(path(&spans), [seg("root", 0, 90), seg("async", 90, 100)]);
        assert_eq!(self_times(&spans)["root"], 90);
    }

    #[test]
    fn a_child_whose_clock_runs_behind_counts_from_the_parents_start() {
        let spans = [span("root", "", 100, 200), span("skewed", "root", 80, 150)];
        assert_eq!(path(&spans), [seg("skewed", 100, 150), seg("root", 150, 200)]);
        let spans = [span("root", "", 100, 200), span("before", "root", 10, 50)];
        assert_eq!(
            path(&spans),
            [seg("root", 100, 200)],
            "a child wholly outside its parent is not on the path"
        );
    }

    #[test]
    fn comparing_traces_matches_spans_by_service_operation_and_occurrence() {
        const MS: i64 = 1_000_000;
        // Two spans of one operation ("query"): the occurrence decides which matches which.
        let named = |id: &str, name: &str, start: i64, end: i64| Span {
            name: name.to_owned(),
            ..span(id, "r", start, end)
        };
        let before = [
            span("r", "", 0, 100 * MS),
            named("q1", "query", 0, 10 * MS),
            named("q2", "query", 20 * MS, 30 * MS),
            named("c", "cache", 40 * MS, 41 * MS),
        ];
        let after = [
            span("r", "", 0, 105 * MS),
            named("q1", "query", 0, 10 * MS),
            named("q2", "query", 20 * MS, 50 * MS),
            named("e", "email", 60 * MS, 70 * MS),
        ];
        let changes: Vec<(String, usize, String)> =
            compare(&before, &after).into_iter().map(|c| (c.name, c.occurrence, c.change)).collect();
        let expect = |name: &str, n: usize, change: &str| (name.to_owned(), n, change.to_owned());
        assert_eq!(
            changes,
            [
                expect("r", 0, "same"),
                expect("query", 0, "same"),
                expect("query", 1, "slower"),
                expect("cache", 0, "removed"),
                expect("email", 0, "added"),
            ]
        );
    }

    #[test]
    fn nested_work_is_followed_down_and_a_missing_parent_makes_a_root() {
        let spans = [
            span("root", "", 0, 100),
            span("a", "root", 0, 100),
            span("a1", "a", 20, 40),
            span("orphan", "gone", 5, 6),
        ];
        assert_eq!(path(&spans), [seg("a", 0, 20), seg("a1", 20, 40), seg("a", 40, 100)]);
        assert_eq!(root_of(&spans).map(|span| span.span_id.as_str()), Some("root"));
        assert!(critical_path(&[]).is_empty());
        // Durations add up: the path covers the root's whole window without gaps.
        let total: i64 = critical_path(&spans).iter().map(|s| s.end_unix_nano - s.start_unix_nano).sum();
        assert_eq!(total, 100);
    }
}
