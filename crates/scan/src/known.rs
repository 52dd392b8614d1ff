//! Known values: the secrets a team actually holds, looked for as they are
//! and in their base64 and URL-encoded forms. The scanner never holds one
//! in plaintext: each form is kept as an HMAC-SHA256 under a key the
//! caller gives (the deck makes a fresh one per scan), with a keyed 64-bit
//! hash in front so that most words of a file cost one hash and one set
//! lookup, and only a word of a value's exact length and hash is checked
//! with the HMAC.
//!
//! A file is cut into words at whitespace, quotes, brackets, `,` and `;`;
//! a word is checked whole, and so are its pieces between `=`, `:`, `@`,
//! `/`, `?`, `&` and `#`, and what follows its first `=` or `:` (so
//! `DB_PASSWORD=value`, `postgres://user:value@host/db` and `"key": "value"`
//! are all found).

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Values shorter than this are not looked for: words that short (`true`,
/// `8080`, `admin`) are everywhere.
pub const MIN_KNOWN_LENGTH: usize = 8;

/// Longer forms than this are not looked for (no word is checked past it).
const MAX_KNOWN_LENGTH: usize = 4096;

/// Which value a match is: a name and version, as the caller labelled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownValue {
    /// What the value is, e.g. `prod/db-password`.
    pub name: String,
    /// Its version.
    pub version: i64,
    /// Whether that version is the current one.
    pub current: bool,
}

/// How a value appeared in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Base64 (standard or URL-safe, padded or not).
    Base64,
    /// Percent-encoded, as in a URL.
    Url,
}

impl Encoding {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Url => "url",
        }
    }
}

/// The values to look for, as keyed hashes.
#[derive(Clone)]
pub struct KnownValues {
    key: Zeroizing<[u8; 32]>,
    /// Keyed 64-bit hashes of every form (a word not among them is not one).
    quick: HashSet<u64>,
    quick_hasher: std::collections::hash_map::RandomState,
    /// HMAC of each form → the label and how the value is encoded in it.
    exact: HashMap<[u8; 32], (usize, Option<Encoding>)>,
    /// Which lengths any form has.
    lengths: Vec<bool>,
    labels: Vec<KnownValue>,
    too_short: usize,
}

impl std::fmt::Debug for KnownValues {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KnownValues")
            .field("values", &self.labels.len())
            .field("forms", &self.exact.len())
            .finish_non_exhaustive()
    }
}

impl KnownValues {
    /// An empty set whose hashes are keyed with `key`.
    pub fn new(key: [u8; 32]) -> KnownValues {
        KnownValues {
            key: Zeroizing::new(key),
            quick: HashSet::new(),
            quick_hasher: std::collections::hash_map::RandomState::new(),
            exact: HashMap::new(),
            lengths: vec![false; MAX_KNOWN_LENGTH + 1],
            labels: Vec::new(),
            too_short: 0,
        }
    }

    /// Adds `value` (the caller zeroizes its copy) as `label`: the value
    /// itself, its base64 forms and its URL-encoded form. A value shorter
    /// than [`MIN_KNOWN_LENGTH`], or with whitespace or quotes in it (it
    /// cannot be one word), is counted in [`KnownValues::not_looked_for`]
    /// instead.
    pub fn add(&mut self, value: &[u8], label: KnownValue) {
        if value.len() < MIN_KNOWN_LENGTH || value.iter().any(|&byte| is_word_break(byte)) {
            self.too_short += 1;
            return;
        }
        let index = self.labels.len();
        self.labels.push(label);
        self.add_form(value, index, None);
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        for engine in engines {
            let encoded = Zeroizing::new(engine.encode(value));
            self.add_form(encoded.as_bytes(), index, Some(Encoding::Base64));
        }
        let escaped = Zeroizing::new(percent_encode(value));
        if escaped.as_slice() != value {
            self.add_form(&escaped, index, Some(Encoding::Url));
        }
    }

    fn add_form(&mut self, form: &[u8], index: usize, encoding: Option<Encoding>) {
        if form.len() > MAX_KNOWN_LENGTH {
            return;
        }
        self.lengths[form.len()] = true;
        self.quick.insert(self.quick_hasher.hash_one(form));
        self.exact.entry(self.hmac(form)).or_insert((index, encoding));
    }

