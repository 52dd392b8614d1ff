//! Encoded blobs, decoded one level deep: a secret base64-encoded in a
//! Kubernetes manifest or an `Authorization: Basic` header, or
//! percent-encoded in a URL, is found in its decoded text.
//!
//! Base64 runs are found without looking at every byte: a run of at least
//! [`MIN_BASE64`] characters must cover one of every [`MIN_BASE64`]-th
//! positions, so only those are sampled, and a run is grown from a sample
//! that lands in one. Runs without both cases and a digit (paths,
//! identifiers) are not decoded; decoded bytes that are not text are
//! dropped.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::known::Encoding;

/// The shortest base64 run decoded (24 bytes of text).
pub const MIN_BASE64: usize = 32;

/// The longest one (longer blobs are images and archives, not secrets).
const MAX_BASE64: usize = 64 * 1024;

/// Every encoded blob in `data`, decoded: `(start, end, encoding, text)`.
pub fn each_encoded(data: &[u8], mut found: impl FnMut(usize, usize, Encoding, Vec<u8>)) {
    base64_runs(data, |start, end| {
        if let Some(text) = decode_base64(&data[start..end]) {
            found(start, end, Encoding::Base64, text);
        }
    });
    percent_encoded_words(data, |start, end, text| found(start, end, Encoding::Url, text));
}

const fn base64_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let c = byte as u8;
        table[byte] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'-' || c == b'_';
        byte += 1;
    }
    table
}

static BASE64: [bool; 256] = base64_table();

/// Half a shortest run, and the sample itself: see [`base64_runs`].
const HALF_RUN: usize = MIN_BASE64 / 2 + 1;

/// Whether `data[start..start + HALF_RUN]` is all base64 (false where it
/// runs past the end). Every byte is looked at, without a branch per byte:
/// the samples land in words of every length, and a branch that leaves at
/// a word's end is a misprediction each time.
#[inline]
fn all_base64(data: &[u8], start: usize) -> bool {
    let Some(window) = data.get(start..start + HALF_RUN) else { return false };
    window.iter().fold(true, |all, &byte| all & BASE64[usize::from(byte)])
}

fn base64_runs(data: &[u8], mut found: impl FnMut(usize, usize)) {
    let mut at = MIN_BASE64 - 1;
    while at < data.len() {
        // A run of MIN_BASE64 or more that holds `at` holds the HALF_RUN
        // bytes from `at` on, or the HALF_RUN bytes up to it: if it begins
        // less than half a run before `at`, it goes on at least half a run
        // after. Most samples land in short words and fail both checks.
        if !all_base64(data, at) && !all_base64(data, at + 1 - HALF_RUN) {
            at += MIN_BASE64;
            continue;
        }
        let mut start = at;
        while start > 0 && BASE64[usize::from(data[start - 1])] {
            start -= 1;
        }
        let mut end = at + 1;
        while end < data.len() && BASE64[usize::from(data[end])] {
            end += 1;
        }
        if (MIN_BASE64..=MAX_BASE64).contains(&(end - start)) && mixed(&data[start..end]) {
            // Padding belongs to the run.
            let mut padded = end;
            while padded < data.len() && padded < end + 2 && data[padded] == b'=' {
                padded += 1;
            }
            found(start, padded);
        }
        // The next run starts after this one; one that long covers `end + MIN_BASE64`.
        at = end + MIN_BASE64;
    }
}

/// Upper and lower case letters and a digit: what base64 of text has and
/// paths and identifiers mostly do not.
fn mixed(run: &[u8]) -> bool {
    let (mut upper, mut lower, mut digit) = (false, false, false);
    for &byte in run {
        upper |= byte.is_ascii_uppercase();
        lower |= byte.is_ascii_lowercase();
        digit |= byte.is_ascii_digit();
        if upper && lower && digit {
            return true;
        }
    }
    false
}

/// Decoders (built once) that take base64 with or without its padding.
const ANY_PADDING: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
static STANDARD_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, ANY_PADDING);
static URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, ANY_PADDING);

fn decode_base64(run: &[u8]) -> Option<Vec<u8>> {
    let url_safe = run.iter().any(|&byte| byte == b'-' || byte == b'_');
    let engine = if url_safe { &URL_SAFE_ANY_PADDING } else { &STANDARD_ANY_PADDING };
    // Most runs are not text (key material, images, tables): a look at
    // the first 48 bytes decoded settles that before the rest is decoded.
    if run.len() > 128 {
        let head = engine.decode(&run[..64]).ok()?;
        if !looks_like_text(&head) {
            return None;
        }
    }
    let decoded = engine.decode(run).ok()?;
    looks_like_text(&decoded).then_some(decoded)
}

/// Mostly printable ASCII or UTF-8 (so random key material and images are
/// not scanned as text).
fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.len() < 16 {
        return false;
    }
    let Ok(text) = std::str::from_utf8(bytes) else { return false };
    let printable = text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).count();
    printable * 100 >= text.chars().count() * 95
}

