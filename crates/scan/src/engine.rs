//! The engine: every rule's keywords in one Aho-Corasick automaton run
//! over a whole buffer; a rule's regular expression runs only on the line
//! around one of its keywords (or, for a secret that spans lines, from the
//! keyword on), so the cost of a scan is one pass of the automaton plus a
//! few regex runs where something looks like a secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::known::{Encoding, KnownValue, KnownValues};
use crate::rules::{Rule, RuleError, RuleSet};

/// How far past its keyword a multi-line secret (a PEM block) is looked for.
const MULTILINE_WINDOW: usize = 16 * 1024;

/// How much of what a rule already searched is searched again when a
/// keyword further along a long line opens a new window.
const OVERLAP: usize = 1024;

/// Lines longer than this are searched only this far either side of a
/// keyword (minified files put a whole program on one line).
const LINE_WINDOW: usize = 4 * 1024;

/// A secret found in a buffer, before it is tied to a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RawFinding {
    /// The rule's id.
    pub rule: String,
    /// 1-based line and column (in bytes) where the secret starts.
    pub line: usize,
    /// 1-based column in bytes.
    pub column: usize,
    /// Byte offset of the secret.
    pub offset: usize,
    /// The secret redacted for people: its first characters and its length.
    pub redacted: String,
    /// The line it is on, the secret redacted, cut to 200 characters.
    pub context: String,
    /// A slow, salted hash of the rule and the secret (not of its place: it
    /// stays the same when lines move; see [`Scanner::secret_hash`]). For a
    /// known value, a hash of its name and version (never of the value).
    pub secret_hash: String,
    /// For rule [`KNOWN_VALUE_RULE`]: which value it is.
    pub known: Option<KnownValue>,
    /// How the secret was encoded where it was found (`None`: as it is).
    pub encoding: Option<Encoding>,
}

/// The rule id of a match of a known value.
pub const KNOWN_VALUE_RULE: &str = "vault-value";

/// A secret's place in a buffer, and what found it.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    who: Who,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// A rule, by index.
    Rule(usize),
    /// A known value, by label, in the form it matched.
    Known { label: usize, encoding: Option<Encoding> },
}

/// What identifies a known value's findings across scans: its name and
/// version, hashed (the value takes no part).
fn known_value_hash(identity: &str) -> String {
    use sha2::Digest as _;
    let digest = Sha256::digest(format!("opsdeck-known-value-v1\0{identity}").as_bytes());
    hex::encode(&digest[..16])
}

/// A scanner over one rule set.
#[derive(Debug, Clone)]
pub struct Scanner {
    rules: RuleSet,
    keywords: crate::keywords::KeywordSet,
    /// For each keyword pattern, the rules that listed it.
    keyword_rules: Vec<Vec<usize>>,
    /// Values a team holds, as keyed hashes.
    known: Option<std::sync::Arc<KnownValues>>,
}

