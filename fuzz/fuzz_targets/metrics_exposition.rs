//! What scrape targets answer: any bytes a server sends are parsed in both
//! formats (with a sample limit) and either give samples or an error naming
//! a line that exists; never a panic. Chunks read from a damaged store give
//! samples in time order or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opsdeck_metrics::exposition::{parse, Format, ParseOptions};

fuzz_target!(|data: &[u8]| {
    let _ = opsdeck_metrics::decode(data).map(|samples| {
        assert!(samples.windows(2).all(|pair| pair[0].t < pair[1].t));
    });
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Prometheus, Format::OpenMetrics] {
        match parse(text, ParseOptions { format, sample_limit: Some(1_000) }) {
            Ok(scrape) => assert!(scrape.samples.len() <= 1_000),
            Err(error) => assert!(error.line >= 1 && error.line <= text.split('\n').count()),
        }
    }
});
