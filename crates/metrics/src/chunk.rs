//! Compressed chunks of one series' samples.
//!
//! A chunk is a 2-byte big-endian sample count followed by a bit stream:
//!
//! - the first sample: its timestamp as a zig-zag varint, its value's 64 bits;
//! - the second: the timestamp's delta as a varint, the value XOR'd (below);
//! - every later one: the delta of the delta, in the smallest of five
//!   buckets (`0`; `10` + 14 bits; `110` + 17 bits; `1110` + 20 bits;
//!   `1111` + 64 bits), then the value XOR'd with the previous one: `0` when
//!   equal, else `1` and either `0` + the meaningful bits inside the previous
//!   window of leading/trailing zeros, or `1` + 5 bits of leading zeros + 6
//!   bits of length + the meaningful bits.
//!
//! Timestamps are Unix milliseconds and must increase strictly within a
//! chunk. Values keep their exact bits (so Prometheus' staleness marker, a
//! particular NaN, survives). Reading a damaged chunk — cut short, a count
//! that does not match, timestamps that go backwards — is an error naming
//! the sample, never a panic or made-up samples.

/// The bits of the NaN that marks a series as stale (Prometheus' value):
/// a scrape that no longer returns a series writes it, so lines stop there.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The most samples one chunk holds (its count is 16 bits).
pub const MAX_SAMPLES: usize = u16::MAX as usize;

/// One sample: when (Unix milliseconds) and the value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Unix milliseconds.
    pub t: i64,
    /// The value (bits kept exactly).
    pub v: f64,
}

impl Sample {
    /// Whether this is the staleness marker rather than a value.
    pub fn is_stale(&self) -> bool {
        self.v.to_bits() == STALE_NAN_BITS
    }
}

/// What went wrong appending to or reading a chunk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// A sample not after the chunk's last one.
    #[error("a sample at {t} ms is not after the chunk's last sample at {last} ms; samples of a series are appended in time order")]
    OutOfOrder {
        /// The refused sample's time.
        t: i64,
        /// The chunk's last time.
        last: i64,
    },
    /// The chunk holds [`MAX_SAMPLES`] already.
    #[error("the chunk is full ({MAX_SAMPLES} samples); start a new one")]
    Full,
    /// The bytes end before the samples their count promises.
    #[error("the chunk is cut short: it ends inside sample {sample} of {count}")]
    Truncated {
        /// The sample being read (0-based).
        sample: usize,
        /// The count the chunk's header gives.
        count: usize,
    },
    /// The bytes decode to something no encoder writes.
    #[error("the chunk is damaged at sample {sample}: {why}")]
    Damaged {
        /// The sample being read (0-based).
        sample: usize,
        /// What was wrong.
        why: &'static str,
    },
}

/// Appends samples to one chunk.
#[derive(Debug, Clone)]
pub struct ChunkEncoder {
    bits: BitWriter,
    count: usize,
    last_t: i64,
    last_delta: i64,
    values: XorWriter,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkEncoder {
    /// An empty chunk.
    pub fn new() -> Self {
        ChunkEncoder {
            bits: BitWriter { bytes: vec![0, 0], free: 0 },
            count: 0,
            last_t: 0,
            last_delta: 0,
            values: XorWriter::default(),
        }
    }

    /// How many samples it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds no sample.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The chunk's bytes as they are now (complete after every append).
    pub fn bytes(&self) -> &[u8] {
        &self.bits.bytes
    }

    /// The chunk's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bits.bytes
    }

    /// Appends a sample after the last one.
    pub fn append(&mut self, t: i64, v: f64) -> Result<(), ChunkError> {
        if self.count == MAX_SAMPLES {
            return Err(ChunkError::Full);
        }
        if self.count > 0 && t <= self.last_t {
            return Err(ChunkError::OutOfOrder { t, last: self.last_t });
        }
        write_time(&mut self.bits, self.count, t, &mut self.last_t, &mut self.last_delta);
        self.values.write(&mut self.bits, self.count, v.to_bits());
        self.count += 1;
        let count = (self.count as u16).to_be_bytes();
        self.bits.bytes[..2].copy_from_slice(&count);
        Ok(())
    }
}

