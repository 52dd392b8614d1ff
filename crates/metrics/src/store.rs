//! The series store: series by their labels, an inverted label index, and
//! samples in compressed chunks (see [`crate::chunk`]) in the deck's store.
//!
//! Appends go to an in-memory head chunk per series; [`SeriesStore::flush`]
//! writes every changed head in one transaction (the caller flushes on a
//! timer and at shutdown; a read flushes first, so a process reads what it
//! appended). A head holds at most [`SAMPLES_PER_CHUNK`] samples, then a
//! new one starts. Each appending process has its own `writer` name, so
//! chunks from two processes taking in the same series sit side by side
//! and reads merge them in time order.
//!
//! A histogram's bucket, count and sum series (named by the caller: see
//! [`SeriesStore::append_typed`]) are series like any other to selectors,
//! but their samples share one head and one chunk per histogram (see
//! [`crate::histogram_chunk`]); reads take each member's column from those
//! chunks and merge it with the member's own chunks, if it has any.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};

use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::{CoreError, Store, StoreKind};
use sqlx::migrate::Migrator;

use crate::chunk::{ChunkEncoder, ChunkError, ChunkReader, Sample};
use crate::histogram_chunk::{ColumnKind, HistogramChunk, HistogramChunkEncoder};

/// Samples per chunk before a new one starts (four hours at a 60 s
/// interval, an hour at 15 s). Twice Prometheus' 120: a chunk is a row in
/// the store, and fewer, larger rows cost less to keep and to read (a day
/// of 1,000 series read in 59 ms instead of 90); a flush rewrites the head
/// chunks it changed, which stay under half a kilobyte.
pub const SAMPLES_PER_CHUNK: usize = 240;

/// The size past which a histogram's chunk is closed early: a histogram
/// of many buckets fills 120 rows with several kilobytes, and a row of
/// SQLite holding a little over half a 4 KiB page leaves the rest of it
/// empty; two such chunks fill a page.
const HISTOGRAM_CHUNK_BYTES: usize = 1_900;

/// Chunk rows written by one statement of a flush (6 parameters each, well
/// under SQLite's and PostgreSQL's limits).
const ROWS_PER_STATEMENT: usize = 200;

/// The width of a downsampled window: past the full-resolution days, a
/// series keeps one sample per five minutes.
pub const ROLLUP_STEP_MS: i64 = 300_000;

/// The `writer` of downsampled chunks.
pub const ROLLUP_WRITER: &str = "rollup-5m";

/// Samples per downsampled chunk (a day of 5-minute windows).
const ROLLUP_SAMPLES_PER_CHUNK: usize = 288;

/// The label that holds a series' metric name.
pub const NAME_LABEL: &str = "__name__";

/// The store's tables for `kind`.
pub fn migrator(kind: StoreKind) -> Migrator {
    match kind {
        StoreKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        StoreKind::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

/// A series' labels, the metric name under [`NAME_LABEL`]; sorted, so one
/// set of labels is one series however they were given.
pub type Labels = BTreeMap<String, String>;

/// What went wrong in the series store.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] CoreError),
    /// A chunk in the store could not be read.
    #[error("series {series}: a stored chunk is unreadable: {error}")]
    DamagedChunk {
        /// The series' labels.
        series: String,
        /// What was wrong.
        error: ChunkError,
    },
    /// A regular expression in a matcher does not compile.
    #[error("`{pattern}` is not a regular expression: {error}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// Why.
        error: String,
    },
    /// A series with no name or an empty label name.
    #[error("{0}")]
    Invalid(String),
}

impl MetricsError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MetricsError::Store(error) => error.code(),
            MetricsError::DamagedChunk { .. } => "metric_chunk_damaged",
            MetricsError::BadPattern { .. } => "invalid_input",
            MetricsError::Invalid(_) => "invalid_input",
        }
    }
}

impl From<sqlx::Error> for MetricsError {
    fn from(error: sqlx::Error) -> Self {
        MetricsError::Store(CoreError::Database(error))
    }
}

/// How a label is compared (PromQL's four matchers).
#[derive(Debug, Clone)]
pub enum Match {
    /// `=`: equal (an empty value matches series without the label).
    Equal(String),
    /// `!=`: not equal.
    NotEqual(String),
    /// `=~`: the whole value matches the expression.
    Regex(regex::Regex),
    /// `!~`: the whole value does not match the expression.
    NotRegex(regex::Regex),
}

/// One label condition of a selector.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label's name (`__name__` for the metric name).
    pub label: String,
    /// The comparison.
    pub matches: Match,
}

impl Matcher {
    /// `label = value`.
    pub fn equal(label: &str, value: &str) -> Matcher {
        Matcher { label: label.to_owned(), matches: Match::Equal(value.to_owned()) }
    }

    /// `label != value`.
    pub fn not_equal(label: &str, value: &str) -> Matcher {
        Matcher { label: label.to_owned(), matches: Match::NotEqual(value.to_owned()) }
    }

    /// `label =~ pattern` (anchored at both ends, as PromQL does).
    pub fn regex(label: &str, pattern: &str) -> Result<Matcher, MetricsError> {
        Ok(Matcher { label: label.to_owned(), matches: Match::Regex(anchored(pattern)?) })
    }

    /// `label !~ pattern`.
    pub fn not_regex(label: &str, pattern: &str) -> Result<Matcher, MetricsError> {
        Ok(Matcher { label: label.to_owned(), matches: Match::NotRegex(anchored(pattern)?) })
    }

    /// Whether a series with `labels` passes (a missing label is the empty value).
    pub fn accepts(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.label).map_or("", String::as_str);
        match &self.matches {
            Match::Equal(wanted) => value == wanted,
            Match::NotEqual(unwanted) => value != unwanted,
            Match::Regex(pattern) => pattern.is_match(value),
            Match::NotRegex(pattern) => !pattern.is_match(value),
        }
    }
}

fn anchored(pattern: &str) -> Result<regex::Regex, MetricsError> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|error| MetricsError::BadPattern { pattern: pattern.to_owned(), error: error.to_string() })
}

/// A series' id in the store (from [`SeriesStore::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeriesId(pub i64);

/// What an append took in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    /// Samples added.
    pub samples: usize,
    /// Samples refused: not after the series' last sample from this writer.
    pub out_of_order: usize,
    /// Series seen for the first time.
    pub new_series: usize,
    /// Samples refused: their series id is no longer known (retention
    /// removed the series); resolve its labels again.
    pub unknown_series: usize,
}

/// What a downsampling pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Downsampled {
    /// Series rolled up.
    pub series: usize,
    /// Full-resolution chunks replaced.
    pub chunks_replaced: u64,
    /// Full-resolution samples read.
    pub samples_before: u64,
    /// Samples the series keep for those windows (rolled-up ones rewritten
    /// with them included).
    pub samples_after: u64,
}

/// The last of each `step`-wide window of time-ordered `rows` (samples, or
/// a histogram's rows), whose time `time` gives.
fn last_per_window<T>(rows: Vec<T>, step: i64, time: impl Fn(&T) -> i64) -> Vec<T> {
    let mut kept: Vec<T> = Vec::new();
    for row in rows {
        match kept.last_mut() {
            Some(last) if time(last).div_euclid(step) == time(&row).div_euclid(step) => *last = row,
            _ => kept.push(row),
        }
    }
    kept
}

/// One series and its samples in a time range.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSamples {
    /// Its labels.
    pub labels: Labels,
    /// Its samples, in time order.
    pub samples: Vec<Sample>,
}

#[derive(Debug)]
struct Head {
    encoder: ChunkEncoder,
    min_t: i64,
    last_t: i64,
    dirty: bool,
}

/// A row being gathered: each member's value and how it is written.
type OpenRow = BTreeMap<i64, (f64, ColumnKind)>;

/// A histogram's head: the chunk being filled, chunks filled since the
/// last flush, and the row being gathered (the members' samples of one
/// time may come in more than one append).
#[derive(Debug, Default)]
struct HistogramHead {
    encoder: Option<HistogramChunkEncoder>,
    min_t: i64,
    /// Full chunks not written yet: (min_t, max_t, rows, bytes).
    sealed: Vec<(i64, i64, usize, Vec<u8>)>,
    /// The open row's time and its values by member.
    open: Option<(i64, OpenRow)>,
    /// The last time closed into a chunk.
    last_t: i64,
    dirty: bool,
}

