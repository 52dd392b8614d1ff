//! What a scrape target answers: the Prometheus text format (0.0.4) and
//! OpenMetrics 1.0, parsed strictly — a malformed line is an error naming
//! its line and column and quoting it, never skipped in silence (a scrape
//! that drops half its lines unseen draws wrong charts).
//!
//! Written here rather than taken from a crate: the parsers published for
//! Rust either skip what they do not understand or stop at the first
//! problem without saying where, and the scraper needs both formats, a
//! sample limit checked while parsing (a target that suddenly exposes a
//! million series must fail fast), and timestamps in one unit.

use std::collections::BTreeMap;
use std::fmt;

/// Which format a target answered in (its `Content-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`: timestamps in milliseconds.
    Prometheus,
    /// `application/openmetrics-text`: timestamps in seconds, `# EOF` at the end.
    OpenMetrics,
}

impl Format {
    /// The `Accept` header a scrape sends: OpenMetrics preferred, the
    /// Prometheus text format understood.
    pub const ACCEPT: &'static str =
        "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    /// The format a response's `Content-Type` names (the text format when
    /// it names neither, as Prometheus assumes).
    pub fn from_content_type(content_type: &str) -> Format {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }
}

/// What a `# TYPE` line says a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up (resets to zero when the process restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets (`_bucket{le=…}`), `_sum` and `_count`.
    Histogram,
    /// A histogram of a gauge (OpenMetrics).
    GaugeHistogram,
    /// Quantiles, `_sum` and `_count`.
    Summary,
    /// One series per state, 1 for the current one (OpenMetrics).
    StateSet,
    /// Labels worth keeping, value 1 (OpenMetrics).
    Info,
    /// Said to be unknown, or no `# TYPE` line.
    Unknown,
}

impl MetricKind {
    fn parse(word: &str, format: Format) -> Option<MetricKind> {
        Some(match (word, format) {
            ("counter", _) => MetricKind::Counter,
            ("gauge", _) => MetricKind::Gauge,
            ("histogram", _) => MetricKind::Histogram,
            ("summary", _) => MetricKind::Summary,
            ("untyped", Format::Prometheus) | ("unknown", Format::OpenMetrics) => MetricKind::Unknown,
            ("gaugehistogram", Format::OpenMetrics) => MetricKind::GaugeHistogram,
            ("stateset", Format::OpenMetrics) => MetricKind::StateSet,
            ("info", Format::OpenMetrics) => MetricKind::Info,
            _ => return None,
        })
    }
}

/// A metric family's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// Its type (`Unknown` when no `# TYPE` line came).
    pub kind: MetricKind,
    /// Its `# HELP` text, unescaped.
    pub help: Option<String>,
    /// Its `# UNIT` (OpenMetrics).
    pub unit: Option<String>,
}

/// One sample of a scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapedSample {
    /// The series' name (`http_requests_total`, `…_bucket`).
    pub name: String,
    /// Its labels in the order given, values unescaped.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
    /// The time the target gave, in Unix milliseconds (usually none: the
    /// scrape's own time is used).
    pub timestamp_ms: Option<i64>,
}

/// A parsed scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    /// Every sample, in the order given.
    pub samples: Vec<ScrapedSample>,
    /// Metadata by family name.
    pub families: BTreeMap<String, Family>,
}

/// A line the parser could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpositionError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters) where the problem starts.
    pub column: usize,
    /// What is wrong there.
    pub problem: String,
    /// The line (cut to 120 characters).
    pub text: String,
}

impl fmt::Display for ExpositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.problem)?;
        if !self.text.is_empty() {
            write!(f, " in `{}`", self.text)?;
        }
        Ok(())
    }
}

impl std::error::Error for ExpositionError {}

/// How to parse.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// The format.
    pub format: Format,
    /// Refuse the scrape when it has more samples than this.
    pub sample_limit: Option<usize>,
}