impl Scanner {
    /// A scanner for `rules`.
    pub fn new(rules: RuleSet) -> Result<Scanner, RuleError> {
        let mut words: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (index, rule) in rules.rules().iter().enumerate() {
            for keyword in &rule.definition.keywords {
                let keyword = keyword.to_ascii_lowercase();
                match words.iter().position(|word| *word == keyword) {
                    Some(at) => keyword_rules[at].push(index),
                    None => {
                        words.push(keyword);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
        }
        let keywords = crate::keywords::KeywordSet::new(&words).map_err(RuleError::Keywords)?;
        Ok(Scanner { rules, keywords, keyword_rules, known: None })
    }

    /// The rules it runs.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Looks for `values` too (the values a team holds, as keyed hashes):
    /// a match is a finding of rule [`KNOWN_VALUE_RULE`] naming the value,
    /// and wins over any rule's finding of the same text.
    pub fn with_known_values(mut self, values: KnownValues) -> Scanner {
        self.known = (!values.is_empty()).then(|| std::sync::Arc::new(values));
        self
    }

    /// Every secret in `data`, in order of position, to `emit`: what the
    /// rules (and known values) find in the text, and in the text of its
    /// base64 and percent-encoded blobs, decoded one level deep.
    pub fn scan_bytes(&self, data: &[u8], mut emit: impl FnMut(RawFinding)) {
        let mut out = Vec::new();
        for span in self.spans(data) {
            let line_start = memchr::memrchr(b'\n', &data[..span.start]).map_or(0, |at| at + 1);
            let line_end =
                memchr::memchr(b'\n', &data[span.start..]).map_or(data.len(), |at| span.start + at);
            if allowed_inline(&data[line_start..line_end], self.span_rule(&span)) {
                continue;
            }
            let secret = &data[span.start..span.end];
            out.push(self.finding(&span, secret, data, line_start, span.start, span.end, None));
        }
        let mut decoded_runs: Vec<(usize, usize)> = Vec::new();
        crate::decode::each_encoded(data, |start, end, encoding, text| {
            let inner = self.spans(&text);
            if inner.is_empty() {
                return;
            }
            let line_start = memchr::memrchr(b'\n', &data[..start]).map_or(0, |at| at + 1);
            let line_end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |at| start + at);
            decoded_runs.push((start, end));
            for span in inner {
                if allowed_inline(&data[line_start..line_end], self.span_rule(&span)) {
                    continue;
                }
                let secret = &text[span.start..span.end];
                out.push(self.finding(&span, secret, data, line_start, start, end, Some(encoding)));
            }
        });
        // A secret a rule found as it is is not reported again from the
        // blob it sits in, decoded (a URL with a password in it, escaped).
        let raw: Vec<(usize, String)> = out
            .iter()
            .filter(|finding| finding.encoding.is_none())
            .map(|finding| (finding.offset, finding.rule.clone()))
            .collect();
        out.retain(|finding| {
            finding.encoding.is_none()
                || !decoded_runs.iter().any(|(start, end)| {
                    finding.offset == *start
                        && raw
                            .iter()
                            .any(|(offset, rule)| *rule == finding.rule && offset >= start && offset < end)
                })
        });
        // A blob whose decoded text holds a secret is reported as that
        // secret, not also as a generic high-entropy string.
        out.retain(|finding| {
            finding.encoding.is_some()
                || finding.known.is_some()
                || !self.is_generic(&finding.rule)
                || !decoded_runs.iter().any(|(start, end)| finding.offset >= *start && finding.offset < *end)
        });
        out.sort_by(|a, b| (a.offset, &a.rule).cmp(&(b.offset, &b.rule)));
        out.dedup_by(|a, b| a.offset == b.offset && a.rule == b.rule && a.secret_hash == b.secret_hash);
        let mut line = 1;
        let mut counted_to = 0;
        for mut finding in out {
            line += memchr::memchr_iter(b'\n', &data[counted_to..finding.offset]).count();
            counted_to = finding.offset;
            finding.line = line;
            emit(finding);
        }
    }

    /// Whether the keyword pass finds the same hits in `data` cut into
    /// pieces as in one pass: for the fuzz target, which runs it over
    /// inputs of every length (a scan cuts only buffers of 16 KiB and more).
    #[doc(hidden)]
    pub fn keyword_pieces_agree(&self, data: &[u8]) -> bool {
        self.keywords.hits_cut_from(data, usize::MAX) == self.keywords.hits_cut_from(data, 0)
    }

    fn is_generic(&self, rule: &str) -> bool {
        self.rules.rules().iter().any(|held| held.id() == rule && held.definition.generic)
    }

    fn span_rule(&self, span: &Span) -> &str {
        match span.who {
            Who::Rule(index) => self.rules.rules()[index].id(),
            Who::Known { .. } => KNOWN_VALUE_RULE,
        }
    }

    /// A finding for `span`, whose secret is `secret`, placed at
    /// `place_start..place_end` of `data` (the secret itself, or the
    /// encoded blob it was decoded from). Its line is set by the caller.
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        span: &Span,
        secret: &[u8],
        data: &[u8],
        line_start: usize,
        place_start: usize,
        place_end: usize,
        decoded_from: Option<Encoding>,
    ) -> RawFinding {
        let (rule, known, encoding, redacted, secret_hash) = match span.who {
            Who::Rule(index) => {
                let id = self.rules.rules()[index].id();
                (id.to_owned(), None, decoded_from, redact(secret), self.secret_hash(id, secret))
            }
            Who::Known { label, encoding } => {
                let value = self.known.as_ref().and_then(|known| known.label(label)).cloned();
                let identity =
                    value.as_ref().map_or(String::new(), |value| format!("{}@{}", value.name, value.version));
                (
                    KNOWN_VALUE_RULE.to_owned(),
                    value,
                    decoded_from.or(encoding),
                    redact_fully(secret),
                    known_value_hash(&identity),
                )
            }
        };
        let shown = match decoded_from {
            Some(encoding) => format!("{}({redacted})", encoding.name()),
            None => redacted.clone(),
        };
        RawFinding {
            rule,
            line: 0,
            column: place_start - line_start + 1,
            offset: place_start,
            redacted,
            context: context(data, line_start, place_start, place_end, &shown),
            secret_hash,
            known,
            encoding,
        }
    }

    /// Where secrets are in `data`: one span per secret. Where spans
    /// overlap, a known value wins over a rule's finding, a provider's rule
    /// over a generic one, and of two provider rules the first.
    fn spans(&self, data: &[u8]) -> Vec<Span> {
        let rules = self.rules.rules();
        // How far each rule has searched: a later keyword inside text a rule
        // already searched (the same line) is skipped, and on a long line
        // only what is new is searched (with some overlap, so a secret that
        // straddles two windows is still seen whole).
        let mut searched_until = vec![0_usize; rules.len()];
        let mut found: Vec<(usize, usize, usize)> = Vec::new(); // (offset, end, rule)
        for hit in self.keywords.hits(data) {
            let Some(rule_indexes) = self.keyword_rules.get(hit.pattern) else { continue };
            for &index in rule_indexes {
                let rule = &rules[index];
                let (mut start, end) = window(data, hit.start, hit.end, rule.definition.multiline);
                let until = searched_until[index];
                if end <= until {
                    continue;
                }
                if start < until {
                    start = start.max(until.saturating_sub(OVERLAP));
                }
                searched_until[index] = end;
                self.search(rule, index, data, start, end, &mut found);
            }
        }
        let mut spans: Vec<Span> =
            found.into_iter().map(|(start, end, index)| Span { start, end, who: Who::Rule(index) }).collect();
        if let Some(known) = &self.known {
            known.find(data, |start, end, label, encoding| {
                spans.push(Span { start, end, who: Who::Known { label, encoding } });
            });
        }
        spans.sort_unstable_by_key(|span| (span.start, span.end));
        spans.dedup_by(|a, b| (a.start, a.end, a.who) == (b.start, b.end, b.who));
        let rank = |who: Who| match who {
            Who::Known { .. } => 2,
            Who::Rule(index) if !rules[index].definition.generic => 1,
            Who::Rule(_) => 0,
        };
        let mut kept: Vec<Span> = Vec::with_capacity(spans.len());
        for candidate in spans {
            let overlapping =
                kept.iter().rposition(|held| candidate.start < held.end && held.start < candidate.end);
            match overlapping {
                None => kept.push(candidate),
                Some(at) => {
                    if rank(candidate.who) > rank(kept[at].who) {
                        kept[at] = candidate;
                    }
                }
            }
        }
        kept
    }

    fn search(
        &self,
        rule: &Rule,
        index: usize,
        data: &[u8],
        start: usize,
        end: usize,
        found: &mut Vec<(usize, usize, usize)>,
    ) {
        let window = &data[start..end];
        let required = &rule.definition.requires_any;
        if !required.is_empty()
            && !required.iter().any(|text| memchr::memmem::find(window, text.as_bytes()).is_some())
        {
            return;
        }
        let Some(compiled) = rule.compiled() else { return };
        // Matched in place (not on a slice), so `\b` and anchors see the
        // text before the window as it is.
        let haystack = &data[..end];
        let mut at = start;
        while at < end {
            let Some(captures) = compiled.regex.captures_at(haystack, at) else { break };
            let Some(whole_match) = captures.get(0) else { break };
            at = if whole_match.end() > whole_match.start() {
                whole_match.end()
            } else {
                whole_match.end() + 1
            };
            let whole = captures.get(0);
            let Some(secret) = compiled.secret_group.and_then(|group| captures.get(group)).or(whole) else {
                continue;
            };
            let bytes = secret.as_bytes();
            if bytes.is_empty() {
                continue;
            }
            if !rule.definition.name_excludes.is_empty() {
                let name = compiled.name_group.and_then(|group| captures.get(group));
                let excluded = name.is_some_and(|name| {
                    let name = String::from_utf8_lossy(name.as_bytes()).to_ascii_lowercase();
                    rule.definition.name_excludes.iter().any(|word| name.contains(word.as_str()))
                });
                if excluded {
                    continue;
                }
            }
            if let Some(checksum) = rule.definition.checksum {
                if !checksum.accepts(bytes) {
                    continue;
                }
            }
            if let Some(floor) = rule.definition.min_entropy {
                if crate::entropy::shannon(bytes) < floor {
                    continue;
                }
            }
            if rule.definition.skip_placeholders && crate::entropy::looks_like_placeholder(bytes) {
                continue;
            }
            // Provider formats are random: a token that reads `EXAMPLE` or
            // `xxxxxxxx` is from documentation, whatever rule matched it.
            if crate::entropy::looks_like_documentation_token(bytes) {
                continue;
            }
            found.push((secret.start(), secret.end(), index));
        }
    }

    /// What identifies a secret across scans and machines without keeping
    /// it: PBKDF2-HMAC-SHA256 of the secret, salted with the rule's id, in
    /// [`HASH_ROUNDS`] rounds, the first 16 bytes as hex. The same on every
    /// machine (a baseline committed to a repository works in CI), and slow
    /// enough that checking a list of likely passwords against a report's
    /// hashes costs a thousand times what a plain hash would.
    pub fn secret_hash(&self, rule: &str, secret: &[u8]) -> String {
        let mut salt = b"opsdeck-scan-v1\0".to_vec();
        salt.extend_from_slice(rule.as_bytes());
        hex::encode(&pbkdf2_sha256(secret, &salt, HASH_ROUNDS)[..16])
    }
}

/// The first 32-byte block of PBKDF2-HMAC-SHA256 (RFC 8018).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], rounds: u32) -> [u8; 32] {
    let Ok(keyed) = Hmac::<Sha256>::new_from_slice(password) else { return [0; 32] };
    let mut mac = keyed.clone();
    mac.update(salt);
    mac.update(&1_u32.to_be_bytes());
    let mut block: [u8; 32] = mac.finalize().into_bytes().into();
    let mut derived = block;
    for _ in 1..rounds {
        let mut mac = keyed.clone();
        mac.update(&block);
        block = mac.finalize().into_bytes().into();
        for (out, byte) in derived.iter_mut().zip(block) {
            *out ^= byte;
        }
    }
    derived
}