/// Writes sample `index`'s timestamp: a zig-zag varint first, then the
/// delta as a varint, then deltas of deltas (see the module's comment).
pub(crate) fn write_time(bits: &mut BitWriter, index: usize, t: i64, last_t: &mut i64, last_delta: &mut i64) {
    match index {
        0 => bits.write_varint(zigzag(t)),
        1 => {
            let delta = t.wrapping_sub(*last_t);
            bits.write_varint(delta as u64);
            *last_delta = delta;
        }
        _ => {
            let delta = t.wrapping_sub(*last_t);
            write_delta_of_delta(bits, delta.wrapping_sub(*last_delta));
            *last_delta = delta;
        }
    }
    *last_t = t;
}

fn write_delta_of_delta(bits: &mut BitWriter, dod: i64) {
    const BUCKETS: [(u64, u32, u32); 3] = [(0b10, 2, 14), (0b110, 3, 17), (0b1110, 4, 20)];
    if dod == 0 {
        bits.write_bit(false);
        return;
    }
    for (prefix, prefix_len, width) in BUCKETS {
        if fits(dod, width) {
            bits.write_bits(prefix, prefix_len);
            bits.write_bits(dod as u64, width);
            return;
        }
    }
    bits.write_bits(0b1111, 4);
    bits.write_bits(dod as u64, 64);
}

/// Float values XOR'd with the previous one (see the module's comment).
#[derive(Debug, Clone, Default)]
pub(crate) struct XorWriter {
    last_bits: u64,
    /// The previous value's window: leading and trailing zero bits of its XOR.
    window: Option<(u32, u32)>,
}

impl XorWriter {
    /// Writes value `index` (its 64 bits whole when it is the first).
    pub(crate) fn write(&mut self, bits: &mut BitWriter, index: usize, value_bits: u64) {
        if index == 0 {
            bits.write_bits(value_bits, 64);
        } else {
            self.write_xor(bits, value_bits);
        }
        self.last_bits = value_bits;
    }

    fn write_xor(&mut self, bits: &mut BitWriter, value_bits: u64) {
        let xor = value_bits ^ self.last_bits;
        if xor == 0 {
            bits.write_bit(false);
            return;
        }
        bits.write_bit(true);
        // Five bits hold at most 31 leading zeros.
        let leading = xor.leading_zeros().min(31);
        let trailing = xor.trailing_zeros();
        match self.window {
            Some((window_leading, window_trailing))
                if leading >= window_leading && trailing >= window_trailing =>
            {
                bits.write_bit(false);
                let width = 64 - window_leading - window_trailing;
                bits.write_bits(xor >> window_trailing, width);
            }
            _ => {
                let width = 64 - leading - trailing;
                bits.write_bit(true);
                bits.write_bits(u64::from(leading), 5);
                // A width of 64 does not fit six bits and is written as 0
                // (a width of 0 cannot happen: the XOR is not zero).
                bits.write_bits(u64::from(width & 63), 6);
                bits.write_bits(xor >> trailing, width);
                self.window = Some((leading, trailing));
            }
        }
    }
}

/// Reads every sample of a chunk.
pub fn decode(bytes: &[u8]) -> Result<Vec<Sample>, ChunkError> {
    ChunkReader::new(bytes)?.collect()
}

/// Reads a chunk's samples one by one (queries stop early without
/// decoding the rest).
#[derive(Debug, Clone)]
pub struct ChunkReader<'a> {
    bits: BitReader<'a>,
    count: usize,
    read: usize,
    last_t: i64,
    last_delta: i64,
    values: XorReader,
    failed: bool,
}

impl<'a> ChunkReader<'a> {
    /// A reader over `bytes`; fails when even the header is missing.
    pub fn new(bytes: &'a [u8]) -> Result<Self, ChunkError> {
        let Some(header) = bytes.get(..2) else {
            return Err(ChunkError::Truncated { sample: 0, count: 0 });
        };
        let count = usize::from(u16::from_be_bytes([header[0], header[1]]));
        Ok(ChunkReader {
            bits: BitReader { bytes: &bytes[2..], position: 0 },
            count,
            read: 0,
            last_t: 0,
            last_delta: 0,
            values: XorReader::default(),
            failed: false,
        })
    }

    /// How many samples the chunk says it holds.
    pub fn sample_count(&self) -> usize {
        self.count
    }

    fn next_sample(&mut self) -> Result<Sample, ChunkError> {
        let sample = self.read;
        let count = self.count;
        let t = read_time(&mut self.bits, sample, count, &mut self.last_t, &mut self.last_delta)?;
        let value_bits =
            self.values.read(&mut self.bits, sample).map_err(|_| ChunkError::Truncated { sample, count })?;
        Ok(Sample { t, v: f64::from_bits(value_bits) })
    }
}