/// Parses one scrape's body.
pub fn parse(text: &str, options: ParseOptions) -> Result<Scrape, ExpositionError> {
    let mut scrape = Scrape::default();
    let mut ended = false;
    let mut line_number = 0;
    // The newline ending the last line is not an empty line after it.
    let body = text.strip_suffix('\n').unwrap_or(text);
    for raw in body.split('\n').filter(|_| !body.is_empty()) {
        line_number += 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let fail = |column: usize, problem: String| ExpositionError {
            line: line_number,
            column: line[..column.min(line.len())].chars().count() + 1,
            problem,
            text: line.chars().take(120).collect(),
        };
        if ended {
            return Err(fail(0, "nothing may follow `# EOF`".to_owned()));
        }
        if line.is_empty() {
            if options.format == Format::OpenMetrics {
                return Err(fail(0, "OpenMetrics has no empty lines".to_owned()));
            }
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if options.format == Format::OpenMetrics && comment == " EOF" {
                ended = true;
                continue;
            }
            metadata(comment, options.format, &mut scrape.families)
                .map_err(|(column, problem)| fail(column + 1, problem))?;
            continue;
        }
        let sample = sample(line, options.format).map_err(|(column, problem)| fail(column, problem))?;
        if options.sample_limit.is_some_and(|limit| scrape.samples.len() >= limit) {
            return Err(fail(
                0,
                format!(
                    "the target exposes more than {} samples (its sample limit); raise the limit or have it expose fewer series",
                    options.sample_limit.unwrap_or_default()
                ),
            ));
        }
        scrape.samples.push(sample);
    }
    if options.format == Format::OpenMetrics && !ended {
        return Err(ExpositionError {
            line: line_number,
            column: 1,
            problem: "the OpenMetrics text does not end with `# EOF` (cut short?)".to_owned(),
            text: String::new(),
        });
    }
    Ok(scrape)
}

type LineError = (usize, String);

/// A `# HELP`, `# TYPE` or `# UNIT` line (`comment` is what follows `#`);
/// other comments are ignored.
fn metadata(comment: &str, format: Format, families: &mut BTreeMap<String, Family>) -> Result<(), LineError> {
    let mut words = comment.trim_start().splitn(3, ' ');
    let keyword = words.next().unwrap_or_default();
    if !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
        if format == Format::OpenMetrics {
            return Err((0, format!("`# {keyword}` is not an OpenMetrics line (HELP, TYPE, UNIT or EOF)")));
        }
        return Ok(());
    }
    let offset = comment.len() - comment.trim_start().len() + keyword.len() + 1;
    let name = words.next().unwrap_or_default();
    if !is_metric_name(name) {
        return Err((
            offset,
            format!("`{name}` is not a metric name (letters, digits, `_` and `:`, not first a digit)"),
        ));
    }
    let rest = words.next().unwrap_or_default();
    let family = families.entry(name.to_owned()).or_insert(Family {
        kind: MetricKind::Unknown,
        help: None,
        unit: None,
    });
    match keyword {
        "HELP" => {
            if family.help.is_some() {
                return Err((offset, format!("a second HELP line for `{name}`")));
            }
            family.help = Some(unescape_help(rest));
        }
        "TYPE" => {
            if family.kind != MetricKind::Unknown {
                return Err((offset, format!("a second TYPE line for `{name}`")));
            }
            family.kind = MetricKind::parse(rest.trim(), format).ok_or_else(|| {
                (offset + name.len() + 1, format!("`{}` is not a metric type here", rest.trim()))
            })?;
        }
        _ => family.unit = Some(rest.to_owned()),
    }
    Ok(())
}