impl HistogramHead {
    fn new() -> Self {
        HistogramHead { last_t: i64::MIN, ..HistogramHead::default() }
    }

    /// The newest time it holds (open row included).
    fn newest(&self) -> i64 {
        self.open.as_ref().map_or(self.last_t, |(t, _)| *t)
    }

    /// Takes a member's sample; false when it is not after what the head holds.
    fn take(&mut self, member: i64, kind: ColumnKind, t: i64, v: f64) -> bool {
        match &mut self.open {
            Some((open_t, row)) if *open_t == t => return row.insert(member, (v, kind)).is_none(),
            Some((open_t, _)) if *open_t > t => return false,
            _ if t <= self.last_t => return false,
            _ => {}
        }
        self.close_row();
        self.open = Some((t, BTreeMap::from([(member, (v, kind))])));
        true
    }

    /// Moves the open row into the chunk, starting a new chunk when the
    /// members differ or the chunk is full.
    fn close_row(&mut self) {
        let Some((t, row)) = self.open.take() else { return };
        let members: Vec<i64> = row.keys().copied().collect();
        let values: Vec<f64> = row.values().map(|(v, _)| *v).collect();
        let fits = self.encoder.as_ref().is_some_and(|encoder| {
            encoder.members() == members
                && encoder.len() < SAMPLES_PER_CHUNK
                && encoder.stream_bytes() < HISTOGRAM_CHUNK_BYTES
        });
        if !fits {
            if let Some(full) = self.encoder.take() {
                if let Some(last) = full.last_t() {
                    self.sealed.push((self.min_t, last, full.len(), full.bytes()));
                }
            }
            let kinds = row.values().map(|(_, kind)| *kind).collect();
            self.encoder = Some(HistogramChunkEncoder::new(members, kinds));
            self.min_t = t;
        }
        if let Some(encoder) = &mut self.encoder {
            // In order and as wide as its members by construction.
            if encoder.append(t, &values).is_ok() {
                self.last_t = t;
                self.dirty = true;
            }
        }
    }

    /// The chunks to write: the sealed ones and the one being filled.
    fn unwritten(&mut self) -> Vec<(i64, i64, usize, Vec<u8>)> {
        self.close_row();
        let mut chunks = std::mem::take(&mut self.sealed);
        if self.dirty {
            if let Some(encoder) = &self.encoder {
                if let Some(last) = encoder.last_t() {
                    chunks.push((self.min_t, last, encoder.len(), encoder.bytes()));
                }
            }
        }
        chunks
    }
}

/// Where an appended sample goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Series,
    Histogram(i64, ColumnKind),
    Unknown,
}

/// The heads of series and of histograms (one lock for both: a flush
/// writes them together).
#[derive(Debug, Default)]
struct Heads {
    series: HashMap<i64, Head>,
    histograms: HashMap<i64, HistogramHead>,
}

/// The series this process knows: ids by labels, the ids themselves (an
/// append by id checks its id is still one), the histogram each member
/// series belongs to, and histogram ids by their labels.
#[derive(Debug, Default)]
struct Known {
    by_labels: HashMap<Labels, i64>,
    ids: std::collections::HashSet<i64>,
    member_of: HashMap<i64, (i64, ColumnKind)>,
    histograms: HashMap<Labels, i64>,
}

/// The metric names of histograms in what is appended: their
/// `NAME_bucket{le=…}`, `NAME_count` and `NAME_sum` series are stored
/// together (see [`crate::histogram_chunk`]).
pub type HistogramNames = std::collections::HashSet<String>;

/// The histogram a series belongs to, by its labels, and how its values
/// are written, when its name is a bucket (with `le`), count or sum of one
/// of `histograms`.
pub fn histogram_of(labels: &Labels, histograms: &HistogramNames) -> Option<(Labels, ColumnKind)> {
    if histograms.is_empty() {
        return None;
    }
    let name = labels.get(NAME_LABEL)?;
    let (base, kind) = if let Some(base) = name.strip_suffix("_bucket") {
        labels.contains_key("le").then_some((base, ColumnKind::Counts))?
    } else if let Some(base) = name.strip_suffix("_count") {
        (base, ColumnKind::Counts)
    } else {
        (name.strip_suffix("_sum")?, ColumnKind::Floats)
    };
    if !histograms.contains(base) {
        return None;
    }
    let mut histogram = labels.clone();
    histogram.remove("le");
    histogram.insert(NAME_LABEL.to_owned(), base.to_owned());
    Some((histogram, kind))
}

/// How a member series' values are written, by its name.
fn member_kind(labels: &Labels) -> ColumnKind {
    if labels.get(NAME_LABEL).is_some_and(|name| name.ends_with("_sum")) {
        ColumnKind::Floats
    } else {
        ColumnKind::Counts
    }
}

/// The series store of one deck, appending as `writer`.
#[derive(Debug)]
pub struct SeriesStore {
    store: Store,
    writer: String,
    /// Series ids by labels, as far as this process has seen them.
    ids: std::sync::Mutex<Known>,
    heads: tokio::sync::Mutex<Heads>,
    /// Samples this process appended since it started.
    appended: std::sync::atomic::AtomicU64,
}

/// One series to read: its id and labels, its own chunks, and the chunks
/// of its histogram (which hold it as a column, or not).
struct SeriesWork {
    id: i64,
    labels: Labels,
    chunks: Vec<Vec<u8>>,
    histogram_chunks: Vec<std::sync::Arc<Vec<u8>>>,
}

/// Each series' samples in `start..=end` from its chunks, in time order,
/// one sample per instant (chunks of several writers interleave).
fn decode_series(work: Vec<SeriesWork>, start: i64, end: i64) -> Result<Vec<SeriesSamples>, MetricsError> {
    let mut found = Vec::with_capacity(work.len());
    for SeriesWork { id, labels, chunks, histogram_chunks } in work {
        let mut samples = Vec::new();
        for data in chunks {
            for sample in ChunkReader::new(&data).map_err(|error| damaged(&labels, error))? {
                let sample = sample.map_err(|error| damaged(&labels, error))?;
                if sample.t > end {
                    break;
                }
                if sample.t >= start {
                    samples.push(sample);
                }
            }
        }
        for data in histogram_chunks {
            let chunk = HistogramChunk::parse(&data).map_err(|error| damaged(&labels, error))?;
            let Some(column) = chunk.members().iter().position(|member| *member == id) else { continue };
            let times = chunk.times().map_err(|error| damaged(&labels, error))?;
            let values = chunk.column(column).map_err(|error| damaged(&labels, error))?;
            samples.extend(
                times
                    .into_iter()
                    .zip(values)
                    .filter(|(t, _)| (start..=end).contains(t))
                    .map(|(t, v)| Sample { t, v }),
            );
        }
        if !samples.is_sorted_by(|a, b| a.t < b.t) {
            samples.sort_by_key(|sample| sample.t);
            samples.dedup_by_key(|sample| sample.t);
        }
        if !samples.is_empty() {
            found.push(SeriesSamples { labels, samples });
        }
    }
    Ok(found)
}

