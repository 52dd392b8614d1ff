//! `make bench`: the sample encoding's append and read rates and its bytes
//! per sample, on series shaped like real scrapes (15 s interval with a
//! little jitter; counters, slowly moving gauges and noisy gauges).

use std::time::Instant;

use opsdeck_metrics::{decode, ChunkEncoder};

const SERIES: usize = 3_000;
const SAMPLES_PER_CHUNK: usize = 120;

/// A small deterministic generator (same numbers every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }
}

/// Series `index` (its kind is `index % 3`); `jitter_ms` moves each
/// timestamp off the 15 s grid by up to that much (0: stamped on schedule).
fn series(index: usize, random: &mut Lcg, jitter_ms: u64) -> Vec<(i64, f64)> {
    let start = 1_700_000_000_000_i64 + (random.next() % 15_000) as i64;
    let mut counter = 0.0;
    (0..SAMPLES_PER_CHUNK)
        .map(|i| {
            let t = start + i as i64 * 15_000 + (random.next() % (jitter_ms + 1)) as i64;
            let v = match index % 3 {
                0 => {
                    counter += (random.next() % 50) as f64;
                    counter
                }
                1 => 40.0 + ((i / 8) % 5) as f64,
                _ => (random.next() % 100_000) as f64 / 1000.0,
            };
            (t, v)
        })
        .collect()
}

/// Bytes per sample of series of kind `kind` (all kinds when `None`).
fn bytes_per_sample(chunks: &[Vec<u8>], kind: Option<usize>) -> f64 {
    let (bytes, count) = chunks
        .iter()
        .enumerate()
        .filter(|(index, _)| kind.is_none_or(|kind| index % 3 == kind))
        .fold((0, 0), |(bytes, count), (_, chunk)| (bytes + chunk.len(), count + SAMPLES_PER_CHUNK));
    bytes as f64 / count as f64
}

fn encode_all(data: &[Vec<(i64, f64)>]) -> Vec<Vec<u8>> {
    data.iter()
        .map(|series| {
            let mut chunk = ChunkEncoder::new();
            for &(t, v) in series {
                chunk.append(t, v).expect("in order");
            }
            chunk.into_bytes()
        })
        .collect()
}

fn main() {
    let mut random = Lcg(1);
    let data: Vec<Vec<(i64, f64)>> = (0..SERIES).map(|index| series(index, &mut random, 4)).collect();
    let samples = (SERIES * SAMPLES_PER_CHUNK) as f64;

    let started = Instant::now();
    let chunks = encode_all(&data);
    let append = started.elapsed();

    let started = Instant::now();
    let mut read = 0;
    for chunk in &chunks {
        read += decode(chunk).expect("readable").len();
    }
    let decoding = started.elapsed();
    assert_eq!(read as f64, samples);

    println!(
        "{:<52} {:>12.0} samples/s ({} series x {} samples)",
        "metrics chunk: append",
        samples / append.as_secs_f64(),
        SERIES,
        SAMPLES_PER_CHUNK
    );
    println!("{:<52} {:>12.0} samples/s", "metrics chunk: decode", samples / decoding.as_secs_f64());
    let on_schedule = encode_all(&(0..SERIES).map(|index| series(index, &mut random, 0)).collect::<Vec<_>>());
    for (label, chunks) in [("stamped 0-4 ms off schedule", &chunks), ("stamped on schedule", &on_schedule)] {
        println!(
            "{:<52} {:>12.2} bytes/sample (counters {:.2}, steady gauges {:.2}, noisy gauges {:.2})",
            format!("metrics chunk: size, {label}"),
            bytes_per_sample(chunks, None),
            bytes_per_sample(chunks, Some(0)),
            bytes_per_sample(chunks, Some(1)),
            bytes_per_sample(chunks, Some(2))
        );
    }
}