    fn hmac(&self, bytes: &[u8]) -> [u8; 32] {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key.as_slice()) else { return [0; 32] };
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    }

    /// How many values are looked for.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// How many values were not added: shorter than [`MIN_KNOWN_LENGTH`], or
    /// not one word.
    pub fn not_looked_for(&self) -> usize {
        self.too_short
    }

    /// The label of a match.
    pub fn label(&self, index: usize) -> Option<&KnownValue> {
        self.labels.get(index)
    }

    /// Which value `word` is, if it is one of them (in one of its forms).
    pub fn lookup(&self, word: &[u8]) -> Option<(usize, Option<Encoding>)> {
        if word.len() < MIN_KNOWN_LENGTH || word.len() > MAX_KNOWN_LENGTH || !self.lengths[word.len()] {
            return None;
        }
        if !self.quick.contains(&self.quick_hasher.hash_one(word)) {
            return None;
        }
        self.exact.get(&self.hmac(word)).copied()
    }

    /// Every known value in `data`: `(start, end, label, encoding)`.
    pub fn find(&self, data: &[u8], mut found: impl FnMut(usize, usize, usize, Option<Encoding>)) {
        // One match per word, the widest: the word, else what follows its
        // first `=` or `:`, else each of its pieces.
        let mut check = |start: usize, end: usize| match self.lookup(&data[start..end]) {
            Some((label, encoding)) => {
                found(start, end, label, encoding);
                true
            }
            None => false,
        };
        let mut at = 0;
        while at < data.len() {
            if is_word_break(data[at]) {
                at += 1;
                continue;
            }
            let start = at;
            while at < data.len() && !is_word_break(data[at]) {
                at += 1;
            }
            let end = at;
            if end - start < MIN_KNOWN_LENGTH || check(start, end) {
                continue;
            }
            let word = &data[start..end];
            if !word.iter().any(|&byte| is_piece_break(byte)) {
                continue;
            }
            let after_mark = [b'=', b':'].into_iter().any(|mark| {
                memchr::memchr(mark, word).is_some_and(|position| {
                    end - (start + position + 1) >= MIN_KNOWN_LENGTH && check(start + position + 1, end)
                })
            });
            if after_mark {
                continue;
            }
            let breaks =
                word.iter().enumerate().filter(|(_, &byte)| is_piece_break(byte)).map(|(at, _)| start + at);
            let mut piece_start = start;
            for position in breaks.chain(std::iter::once(end)) {
                if position - piece_start >= MIN_KNOWN_LENGTH {
                    check(piece_start, position);
                }
                piece_start = position + 1;
            }
        }
    }
}

/// Where words end: whitespace, quotes, brackets, `,` and `;`.
fn is_word_break(byte: u8) -> bool {
    matches!(
        byte,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b'"'
            | b'\''
            | b'`'
            | b','
            | b';'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'<'
            | b'>'
    ) || byte < 0x20
}

/// Where pieces of a word end.
fn is_piece_break(byte: u8) -> bool {
    matches!(byte, b'=' | b':' | b'@' | b'/' | b'?' | b'&' | b'#')
}

/// Percent-encoding as a URL's query or userinfo part has it: letters,
/// digits and `-._~` stay, every other byte is `%XX`.
fn percent_encode(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &byte in value {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte);
        } else {
            out.extend_from_slice(format!("%{byte:02X}").as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, version: i64) -> KnownValue {
        KnownValue { name: name.to_owned(), version, current: version == 2 }
    }

    fn matches(known: &KnownValues, text: &str) -> Vec<(String, Option<Encoding>)> {
        let mut out = Vec::new();
        known.find(text.as_bytes(), |start, end, index, encoding| {
            let value = known.label(index).unwrap();
            out.push((format!("{}@{} {}", value.name, value.version, &text[start..end]), encoding));
        });
        out
    }

    #[test]
    fn a_known_value_is_found_as_it_is_base64_and_url_encoded_in_any_setting() {
        let mut known = KnownValues::new([7; 32]);
        known.add(b"s3cr3t-P@ss:word", label("prod/db-password", 1));
        known.add(b"0123456789abcdef", label("prod/api-key", 2));
        known.add(b"short", label("prod/pin", 1));
        known.add(b"two words here", label("prod/phrase", 1));
        assert_eq!((known.len(), known.not_looked_for()), (2, 2));
        let text = "DB_PASSWORD=s3cr3t-P@ss:word\n\
                    url: postgres://app:s3cr3t-P%40ss%3Aword@db:5432/shop\n\
                    key = \"0123456789abcdef\" # api\n\
                    b64: MDEyMzQ1Njc4OWFiY2RlZg==\n\
                    not: 0123456789abcdeg 0123456789abcdef0\n";
        let found = matches(&known, text);
        assert_eq!(
            found,
            [
                ("prod/db-password@1 s3cr3t-P@ss:word".to_owned(), None),
                ("prod/db-password@1 s3cr3t-P%40ss%3Aword".to_owned(), Some(Encoding::Url)),
                ("prod/api-key@2 0123456789abcdef".to_owned(), None),
                ("prod/api-key@2 MDEyMzQ1Njc4OWFiY2RlZg==".to_owned(), Some(Encoding::Base64)),
            ]
        );
        // The index holds no value in plaintext (nor its encodings).
        let held = format!("{:?}{:?}{:?}", known.exact, known.quick, known.labels);
        assert!(!held.contains("s3cr3t") && !held.contains("0123456789abcdef"));
        // Another key: another index, the same matches.
        let mut other = KnownValues::new([8; 32]);
        other.add(b"0123456789abcdef", label("prod/api-key", 2));
        assert_ne!(other.exact.keys().next(), known.exact.keys().find(|_| true));
        assert_eq!(matches(&other, "x=0123456789abcdef").len(), 1);
    }
}