impl SeriesStore {
    /// A store appending as `writer` (one name per process, e.g. its
    /// scheduler owner id).
    pub fn new(store: Store, writer: &str) -> SeriesStore {
        SeriesStore {
            store,
            writer: writer.to_owned(),
            ids: std::sync::Mutex::new(Known::default()),
            heads: tokio::sync::Mutex::new(Heads::default()),
            appended: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Samples this process appended since it started.
    pub fn appended_total(&self) -> u64 {
        self.appended.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Appends samples (`labels`, Unix ms, value); a series is made the
    /// first time its labels are seen. Kept in memory until [`Self::flush`].
    /// Takes labels owned or borrowed (`&Labels`).
    pub async fn append<L: std::borrow::Borrow<Labels>>(
        &self,
        samples: &[(L, i64, f64)],
    ) -> Result<Appended, MetricsError> {
        self.append_typed(samples, &HistogramNames::new()).await
    }

    /// [`Self::append`], with the names of the histograms among the
    /// samples: their bucket, count and sum series are stored together.
    pub async fn append_typed<L: std::borrow::Borrow<Labels>>(
        &self,
        samples: &[(L, i64, f64)],
        histograms: &HistogramNames,
    ) -> Result<Appended, MetricsError> {
        let labels: Vec<&Labels> = samples.iter().map(|(labels, _, _)| labels.borrow()).collect();
        let (ids, new_series) = self.resolve_typed(&labels, histograms).await?;
        let by_id: Vec<(SeriesId, i64, f64)> =
            ids.into_iter().zip(samples).map(|(id, (_, t, v))| (id, *t, *v)).collect();
        let mut appended = self.append_by_id(&by_id).await?;
        appended.new_series = new_series;
        Ok(appended)
    }

    /// The ids of the series with these labels (made when new), and how
    /// many were new: a source that sends the same series again and again
    /// (a scrape target, the span metrics) resolves them once and appends
    /// by id with [`Self::append_by_id`], skipping the label lookup.
    pub async fn resolve(&self, labels: &[&Labels]) -> Result<(Vec<SeriesId>, usize), MetricsError> {
        self.resolve_typed(labels, &HistogramNames::new()).await
    }

    /// [`Self::resolve`], with the names of the histograms among the series.
    pub async fn resolve_typed(
        &self,
        labels: &[&Labels],
        histograms: &HistogramNames,
    ) -> Result<(Vec<SeriesId>, usize), MetricsError> {
        // Known series in one pass under the lock; new ones are made after.
        // A known series of a histogram that has not joined it yet (it was
        // stored before as a plain series) is looked up again to join.
        let mut ids: Vec<Option<i64>> = match self.ids.lock() {
            Ok(known) => labels
                .iter()
                .map(|labels| {
                    known.by_labels.get(*labels).copied().filter(|id| {
                        histograms.is_empty()
                            || known.member_of.contains_key(id)
                            || histogram_of(labels, histograms).is_none()
                    })
                })
                .collect(),
            Err(_) => vec![None; labels.len()],
        };
        let mut new_series = 0;
        for (slot, labels) in ids.iter_mut().zip(labels) {
            if slot.is_none() {
                let (id, new) = self.series_id(labels, histograms).await?;
                new_series += usize::from(new);
                *slot = Some(id);
            }
        }
        Ok((ids.into_iter().flatten().map(SeriesId).collect(), new_series))
    }

    /// Appends samples of series resolved with [`Self::resolve`]. A series
    /// that retention removed since is refused (`unknown_series`): resolve
    /// its labels again to make it anew.
    pub async fn append_by_id(&self, samples: &[(SeriesId, i64, f64)]) -> Result<Appended, MetricsError> {
        let mut appended = Appended::default();
        // Where each sample goes, under one lock: a series of its own, a
        // histogram, or nowhere (no longer known).
        let routes: Vec<Route> = match self.ids.lock() {
            Ok(known) => samples
                .iter()
                .map(|(SeriesId(id), _, _)| match known.member_of.get(id) {
                    Some(&(histogram, kind)) => Route::Histogram(histogram, kind),
                    None if known.ids.contains(id) => Route::Series,
                    None => Route::Unknown,
                })
                .collect(),
            Err(_) => vec![Route::Unknown; samples.len()],
        };
        let mut heads = self.heads.lock().await;
        for ((SeriesId(id), t, v), route) in samples.iter().zip(routes) {
            let id = *id;
            if route == Route::Unknown {
                appended.unknown_series += 1;
                continue;
            }
            if let Route::Histogram(histogram, kind) = route {
                let head = heads.histograms.entry(histogram).or_insert_with(HistogramHead::new);
                if head.take(id, kind, *t, *v) {
                    appended.samples += 1;
                } else {
                    appended.out_of_order += 1;
                }
                continue;
            }
            let full = {
                let head = heads.series.entry(id).or_insert_with(|| Head {
                    encoder: ChunkEncoder::new(),
                    min_t: *t,
                    last_t: i64::MIN,
                    dirty: false,
                });
                if *t <= head.last_t {
                    appended.out_of_order += 1;
                    continue;
                }
                (head.encoder.len() >= SAMPLES_PER_CHUNK).then_some(head.dirty)
            };
            if let Some(dirty) = full {
                // A full chunk is written (now, if the last flush did not)
                // before the next one starts.
                if dirty {
                    drop(heads);
                    self.flush().await?;
                    heads = self.heads.lock().await;
                }
                heads.series.insert(
                    id,
                    Head { encoder: ChunkEncoder::new(), min_t: *t, last_t: i64::MIN, dirty: false },
                );
            }
            let Some(head) = heads.series.get_mut(&id) else { continue };
            match head.encoder.append(*t, *v) {
                Ok(()) => {
                    head.last_t = *t;
                    head.dirty = true;
                    appended.samples += 1;
                }
                Err(ChunkError::OutOfOrder { .. }) => appended.out_of_order += 1,
                Err(error) => {
                    return Err(MetricsError::Invalid(format!("a sample could not be added: {error}")));
                }
            }
        }
        self.appended.fetch_add(appended.samples as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(appended)
    }

    /// Writes every head chunk changed since the last flush, in one
    /// transaction.
    pub async fn flush(&self) -> Result<(), MetricsError> {
        let mut heads = self.heads.lock().await;
        let series: Vec<ChunkRow> = heads
            .series
            .iter()
            .filter(|(_, head)| head.dirty)
            .map(|(id, head)| {
                (*id, head.min_t, head.last_t, head.encoder.len() as i64, head.encoder.bytes().to_vec())
            })
            .collect();
        let mut histograms: Vec<ChunkRow> = Vec::new();
        for (id, head) in heads.histograms.iter_mut() {
            for (min_t, max_t, rows, bytes) in head.unwritten() {
                histograms.push((*id, min_t, max_t, rows as i64, bytes));
            }
        }
        if series.is_empty() && histograms.is_empty() {
            return Ok(());
        }
        let mut transaction = self.store.begin_write().await?;
        upsert_chunks(&mut transaction, "metric_chunks", "series_id", &self.writer, &series).await?;
        upsert_chunks(&mut transaction, "metric_histogram_chunks", "histogram_id", &self.writer, &histograms)
            .await?;
        transaction.commit().await?;
        for head in heads.series.values_mut() {
            head.dirty = false;
        }
        for head in heads.histograms.values_mut() {
            head.dirty = false;
        }
        Ok(())
    }

    /// The series matching every matcher, with their samples in
    /// `start..=end` (Unix ms), merged across writers.
    pub async fn select(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<SeriesSamples>, MetricsError> {
        self.flush().await?;
        let series = self.series_and_histograms(matchers).await?;
        let ids: Vec<i64> = series.iter().map(|(id, _, _)| *id).collect();
        let mut chunks = self.chunks_of("metric_chunks", "series_id", &ids, start, end).await?;
        let histograms = self.histogram_chunks(&series, start, end).await?;
        let work: Vec<SeriesWork> = series
            .into_iter()
            .map(|(id, labels, histogram)| SeriesWork {
                id,
                labels,
                chunks: chunks.remove(&id).unwrap_or_default(),
                histogram_chunks: histogram
                    .and_then(|histogram| histograms.get(&histogram))
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        // Decoding is most of a large read: split it across the cores, in
        // order (each half keeps its series' order).
        let threads = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, 4);
        let per_thread = work.len().div_ceil(threads).max(64);
        let decoded: Vec<Result<Vec<SeriesSamples>, MetricsError>> = if work.len() <= per_thread {
            vec![decode_series(work, start, end)]
        } else {
            let mut parts: Vec<Vec<SeriesWork>> = Vec::new();
            let mut rest = work;
            while rest.len() > per_thread {
                let tail = rest.split_off(per_thread);
                parts.push(rest);
                rest = tail;
            }
            parts.push(rest);
            std::thread::scope(|scope| {
                let handles: Vec<_> = parts
                    .into_iter()
                    .map(|part| scope.spawn(move || decode_series(part, start, end)))
                    .collect();
                handles
                    .into_iter()
                    .map(|handle| {
                        handle.join().unwrap_or_else(|_| {
                            Err(MetricsError::Invalid("a thread decoding chunks stopped unexpectedly".into()))
                        })
                    })
                    .collect()
            })
        };
        let mut found = Vec::new();
        for part in decoded {
            found.extend(part?);
        }
        Ok(found)
    }

    /// The labels of the series matching every matcher that have a sample
    /// in `start..=end` (Unix ms), in label order.
    pub async fn series_between(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<Labels>, MetricsError> {
        self.flush().await?;
        let series = self.series_and_histograms(matchers).await?;
        // Members of a histogram with a chunk in the range that holds them.
        let mut in_histograms = std::collections::HashSet::new();
        for chunks in self.histogram_chunks(&series, start, end).await?.values() {
            for data in chunks {
                if let Ok(chunk) = HistogramChunk::parse(data) {
                    in_histograms.extend(chunk.members().iter().copied());
                }
            }
        }
        let mut kept = Vec::new();
        for group in series.chunks(ROWS_PER_STATEMENT) {
            let ids: Vec<String> = group.iter().map(|(id, _, _)| id.to_string()).collect();
            let with_samples: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT DISTINCT series_id FROM metric_chunks \
                 WHERE series_id IN ({}) AND max_t >= $1 AND min_t <= $2",
                ids.join(", ")
            ))
            .bind(start)
            .bind(end)
            .fetch_all(self.store.pool())
            .await?;
            let with_samples: std::collections::HashSet<i64> = with_samples.into_iter().collect();
            kept.extend(
                group
                    .iter()
                    .filter(|(id, _, _)| with_samples.contains(id) || in_histograms.contains(id))
                    .map(|(_, labels, _)| labels.clone()),
            );
        }
        kept.sort();
        Ok(kept)
    }

    /// The ids and labels of the series matching every matcher.
    pub async fn series(&self, matchers: &[Matcher]) -> Result<Vec<(i64, Labels)>, MetricsError> {
        Ok(self
            .series_and_histograms(matchers)
            .await?
            .into_iter()
            .map(|(id, labels, _)| (id, labels))
            .collect())
    }

    /// The ids, labels and histogram (if a member of one) of the series
    /// matching every matcher.
    async fn series_and_histograms(
        &self,
        matchers: &[Matcher],
    ) -> Result<Vec<(i64, Labels, Option<i64>)>, MetricsError> {
        // One equality matcher with a value narrows through the index (the
        // metric name's when there is one); every matcher is then checked
        // on the candidates' labels.
        let narrowing = matchers
            .iter()
            .filter(|matcher| matches!(&matcher.matches, Match::Equal(value) if !value.is_empty()))
            .min_by_key(|matcher| matcher.label != NAME_LABEL);
        let rows: Vec<(i64, String, Option<i64>)> = match narrowing {
            Some(Matcher { label, matches: Match::Equal(value) }) => {
                sqlx::query_as(
                    "SELECT s.id, s.labels, s.histogram_id FROM metric_series s \
                 JOIN metric_label_index i ON i.series_id = s.id \
                 WHERE i.label = $1 AND i.value = $2 ORDER BY s.id",
                )
                .bind(label)
                .bind(value)
                .fetch_all(self.store.pool())
                .await?
            }
            _ => {
                sqlx::query_as("SELECT id, labels, histogram_id FROM metric_series ORDER BY id")
                    .fetch_all(self.store.pool())
                    .await?
            }
        };
        let mut found = Vec::new();
        for (id, text, histogram) in rows {
            let labels: Labels = serde_json::from_str(&text).map_err(|error| {
                MetricsError::Invalid(format!("series {id} has unreadable labels: {error}"))
            })?;
            if matchers.iter().all(|matcher| matcher.accepts(&labels)) {
                found.push((id, labels, histogram));
            }
        }
        Ok(found)
    }

    /// The chunks in `start..=end` of the histograms these series belong
    /// to, by histogram, in time order (shared by the members that read them).
    async fn histogram_chunks(
        &self,
        series: &[(i64, Labels, Option<i64>)],
        start: i64,
        end: i64,
    ) -> Result<HashMap<i64, Vec<std::sync::Arc<Vec<u8>>>>, MetricsError> {
        let mut histograms: Vec<i64> = series.iter().filter_map(|(_, _, histogram)| *histogram).collect();
        histograms.sort_unstable();
        histograms.dedup();
        let chunks =
            self.chunks_of("metric_histogram_chunks", "histogram_id", &histograms, start, end).await?;
        Ok(chunks
            .into_iter()
            .map(|(id, chunks)| (id, chunks.into_iter().map(std::sync::Arc::new).collect()))
            .collect())
    }

    /// The chunks in `start..=end` of `table` whose `key` is one of `ids`,
    /// by id, in time order: a query per 200 ids (listed inline: they are
    /// integers read from the store), not a query per id.
    async fn chunks_of(
        &self,
        table: &str,
        key: &str,
        ids: &[i64],
        start: i64,
        end: i64,
    ) -> Result<HashMap<i64, Vec<Vec<u8>>>, MetricsError> {
        let mut chunks: HashMap<i64, Vec<Vec<u8>>> = HashMap::new();
        for group in ids.chunks(ROWS_PER_STATEMENT) {
            let list: Vec<String> = group.iter().map(i64::to_string).collect();
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(&format!(
                "SELECT {key}, data FROM {table} \
                 WHERE {key} IN ({}) AND max_t >= $1 AND min_t <= $2 ORDER BY {key}, min_t, writer",
                list.join(", ")
            ))
            .bind(start)
            .bind(end)
            .fetch_all(self.store.pool())
            .await?;
            for (id, data) in rows {
                chunks.entry(id).or_default().push(data);
            }
        }
        Ok(chunks)
    }

    /// Removes chunks that end before `before` (Unix ms) and the series
    /// left without any; returns how many chunks went.
    pub async fn prune(&self, before: i64) -> Result<u64, MetricsError> {
        self.flush().await?;
        let mut transaction = self.store.begin_write().await?;
        let mut removed = 0;
        for table in ["metric_chunks", "metric_histogram_chunks"] {
            removed += sqlx::query(&format!("DELETE FROM {table} WHERE max_t < $1"))
                .bind(before)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        }
        sqlx::query(
            "DELETE FROM metric_series WHERE NOT EXISTS \
             (SELECT 1 FROM metric_chunks c WHERE c.series_id = metric_series.id) \
             AND NOT EXISTS (SELECT 1 FROM metric_histogram_chunks h WHERE h.histogram_id = metric_series.histogram_id)",
        )
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "DELETE FROM metric_histograms WHERE NOT EXISTS \
             (SELECT 1 FROM metric_histogram_chunks h WHERE h.histogram_id = metric_histograms.id) \
             AND NOT EXISTS (SELECT 1 FROM metric_series s WHERE s.histogram_id = metric_histograms.id)",
        )
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        // Heads of series that went are stale: forget them and their ids.
        let mut heads = self.heads.lock().await;
        heads.series.retain(|_, head| head.last_t >= before);
        heads.histograms.retain(|_, head| head.newest() >= before);
        if let Ok(mut known) = self.ids.lock() {
            let Known { by_labels, ids, member_of, histograms } = &mut *known;
            member_of.retain(|_, (histogram, _)| heads.histograms.contains_key(histogram));
            histograms.retain(|_, id| heads.histograms.contains_key(id));
            by_labels.retain(|_, id| heads.series.contains_key(id) || member_of.contains_key(id));
            ids.retain(|id| heads.series.contains_key(id) || member_of.contains_key(id));
        }
        Ok(removed)
    }

    /// Replaces the full-resolution chunks that end before `before` (Unix
    /// ms) with 5-minute ones: of each series' samples in each
    /// [`ROLLUP_STEP_MS`] window, the last is kept (with its own time and
    /// exact value, a staleness marker included). Counters keep their
    /// resets and `rate()` over windows of 10 minutes or more keeps its
    /// answer; an instant value reads at most one window early; spikes
    /// between two kept samples are gone, as in any rollup of last values.
    /// Each batch of series is one transaction, so a pass cut short leaves
    /// every series whole, either still raw or rolled up.
    pub async fn downsample(&self, before: i64) -> Result<Downsampled, MetricsError> {
        self.flush().await?;
        // A head this process no longer appends to would otherwise write
        // its old samples back at its next append.
        {
            let mut heads = self.heads.lock().await;
            heads.series.retain(|_, head| head.last_t >= before);
            heads.histograms.retain(|_, head| head.newest() >= before);
        }
        let ids = ids_to_roll_up(self.store.pool(), "metric_chunks", "series_id", before).await?;
        let mut done = Downsampled::default();
        for group in ids.chunks(ROWS_PER_STATEMENT) {
            let list: Vec<String> = group.iter().map(i64::to_string).collect();
            let list = list.join(", ");
            let mut transaction = self.store.begin_write().await?;
            let (raw, rolled) =
                chunks_to_roll_up(&mut transaction, "metric_chunks", "series_id", &list, before).await?;
            let mut by_series: BTreeMap<i64, Vec<Sample>> = BTreeMap::new();
            for (id, writer, min_t, data) in raw.iter().chain(&rolled) {
                let samples = crate::chunk::decode(data).map_err(|error| MetricsError::DamagedChunk {
                    series: format!("series {id} (writer {writer}, from {min_t})"),
                    error,
                })?;
                if writer != ROLLUP_WRITER {
                    done.samples_before += samples.len() as u64;
                }
                by_series.entry(*id).or_default().extend(samples);
            }
            delete_chunks(&mut transaction, "metric_chunks", "series_id", raw.iter().chain(&rolled)).await?;
            for (id, mut samples) in by_series {
                samples.sort_by_key(|sample| sample.t);
                samples.dedup_by_key(|sample| sample.t);
                let kept = last_per_window(samples, ROLLUP_STEP_MS, |sample| sample.t);
                done.samples_after += kept.len() as u64;
                for part in kept.chunks(ROLLUP_SAMPLES_PER_CHUNK) {
                    let mut encoder = ChunkEncoder::new();
                    for sample in part {
                        encoder.append(sample.t, sample.v).map_err(|error| {
                            MetricsError::Invalid(format!(
                                "series {id}: a rolled-up sample could not be added: {error}"
                            ))
                        })?;
                    }
                    let (Some(first), Some(last)) = (part.first(), part.last()) else { continue };
                    sqlx::query(
                        "INSERT INTO metric_chunks (series_id, writer, min_t, max_t, samples, data) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(id)
                    .bind(ROLLUP_WRITER)
                    .bind(first.t)
                    .bind(last.t)
                    .bind(part.len() as i64)
                    .bind(encoder.into_bytes())
                    .execute(&mut *transaction)
                    .await?;
                }
                done.series += 1;
            }
            done.chunks_replaced += raw.len() as u64;
            transaction.commit().await?;
        }
        self.downsample_histograms(before, &mut done).await?;
        Ok(done)
    }

    /// [`Self::downsample`] for histograms' chunks: of each window, the
    /// last row (every member's value at that time) is kept.
    async fn downsample_histograms(&self, before: i64, done: &mut Downsampled) -> Result<(), MetricsError> {
        let ids =
            ids_to_roll_up(self.store.pool(), "metric_histogram_chunks", "histogram_id", before).await?;
        for group in ids.chunks(ROWS_PER_STATEMENT) {
            let list: Vec<String> = group.iter().map(i64::to_string).collect();
            let list = list.join(", ");
            let mut transaction = self.store.begin_write().await?;
            let (raw, rolled) =
                chunks_to_roll_up(&mut transaction, "metric_histogram_chunks", "histogram_id", &list, before)
                    .await?;
            // Rows with their chunk's layout (members and column kinds).
            type Layout = std::sync::Arc<(Vec<i64>, Vec<ColumnKind>)>;
            let mut by_histogram: BTreeMap<i64, Vec<(i64, Layout, Vec<f64>)>> = BTreeMap::new();
            for (id, writer, min_t, data) in raw.iter().chain(&rolled) {
                let damaged = |error| MetricsError::DamagedChunk {
                    series: format!("histogram {id} (writer {writer}, from {min_t})"),
                    error,
                };
                let chunk = HistogramChunk::parse(data).map_err(damaged)?;
                let layout: Layout = std::sync::Arc::new((chunk.members().to_vec(), chunk.kinds().to_vec()));
                let rows = chunk.rows().map_err(damaged)?;
                if writer != ROLLUP_WRITER {
                    done.samples_before += (rows.len() * layout.0.len()) as u64;
                }
                by_histogram
                    .entry(*id)
                    .or_default()
                    .extend(rows.into_iter().map(|(t, values)| (t, layout.clone(), values)));
            }
            delete_chunks(
                &mut transaction,
                "metric_histogram_chunks",
                "histogram_id",
                raw.iter().chain(&rolled),
            )
            .await?;
            for (id, mut rows) in by_histogram {
                rows.sort_by_key(|(t, _, _)| *t);
                rows.dedup_by_key(|(t, _, _)| *t);
                let kept = last_per_window(rows, ROLLUP_STEP_MS, |(t, _, _)| *t);
                // A new chunk where the layout changes or the chunk is full.
                let mut chunks: Vec<(HistogramChunkEncoder, i64)> = Vec::new();
                for (t, layout, values) in &kept {
                    done.samples_after += values.len() as u64;
                    let fits = chunks.last().is_some_and(|(encoder, _)| {
                        encoder.members() == layout.0.as_slice() && encoder.len() < ROLLUP_SAMPLES_PER_CHUNK
                    });
                    if !fits {
                        chunks.push((HistogramChunkEncoder::new(layout.0.clone(), layout.1.clone()), *t));
                    }
                    if let Some((encoder, _)) = chunks.last_mut() {
                        encoder.append(*t, values).map_err(|error| {
                            MetricsError::Invalid(format!(
                                "histogram {id}: a rolled-up row could not be added: {error}"
                            ))
                        })?;
                    }
                }
                for (encoder, min_t) in chunks {
                    sqlx::query(
                        "INSERT INTO metric_histogram_chunks (histogram_id, writer, min_t, max_t, samples, data) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(id)
                    .bind(ROLLUP_WRITER)
                    .bind(min_t)
                    .bind(encoder.last_t().unwrap_or(min_t))
                    .bind(encoder.len() as i64)
                    .bind(encoder.bytes())
                    .execute(&mut *transaction)
                    .await?;
                }
                done.series += 1;
            }
            done.chunks_replaced += raw.len() as u64;
            transaction.commit().await?;
        }
        Ok(())
    }

    /// How many series the store holds.
    pub async fn series_count(&self) -> Result<i64, MetricsError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM metric_series").fetch_one(self.store.pool()).await?)
    }

    /// Bytes of sample data held (the chunks' encoded size).
    pub async fn size_bytes(&self) -> Result<i64, MetricsError> {
        self.flush().await?;
        let mut total = 0;
        for table in ["metric_chunks", "metric_histogram_chunks"] {
            let bytes: Option<i64> =
                sqlx::query_scalar(&format!("SELECT CAST(SUM(LENGTH(data)) AS BIGINT) FROM {table}"))
                    .fetch_one(self.store.pool())
                    .await?;
            total += bytes.unwrap_or(0);
        }
        Ok(total)
    }

    /// Removes the oldest chunks until at most `max_bytes` of sample data
    /// are left (Prometheus' size-based retention); returns how many went.
    pub async fn prune_to_size(&self, max_bytes: i64) -> Result<u64, MetricsError> {
        // Usually under budget: one sum, not every chunk's size in memory.
        if self.size_bytes().await? <= max_bytes {
            return Ok(0);
        }
        let sizes: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT max_t, CAST(LENGTH(data) AS BIGINT) FROM metric_chunks \
             UNION ALL SELECT max_t, CAST(LENGTH(data) AS BIGINT) FROM metric_histogram_chunks \
             ORDER BY 1 DESC",
        )
        .fetch_all(self.store.pool())
        .await?;
        let mut total = 0_i64;
        for (max_t, size) in sizes {
            total = total.saturating_add(size);
            if total > max_bytes {
                // This chunk and every older one go.
                return self.prune(max_t.saturating_add(1)).await;
            }
        }
        Ok(0)
    }

    /// The series' id, made (with its index rows) when new; a series of
    /// one of `histograms` is made a member of its histogram.
    async fn series_id(
        &self,
        labels: &Labels,
        histograms: &HistogramNames,
    ) -> Result<(i64, bool), MetricsError> {
        let histogram = histogram_of(labels, histograms);
        let cached = self.ids.lock().ok().and_then(|known| {
            let id = known.by_labels.get(labels).copied()?;
            (histogram.is_none() || known.member_of.contains_key(&id)).then_some(id)
        });
        if let Some(id) = cached {
            return Ok((id, false));
        }
        let fingerprint = fingerprint(labels)?;
        let histogram = match histogram {
            Some((histogram, _)) => Some(self.histogram_id(&histogram).await?),
            None => None,
        };
        let known: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT id, histogram_id FROM metric_series WHERE fingerprint = $1")
                .bind(&fingerprint)
                .fetch_optional(self.store.pool())
                .await?;
        let (id, member_of, new) = match known {
            // A series stored before it was known as a histogram's joins it;
            // its earlier samples stay where they are.
            Some((id, None)) if histogram.is_some() => {
                let mut transaction = self.store.begin_write().await?;
                sqlx::query("UPDATE metric_series SET histogram_id = $1 WHERE id = $2")
                    .bind(histogram)
                    .bind(id)
                    .execute(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                (id, histogram, false)
            }
            Some((id, member_of)) => (id, member_of, false),
            None => {
                let text = serde_json::to_string(labels).map_err(|error| {
                    MetricsError::Invalid(format!("labels could not be written: {error}"))
                })?;
                let mut transaction = self.store.begin_write().await?;
                sqlx::query(
                    "INSERT INTO metric_series (fingerprint, labels, created_at_unix_ms, histogram_id) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (fingerprint) DO NOTHING",
                )
                .bind(&fingerprint)
                .bind(&text)
                .bind(now_unix_ms())
                .bind(histogram)
                .execute(&mut *transaction)
                .await?;
                let (id, member_of): (i64, Option<i64>) =
                    sqlx::query_as("SELECT id, histogram_id FROM metric_series WHERE fingerprint = $1")
                        .bind(&fingerprint)
                        .fetch_one(&mut *transaction)
                        .await?;
                for (label, value) in labels {
                    sqlx::query(
                        "INSERT INTO metric_label_index (label, value, series_id) VALUES ($1, $2, $3) \
                         ON CONFLICT (label, value, series_id) DO NOTHING",
                    )
                    .bind(label)
                    .bind(value)
                    .bind(id)
                    .execute(&mut *transaction)
                    .await?;
                }
                transaction.commit().await?;
                (id, member_of, true)
            }
        };
        if let Ok(mut known) = self.ids.lock() {
            known.by_labels.insert(labels.clone(), id);
            known.ids.insert(id);
            if let Some(histogram) = member_of {
                known.member_of.insert(id, (histogram, member_kind(labels)));
            }
        }
        Ok((id, new))
    }

    /// The histogram's id, made when new.
    async fn histogram_id(&self, labels: &Labels) -> Result<i64, MetricsError> {
        if let Some(id) = self.ids.lock().ok().and_then(|known| known.histograms.get(labels).copied()) {
            return Ok(id);
        }
        let fingerprint = fingerprint(labels)?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM metric_histograms WHERE fingerprint = $1")
                .bind(&fingerprint)
                .fetch_optional(self.store.pool())
                .await?;
        let id = match found {
            Some(id) => id,
            None => {
                let text = serde_json::to_string(labels).map_err(|error| {
                    MetricsError::Invalid(format!("labels could not be written: {error}"))
                })?;
                let mut transaction = self.store.begin_write().await?;
                sqlx::query(
                    "INSERT INTO metric_histograms (fingerprint, labels, created_at_unix_ms) \
                     VALUES ($1, $2, $3) ON CONFLICT (fingerprint) DO NOTHING",
                )
                .bind(&fingerprint)
                .bind(&text)
                .bind(now_unix_ms())
                .execute(&mut *transaction)
                .await?;
                let id: i64 = sqlx::query_scalar("SELECT id FROM metric_histograms WHERE fingerprint = $1")
                    .bind(&fingerprint)
                    .fetch_one(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                id
            }
        };
        if let Ok(mut known) = self.ids.lock() {
            known.histograms.insert(labels.clone(), id);
        }
        Ok(id)
    }
}

/// A chunk read for a roll-up: its series' (or histogram's) id, writer,
/// min_t and bytes.
type StoredChunk = (i64, String, i64, Vec<u8>);

/// The ids in `table` (keyed by `key`) with full-resolution chunks that end
/// before `before`, in order.
async fn ids_to_roll_up(
    pool: &sqlx::AnyPool,
    table: &str,
    key: &str,
    before: i64,
) -> Result<Vec<i64>, MetricsError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT DISTINCT {key} FROM {table} WHERE writer <> $1 AND max_t < $2 ORDER BY {key}"
    ))
    .bind(ROLLUP_WRITER)
    .bind(before)
    .fetch_all(pool)
    .await?)
}

/// Of the ids in `list` (comma-separated): their full-resolution chunks in
/// `table` that end before `before`, and the rolled-up chunks the new
/// samples could interleave with (two writers' chunks end at different
/// times), which are rewritten with them.
async fn chunks_to_roll_up(
    transaction: &mut opsdeck_core::WriteTransaction,
    table: &str,
    key: &str,
    list: &str,
    before: i64,
) -> Result<(Vec<StoredChunk>, Vec<StoredChunk>), MetricsError> {
    let raw: Vec<StoredChunk> = sqlx::query_as(&format!(
        "SELECT {key}, writer, min_t, data FROM {table} WHERE {key} IN ({list}) AND writer <> $1 AND max_t < $2"
    ))
    .bind(ROLLUP_WRITER)
    .bind(before)
    .fetch_all(&mut **transaction)
    .await?;
    let earliest = raw.iter().map(|(_, _, min_t, _)| *min_t).min().unwrap_or(before);
    let rolled: Vec<StoredChunk> = sqlx::query_as(&format!(
        "SELECT {key}, writer, min_t, data FROM {table} WHERE {key} IN ({list}) AND writer = $1 AND max_t >= $2"
    ))
    .bind(ROLLUP_WRITER)
    .bind(earliest)
    .fetch_all(&mut **transaction)
    .await?;
    Ok((raw, rolled))
}

/// Deletes `chunks` from `table`.
async fn delete_chunks(
    transaction: &mut opsdeck_core::WriteTransaction,
    table: &str,
    key: &str,
    chunks: impl Iterator<Item = &StoredChunk>,
) -> Result<(), MetricsError> {
    let statement = format!("DELETE FROM {table} WHERE {key} = $1 AND writer = $2 AND min_t = $3");
    for (id, writer, min_t, _) in chunks {
        sqlx::query(&statement).bind(id).bind(writer).bind(min_t).execute(&mut **transaction).await?;
    }
    Ok(())
}

/// A chunk to write: its series' (or histogram's) id, min_t, max_t,
/// samples (rows) and bytes.
type ChunkRow = (i64, i64, i64, i64, Vec<u8>);

/// Writes chunks into `table` (keyed by `key`, `writer` and `min_t`),
/// replacing a chunk that grew since it was last written.
async fn upsert_chunks(
    transaction: &mut opsdeck_core::WriteTransaction,
    table: &str,
    key: &str,
    writer: &str,
    chunks: &[ChunkRow],
) -> Result<(), MetricsError> {
    // Many rows per statement: each statement is a round trip to the
    // database's thread, and those dominated a flush of row-per-statement.
    for rows in chunks.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<String> = (0..rows.len())
            .map(|row| {
                let first = row * 6;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    first + 1,
                    first + 2,
                    first + 3,
                    first + 4,
                    first + 5,
                    first + 6
                )
            })
            .collect();
        let statement = format!(
            "INSERT INTO {table} ({key}, writer, min_t, max_t, samples, data) VALUES {} \
             ON CONFLICT ({key}, writer, min_t) DO UPDATE \
             SET max_t = excluded.max_t, samples = excluded.samples, data = excluded.data",
            values.join(", ")
        );
        let mut query = sqlx::query(&statement);
        for (id, min_t, max_t, count, data) in rows {
            query = query.bind(id).bind(writer).bind(min_t).bind(max_t).bind(count).bind(data);
        }
        query.execute(&mut **transaction).await?;
    }
    Ok(())
}