fn unescape_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A sample line.
fn sample(line: &str, format: Format) -> Result<ScrapedSample, LineError> {
    let bytes = line.as_bytes();
    let name_end = bytes.iter().position(|&b| !is_name_byte(b, true)).unwrap_or(bytes.len());
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err((0, "a sample line starts with its metric name".to_owned()));
    }
    let mut at = name_end;
    let mut labels = Vec::new();
    if bytes.get(at) == Some(&b'{') {
        at = label_set(line, at + 1, &mut labels)?;
    }
    let value_start = skip_spaces(bytes, at);
    if value_start == at {
        return Err((at, "a space and the value follow the name and labels".to_owned()));
    }
    let value_end = token_end(bytes, value_start);
    let value = parse_value(&line[value_start..value_end])
        .ok_or_else(|| (value_start, format!("`{}` is not a number", &line[value_start..value_end])))?;
    let mut timestamp_ms = None;
    at = skip_spaces(bytes, value_end);
    if at < bytes.len() && bytes[at] != b'#' {
        let end = token_end(bytes, at);
        let text = &line[at..end];
        timestamp_ms = Some(match format {
            Format::Prometheus => text
                .parse::<i64>()
                .map_err(|_| (at, format!("`{text}` is not a timestamp in milliseconds")))?,
            Format::OpenMetrics => {
                let seconds = text
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| seconds.is_finite())
                    .ok_or_else(|| (at, format!("`{text}` is not a timestamp in seconds")))?;
                (seconds * 1000.0).round() as i64
            }
        });
        at = skip_spaces(bytes, end);
    }
    if at < bytes.len() {
        if format == Format::OpenMetrics && line[at..].starts_with("# {") {
            exemplar(line, at + 2)?;
        } else {
            return Err((at, "unexpected text after the value and timestamp".to_owned()));
        }
    }
    Ok(ScrapedSample { name: name.to_owned(), labels, value, timestamp_ms })
}

/// An OpenMetrics exemplar (`{labels} value [timestamp]`), checked and dropped.
fn exemplar(line: &str, open: usize) -> Result<(), LineError> {
    let bytes = line.as_bytes();
    let mut labels = Vec::new();
    let mut at = label_set(line, open + 1, &mut labels)?;
    let start = skip_spaces(bytes, at);
    let end = token_end(bytes, start);
    if start == at || parse_value(&line[start..end]).is_none() {
        return Err((start, "an exemplar's labels are followed by its value".to_owned()));
    }
    at = skip_spaces(bytes, end);
    if at < bytes.len() {
        let end = token_end(bytes, at);
        if line[at..end].parse::<f64>().is_err() || end < bytes.len() {
            return Err((at, "unexpected text after the exemplar".to_owned()));
        }
    }
    Ok(())
}

/// Labels from just after `{` to just after `}`; returns where it ended.
fn label_set(line: &str, mut at: usize, labels: &mut Vec<(String, String)>) -> Result<usize, LineError> {
    let bytes = line.as_bytes();
    loop {
        at = skip_spaces(bytes, at);
        match bytes.get(at) {
            Some(b'}') => return Ok(at + 1),
            None => return Err((at, "the labels are not closed with `}`".to_owned())),
            _ => {}
        }
        let name_end =
            bytes[at..].iter().position(|&b| !is_name_byte(b, false)).map_or(bytes.len(), |n| at + n);
        let name = &line[at..name_end];
        if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
            return Err((
                at,
                "a label name (letters, digits and `_`, not first a digit) was expected".to_owned(),
            ));
        }
        if labels.iter().any(|(known, _)| known == name) {
            return Err((at, format!("the label `{name}` is given twice")));
        }
        at = skip_spaces(bytes, name_end);
        if bytes.get(at) != Some(&b'=') {
            return Err((at, format!("`=` and a quoted value follow the label `{name}`")));
        }
        at = skip_spaces(bytes, at + 1);
        if bytes.get(at) != Some(&b'"') {
            return Err((at, format!("the value of `{name}` is written in double quotes")));
        }
        let (value, end) = quoted(line, at + 1)?;
        labels.push((name.to_owned(), value));
        at = skip_spaces(bytes, end);
        match bytes.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => return Ok(at + 1),
            _ => return Err((at, "`,` or `}` was expected after a label".to_owned())),
        }
    }
}

