//! Rules are data: TOML files of `[[rule]]` tables, each with an id, a
//! description, the keywords that must appear near a secret of its kind, a
//! regular expression (the secret is its `secret` group, or the whole
//! match), and optionally a checksum, an entropy floor and the placeholder
//! filter. Every rule carries strings it must match and strings it must
//! not; [`RuleSet::check_examples`] runs them (the crate's tests run every
//! built-in rule's).
//!
//! ```toml
//! [[rule]]
//! id = "github-pat"
//! description = "GitHub personal access token (classic)"
//! keywords = ["ghp_"]
//! pattern = '\b(?P<secret>ghp_[A-Za-z0-9]{36})\b'
//! checksum = "github"
//! examples = ["token = ghp_…"]
//! counter_examples = ["ghp_short"]
//! ```

use serde::Deserialize;

/// The built-in rules (see `rules/*.toml`).
const BUILT_IN: &[(&str, &str)] = &[
    ("rules/cloud.toml", include_str!("../rules/cloud.toml")),
    ("rules/code.toml", include_str!("../rules/code.toml")),
    ("rules/payments.toml", include_str!("../rules/payments.toml")),
    ("rules/messaging.toml", include_str!("../rules/messaging.toml")),
    ("rules/ai.toml", include_str!("../rules/ai.toml")),
    ("rules/saas.toml", include_str!("../rules/saas.toml")),
    ("rules/keys.toml", include_str!("../rules/keys.toml")),
    ("rules/generic.toml", include_str!("../rules/generic.toml")),
];

/// What went wrong loading rules.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The TOML does not parse or lacks a field.
    #[error("{file}: {error}")]
    Toml {
        /// The file (or `rules/…` for a built-in one).
        file: String,
        /// What the parser said (with the line).
        error: String,
    },
    /// A rule's pattern does not compile, or it breaks a rule of the format.
    #[error("{file}: rule `{id}`: {why}")]
    Invalid {
        /// The file.
        file: String,
        /// The rule's id.
        id: String,
        /// What is wrong and what to do.
        why: String,
    },
    /// The keywords could not be built into one automaton.
    #[error("the rules' keywords could not be prepared: {0}")]
    Keywords(String),
    /// Two rules share an id.
    #[error("rule `{id}` is defined twice ({first} and {second}); give one of them another id")]
    Duplicate {
        /// The id.
        id: String,
        /// Where it was first.
        first: String,
        /// Where it came again.
        second: String,
    },
}

/// A checksum some token formats carry in their last characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// GitHub's and npm's: the last 6 characters are the CRC32 of the
    /// 30 before them (after the `prefix_`), in base 62.
    Crc32Base62,
    /// A JSON Web Token: header and payload are base64url JSON objects and
    /// the header names an `alg`.
    Jwt,
}

impl Checksum {
    /// Whether `secret` passes.
    pub fn accepts(self, secret: &[u8]) -> bool {
        match self {
            Checksum::Crc32Base62 => crc32_base62_valid(secret),
            Checksum::Jwt => jwt_valid(secret),
        }
    }
}

fn crc32_base62_valid(secret: &[u8]) -> bool {
    let Some(underscore) = secret.iter().rposition(|byte| *byte == b'_') else { return false };
    let body = &secret[underscore + 1..];
    if body.len() != 36 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62(crc32fast::hash(random), 6).as_bytes() == check
}

/// `value` in base 62 (`0-9A-Za-z`), left-padded with `0` to `width`.
pub fn base62(mut value: u32, width: usize) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut digits = Vec::new();
    while value > 0 {
        digits.push(DIGITS[(value % 62) as usize]);
        value /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

fn jwt_valid(secret: &[u8]) -> bool {
    use base64::Engine as _;
    let mut parts = secret.split(|byte| *byte == b'.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else { return false };
    let decode = |part: &[u8]| -> Option<serde_json::Value> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.strip_suffix(b"=").unwrap_or(part))
            .ok()?;
        serde_json::from_slice::<serde_json::Value>(&bytes).ok().filter(serde_json::Value::is_object)
    };
    decode(header).is_some_and(|header| header.get("alg").is_some()) && decode(payload).is_some()
}