/// Reads sample `index`'s timestamp (of `count`), written by [`write_time`].
pub(crate) fn read_time(
    bits: &mut BitReader<'_>,
    index: usize,
    count: usize,
    last_t: &mut i64,
    last_delta: &mut i64,
) -> Result<i64, ChunkError> {
    let cut = |_: OutOfBits| ChunkError::Truncated { sample: index, count };
    let t = match index {
        0 => unzigzag(bits.read_varint().map_err(|error| varint_error(error, index, count))?),
        1 => {
            let delta = bits.read_varint().map_err(|error| varint_error(error, index, count))? as i64;
            *last_delta = delta;
            last_t.wrapping_add(delta)
        }
        _ => {
            let dod = read_delta_of_delta(bits).map_err(cut)?;
            let delta = last_delta.wrapping_add(dod);
            *last_delta = delta;
            last_t.wrapping_add(delta)
        }
    };
    if index > 0 && t <= *last_t {
        return Err(ChunkError::Damaged {
            sample: index,
            why: "its time is not after the previous sample's",
        });
    }
    *last_t = t;
    Ok(t)
}

fn read_delta_of_delta(bits: &mut BitReader<'_>) -> Result<i64, OutOfBits> {
    let mut prefix = 0;
    while prefix < 4 && bits.read_bit()? {
        prefix += 1;
    }
    let width = match prefix {
        0 => return Ok(0),
        1 => 14,
        2 => 17,
        3 => 20,
        _ => return Ok(bits.read_bits(64)? as i64),
    };
    let raw = bits.read_bits(width)? as i64;
    // Two's complement in `width` bits; +2^(width-1) is kept positive, as written.
    Ok(if raw > 1 << (width - 1) { raw - (1 << width) } else { raw })
}

/// Reads what [`XorWriter`] wrote.
#[derive(Debug, Clone, Default)]
pub(crate) struct XorReader {
    last_bits: u64,
    window: (u32, u32),
}

impl XorReader {
    /// Value `index`'s bits.
    pub(crate) fn read(&mut self, bits: &mut BitReader<'_>, index: usize) -> Result<u64, OutOfBits> {
        let value = if index == 0 { bits.read_bits(64)? } else { self.read_xor(bits)? };
        self.last_bits = value;
        Ok(value)
    }

    fn read_xor(&mut self, bits: &mut BitReader<'_>) -> Result<u64, OutOfBits> {
        if !bits.read_bit()? {
            return Ok(self.last_bits);
        }
        if bits.read_bit()? {
            let leading = bits.read_bits(5)? as u32;
            let mut width = bits.read_bits(6)? as u32;
            if width == 0 {
                width = 64;
            }
            // A corrupt window is caught below as a time or bit shortage,
            // never as a shift overflow: widths are capped here.
            let width = width.min(64 - leading);
            self.window = (leading, 64 - leading - width);
        }
        let (leading, trailing) = self.window;
        let meaningful = bits.read_bits(64 - leading - trailing)?;
        Ok(self.last_bits ^ (meaningful.checked_shl(trailing).unwrap_or(0)))
    }
}

impl Iterator for ChunkReader<'_> {
    type Item = Result<Sample, ChunkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.read == self.count {
            return None;
        }
        let sample = self.next_sample();
        match &sample {
            Ok(_) => self.read += 1,
            Err(_) => self.failed = true,
        }
        Some(sample)
    }
}

pub(crate) fn varint_error(error: VarintError, sample: usize, count: usize) -> ChunkError {
    match error {
        VarintError::OutOfBits => ChunkError::Truncated { sample, count },
        VarintError::TooLong => ChunkError::Damaged { sample, why: "a varint runs over 10 bytes" },
    }
}

/// Whether `value` is written in `width` bits (the range the reader gives back).
pub(crate) fn fits(value: i64, width: u32) -> bool {
    let half = 1_i64 << (width - 1);
    -(half - 1) <= value && value <= half
}

pub(crate) fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

pub(crate) fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// Bits appended most significant first.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    pub(crate) bytes: Vec<u8>,
    /// Bits still free in the last byte.
    free: u32,
}