/// A label value from just after its opening quote; returns it unescaped
/// and where it ended (after the closing quote).
fn quoted(line: &str, start: usize) -> Result<(String, usize), LineError> {
    let mut value = String::new();
    let mut chars = line[start..].char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => return Ok((value, start + offset + 1)),
            '\\' => match chars.next() {
                Some((_, '\\')) => value.push('\\'),
                Some((_, '"')) => value.push('"'),
                Some((_, 'n')) => value.push('\n'),
                Some((_, other)) => {
                    return Err((
                        start + offset,
                        format!("`\\{other}` is not an escape here (only \\\\, \\\" and \\n)"),
                    ))
                }
                None => break,
            },
            _ => value.push(c),
        }
    }
    Err((start - 1, "a label value's closing quote is missing".to_owned()))
}

fn parse_value(text: &str) -> Option<f64> {
    if text.is_empty() {
        return None;
    }
    text.parse::<f64>().ok()
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|&b| b == b' ' || b == b'\t') {
        at += 1;
    }
    at
}

fn token_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..].iter().position(|&b| b == b' ' || b == b'\t').map_or(bytes.len(), |n| start + n)
}

fn is_name_byte(b: u8, colon: bool) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || (colon && b == b':')
}

/// Whether `name` is a metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty() && !bytes[0].is_ascii_digit() && bytes.iter().all(|&b| is_name_byte(b, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prometheus(text: &str) -> Result<Scrape, ExpositionError> {
        parse(text, ParseOptions { format: Format::Prometheus, sample_limit: None })
    }

    fn openmetrics(text: &str) -> Result<Scrape, ExpositionError> {
        parse(text, ParseOptions { format: Format::OpenMetrics, sample_limit: None })
    }

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    #[test]
    fn the_text_format_reads_families_samples_escapes_and_special_values() {
        let text = "# HELP http_requests_total The total number of HTTP requests.\n\
                    # TYPE http_requests_total counter\n\
                    http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
                    http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n\
                    \n\
                    # A comment the parser ignores.\n\
                    msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n\
                    metric_without_timestamp_and_labels 12.47\n\
                    something_weird{problem=\"division by zero\"} +Inf -3982045\n\
                    trailing_comma{a=\"1\",} NaN\n\
                    # HELP escaped A help with a \\\\ and a\\nnew line.\n\
                    empty_labels{} -Inf\r\n";
        let scrape = prometheus(text).unwrap();
        assert_eq!(scrape.samples.len(), 7);
        assert_eq!(scrape.samples[0].labels, labels(&[("method", "post"), ("code", "200")]));
        assert_eq!(scrape.samples[0].value, 1027.0);
        assert_eq!(scrape.samples[0].timestamp_ms, Some(1_395_066_363_000));
        assert_eq!(scrape.samples[2].labels[0].1, "C:\\DIR\\FILE.TXT");
        assert_eq!(scrape.samples[2].labels[1].1, "Cannot find file:\n\"FILE.TXT\"");
        assert_eq!(scrape.samples[3].timestamp_ms, None);
        assert_eq!(scrape.samples[4].value, f64::INFINITY);
        assert_eq!(scrape.samples[4].timestamp_ms, Some(-3_982_045));
        assert!(scrape.samples[5].value.is_nan());
        assert_eq!(scrape.samples[6].value, f64::NEG_INFINITY);
        let family = &scrape.families["http_requests_total"];
        assert_eq!(family.kind, MetricKind::Counter);
        assert_eq!(family.help.as_deref(), Some("The total number of HTTP requests."));
        assert_eq!(scrape.families["escaped"].help.as_deref(), Some("A help with a \\ and a\nnew line."));
    }

    #[test]
    fn openmetrics_reads_seconds_units_exemplars_and_needs_its_eof() {
        let text = "# TYPE foo_seconds histogram\n\
                    # UNIT foo_seconds seconds\n\
                    # HELP foo_seconds How long foo took.\n\
                    foo_seconds_bucket{le=\"0.1\"} 8 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.067 1520879602.9\n\
                    foo_seconds_bucket{le=\"+Inf\"} 17\n\
                    foo_seconds_count 17\n\
                    foo_seconds_sum 324789.3\n\
                    # TYPE state stateset\n\
                    state{state=\"a\"} 1\n\
                    # EOF\n";
        let scrape = openmetrics(text).unwrap();
        assert_eq!(scrape.samples.len(), 5);
        assert_eq!(scrape.samples[0].timestamp_ms, Some(1_520_879_607_789));
        assert_eq!(scrape.families["foo_seconds"].unit.as_deref(), Some("seconds"));
        assert_eq!(scrape.families["state"].kind, MetricKind::StateSet);
        let cut = openmetrics("a 1\n").unwrap_err();
        assert!(cut.problem.contains("does not end with `# EOF`"), "{cut}");
        let after = openmetrics("a 1\n# EOF\nb 2\n").unwrap_err();
        assert_eq!((after.line, after.problem.as_str()), (3, "nothing may follow `# EOF`"));
        // `untyped` is the text format's word; OpenMetrics says `unknown`.
        assert!(openmetrics("# TYPE a untyped\n# EOF\n").is_err());
        assert!(prometheus("# TYPE a untyped\na 1\n").is_ok());
    }

    #[test]
    fn a_malformed_line_is_named_with_its_column_and_quoted() {
        let cases = [
            ("ok 1\nbad{a=\"1\" 2\n", 2, 11, "`,` or `}` was expected after a label"),
            ("9lives 1\n", 1, 1, "a sample line starts with its metric name"),
            ("a{b=1} 2\n", 1, 5, "the value of `b` is written in double quotes"),
            ("a{b=\"1\",b=\"2\"} 3\n", 1, 9, "the label `b` is given twice"),
            ("a{b=\"x\\ty\"} 3\n", 1, 7, "`\\t` is not an escape here (only \\\\, \\\" and \\n)"),
            ("a{b=\"open} 3\n", 1, 5, "a label value's closing quote is missing"),
            ("a{b=\"1\"}\n", 1, 9, "a space and the value follow the name and labels"),
            ("a 1e\n", 1, 3, "`1e` is not a number"),
            ("a 1 1.5\n", 1, 5, "`1.5` is not a timestamp in milliseconds"),
            ("a 1 2 3\n", 1, 7, "unexpected text after the value and timestamp"),
            ("# TYPE a counter\n# TYPE a gauge\n", 2, 8, "a second TYPE line for `a`"),
            ("# TYPE a histogramm\n", 1, 10, "`histogramm` is not a metric type here"),
            (
                "# HELP 1a x\n",
                1,
                8,
                "`1a` is not a metric name (letters, digits, `_` and `:`, not first a digit)",
            ),
        ];
        for (text, line, column, problem) in cases {
            let error = prometheus(text).unwrap_err();
            assert_eq!(
                (error.line, error.column, error.problem.as_str()),
                (line, column, problem),
                "{text:?}"
            );
        }
        let error = prometheus("a 1\nb{x=\"1\" 2\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2, column 9: `,` or `}` was expected after a label in `b{x=\"1\" 2`"
        );
    }

    #[test]
    fn a_scrape_over_its_sample_limit_fails_at_the_first_sample_too_many() {
        let text: String = (0..10).map(|i| format!("s{{i=\"{i}\"}} 1\n")).collect();
        let options = ParseOptions { format: Format::Prometheus, sample_limit: Some(5) };
        let error = parse(&text, options).unwrap_err();
        assert_eq!(error.line, 6);
        assert!(error.problem.contains("more than 5 samples"), "{error}");
        assert_eq!(
            parse(&text, ParseOptions { sample_limit: Some(10), ..options }).unwrap().samples.len(),
            10
        );
    }

    #[test]
    fn the_content_type_decides_the_format() {
        assert_eq!(
            Format::from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::OpenMetrics
        );
        assert_eq!(Format::from_content_type("text/plain; version=0.0.4; charset=utf-8"), Format::Prometheus);
        assert_eq!(Format::from_content_type(""), Format::Prometheus);
    }
}
