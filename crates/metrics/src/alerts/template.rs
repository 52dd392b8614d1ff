//! Annotation templates: the part of Prometheus' Go templates that alert
//! rules use — `{{ $labels.NAME }}`, `{{ $value }}`, `{{ $value | humanize }}`,
//! `humanizePercentage`, `humanizeDuration`, `printf "%.2f" $value` — filled
//! in for each alert.
//!
//! Written here rather than taken from a template crate because none speaks
//! Go's template syntax with Prometheus' functions, and rules imported from
//! Prometheus must read as they did there. Anything else in `{{ }}` is
//! refused when the rule is set, with what is understood, so a rule never
//! sends a half-filled summary.

use crate::store::Labels;

/// `text` with every `{{ … }}` filled in for an alert with `labels` and
/// `value`.
pub fn render(text: &str, labels: &Labels, value: f64) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let (before, after) = rest.split_at(open);
        let Some(close) = after.find("}}") else {
            return Err(format!("`{{{{` at `{}` is never closed with `}}}}`", excerpt(after)));
        };
        let mut action = &after[2..close];
        let mut before = before;
        // `{{-` and `-}}` trim the spaces next to them, as in Go.
        if let Some(trimmed) = action.strip_prefix('-') {
            action = trimmed;
            before = before.trim_end();
        }
        out.push_str(before);
        let trim_after = action.ends_with('-');
        if trim_after {
            action = &action[..action.len() - 1];
        }
        out.push_str(&fill(action.trim(), labels, value)?);
        rest = &after[close + 2..];
        if trim_after {
            rest = rest.trim_start();
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn excerpt(text: &str) -> String {
    text.chars().take(30).collect()
}

/// One action: a value, then functions it is piped through.
fn fill(action: &str, labels: &Labels, value: f64) -> Result<String, String> {
    let unknown = || {
        format!(
            "`{{{{ {action} }}}}` is not a template OpsDeck fills; use {{{{ $labels.NAME }}}}, {{{{ $value }}}}, \
             and | humanize, | humanizePercentage, | humanizeDuration or printf \"%.2f\" $value"
        )
    };
    let mut stages = action.split('|').map(str::trim);
    let first = stages.next().unwrap_or_default();
    let mut current = if let Some(format) = first.strip_prefix("printf ") {
        // `printf "%.2f" $value`
        let (format, argument) = split_printf(format.trim()).ok_or_else(unknown)?;
        let argument = term(argument, labels, value).ok_or_else(unknown)?;
        printf(&format, &argument).ok_or_else(unknown)?
    } else {
        term(first, labels, value).ok_or_else(unknown)?
    };
    for stage in stages {
        current = match stage {
            "humanize" => Term::Text(humanize(current.number().ok_or_else(unknown)?)),
            "humanizePercentage" => {
                Term::Text(format!("{}%", significant(current.number().ok_or_else(unknown)? * 100.0, 4)))
            }
            "humanizeDuration" => Term::Text(humanize_duration(current.number().ok_or_else(unknown)?)),
            "toUpper" => Term::Text(current.text().to_uppercase()),
            "toLower" => Term::Text(current.text().to_lowercase()),
            other => match other.strip_prefix("printf ") {
                Some(format) => {
                    let format = unquote(format.trim()).ok_or_else(unknown)?;
                    printf(&format, &current).ok_or_else(unknown)?
                }
                None => return Err(unknown()),
            },
        };
    }
    Ok(current.text())
}

enum Term {
    Number(f64),
    Text(String),
}

impl Term {
    fn number(&self) -> Option<f64> {
        match self {
            Term::Number(value) => Some(*value),
            Term::Text(text) => text.trim().parse().ok(),
        }
    }

    fn text(&self) -> String {
        match self {
            Term::Number(value) => crate::promql::format_value(*value),
            Term::Text(text) => text.clone(),
        }
    }
}

fn term(text: &str, labels: &Labels, value: f64) -> Option<Term> {
    if text == "$value" || text == ".Value" {
        return Some(Term::Number(value));
    }
    let name = text.strip_prefix("$labels.").or_else(|| text.strip_prefix(".Labels."))?;
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| Term::Text(labels.get(name).cloned().unwrap_or_default()))
}

/// `"%.2f" $value` → (`%.2f`, `$value`).
fn split_printf(text: &str) -> Option<(String, &str)> {
    let rest = text.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some((rest[..end].to_owned(), rest[end + 1..].trim()))
}

fn unquote(text: &str) -> Option<String> {
    Some(text.strip_prefix('"')?.strip_suffix('"')?.to_owned())
}

