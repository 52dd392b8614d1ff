//! How random a candidate secret looks, and whether it is a placeholder.

/// Shannon entropy of `bytes`, in bits per byte.
pub fn shannon(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0_u32; 256];
    for byte in bytes {
        counts[usize::from(*byte)] += 1;
    }
    let length = bytes.len() as f64;
    counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            let share = f64::from(*count) / length;
            -share * share.log2()
        })
        .sum()
}

/// Words that mark a value as an example or a slot to fill, not a secret.
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "example",
    "placeholder",
    "your_",
    "your-",
    "yourpassword",
    "<",
    "${",
    "{{",
    "%s",
    "%(",
    "dummy",
    "sample",
    "redacted",
    "replace",
    "insert",
    "todo",
    "fixme",
    "secret_here",
    "password123",
    "p@ssw0rd",
    "notasecret",
    "not-a-secret",
    "fake",
    "xxxx",
    "****",
    "....",
    "____",
    "process.env",
    "os.environ",
    "getenv",
    "env(",
    "env[",
    "config.",
    "settings.",
    "$(",
    "null",
    "none",
    "undefined",
    "true",
    "false",
    "password",
    "passwd",
    "secret",
    "token",
];

/// Whether a value reads as a placeholder or a reference rather than a
/// secret: a template slot, a variable, an example word, one repeated
/// character, or a word from a short list.
pub fn looks_like_placeholder(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|word| text.contains(word)) {
        return true;
    }
    // `$VAR`, `@var`, and one character repeated.
    if text.starts_with('$') || text.starts_with('@') {
        return true;
    }
    // A template's slot: `{db_password}`, `{{ .Values.password }}`.
    if text.starts_with('{') && text.ends_with('}') {
        return true;
    }
    // The words documentation puts where a value goes.
    if matches!(text.as_str(), "value" | "pass" | "pw" | "pwd" | "user" | "name" | "key") {
        return true;
    }
    let first = bytes.first().copied();
    bytes.iter().all(|byte| Some(*byte) == first)
}

/// Whether a provider token is a documentation example or a filler rather
/// than a real one: it says `example`, or holds one character eight times
/// in a row after its start (`sk_live_xxxxxxxx…`) — which a random token
/// of any provider's length has next to no chance of doing.
pub fn looks_like_documentation_token(bytes: &[u8]) -> bool {
    if bytes.windows(7).any(|window| window.eq_ignore_ascii_case(b"example")) {
        return true;
    }
    // A run at the very start is a format's own (Twitter's bearer tokens
    // open with twenty-odd `A`s); a filler comes after a prefix.
    let mut run = 1;
    let mut at_start = true;
    for pair in bytes.windows(2) {
        if pair[0] == pair[1] {
            run += 1;
        } else {
            run = 1;
            at_start = false;
        }
        if run >= 8 && !at_start {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_and_placeholders() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"abcd") - 2.0).abs() < 1e-12);
        assert!(shannon(b"q8Zr2LpX9vTw4KmN") > 3.5);
        for placeholder in
            ["${DB_PASSWORD}", "<your-token>", "changeme", "xxxxxxxx", "{{ .Values.token }}", "$SECRET"]
        {
            assert!(looks_like_placeholder(placeholder.as_bytes()), "{placeholder}");
        }
        for secret in ["q8Zr2LpX9vTw4KmN", "Tr0ub4dor&3-horse"] {
            assert!(!looks_like_placeholder(secret.as_bytes()), "{secret}");
        }
    }

    #[test]
    fn documentation_tokens_are_told_from_random_ones() {
        assert!(looks_like_documentation_token(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(looks_like_documentation_token(b"sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"));
        // A format's own run at the start is not filler (Twitter's bearer tokens).
        assert!(!looks_like_documentation_token(b"AAAAAAAAAAAAAAAAAAAAAqs8XF4iT1giio2Ekrma3Vyy"));
        assert!(!looks_like_documentation_token(b"ghp_R8fj2LwQz9XcVb4Nm7Kt1Hd6Fs3Jg5Pa0Wx2"));
    }
}
