//! Series selectors in PromQL's syntax (`http_requests_total{job="shop",
//! code=~"5.."}`), parsed by the `promql-parser` crate and turned into the
//! store's matchers.

use promql_parser::label::MatchOp;
use promql_parser::parser::{parse, Expr, VectorSelector};

use crate::store::{Matcher, MetricsError, NAME_LABEL};

/// The matchers of one series selector. Anything else (a function, an
/// operator, a range) is refused with what was expected.
pub fn parse_selector(text: &str) -> Result<Vec<Matcher>, MetricsError> {
    let expr = parse(text.trim()).map_err(|error| {
        MetricsError::Invalid(format!("`{}` is not a series selector: {error}", text.trim()))
    })?;
    let Expr::VectorSelector(selector) = expr else {
        return Err(MetricsError::Invalid(format!(
            "`{}` is a query, not a series selector; give a metric name and labels, like up{{job=\"shop\"}}",
            text.trim()
        )));
    };
    if selector.offset.is_some() || selector.at.is_some() {
        return Err(MetricsError::Invalid("a series selector takes no `offset` or `@`".into()));
    }
    matchers_of(&selector)
}

/// The store's matchers for a parsed selector (its name, then its label
/// matchers); `or` between matcher sets is refused.
pub(crate) fn matchers_of(selector: &VectorSelector) -> Result<Vec<Matcher>, MetricsError> {
    if !selector.matchers.or_matchers.is_empty() {
        return Err(MetricsError::Invalid(
            "`or` inside a selector is not supported; give one set of labels, or write two selectors".into(),
        ));
    }
    let mut matchers = Vec::new();
    if let Some(name) = &selector.name {
        matchers.push(Matcher::equal(NAME_LABEL, name));
    }
    for matcher in &selector.matchers.matchers {
        matchers.push(match &matcher.op {
            MatchOp::Equal => Matcher::equal(&matcher.name, &matcher.value),
            MatchOp::NotEqual => Matcher::not_equal(&matcher.name, &matcher.value),
            MatchOp::Re(_) => Matcher::regex(&matcher.name, &matcher.value)?,
            MatchOp::NotRe(_) => Matcher::not_regex(&matcher.name, &matcher.value)?,
        });
    }
    Ok(matchers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Labels;

    fn series(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(label, value)| (label.to_string(), value.to_string())).collect()
    }

    #[test]
    fn a_selector_becomes_matchers_that_select_as_prometheus_does() {
        let matchers = parse_selector(
            r#"http_requests_total{job="shop", code=~"5..", method!="GET", path!~"/health.*"}"#,
        )
        .unwrap();
        let accepts = |labels: &Labels| matchers.iter().all(|matcher| matcher.accepts(labels));
        let base =
            [("__name__", "http_requests_total"), ("job", "shop"), ("method", "POST"), ("path", "/cart")];
        assert!(accepts(&series(&[base.as_slice(), &[("code", "503")]].concat())));
        assert!(!accepts(&series(&[base.as_slice(), &[("code", "5031")]].concat())), "=~ is anchored");
        assert!(!accepts(&series(&[base.as_slice(), &[("code", "404")]].concat())));
        let by_labels = parse_selector(r#"{__name__=~"up|scrape_.*"}"#).unwrap();
        assert!(by_labels[0].accepts(&series(&[("__name__", "scrape_duration_seconds")])));
    }

    #[test]
    fn what_is_not_a_selector_is_refused_saying_what_was_expected() {
        let cases = [
            ("rate(http_requests_total[5m])", "is a query, not a series selector"),
            ("up offset 5m", "takes no `offset` or `@`"),
            ("up{job=", "is not a series selector"),
            (r#"up{job=~"("}"#, "is not a series selector"),
        ];
        for (text, problem) in cases {
            let error = parse_selector(text).unwrap_err().to_string();
            assert!(error.contains(problem), "{text}: {error}");
        }
    }
}