/// Rounds of [`Scanner::secret_hash`].
pub const HASH_ROUNDS: u32 = 1_000;

/// The comment that allows a finding on its line: `opsdeck:allow` alone
/// allows every rule there, `opsdeck:allow rule-id other-id` only those.
pub const ALLOW_MARK: &str = "opsdeck:allow";

/// Whether `line` carries an allow comment covering `rule`.
fn allowed_inline(line: &[u8], rule: &str) -> bool {
    let Some(at) = memchr::memmem::find(line, ALLOW_MARK.as_bytes()) else { return false };
    let rest = String::from_utf8_lossy(&line[at + ALLOW_MARK.len()..]);
    let named: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| !word.is_empty())
        .map(|word| word.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '-')))
        .take_while(|word| {
            !word.is_empty()
                && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .collect();
    named.is_empty() || named.contains(&rule)
}

/// The part of `data` a rule searches for a keyword at `hit_start..hit_end`:
/// its line (at most [`LINE_WINDOW`] either side), or from the line's start
/// on for a multi-line secret.
fn window(data: &[u8], hit_start: usize, hit_end: usize, multiline: bool) -> (usize, usize) {
    let floor = hit_start.saturating_sub(LINE_WINDOW);
    let start = memchr::memrchr(b'\n', &data[floor..hit_start]).map_or(floor, |at| floor + at + 1);
    let end = if multiline {
        (hit_end + MULTILINE_WINDOW).min(data.len())
    } else {
        let ceiling = (hit_end + LINE_WINDOW).min(data.len());
        memchr::memchr(b'\n', &data[hit_end..ceiling]).map_or(ceiling, |at| hit_end + at)
    };
    (start, end)
}

/// A secret for people: up to its first four characters (none of a short
/// one), then `…` and its length.
pub fn redact(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let length = text.chars().count();
    let shown = if length >= 16 { 4 } else { 0 };
    let head: String = text.chars().take(shown).filter(|c| !c.is_control()).collect();
    format!("{head}…({length} chars)")
}

/// A known value for people: only its length (its name says the rest).
pub fn redact_fully(secret: &[u8]) -> String {
    format!("…({} chars)", String::from_utf8_lossy(secret).chars().count())
}

/// The line of a secret at `offset..end` (starting at `line_start`) with
/// the secret shown as `shown`, at most 200 characters.
fn context(data: &[u8], line_start: usize, offset: usize, end: usize, shown: &str) -> String {
    let line_end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |at| offset + at);
    let secret_end = end.min(line_end);
    let before = String::from_utf8_lossy(&data[line_start..offset]);
    let after = String::from_utf8_lossy(&data[secret_end..line_end]);
    let mut line = format!("{before}{shown}{after}");
    line = line.trim().chars().filter(|c| !c.is_control()).collect();
    if line.chars().count() > 200 {
        line = line.chars().take(199).collect::<String>() + "…";
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(toml: &str) -> Scanner {
        let mut rules = RuleSet::default();
        rules.add_toml("test.toml", toml).unwrap();
        Scanner::new(rules).unwrap()
    }

    fn findings(scanner: &Scanner, text: &str) -> Vec<RawFinding> {
        let mut found = Vec::new();
        scanner.scan_bytes(text.as_bytes(), |finding| found.push(finding));
        found
    }

    const TOKEN_RULE: &str = "[[rule]]\nid = \"tok\"\ndescription = \"a token\"\nkeywords = [\"tok_\"]\n\
        pattern = '\\b(?P<secret>tok_[A-Za-z0-9]{20})\\b'\nexamples = [\"tok_abcdefghij0123456789\"]\n";

    #[test]
    fn a_secret_is_found_by_line_and_column_redacted_and_hashed_by_value() {
        let scanner = scanner(TOKEN_RULE);
        let text =
            "first line\n  key = \"tok_abcdefghij0123456789\" # TOK_ in capitals is a keyword too\nlast";
        let found = findings(&scanner, text);
        assert_eq!(found.len(), 1, "{found:?}");
        let finding = &found[0];
        assert_eq!((finding.rule.as_str(), finding.line, finding.column), ("tok", 2, 10));
        assert_eq!(finding.redacted, "tok_…(24 chars)");
        assert!(!finding.context.contains("abcdefghij"), "{}", finding.context);
        assert!(finding.context.starts_with("key = \"tok_…(24 chars)\""), "{}", finding.context);
        // The same secret elsewhere hashes the same; another does not.
        let moved = findings(&scanner, "\n\n\nx tok_abcdefghij0123456789 and tok_abcdefghij0123456780");
        assert_eq!(moved[0].secret_hash, finding.secret_hash);
        assert_ne!(moved[1].secret_hash, finding.secret_hash);
        assert_eq!((moved[0].line, moved[1].line), (4, 4));
        // Another scanner (another machine) gives the same hash; another rule does not.
        let other = Scanner::new(scanner.rules().clone()).unwrap();
        assert_eq!(findings(&other, "tok_abcdefghij0123456789")[0].secret_hash, finding.secret_hash);
        assert_ne!(other.secret_hash("another", b"tok_abcdefghij0123456789"), finding.secret_hash);
        assert_eq!(finding.secret_hash.len(), 32);
        // PBKDF2-HMAC-SHA256's published vectors ("password", "salt").
        assert_eq!(
            hex::encode(pbkdf2_sha256(b"password", b"salt", 1)),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
        assert_eq!(
            hex::encode(pbkdf2_sha256(b"password", b"salt", 4096)),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        );
    }

    #[test]
    fn long_lines_binary_noise_and_many_keywords_are_handled() {
        let scanner = scanner(TOKEN_RULE);
        let mut text = "tok_ ".repeat(10_000);
        text.push_str("tok_abcdefghij0123456789 ");
        text.push_str(&"x".repeat(100_000));
        let found = findings(&scanner, &text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].column, 50_001);
        let noise: Vec<u8> = (0..200_000_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let mut hits = 0;
        scanner.scan_bytes(&noise, |_| hits += 1);
        assert_eq!(hits, 0);
    }

    #[test]
    fn one_secret_is_one_finding_and_the_provider_rule_names_it() {
        let scanner = Scanner::new(RuleSet::built_in().unwrap()).unwrap();
        let found = findings(&scanner, "STRIPE_SECRET_KEY=sk_live_51HxQz8LrPwX9tVb4Nm7Kc1Hd6\n");
        let rules: Vec<&str> = found.iter().map(|finding| finding.rule.as_str()).collect();
        assert_eq!(rules, ["stripe-secret-key"], "not also the generic .env rule");
        let generic = findings(&scanner, "export DEPLOY_TOKEN=\"q8Zr2LpX9vTw4KmN7c\"\n");
        assert_eq!(generic.len(), 1, "{generic:?}");
    }

    #[test]
    fn an_allow_comment_on_the_line_silences_all_rules_or_the_ones_it_names() {
        let scanner = scanner(TOKEN_RULE);
        let text = "a = \"tok_abcdefghij0123456789\" # opsdeck:allow\n\
                    b = \"tok_abcdefghij0123456789\" // opsdeck:allow tok, other\n\
                    c = \"tok_abcdefghij0123456789\" // opsdeck:allow other-rule\n\
                    d = \"tok_abcdefghij0123456789\"\n";
        let lines: Vec<usize> = findings(&scanner, text).iter().map(|finding| finding.line).collect();
        assert_eq!(lines, [3, 4]);
    }

    #[test]
    fn a_secret_in_a_base64_or_url_encoded_blob_is_found_at_the_blob_and_named_by_its_rule() {
        use base64::Engine as _;
        let scanner = scanner(TOKEN_RULE);
        let encoded =
            base64::engine::general_purpose::STANDARD.encode("api_token: tok_abcdefghij0123456789\n");
        let text = format!(
            "apiVersion: v1\nkind: Secret\ndata:\n  token: {encoded}\n  \
             callback: https://hooks.example.com/in?k=tok%5Fabcdefghij0123456789&x=1\n  \
             allowed: {encoded} # opsdeck:allow\n"
        );
        let found = findings(&scanner, &text);
        let places: Vec<(usize, usize, Option<Encoding>)> =
            found.iter().map(|finding| (finding.line, finding.column, finding.encoding)).collect();
        assert_eq!(places, [(4, 10, Some(Encoding::Base64)), (5, 13, Some(Encoding::Url))], "{found:?}");
        assert_eq!(found[0].redacted, "tok_…(24 chars)");
        assert_eq!(found[0].context, "token: base64(tok_…(24 chars))");
        assert_eq!(found[0].secret_hash, scanner.secret_hash("tok", b"tok_abcdefghij0123456789"));
        assert!(!format!("{found:?}").contains("abcdefghij"));
    }

    #[test]
    fn a_known_value_is_named_and_wins_over_the_rule_that_also_matches_it() {
        let mut known = KnownValues::new([3; 32]);
        let label = KnownValue { name: "prod/api-token".to_owned(), version: 3, current: true };
        known.add(b"tok_abcdefghij0123456789", label.clone());
        let scanner = scanner(TOKEN_RULE).with_known_values(known);
        let found = findings(&scanner, "a = tok_abcdefghij0123456789\nb = tok_abcdefghij0123456780\n");
        let rules: Vec<(&str, Option<&KnownValue>)> =
            found.iter().map(|finding| (finding.rule.as_str(), finding.known.as_ref())).collect();
        assert_eq!(rules, [(KNOWN_VALUE_RULE, Some(&label)), ("tok", None)]);
        assert_eq!(found[0].redacted, "…(24 chars)", "a known value shows nothing of itself");
        assert_eq!(found[0].context, "a = …(24 chars)");
        assert_eq!(found[0].secret_hash, known_value_hash("prod/api-token@3"));
    }
}