/// Go's `printf` for one argument: `%s`, `%v`, `%d`, `%f`, `%.Nf`, `%g`,
/// with text around them.
fn printf(format: &str, argument: &Term) -> Option<Term> {
    let start = format.find('%')?;
    let spec_and_rest = &format[start + 1..];
    let verb_at = spec_and_rest.find(|c: char| c.is_ascii_alphabetic())?;
    let (spec, rest) = spec_and_rest.split_at(verb_at);
    let verb = rest.chars().next()?;
    let after = &rest[1..];
    let filled = match verb {
        's' | 'v' => argument.text(),
        'd' => format!("{}", argument.number()?.trunc() as i64),
        'f' | 'g' | 'e' => {
            let number = argument.number()?;
            let precision = match spec.strip_prefix('.') {
                Some(digits) => Some(digits.parse::<usize>().ok()?),
                None if spec.is_empty() => None,
                None => return None,
            };
            match (verb, precision) {
                ('f', Some(precision)) => format!("{number:.precision$}"),
                ('f', None) => format!("{number:.6}"),
                ('e', Some(precision)) => format!("{number:.precision$e}"),
                ('e', None) => format!("{number:e}"),
                (_, Some(precision)) => significant(number, precision.max(1)),
                (_, None) => crate::promql::format_value(number),
            }
        }
        _ => return None,
    };
    Some(Term::Text(format!("{}{filled}{after}", &format[..start])))
}

/// `value` with `digits` significant digits, trailing zeros dropped (Go's
/// `%.4g` for ordinary magnitudes).
fn significant(value: f64, digits: usize) -> String {
    if value == 0.0 || !value.is_finite() {
        return crate::promql::format_value(value);
    }
    let magnitude = value.abs().log10().floor() as i64;
    let decimals = (digits as i64 - 1 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Prometheus' `humanize`: SI prefixes, four significant digits (`1.235k`,
/// `12.5m`).
pub fn humanize(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return crate::promql::format_value(value);
    }
    let mut scaled = value;
    if value.abs() >= 1.0 {
        let prefixes = ["", "k", "M", "G", "T", "P", "E", "Z", "Y"];
        let mut index = 0;
        while scaled.abs() >= 1000.0 && index + 1 < prefixes.len() {
            scaled /= 1000.0;
            index += 1;
        }
        format!("{}{}", significant(scaled, 4), prefixes[index])
    } else {
        let prefixes = ["", "m", "u", "n", "p", "f", "a", "z", "y"];
        let mut index = 0;
        while scaled.abs() < 1.0 && index + 1 < prefixes.len() {
            scaled *= 1000.0;
            index += 1;
        }
        format!("{}{}", significant(scaled, 4), prefixes[index])
    }
}

/// Prometheus' `humanizeDuration`: seconds as `1d 2h 3m 4s`, or `12.5ms`
/// under a second.
pub fn humanize_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return crate::promql::format_value(seconds);
    }
    if seconds.abs() < 1.0 {
        return if seconds == 0.0 { "0s".to_owned() } else { format!("{}s", humanize(seconds)) };
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let whole = seconds.abs().trunc() as i64;
    let (days, hours, minutes, secs) = (whole / 86_400, whole / 3600 % 24, whole / 60 % 60, whole % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes}m"));
    }
    if secs > 0 || parts.is_empty() {
        parts.push(format!("{secs}s"));
    }
    format!("{sign}{}", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        [("service".to_owned(), "shop".to_owned()), ("instance".to_owned(), "web-1".to_owned())]
            .into_iter()
            .collect()
    }

    #[test]
    fn labels_and_values_are_filled_in() {
        let text = "{{ $labels.service }} on {{$labels.instance}} fails {{ $value | humanizePercentage }} of requests";
        assert_eq!(render(text, &labels(), 0.0523).unwrap(), "shop on web-1 fails 5.23% of requests");
        assert_eq!(render("{{ $value }}", &labels(), 2.5).unwrap(), "2.5");
        assert_eq!(render("{{ printf \"%.2f\" $value }} s", &labels(), 1.23456).unwrap(), "1.23 s");
        assert_eq!(render("{{ $value | printf \"%.1f\" }}", &labels(), 9.87).unwrap(), "9.9");
        assert_eq!(render("{{ $labels.missing }}!", &labels(), 0.0).unwrap(), "!");
        assert_eq!(render("a {{- $labels.service -}} b", &labels(), 0.0).unwrap(), "ashopb");
        assert_eq!(render("{{ .Labels.service }}", &labels(), 0.0).unwrap(), "shop");
    }

    #[test]
    fn humanized_like_prometheus() {
        assert_eq!(humanize(1234.6), "1.235k");
        assert_eq!(humanize(0.0125), "12.5m");
        assert_eq!(humanize(12.0), "12");
        assert_eq!(humanize(2_500_000.0), "2.5M");
        assert_eq!(humanize_duration(3723.0), "1h 2m 3s");
        assert_eq!(humanize_duration(0.25), "250ms");
    }

    #[test]
    fn what_is_not_understood_is_refused_with_what_is() {
        let error = render("{{ range $labels }}x{{ end }}", &labels(), 0.0).unwrap_err();
        assert!(error.contains("range $labels") && error.contains("$labels.NAME"), "{error}");
        assert!(render("{{ $labels.service", &labels(), 0.0).unwrap_err().contains("never closed"));
        assert!(render("{{ $value | reReplaceAll }}", &labels(), 0.0).is_err());
    }
}