/// A rule as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDefinition {
    /// A short, stable id (`github-pat`): what findings and allow comments name.
    pub id: String,
    /// What the secret is, for people.
    pub description: String,
    /// Words one of which appears in or next to every secret of this kind
    /// (case-insensitive): only text around them is searched.
    pub keywords: Vec<String>,
    /// The regular expression; the `secret` group (or the whole match) is the secret.
    pub pattern: String,
    /// A checksum the secret must pass.
    #[serde(default)]
    pub checksum: Option<Checksum>,
    /// The least Shannon entropy (bits per character) the secret must have.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// Drop secrets that look like placeholders (`changeme`, `${VAR}`, `<token>`, `xxxx`…).
    #[serde(default)]
    pub skip_placeholders: bool,
    /// The secret may span lines (a PEM block): search from the keyword up to 16 KiB on.
    #[serde(default)]
    pub multiline: bool,
    /// Text one of which must also be in the searched window (a cheap check
    /// before the pattern runs: `@` for credentials in URLs).
    #[serde(default)]
    pub requires_any: Vec<String>,
    /// A rule that finds secrets by their name or shape rather than their
    /// provider's format: a provider rule finding the same secret wins.
    #[serde(default)]
    pub generic: bool,
    /// Words that, in the pattern's `name` group (what the value is
    /// assigned to), say it is not a secret: `public` in `publicKeyToken`,
    /// `progress` in `progressToken`. Compared case-insensitively.
    #[serde(default)]
    pub name_excludes: Vec<String>,
    /// Text that must give a finding.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Text that must not.
    #[serde(default)]
    pub counter_examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleDefinition>,
}

/// A rule ready to run.
#[derive(Debug, Clone)]
pub struct Rule {
    /// As written.
    pub definition: RuleDefinition,
    /// Where it was defined.
    pub source: String,
    /// Compiled at the first keyword hit: most scans meet few rules' keywords,
    /// and compiling all of them would be most of a small scan's time.
    compiled: std::sync::Arc<std::sync::OnceLock<Compiled>>,
}

/// A rule's compiled pattern.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) regex: regex::bytes::Regex,
    pub(crate) secret_group: Option<usize>,
    pub(crate) name_group: Option<usize>,
}

impl Rule {
    /// Its id.
    pub fn id(&self) -> &str {
        &self.definition.id
    }

    /// The compiled pattern (checked when the rule was loaded).
    pub(crate) fn compiled(&self) -> Option<&Compiled> {
        if let Some(compiled) = self.compiled.get() {
            return Some(compiled);
        }
        let compiled = compile_pattern(&self.definition.pattern).ok()?;
        Some(self.compiled.get_or_init(|| compiled))
    }
}

fn compile_pattern(pattern: &str) -> Result<Compiled, regex::Error> {
    let regex = regex::bytes::RegexBuilder::new(pattern).size_limit(4 << 20).build()?;
    let secret_group = regex.capture_names().position(|name| name == Some("secret"));
    let name_group = regex.capture_names().position(|name| name == Some("name"));
    Ok(Compiled { regex, secret_group, name_group })
}

/// Every rule a scan runs.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// The built-in rules.
    pub fn built_in() -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        for (file, text) in BUILT_IN {
            set.add(file, text, false)?;
        }
        Ok(set)
    }

    /// Adds the rules of a TOML document (`file` names it in errors).
    pub fn add_toml(&mut self, file: &str, text: &str) -> Result<(), RuleError> {
        self.add(file, text, true)
    }

    fn add(&mut self, file: &str, text: &str, check_now: bool) -> Result<(), RuleError> {
        let parsed: RuleFile = toml::from_str(text)
            .map_err(|error| RuleError::Toml { file: file.to_owned(), error: error.to_string() })?;
        for definition in parsed.rule {
            let rule = compile(file, definition, check_now)?;
            if let Some(existing) = self.rules.iter().find(|existing| existing.id() == rule.id()) {
                return Err(RuleError::Duplicate {
                    id: rule.id().to_owned(),
                    first: existing.source.clone(),
                    second: file.to_owned(),
                });
            }
            self.rules.push(rule);
        }
        Ok(())
    }

    /// The rules, in the order added.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Runs every rule's examples and counter-examples (see
    /// [`Rule::check_examples`]); what failed, one line each.
    pub fn check_examples(&self) -> Vec<String> {
        self.rules.iter().flat_map(Rule::check_examples).collect()
    }
}