impl BitWriter {
    pub(crate) fn write_bit(&mut self, bit: bool) {
        if self.free == 0 {
            self.bytes.push(0);
            self.free = 8;
        }
        self.free -= 1;
        if bit {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 1 << self.free;
            }
        }
    }

    /// The low `count` bits of `value`, most significant first.
    pub(crate) fn write_bits(&mut self, value: u64, count: u32) {
        let mut left = count;
        while left > 0 {
            if self.free == 0 {
                self.bytes.push(0);
                self.free = 8;
            }
            let take = left.min(self.free);
            let chunk = (value >> (left - take)) & ((1_u64 << take) - 1);
            if let Some(last) = self.bytes.last_mut() {
                *last |= (chunk as u8) << (self.free - take);
            }
            self.free -= take;
            left -= take;
        }
    }

    pub(crate) fn write_varint(&mut self, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.write_bits(u64::from(byte), 8);
                return;
            }
            self.write_bits(u64::from(byte | 0x80), 8);
        }
    }
}

/// The reader ran out of bits.
#[derive(Debug)]
pub(crate) struct OutOfBits;

pub(crate) enum VarintError {
    OutOfBits,
    TooLong,
}

#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    pub(crate) bytes: &'a [u8],
    /// Bits read so far.
    pub(crate) position: usize,
}

