//! Background tasks owned by a deck, with an ordered, loss-free shutdown.
//!
//! Every long-running job (receivers, writers, schedulers) is started through
//! [`BackgroundTasks::spawn`] and handed a [`CancellationToken`]. Shutdown
//! cancels tasks one at a time in the reverse order they were started and waits
//! for each to return before stopping the next, so a producer started after its
//! consumer (an OTLP receiver after the span writer, say) stops first and the
//! consumer still drains everything it was handed. A task that ignores its token
//! past the grace period is aborted and named in the [`ShutdownReport`].

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

pub use tokio_util::sync::CancellationToken;

struct RunningTask {
    name: String,
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<()>,
}

/// The set of background tasks of one deck.
#[derive(Default)]
pub struct BackgroundTasks {
    running: Mutex<Vec<RunningTask>>,
}

/// What happened during [`BackgroundTasks::shutdown`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Tasks that returned by themselves after being asked to stop, in stop order.
    pub stopped: Vec<String>,
    /// Tasks that had to be aborted after the grace period, or that panicked.
    pub failed: Vec<String>,
}

impl BackgroundTasks {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `task` on the tokio runtime. The task must return soon after its
    /// token is cancelled, having finished or persisted whatever it holds.
    pub fn spawn<F, Fut>(&self, name: impl Into<String>, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stop = CancellationToken::new();
        let handle = tokio::spawn(task(stop.clone()));
        self.lock().push(RunningTask { name: name.into(), stop, handle });
    }

    /// The names of the tasks started so far, in start order.
    pub fn names(&self) -> Vec<String> {
        self.lock().iter().map(|task| task.name.clone()).collect()
    }

    /// Stops every task, newest first, giving each up to `grace` to finish.
    pub async fn shutdown(&self, grace: Duration) -> ShutdownReport {
        let tasks = std::mem::take(&mut *self.lock());
        let mut report = ShutdownReport::default();
        for mut task in tasks.into_iter().rev() {
            task.stop.cancel();
            match tokio::time::timeout(grace, &mut task.handle).await {
                Ok(Ok(())) => report.stopped.push(task.name),
                Ok(Err(error)) => {
                    tracing::error!(task = %task.name, %error, "background task failed");
                    report.failed.push(task.name);
                }
                Err(_) => {
                    tracing::error!(task = %task.name, ?grace, "background task did not stop in time; aborting it");
                    task.handle.abort();
                    report.failed.push(task.name);
                }
            }
        }
        report
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RunningTask>> {
        // A panic while holding this lock cannot leave the Vec half-changed, so a
        // poisoned lock is still safe to use.
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::mpsc;

    #[tokio::test]
    async fn a_consumer_started_first_drains_everything_its_producer_sent() {
        let tasks = BackgroundTasks::new();
        let written = Arc::new(Mutex::new(Vec::new()));
        let (sender, mut receiver) = mpsc::channel::<u32>(16);

        // The consumer buffers items and writes them in batches, as a store writer does.
        let sink = written.clone();
        tasks.spawn("writer", move |stop| async move {
            let mut batch = Vec::new();
            loop {
                tokio::select! {
                    item = receiver.recv() => match item {
                        Some(item) => batch.push(item),
                        None => break,
                    },
                    _ = stop.cancelled() => {
                        // Take what is still queued, then stop.
                        while let Ok(item) = receiver.try_recv() { batch.push(item); }
                        break;
                    }
                }
                if batch.len() >= 10 {
                    sink.lock().unwrap().append(&mut batch);
                }
            }
            sink.lock().unwrap().append(&mut batch);
        });
        tasks.spawn("producer", move |stop| async move {
            let mut next = 0;
            while !stop.is_cancelled() {
                if sender.send(next).await.is_err() {
                    break;
                }
                next += 1;
                tokio::task::yield_now().await;
            }
        });

        tokio::time::sleep(Duration::from_millis(20)).await;
        let report = tasks.shutdown(Duration::from_secs(5)).await;

        assert_eq!(report.stopped, vec!["producer".to_owned(), "writer".to_owned()]);
        assert!(report.failed.is_empty());
        let written = written.lock().unwrap();
        assert!(!written.is_empty());
        let expected: Vec<u32> = (0..written.len() as u32).collect();
        assert_eq!(*written, expected, "every item sent before shutdown is written, in order");
    }

    #[tokio::test]
    async fn a_task_that_ignores_its_token_is_aborted_and_reported() {
        let tasks = BackgroundTasks::new();
        tasks.spawn("stubborn", |_stop| async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        tasks.spawn("polite", |stop| async move { stop.cancelled().await });
        let report = tasks.shutdown(Duration::from_millis(50)).await;
        assert_eq!(report.stopped, vec!["polite".to_owned()]);
        assert_eq!(report.failed, vec!["stubborn".to_owned()]);
        assert!(tasks.names().is_empty());
    }
}
