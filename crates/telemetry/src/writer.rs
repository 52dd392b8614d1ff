//! The one batching writer: receivers hand it decoded records and answer the
//! client at once; it stores them in large transactions. Its queue is
//! bounded by records, so a writer that falls behind makes the receivers
//! answer "try again later" instead of growing memory without end.
//!
//! A transaction is bounded by time as well as by records: the writer learns
//! how long a record takes to store and sizes each transaction to about
//! [`TRANSACTION_TIME`], so other processes sharing a SQLite store (a CLI
//! setting a secret while demo traffic pours in) wait milliseconds for the
//! write lock, never seconds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::model::{LogRecord, MetricPoint, Span};
use crate::store::Telemetry;

/// Records one transaction takes at most.
const MAX_BATCH: usize = 10_000;

/// Records one transaction takes at least (however slow the store is), so
/// the per-transaction costs stay small beside the records' own.
const MIN_BATCH: usize = 200;

/// About how long one write transaction may keep the store's write lock.
const TRANSACTION_TIME: std::time::Duration = std::time::Duration::from_millis(100);

/// How many records fit in [`TRANSACTION_TIME`], learnt from the
/// transactions so far (a moving average of the time per record).
#[derive(Debug)]
struct Pace {
    seconds_per_record: f64,
}

impl Pace {
    fn new() -> Pace {
        // A first guess of 20 µs a record (50,000 a second); the first
        // transactions correct it.
        Pace { seconds_per_record: 20e-6 }
    }

    fn batch_limit(&self) -> usize {
        let fits = TRANSACTION_TIME.as_secs_f64() / self.seconds_per_record.max(1e-9);
        (fits as usize).clamp(MIN_BATCH, MAX_BATCH)
    }

    fn observe(&mut self, records: usize, took: std::time::Duration) {
        if records == 0 {
            return;
        }
        let this = took.as_secs_f64() / records as f64;
        self.seconds_per_record = 0.7 * self.seconds_per_record + 0.3 * this;
    }
}

/// What a receiver hands over.
#[derive(Debug)]
pub enum Batch {
    /// Spans of one request.
    Spans(Vec<Span>),
    /// Log records of one request.
    Logs(Vec<LogRecord>),
    /// Metric data points of one request.
    Metrics(Vec<MetricPoint>),
}

impl Batch {
    fn len(&self) -> usize {
        match self {
            Batch::Spans(spans) => spans.len(),
            Batch::Logs(logs) => logs.len(),
            Batch::Metrics(points) => points.len(),
        }
    }
}

/// The queue is full: the client should retry later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backpressure;

/// The handle receivers submit through (cheap to clone).
#[derive(Clone)]
pub struct Writer {
    sender: mpsc::UnboundedSender<Batch>,
    queued: Arc<AtomicUsize>,
    capacity: usize,
    /// Signalled after every stored batch: room in the queue again.
    room: Arc<tokio::sync::Notify>,
}

/// How many records one announcement covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stored {
    /// Spans.
    pub spans: i64,
    /// Log records.
    pub logs: i64,
    /// Metric data points.
    pub metric_points: i64,
}

/// Told what was stored (the deck turns it into an event for the pages).
pub type OnStored = Arc<dyn Fn(Stored) + Send + Sync>;

/// Handed every metric point once it is stored (the deck passes them on to
/// the metrics area's series store). Must not block.
pub type OnMetricPoints = Arc<dyn Fn(&[MetricPoint]) + Send + Sync>;

/// Handed every span once it is stored (the deck derives request rate,
/// errors and duration metrics from them). Must not block.
pub type OnSpans = Arc<dyn Fn(&[Span]) + Send + Sync>;

/// What the writer tells others about what it stored.
#[derive(Clone, Default)]
pub struct WriterHooks {
    /// Counts, for announcements.
    pub on_stored: Option<OnStored>,
    /// The metric points themselves.
    pub on_metric_points: Option<OnMetricPoints>,
    /// The spans themselves.
    pub on_spans: Option<OnSpans>,
}

/// The shortest time between two announcements while the writer is busy.
const ANNOUNCE_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

impl Writer {
    /// Starts the writer task; it ends when every handle is dropped, after
    /// storing what was queued.
    pub fn start(telemetry: Telemetry, capacity: usize) -> (Writer, tokio::task::JoinHandle<()>) {
        Writer::start_announcing(telemetry, capacity, None)
    }

    /// [`Writer::start`], calling `on_stored` after records are stored: at
    /// once when the queue is empty, otherwise at most every 250 ms.
    pub fn start_announcing(
        telemetry: Telemetry,
        capacity: usize,
        on_stored: Option<OnStored>,
    ) -> (Writer, tokio::task::JoinHandle<()>) {
        Writer::start_with(
            telemetry,
            capacity,
            WriterHooks { on_stored, on_metric_points: None, on_spans: None },
        )
    }

    /// [`Writer::start`] with `hooks` told what was stored.
    pub fn start_with(
        telemetry: Telemetry,
        capacity: usize,
        hooks: WriterHooks,
    ) -> (Writer, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let room = Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(run(telemetry, receiver, queued.clone(), hooks, room.clone()));
        (Writer { sender, queued, capacity, room }, task)
    }

    /// Queues a batch, or refuses it when the queue holds `capacity` records already.
    pub fn submit(&self, batch: Batch) -> Result<(), Backpressure> {
        self.try_submit(batch).map_err(|_| Backpressure)
    }