impl BitReader<'_> {
    pub(crate) fn read_bit(&mut self) -> Result<bool, OutOfBits> {
        let byte = self.bytes.get(self.position / 8).ok_or(OutOfBits)?;
        let bit = byte >> (7 - self.position % 8) & 1 == 1;
        self.position += 1;
        Ok(bit)
    }

    pub(crate) fn read_bits(&mut self, count: u32) -> Result<u64, OutOfBits> {
        if count == 0 {
            return Ok(0);
        }
        if self.position + count as usize > self.bytes.len() * 8 {
            return Err(OutOfBits);
        }
        // The (at most 9) bytes holding the bits, as one big-endian word:
        // one shift out instead of a loop over bytes (decoding is most of a
        // large query's reading).
        let first = self.position / 8;
        let mut window = [0_u8; 16];
        let available = (self.bytes.len() - first).min(16);
        window[..available].copy_from_slice(&self.bytes[first..first + available]);
        let word = u128::from_be_bytes(window) << (self.position % 8);
        self.position += count as usize;
        Ok((word >> (128 - count)) as u64)
    }

    pub(crate) fn read_varint(&mut self) -> Result<u64, VarintError> {
        let mut value = 0_u64;
        for index in 0..10 {
            let byte = self.read_bits(8).map_err(|_| VarintError::OutOfBits)?;
            value |= (byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(VarintError::TooLong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(samples: &[(i64, f64)]) -> Vec<u8> {
        let mut chunk = ChunkEncoder::new();
        for &(t, v) in samples {
            chunk.append(t, v).unwrap();
        }
        chunk.into_bytes()
    }

    fn bits_of(samples: &[Sample]) -> Vec<(i64, u64)> {
        samples.iter().map(|sample| (sample.t, sample.v.to_bits())).collect()
    }

    /// A small deterministic generator (no dependency for tests).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 11
        }
    }

    #[test]
    fn every_kind_of_series_reads_back_bit_for_bit() {
        let mut random = Lcg(7);
        let mut cases: Vec<Vec<(i64, f64)>> = vec![
            vec![],
            vec![(1_700_000_000_000, 1.5)],
            vec![(-5, -0.0), (3, 0.0)],
            // A counter scraped every 15 s, with a little jitter and a reset.
            (0..500)
                .map(|i| {
                    (
                        1_700_000_000_000 + i * 15_000 + (i % 3),
                        if i < 300 { i as f64 * 3.0 } else { (i - 300) as f64 },
                    )
                })
                .collect(),
            // Extremes: huge gaps, NaN payloads, infinities, the staleness marker.
            vec![
                (i64::MIN / 2, f64::MAX),
                (0, f64::MIN_POSITIVE),
                (1, f64::NAN),
                (2, f64::from_bits(STALE_NAN_BITS)),
                (3, f64::INFINITY),
                (i64::MAX / 2, f64::NEG_INFINITY),
                (i64::MAX / 2 + 1, 1e-300),
            ],
        ];
        for _ in 0..50 {
            let mut t = (random.next() % 1_000_000) as i64;
            let mut series = Vec::new();
            for _ in 0..(random.next() % 400) {
                t += 1
                    + (random.next() % [2, 100, 70_000, 9_000_000, 1 << 40][(random.next() % 5) as usize])
                        as i64;
                series.push((t, f64::from_bits((random.next() << 11) | (random.next() % 2048))));
            }
            cases.push(series);
        }
        for series in cases {
            let bytes = encode(&series);
            let read = decode(&bytes).unwrap();
            let expected: Vec<(i64, u64)> = series.iter().map(|&(t, v)| (t, v.to_bits())).collect();
            assert_eq!(bits_of(&read), expected);
        }
    }

    #[test]
    fn deltas_of_deltas_at_every_bucket_edge_read_back() {
        let mut dods = vec![0_i64, 1, -1, i64::from(i32::MAX), -i64::from(i32::MAX)];
        for width in [14, 17, 20] {
            let half = 1_i64 << (width - 1);
            dods.extend([half, half - 1, half + 1, -half, -(half - 1), -(half + 1)]);
        }
        let mut series = vec![(0_i64, 0.0), (1_i64 << 40, 1.0)];
        let mut delta = 1_i64 << 40;
        for (index, dod) in dods.into_iter().enumerate() {
            delta += dod;
            let t = series.last().unwrap().0 + delta;
            series.push((t, index as f64));
        }
        let read = decode(&encode(&series)).unwrap();
        assert_eq!(
            read.iter().map(|sample| sample.t).collect::<Vec<_>>(),
            series.iter().map(|s| s.0).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_regularly_scraped_series_costs_under_one_and_a_half_bytes_a_sample() {
        // A gauge moving slowly, scraped every 15 s for two hours.
        let series: Vec<(i64, f64)> =
            (0..480).map(|i| (1_700_000_000_000 + i * 15_000, 100.0 + ((i / 10) % 7) as f64)).collect();
        let bytes = encode(&series);
        let per_sample = bytes.len() as f64 / series.len() as f64;
        assert!(per_sample < 1.5, "{per_sample} bytes per sample");
    }

    #[test]
    fn samples_out_of_order_and_a_full_chunk_are_refused_and_the_chunk_stays_readable() {
        let mut chunk = ChunkEncoder::new();
        chunk.append(1_000, 1.0).unwrap();
        chunk.append(2_000, 2.0).unwrap();
        assert_eq!(chunk.append(2_000, 3.0), Err(ChunkError::OutOfOrder { t: 2_000, last: 2_000 }));
        assert_eq!(chunk.append(1_500, 3.0), Err(ChunkError::OutOfOrder { t: 1_500, last: 2_000 }));
        assert_eq!(
            bits_of(&decode(chunk.bytes()).unwrap()),
            [(1_000, 1.0_f64.to_bits()), (2_000, 2.0_f64.to_bits())]
        );
        let mut full = ChunkEncoder::new();
        for t in 0..MAX_SAMPLES as i64 {
            full.append(t, 0.0).unwrap();
        }
        assert_eq!(full.append(MAX_SAMPLES as i64, 0.0), Err(ChunkError::Full));
        assert_eq!(decode(full.bytes()).unwrap().len(), MAX_SAMPLES);
    }

    #[test]
    fn a_cut_chunk_is_an_error_naming_the_sample_and_garbage_never_panics() {
        let series: Vec<(i64, f64)> = (0..100).map(|i| (i * 1_000, (i * i) as f64 / 7.0)).collect();
        let bytes = encode(&series);
        assert_eq!(decode(&bytes[..1]), Err(ChunkError::Truncated { sample: 0, count: 0 }));
        assert_eq!(decode(&bytes[..4]), Err(ChunkError::Truncated { sample: 0, count: 100 }));
        let cut = decode(&bytes[..bytes.len() / 2]).unwrap_err();
        assert!(
            matches!(cut, ChunkError::Truncated { sample, count: 100 } if sample > 10 && sample < 100),
            "{cut:?}"
        );
        // Every single-bit flip and random bytes: an error or samples in time order, never a panic.
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            if let Ok(samples) = decode(&flipped) {
                assert!(samples.windows(2).all(|pair| pair[0].t < pair[1].t));
            }
        }
        let mut random = Lcg(99);
        for _ in 0..2_000 {
            let length = (random.next() % 64) as usize;
            let garbage: Vec<u8> = (0..length).map(|_| random.next() as u8).collect();
            let _ = decode(&garbage);
        }
    }

    #[test]
    fn a_reader_stops_after_the_first_error() {
        let bytes = encode(&[(1, 1.0), (2, 2.0), (3, 4.0)]);
        let mut reader = ChunkReader::new(&bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(reader.sample_count(), 3);
        let results: Vec<_> = reader.by_ref().collect();
        assert!(results.last().is_some_and(Result::is_err), "{results:?}");
        assert!(reader.next().is_none());
    }
}
