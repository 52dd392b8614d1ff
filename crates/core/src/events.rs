//! The event bus: services publish what happened, interfaces subscribe (the
//! app forwards every event to the UI so pages update without a refresh).
//!
//! A slow subscriber misses old events rather than slowing publishers down
//! (tokio broadcast); events are notifications, the store stays the truth.

use serde::Serialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::audit::AuditEntry;
use crate::scheduler::JobRun;

/// Something that happened in the deck.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeckEvent {
    /// An entry was added to the audit trail.
    AuditRecorded {
        /// The new entry.
        entry: AuditEntry,
    },
    /// An endpoint's circuit breaker changed state.
    BreakerChanged {
        /// scheme://host:port
        endpoint: String,
        /// The new state.
        state: crate::http::BreakerState,
    },
    /// An attempt of a scheduled job ended.
    JobRunFinished {
        /// How it ended.
        run: JobRun,
    },
    /// The telemetry writer stored records (announced at most four times a
    /// second while busy; the counts cover everything since the last one).
    TelemetryStored {
        /// Spans stored.
        #[ts(type = "number")]
        spans: i64,
        /// Log records stored.
        #[ts(type = "number")]
        logs: i64,
        /// Metric data points stored.
        #[ts(type = "number")]
        metric_points: i64,
    },
    /// A step of a certificate's issuance or renewal (for progress displays).
    CertProgress {
        /// The certificate.
        id: String,
        /// What is happening now ("answering the challenge for a.example").
        step: String,
    },
}

/// How many events a subscriber may fall behind before it misses some.
const CAPACITY: usize = 1024;

/// Publishes [`DeckEvent`]s to every subscriber.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<DeckEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus { sender: broadcast::channel(CAPACITY).0 }
    }
}

impl EventBus {
    /// A bus with no subscribers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `event` to every current subscriber (none is fine).
    pub fn publish(&self, event: DeckEvent) {
        // An error only means nobody is listening right now.
        let _ = self.sender.send(event);
    }

    /// A new subscription, receiving events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DeckEvent> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64) -> AuditEntry {
        AuditEntry {
            seq,
            at_unix_ms: 0,
            actor: "test".into(),
            action: "a.b".into(),
            target: "t".into(),
            outcome: crate::audit::Outcome::Ok,
            details: serde_json::json!({}),
            correlation_id: "c".into(),
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_events_published_after_it_subscribed() {
        let bus = EventBus::new();
        bus.publish(DeckEvent::AuditRecorded { entry: entry(1) });
        let mut first = bus.subscribe();
        let mut second = bus.subscribe();
        bus.publish(DeckEvent::AuditRecorded { entry: entry(2) });
        for receiver in [&mut first, &mut second] {
            match receiver.recv().await.unwrap() {
                DeckEvent::AuditRecorded { entry } => assert_eq!(entry.seq, 2),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn events_serialize_with_a_kind_tag() {
        let json = serde_json::to_value(DeckEvent::AuditRecorded { entry: entry(3) }).unwrap();
        assert_eq!(json["kind"], "audit_recorded");
        assert_eq!(json["entry"]["seq"], 3);
    }
}
