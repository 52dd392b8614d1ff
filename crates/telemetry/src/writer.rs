//! The one batching writer: receivers hand it decoded records and answer the
//! client at once; it stores them in large transactions. Its queue is
//! bounded by records, so a writer that falls behind makes the receivers
//! answer "try again later" instead of growing memory without end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::model::{LogRecord, Span};
use crate::store::Telemetry;

/// Records one transaction takes at most.
const MAX_BATCH: usize = 5000;

/// What a receiver hands over.
#[derive(Debug)]
pub enum Batch {
    /// Spans of one request.
    Spans(Vec<Span>),
    /// Log records of one request.
    Logs(Vec<LogRecord>),
}

impl Batch {
    fn len(&self) -> usize {
        match self {
            Batch::Spans(spans) => spans.len(),
            Batch::Logs(logs) => logs.len(),
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
}

impl Writer {
    /// Starts the writer task; it ends when every handle is dropped, after
    /// storing what was queued.
    pub fn start(telemetry: Telemetry, capacity: usize) -> (Writer, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(run(telemetry, receiver, queued.clone()));
        (Writer { sender, queued, capacity }, task)
    }

    /// Queues a batch, or refuses it when the queue holds `capacity` records already.
    pub fn submit(&self, batch: Batch) -> Result<(), Backpressure> {
        let size = batch.len();
        if size == 0 {
            return Ok(());
        }
        let before = self.queued.fetch_add(size, Ordering::SeqCst);
        if before > 0 && before + size > self.capacity {
            self.queued.fetch_sub(size, Ordering::SeqCst);
            return Err(Backpressure);
        }
        self.sender.send(batch).map_err(|_| {
            self.queued.fetch_sub(size, Ordering::SeqCst);
            Backpressure
        })
    }

    /// Records waiting to be stored.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }
}

async fn run(telemetry: Telemetry, mut receiver: mpsc::UnboundedReceiver<Batch>, queued: Arc<AtomicUsize>) {
    while let Some(first) = receiver.recv().await {
        let mut spans = Vec::new();
        let mut logs = Vec::new();
        let take = |batch: Batch, spans: &mut Vec<Span>, logs: &mut Vec<LogRecord>| match batch {
            Batch::Spans(more) => spans.extend(more),
            Batch::Logs(more) => logs.extend(more),
        };
        take(first, &mut spans, &mut logs);
        // Whatever else is already waiting goes into the same transaction.
        while spans.len() + logs.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(batch) => take(batch, &mut spans, &mut logs),
                Err(_) => break,
            }
        }
        let count = spans.len() + logs.len();
        if !spans.is_empty() {
            if let Err(error) = telemetry.insert_spans(&spans).await {
                tracing::error!(error = %error, spans = spans.len(), "storing spans failed; they are lost");
            }
        }
        if !logs.is_empty() {
            if let Err(error) = telemetry.insert_logs(&logs).await {
                tracing::error!(error = %error, logs = logs.len(), "storing log records failed; they are lost");
            }
        }
        queued.fetch_sub(count, Ordering::SeqCst);
    }
}