    /// Queues a batch, waiting up to `patience` for room: a receiver holds
    /// the request meanwhile, so a client sending faster than the store
    /// writes is slowed down by its own requests' latency rather than
    /// refused and left idle. Refused only when the queue stays full.
    pub async fn submit_waiting(
        &self,
        batch: Batch,
        patience: std::time::Duration,
    ) -> Result<(), Backpressure> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut batch = batch;
        loop {
            // Registered before trying, so a batch stored in between still wakes this.
            let room = self.room.notified();
            match self.try_submit(batch) {
                Ok(()) => return Ok(()),
                Err(back) => batch = back,
            }
            if tokio::time::timeout_at(deadline, room).await.is_err() {
                return Err(Backpressure);
            }
        }
    }

    fn try_submit(&self, batch: Batch) -> Result<(), Batch> {
        let size = batch.len();
        if size == 0 {
            return Ok(());
        }
        let before = self.queued.fetch_add(size, Ordering::SeqCst);
        if before > 0 && before + size > self.capacity {
            self.queued.fetch_sub(size, Ordering::SeqCst);
            return Err(batch);
        }
        self.sender.send(batch).map_err(|refused| {
            self.queued.fetch_sub(size, Ordering::SeqCst);
            refused.0
        })
    }

    /// Records waiting to be stored.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }
}

/// What the writer gathered for one transaction.
#[derive(Default)]
struct Gathered {
    spans: Vec<Span>,
    logs: Vec<LogRecord>,
    points: Vec<MetricPoint>,
}

impl Gathered {
    fn take(&mut self, batch: Batch) {
        match batch {
            Batch::Spans(more) => self.spans.extend(more),
            Batch::Logs(more) => self.logs.extend(more),
            Batch::Metrics(more) => self.points.extend(more),
        }
    }

    fn len(&self) -> usize {
        self.spans.len() + self.logs.len() + self.points.len()
    }
}

async fn run(
    telemetry: Telemetry,
    mut receiver: mpsc::UnboundedReceiver<Batch>,
    queued: Arc<AtomicUsize>,
    hooks: WriterHooks,
    room: Arc<tokio::sync::Notify>,
) {
    let WriterHooks { on_stored, on_metric_points, on_spans } = hooks;
    let mut unannounced = Stored::default();
    let mut announced_at = std::time::Instant::now();
    let mut pace = Pace::new();
    while let Some(first) = receiver.recv().await {
        let limit = pace.batch_limit();
        let mut gathered = Gathered::default();
        gathered.take(first);
        // Whatever else is already waiting goes into the same transaction.
        while gathered.len() < limit {
            match receiver.try_recv() {
                Ok(batch) => gathered.take(batch),
                Err(_) => break,
            }
        }
        let count = gathered.len();
        let Gathered { spans, logs, points } = gathered;
        // One request alone may hold more than fits in a transaction's time.
        for chunk in spans.chunks(limit) {
            let started = std::time::Instant::now();
            match telemetry.insert_spans(chunk).await {
                Ok(()) => {
                    pace.observe(chunk.len(), started.elapsed());
                    unannounced.spans += chunk.len() as i64;
                    if let Some(on_spans) = &on_spans {
                        on_spans(chunk);
                    }
                }
                Err(error) => {
                    tracing::error!(error = %error, spans = chunk.len(), "storing spans failed; they are lost");
                }
            }
        }
        for chunk in logs.chunks(limit) {
            let started = std::time::Instant::now();
            match telemetry.insert_logs(chunk).await {
                Ok(()) => {
                    pace.observe(chunk.len(), started.elapsed());
                    unannounced.logs += chunk.len() as i64;
                }
                Err(error) => {
                    tracing::error!(error = %error, logs = chunk.len(), "storing log records failed; they are lost");
                }
            }
        }
        for chunk in points.chunks(limit) {
            let started = std::time::Instant::now();
            match telemetry.insert_metric_points(chunk).await {
                Ok(()) => {
                    pace.observe(chunk.len(), started.elapsed());
                    unannounced.metric_points += chunk.len() as i64;
                    if let Some(on_metric_points) = &on_metric_points {
                        on_metric_points(chunk);
                    }
                }
                Err(error) => {
                    tracing::error!(error = %error, points = chunk.len(), "storing metric points failed; they are lost");
                }
            }
        }
        let left = queued.fetch_sub(count, Ordering::SeqCst) - count;
        room.notify_waiters();
        if let Some(on_stored) = &on_stored {
            if unannounced != Stored::default() && (left == 0 || announced_at.elapsed() >= ANNOUNCE_EVERY) {
                on_stored(std::mem::take(&mut unannounced));
                announced_at = std::time::Instant::now();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_holds_as_many_records_as_fit_in_its_time() {
        let mut pace = Pace::new();
        assert_eq!(pace.batch_limit(), 5_000);
        // A slow store (1 ms a record): a transaction shrinks towards 100 records, not below 200.
        for _ in 0..30 {
            pace.observe(1_000, std::time::Duration::from_secs(1));
        }
        assert_eq!(pace.batch_limit(), MIN_BATCH);
        // A fast one (5 µs a record): up to 10,000, not past it.
        for _ in 0..30 {
            pace.observe(10_000, std::time::Duration::from_millis(50));
        }
        assert_eq!(pace.batch_limit(), MAX_BATCH);
        // 20 µs a record: 5,000 fit in 100 ms.
        for _ in 0..60 {
            pace.observe(1_000, std::time::Duration::from_millis(20));
        }
        assert!((4_900..=5_100).contains(&pace.batch_limit()), "{}", pace.batch_limit());
        pace.observe(0, std::time::Duration::from_secs(5));
        assert!((4_900..=5_100).contains(&pace.batch_limit()));
    }
}