impl Rule {
    /// Runs this rule's examples and counter-examples with the rule on its
    /// own (with others, an overlapping rule could take a finding); what
    /// failed, one line each.
    pub fn check_examples(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let alone = RuleSet { rules: vec![self.clone()] };
        let scanner = match crate::engine::Scanner::new(alone) {
            Ok(scanner) => scanner,
            Err(error) => return vec![format!("{}: {error}", self.id())],
        };
        let found = |text: &str| {
            let mut hit = false;
            scanner.scan_bytes(text.as_bytes(), |_| hit = true);
            hit
        };
        for example in &self.definition.examples {
            if !found(example) {
                failures.push(format!("{}: does not find its example {example:?}", self.id()));
            }
        }
        for counter in &self.definition.counter_examples {
            if found(counter) {
                failures.push(format!("{}: finds its counter-example {counter:?}", self.id()));
            }
        }
        if self.definition.examples.is_empty() {
            failures.push(format!("{}: has no example", self.id()));
        }
        failures
    }
}

fn compile(file: &str, definition: RuleDefinition, check_now: bool) -> Result<Rule, RuleError> {
    let invalid = |why: String| RuleError::Invalid { file: file.to_owned(), id: definition.id.clone(), why };
    let id_ok = !definition.id.is_empty()
        && definition.id.len() <= 64
        && definition
            .id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if !id_ok {
        return Err(invalid("an id is 1 to 64 lowercase letters, digits and `-`".to_owned()));
    }
    if definition.keywords.is_empty() || definition.keywords.iter().any(|keyword| keyword.len() < 2) {
        return Err(invalid(
            "give at least one keyword of two characters or more: only text around keywords is searched"
                .to_owned(),
        ));
    }
    // A user's rule is compiled now, so a mistake is reported when the file
    // is loaded; the built-in ones are compiled by the tests and, here, when
    // first needed.
    let compiled = std::sync::OnceLock::new();
    if check_now {
        let pattern = compile_pattern(&definition.pattern)
            .map_err(|error| invalid(format!("the pattern does not compile: {error}")))?;
        let _ = compiled.set(pattern);
    }
    Ok(Rule { definition, source: file.to_owned(), compiled: std::sync::Arc::new(compiled) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_rule_finds_its_examples_and_none_of_its_counter_examples() {
        let rules = RuleSet::built_in().unwrap();
        let failures = rules.check_examples();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        for rule in rules.rules() {
            assert!(compile_pattern(&rule.definition.pattern).is_ok(), "{} does not compile", rule.id());
        }
        assert!(rules.rules().len() >= 100, "{} rules", rules.rules().len());
    }

    #[test]
    fn a_bad_rule_file_says_what_is_wrong() {
        let mut rules = RuleSet::default();
        let error = rules.add_toml("mine.toml", "[[rule]]\nid = \"x\"\n").unwrap_err();
        assert!(error.to_string().starts_with("mine.toml: "), "{error}");
        assert!(error.to_string().contains("missing field"), "{error}");
        let bad_pattern =
            "[[rule]]\nid = \"mine\"\ndescription = \"d\"\nkeywords = [\"ab\"]\npattern = \"(\"\n";
        let error = rules.add_toml("mine.toml", bad_pattern).unwrap_err();
        assert!(
            error.to_string().starts_with("mine.toml: rule `mine`: the pattern does not compile"),
            "{error}"
        );
        let good =
            "[[rule]]\nid = \"mine\"\ndescription = \"d\"\nkeywords = [\"ab\"]\npattern = \"ab[0-9]{4}\"\n";
        rules.add_toml("mine.toml", good).unwrap();
        let error = rules.add_toml("other.toml", good).unwrap_err();
        assert!(error.to_string().contains("defined twice (mine.toml and other.toml)"), "{error}");
    }

    #[test]
    fn checksums_accept_well_formed_tokens_only() {
        let random = "abcdefghijklmnopqrstuvwxyz0123";
        let token = format!("ghp_{random}{}", base62(crc32fast::hash(random.as_bytes()), 6));
        assert!(Checksum::Crc32Base62.accepts(token.as_bytes()));
        let mut wrong = token.clone().into_bytes();
        wrong[10] = b'Z';
        assert!(!Checksum::Crc32Base62.accepts(&wrong));
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl";
        assert!(Checksum::Jwt.accepts(jwt.as_bytes()));
        assert!(!Checksum::Jwt.accepts(b"eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxMjMifQ.c2ln"));
    }
}