/// Words holding `%XX` escapes, decoded.
fn percent_encoded_words(data: &[u8], mut found: impl FnMut(usize, usize, Vec<u8>)) {
    let mut done_until = 0;
    for at in memchr::memchr_iter(b'%', data) {
        if at < done_until || !(at + 2 < data.len() && is_hex(data[at + 1]) && is_hex(data[at + 2])) {
            continue;
        }
        let start = data[..at].iter().rposition(|&byte| is_break(byte)).map_or(0, |position| position + 1);
        let end =
            data[at..].iter().position(|&byte| is_break(byte)).map_or(data.len(), |position| at + position);
        done_until = end;
        let word = &data[start..end];
        let mut decoded = Vec::with_capacity(word.len());
        let mut index = 0;
        while index < word.len() {
            if word[index] == b'%'
                && index + 2 < word.len()
                && is_hex(word[index + 1])
                && is_hex(word[index + 2])
            {
                decoded.push(hex_value(word[index + 1]) * 16 + hex_value(word[index + 2]));
                index += 3;
            } else {
                decoded.push(word[index]);
                index += 1;
            }
        }
        if decoded.len() >= 8 && std::str::from_utf8(&decoded).is_ok() {
            found(start, end, decoded);
        }
    }
}

fn is_break(byte: u8) -> bool {
    byte.is_ascii_whitespace() || matches!(byte, b'"' | b'\'' | b'`' | b'<' | b'>' | b'(' | b')')
}

fn is_hex(byte: u8) -> bool {
    byte.is_ascii_hexdigit()
}

fn hex_value(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        _ => byte - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Vec<(String, Encoding, String)> {
        let mut out = Vec::new();
        each_encoded(text.as_bytes(), |start, end, encoding, bytes| {
            out.push((text[start..end].to_owned(), encoding, String::from_utf8(bytes).unwrap()));
        });
        out
    }

    #[test]
    fn base64_and_percent_encoded_text_is_decoded_and_look_alikes_are_not() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let secret = "password=Tr0ub4dor&3-horse-battery";
        let standard = STANDARD.encode(secret);
        let url_safe = URL_SAFE_NO_PAD.encode("token: ghp_abc?d>e~f/g>>h_0123456789xyz");
        let random: Vec<u8> = (0..48_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let binary = STANDARD.encode(random);
        let text = format!(
            "data:\n  password: {standard}\nsrc/some/long/path/to/a/module/file_name.rs\n\
             auth = \"{url_safe}\"\nblob: {binary}\n\
             url = https://host/cb?secret=Tr0ub4dor%263-horse%2Fbattery&x=1 and 100% done\n"
        );
        let found = decoded(&text);
        let texts: Vec<&str> = found.iter().map(|(_, _, text)| text.as_str()).collect();
        assert_eq!(
            texts,
            [
                secret,
                "token: ghp_abc?d>e~f/g>>h_0123456789xyz",
                "https://host/cb?secret=Tr0ub4dor&3-horse/battery&x=1"
            ]
        );
        assert_eq!(found[0].0, standard, "the run includes its padding");
        assert_eq!((found[0].1, found[2].1), (Encoding::Base64, Encoding::Url));
    }

    #[test]
    fn sampling_finds_every_run_a_byte_by_byte_search_finds() {
        // Words of every length from 1 to 80 between separators, so runs
        // of 31, 32 and 33 characters fall at every offset to the samples.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        let word_bytes = b"aZ9+/_-bY8xW";
        let separators = b" .=\n\"";
        let mut data = Vec::new();
        while data.len() < 200_000 {
            let length = if next(4) == 0 { 28 + next(8) } else { 1 + next(80) };
            data.extend((0..length).map(|_| word_bytes[next(word_bytes.len() as u64) as usize]));
            data.push(separators[next(separators.len() as u64) as usize]);
        }
        let mut sampled = Vec::new();
        base64_runs(&data, |start, end| sampled.push((start, end)));
        let mut every = Vec::new();
        let mut start = 0;
        while start < data.len() {
            if !BASE64[usize::from(data[start])] {
                start += 1;
                continue;
            }
            let end = (start..data.len()).find(|&at| !BASE64[usize::from(data[at])]).unwrap_or(data.len());
            if (MIN_BASE64..=MAX_BASE64).contains(&(end - start)) && mixed(&data[start..end]) {
                let padding = data[end..].iter().take(2).take_while(|&&byte| byte == b'=').count();
                every.push((start, end + padding));
            }
            start = end;
        }
        assert!(every.len() > 100, "the text has runs to find: {}", every.len());
        let first_difference = sampled.iter().zip(&every).position(|(a, b)| a != b);
        assert_eq!(first_difference, None, "sampled {} runs, byte by byte {}", sampled.len(), every.len());
        assert_eq!(sampled.len(), every.len());
    }

    #[test]
    fn sampling_finds_a_run_wherever_it_starts() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("a secret of thirty bytes here!");
        for offset in 0..MIN_BASE64 + 3 {
            let text =
                format!("{}{encoded} tail", "x ".repeat(offset / 2) + if offset % 2 == 1 { " " } else { "" });
            assert_eq!(decoded(&text).len(), 1, "offset {offset}");
        }
    }
}
