//! The secret scanner over any bytes a file may hold: every built-in rule
//! runs, and each finding points inside the input at a line that exists,
//! with its secret redacted, and the keyword pass cut into pieces finds
//! what one pass finds; never a panic. Histogram chunks of a damaged
//! store read as rows in time order or an error.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use opsdeck_scan::{RuleSet, Scanner};

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        Scanner::new(RuleSet::built_in().expect("built-in rules")).expect("scanner")
    })
}

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|byte| **byte == b'\n').count() + 1;
    scanner().scan_bytes(data, |finding| {
        assert!(finding.offset < data.len());
        assert!(finding.line >= 1 && finding.line <= lines);
        assert!(finding.redacted.contains('…'));
    });
    // The keyword pass cuts a buffer of 16 KiB or more into pieces walked
    // side by side: cut this one too, and it must find what one pass finds.
    assert!(scanner().keyword_pieces_agree(data));
    if let Ok(chunk) = opsdeck_metrics::histogram_chunk::HistogramChunk::parse(data) {
        if let Ok(rows) = chunk.rows() {
            assert!(rows.windows(2).all(|pair| pair[0].0 < pair[1].0));
        }
    }
});