fn damaged(labels: &Labels, error: ChunkError) -> MetricsError {
    MetricsError::DamagedChunk { series: fingerprint(labels).unwrap_or_default(), error }
}

/// A series as Prometheus prints it, for people: `name{a="1", b="2"}`
/// (`{a="1"}` when it has no name).
pub fn series_text(labels: &Labels) -> String {
    let name = labels.get(NAME_LABEL).map_or("", String::as_str);
    let rest: Vec<String> = labels
        .iter()
        .filter(|(label, _)| label.as_str() != NAME_LABEL)
        .map(|(label, value)| format!("{label}={value:?}"))
        .collect();
    if rest.is_empty() && !name.is_empty() {
        name.to_owned()
    } else {
        format!("{name}{{{}}}", rest.join(", "))
    }
}

/// The series' identity as text: `{a="1",b="2"}` with values escaped.
fn fingerprint(labels: &Labels) -> Result<String, MetricsError> {
    if labels.get(NAME_LABEL).is_none_or(String::is_empty) {
        return Err(MetricsError::Invalid("a series needs a metric name (`__name__`)".to_owned()));
    }
    let mut text = String::from("{");
    for (index, (label, value)) in labels.iter().enumerate() {
        if label.is_empty() {
            return Err(MetricsError::Invalid("a label name is empty".to_owned()));
        }
        if index > 0 {
            text.push(',');
        }
        text.push_str(label);
        text.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => text.push_str("\\\\"),
                '"' => text.push_str("\\\""),
                '\n' => text.push_str("\\n"),
                c => text.push(c),
            }
        }
        text.push('"');
    }
    text.push('}');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_core::{DataDir, StoreLocation};

    async fn store(dir: &std::path::Path) -> Store {
        let data_dir = DataDir::prepare(dir).unwrap();
        let store = Store::open(StoreLocation::choose(&data_dir, None).unwrap()).await.unwrap();
        store.apply_migrations(migrator(store.kind())).await.unwrap();
        store
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(label, value)| (label.to_string(), value.to_string())).collect()
    }

    fn times(series: &SeriesSamples) -> Vec<i64> {
        series.samples.iter().map(|sample| sample.t).collect()
    }

    #[tokio::test]
    async fn samples_come_back_by_matcher_and_range_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = SeriesStore::new(store(dir.path()).await, "one");
        let get = labels(&[("__name__", "http_requests_total"), ("method", "GET"), ("job", "shop")]);
        let post = labels(&[("__name__", "http_requests_total"), ("method", "POST"), ("job", "shop")]);
        let up = labels(&[("__name__", "up"), ("job", "shop")]);
        let mut samples = Vec::new();
        for i in 0..300_i64 {
            samples.push((get.clone(), i * 15_000, i as f64));
            samples.push((post.clone(), i * 15_000, (2 * i) as f64));
            samples.push((up.clone(), i * 15_000, 1.0));
        }
        let appended = metrics.append(&samples).await.unwrap();
        assert_eq!(appended, Appended { samples: 900, out_of_order: 0, new_series: 3, unknown_series: 0 });

        let name = Matcher::equal("__name__", "http_requests_total");
        let all = metrics.select(std::slice::from_ref(&name), 0, i64::MAX).await.unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|series| series.samples.len() == 300), "three chunks per series, read whole");
        let posts = metrics
            .select(&[name.clone(), Matcher::not_equal("method", "GET")], 150_000, 300_000)
            .await
            .unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].labels, post);
        assert_eq!(times(&posts[0]), (10..=20).map(|i| i * 15_000).collect::<Vec<_>>());
        assert_eq!(posts[0].samples[0].v, 20.0);
        let by_regex =
            metrics.select(&[Matcher::regex("__name__", "up|nothing").unwrap()], 0, 0).await.unwrap();
        assert_eq!(
            by_regex.iter().map(|series| series.labels.clone()).collect::<Vec<_>>(),
            std::slice::from_ref(&up)
        );
        // `=~` is anchored: `u` alone does not match `up`.
        assert!(metrics
            .select(&[Matcher::regex("__name__", "u").unwrap()], 0, i64::MAX)
            .await
            .unwrap()
            .is_empty());
        // A label nobody has equals the empty value.
        let no_zone = [Matcher::equal("zone", ""), Matcher::not_regex("__name__", "http.*").unwrap()];
        assert_eq!(metrics.select(&no_zone, 0, i64::MAX).await.unwrap().len(), 1);
        let bad = Matcher::regex("job", "(").unwrap_err();
        assert!(bad.to_string().starts_with("`(` is not a regular expression"), "{bad}");
    }

    #[tokio::test]
    async fn late_samples_are_refused_and_two_writers_merge_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let shared = store(dir.path()).await;
        let first = SeriesStore::new(shared.clone(), "first");
        let second = SeriesStore::new(shared, "second");
        let series = labels(&[("__name__", "queue_depth")]);
        first.append(&[(series.clone(), 1_000, 1.0), (series.clone(), 3_000, 3.0)]).await.unwrap();
        let late = first.append(&[(series.clone(), 2_000, 2.0), (series.clone(), 3_000, 9.0)]).await.unwrap();
        assert_eq!(late, Appended { samples: 0, out_of_order: 2, new_series: 0, unknown_series: 0 });
        let other =
            second.append(&[(series.clone(), 2_000, 2.0), (series.clone(), 4_000, 4.0)]).await.unwrap();
        assert_eq!(other.new_series, 0, "the second process finds the series the first made");
        second.flush().await.unwrap();
        let read = first.select(&[Matcher::equal("__name__", "queue_depth")], 0, 10_000).await.unwrap();
        assert_eq!(times(&read[0]), [1_000, 2_000, 3_000, 4_000]);
        assert_eq!(read[0].samples.iter().map(|sample| sample.v).collect::<Vec<_>>(), [1.0, 2.0, 3.0, 4.0]);
    }

    #[tokio::test]
    async fn pruning_drops_old_chunks_and_empty_series_and_a_damaged_chunk_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let shared = store(dir.path()).await;
        let metrics = SeriesStore::new(shared.clone(), "one");
        let old = labels(&[("__name__", "old")]);
        let fresh = labels(&[("__name__", "fresh")]);
        metrics
            .append(&[(old.clone(), 1_000, 1.0), (fresh.clone(), 1_000, 1.0), (fresh.clone(), 90_000, 2.0)])
            .await
            .unwrap();
        assert_eq!(metrics.prune(50_000).await.unwrap(), 1);
        assert!(metrics.series(&[Matcher::equal("__name__", "old")]).await.unwrap().is_empty());
        assert_eq!(
            metrics.select(&[Matcher::equal("__name__", "fresh")], 0, i64::MAX).await.unwrap()[0]
                .samples
                .len(),
            2
        );
        // An id resolved before the series went is refused, and resolving
        // its labels again makes it anew.
        let stale = SeriesId(1); // the old series was made first
        let refused = metrics.append_by_id(&[(stale, 95_000, 1.0)]).await.unwrap();
        assert_eq!((refused.samples, refused.unknown_series), (0, 1));
        let (ids, new) = metrics.resolve(&[&old, &fresh]).await.unwrap();
        assert_eq!(new, 1, "the old series is made again; the fresh one is known");
        assert_ne!(ids[0], stale);
        let by_id = metrics.append_by_id(&[(ids[0], 100_000, 1.0), (ids[1], 100_000, 3.0)]).await.unwrap();
        assert_eq!((by_id.samples, by_id.unknown_series), (2, 0));
        assert_eq!(
            metrics.select(&[Matcher::equal("__name__", "fresh")], 0, i64::MAX).await.unwrap()[0]
                .samples
                .len(),
            3
        );

        sqlx::query("UPDATE metric_chunks SET data = $1")
            .bind(vec![0_u8, 5, 1])
            .execute(shared.pool())
            .await
            .unwrap();
        let fresh_again = SeriesStore::new(shared, "reader");
        let error =
            fresh_again.select(&[Matcher::equal("__name__", "fresh")], 0, i64::MAX).await.unwrap_err();
        assert!(
            error.to_string().starts_with("series {__name__=\"fresh\"}: a stored chunk is unreadable"),
            "{error}"
        );
        let nameless = fresh_again.append(&[(labels(&[("job", "x")]), 1, 1.0)]).await.unwrap_err();
        assert_eq!(nameless.to_string(), "a series needs a metric name (`__name__`)");
    }

    #[tokio::test]
    async fn old_chunks_are_rolled_up_to_five_minutes_and_size_retention_drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let shared = store(dir.path()).await;
        let first = SeriesStore::new(shared.clone(), "first");
        let second = SeriesStore::new(shared.clone(), "second");
        let counter = labels(&[("__name__", "requests_total")]);
        let gauge = labels(&[("__name__", "queue_depth")]);
        // Two hours at 15 s; the counter resets at 50 minutes; the second
        // writer takes the gauge over after an hour.
        for i in 0..480_i64 {
            let t = i * 15_000;
            let count = if i < 200 { i as f64 } else { (i - 200) as f64 };
            first.append(&[(counter.clone(), t, count)]).await.unwrap();
            let writer = if i < 240 { &first } else { &second };
            writer.append(&[(gauge.clone(), t, (i % 7) as f64)]).await.unwrap();
        }
        first.flush().await.unwrap();
        second.flush().await.unwrap();
        let raw = first.select(&[Matcher::equal("__name__", "requests_total")], 0, i64::MAX).await.unwrap();

        let cut = 3_600_000;
        let done = first.downsample(cut).await.unwrap();
        assert_eq!(done.series, 2);
        assert_eq!(
            done.chunks_replaced as usize,
            2 * (240 / SAMPLES_PER_CHUNK),
            "the chunks of each series' first 240 samples end before the cut"
        );
        assert_eq!(done.samples_before, 480);
        assert_eq!(done.samples_after, 24, "an hour is twelve windows of five minutes");
        let again = first.downsample(cut).await.unwrap();
        assert_eq!(again, Downsampled::default(), "nothing left to roll up");

        let read = first.select(&[Matcher::equal("__name__", "requests_total")], 0, i64::MAX).await.unwrap();
        let samples = &read[0].samples;
        let (old, recent): (Vec<&Sample>, Vec<&Sample>) = samples.iter().partition(|sample| sample.t < cut);
        assert_eq!(old.len(), 12);
        assert!(old.iter().all(|sample| sample.t % 300_000 == 285_000), "the last sample of each window");
        assert_eq!(
            old.iter().map(|sample| sample.v).collect::<Vec<_>>(),
            raw[0]
                .samples
                .iter()
                .filter(|s| s.t < cut && s.t % 300_000 == 285_000)
                .map(|s| s.v)
                .collect::<Vec<_>>()
        );
        assert_eq!(recent.len(), 240, "the last hour keeps every sample");
        // The reset at 50 minutes is still there: the value drops.
        assert!(old.windows(2).any(|pair| pair[1].v < pair[0].v));

        // The newest chunks are kept by a size limit, the oldest go.
        let size = first.size_bytes().await.unwrap();
        assert!(size > 0);
        assert_eq!(first.prune_to_size(size).await.unwrap(), 0);
        // A byte under: the oldest chunks (the rolled-up hour) go.
        let removed = first.prune_to_size(size - 1).await.unwrap();
        assert!(removed > 0);
        assert!(first.size_bytes().await.unwrap() < size);
        let left = first.select(&[Matcher::equal("__name__", "requests_total")], 0, i64::MAX).await.unwrap();
        assert_eq!(left[0].samples.last().unwrap().t, 479 * 15_000, "the newest samples stay");
        assert!(left[0].samples[0].t > 0, "the oldest went");
    }

    async fn read(metrics: &SeriesStore) -> BTreeMap<Labels, Vec<(i64, f64)>> {
        let matchers = [Matcher::regex("__name__", "latency_seconds_.*").unwrap()];
        metrics
            .select(&matchers, 0, i64::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|series| (series.labels, series.samples.iter().map(|s| (s.t, s.v)).collect::<Vec<_>>()))
            .collect()
    }

    #[tokio::test]
    async fn a_histograms_series_are_stored_together_and_read_back_as_series() {
        let dir = tempfile::tempdir().unwrap();
        let shared = store(dir.path()).await;
        let metrics = SeriesStore::new(shared.clone(), "one");
        let histograms: HistogramNames = ["latency_seconds".to_owned()].into();
        let member = |name: &str, le: Option<&str>| {
            let mut pairs = vec![("__name__", name), ("job", "shop")];
            pairs.extend(le.map(|le| ("le", le)));
            labels(&pairs)
        };
        // A plain series stored before its histogram was known joins it.
        let count = member("latency_seconds_count", None);
        metrics.append(&[(count.clone(), 0, 0.0)]).await.unwrap();
        metrics.flush().await.unwrap();
        // Two hours at 15 s; a `le="2.5"` bucket appears after an hour.
        let mut expected: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
        expected.entry(count.clone()).or_default().push((0, 0.0));
        for i in 1..=480_i64 {
            let t = i * 15_000;
            let mut bounds = vec!["0.1", "1", "+Inf"];
            if i > 240 {
                bounds.insert(2, "2.5");
            }
            let mut row: Vec<(Labels, i64, f64)> = bounds
                .iter()
                .enumerate()
                .map(|(index, le)| {
                    (member("latency_seconds_bucket", Some(le)), t, (i * (index as i64 + 1)) as f64)
                })
                .collect();
            row.push((count.clone(), t, (i * bounds.len() as i64) as f64));
            row.push((member("latency_seconds_sum", None), t, i as f64 * 0.37));
            for (labels, t, v) in &row {
                expected.entry(labels.clone()).or_default().push((*t, *v));
            }
            // A row may come in two appends.
            let (first, second) = row.split_at(2);
            metrics.append_typed(first, &histograms).await.unwrap();
            let appended = metrics.append_typed(second, &histograms).await.unwrap();
            assert_eq!(appended.out_of_order, 0);
        }
        let late = metrics.append_typed(&[(count.clone(), 15_000, 1.0)], &histograms).await.unwrap();
        assert_eq!(late.out_of_order, 1);
        metrics.flush().await.unwrap();

        let plain: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM metric_chunks").fetch_one(shared.pool()).await.unwrap();
        assert_eq!(plain, 1, "only the sample from before the histogram was known is a series' own chunk");
        let together: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM metric_histogram_chunks")
            .fetch_one(shared.pool())
            .await
            .unwrap();
        assert_eq!(together as usize, 2 * (240 / SAMPLES_PER_CHUNK), "240 rows in each layout");

        assert_eq!(read(&metrics).await, expected);
        // Another process reads the same.
        let reader = SeriesStore::new(shared.clone(), "reader");
        assert_eq!(read(&reader).await, expected);
        let some = reader.select(&[Matcher::equal("le", "2.5")], 0, 3_600_000).await.unwrap();
        assert!(some.is_empty(), "the new bucket has no sample in the first hour");
        let listed = reader.series_between(&[Matcher::equal("job", "shop")], 0, 3_600_000).await.unwrap();
        assert_eq!(listed.len(), 5, "three buckets, the count and the sum");

        // Rolled up: the last row of each five minutes, every member kept.
        // The first layout's chunks end by 3,600,000 and go, with the
        // count's own early chunk.
        let done = metrics.downsample(3_600_001).await.unwrap();
        assert_eq!(done.chunks_replaced as usize, 240 / SAMPLES_PER_CHUNK + 1);
        let rolled = read(&reader).await;
        let bucket = &rolled[&member("latency_seconds_bucket", Some("1"))];
        let old: Vec<&(i64, f64)> = bucket.iter().filter(|(t, _)| *t < 3_600_000).collect();
        assert_eq!(old.len(), 12);
        assert!(old.iter().all(|(t, v)| t % 300_000 == 285_000 && *v == (t / 15_000 * 2) as f64));
        assert_eq!(rolled[&member("latency_seconds_sum", None)].len(), 12 + 1 + 240);

        // Size retention and pruning take the histograms' chunks too.
        assert!(metrics.size_bytes().await.unwrap() > 0);
        metrics.prune(i64::MAX).await.unwrap();
        assert_eq!(metrics.size_bytes().await.unwrap(), 0);
        assert!(reader.series(&[Matcher::equal("job", "shop")]).await.unwrap().is_empty());
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM metric_histograms")
            .fetch_one(shared.pool())
            .await
            .unwrap();
        assert_eq!(left, 0);
        // Appending again after pruning makes the series and histogram anew.
        let again = metrics.append_typed(&[(count.clone(), 9_000_000, 1.0)], &histograms).await.unwrap();
        assert_eq!((again.samples, again.new_series), (1, 1));
        assert_eq!(read(&metrics).await[&count], [(9_000_000, 1.0)]);
    }
}
