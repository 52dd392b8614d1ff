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

/// Something that happened in the deck, as subscribers (the app's UI) get
/// it: an object with a `kind`. Core knows only its own events; each area
/// defines its events in its own code and publishes them with
/// [`EventBus::publish_area`], so a new area adds events without touching
/// core.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DeckEvent {
    /// Something the deck's foundations did (audit, outbound calls, jobs).
    Core(CoreEvent),
    /// An area's event, carried as the JSON object its own type serializes to.
    Area(AreaEvent),
}

/// What the foundations publish.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoreEvent {
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
}

impl From<CoreEvent> for DeckEvent {
    fn from(event: CoreEvent) -> Self {
        DeckEvent::Core(event)
    }
}

/// An area's event in the envelope: the JSON object its type serialized to
/// (with the `kind` the area gave it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaEvent(serde_json::Map<String, serde_json::Value>);

impl AreaEvent {
    /// The event's `kind` (`telemetry_stored`).
    pub fn kind(&self) -> Option<&str> {
        self.0.get("kind").and_then(serde_json::Value::as_str)
    }

    /// The event as JSON.
    pub fn fields(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }
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
    pub fn publish(&self, event: impl Into<DeckEvent>) {
        // An error only means nobody is listening right now.
        let _ = self.sender.send(event.into());
    }

    /// Sends an area's own event (a type serializing to an object with a
    /// `kind`, as `#[serde(tag = "kind")]` enums do).
    pub fn publish_area(&self, event: &impl Serialize) {
        match serde_json::to_value(event) {
            Ok(serde_json::Value::Object(fields)) if fields.contains_key("kind") => {
                self.publish(DeckEvent::Area(AreaEvent(fields)));
            }
            Ok(other) => {
                tracing::error!(event = %other, "an area event is not an object with a kind; not sent")
            }
            Err(error) => tracing::error!(%error, "an area event could not be serialized; not sent"),
        }
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
        bus.publish(CoreEvent::AuditRecorded { entry: entry(1) });
        let mut first = bus.subscribe();
        let mut second = bus.subscribe();
        bus.publish(CoreEvent::AuditRecorded { entry: entry(2) });
        for receiver in [&mut first, &mut second] {
            match receiver.recv().await.unwrap() {
                DeckEvent::Core(CoreEvent::AuditRecorded { entry }) => assert_eq!(entry.seq, 2),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn events_serialize_with_a_kind_tag() {
        let json =
            serde_json::to_value(DeckEvent::from(CoreEvent::AuditRecorded { entry: entry(3) })).unwrap();
        assert_eq!(json["kind"], "audit_recorded");
        assert_eq!(json["entry"]["seq"], 3);
    }

    #[derive(Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum GardenEvent {
        Watered { litres: u32 },
    }

    #[tokio::test]
    async fn an_area_event_reaches_subscribers_as_its_own_json_and_a_kindless_one_is_not_sent() {
        let bus = EventBus::new();
        let mut receiver = bus.subscribe();
        bus.publish_area(&serde_json::json!({ "no": "kind" }));
        bus.publish_area(&GardenEvent::Watered { litres: 3 });
        let DeckEvent::Area(event) = receiver.recv().await.unwrap() else { panic!("not an area event") };
        assert_eq!(event.kind(), Some("watered"));
        let json = serde_json::to_value(DeckEvent::Area(event)).unwrap();
        assert_eq!(json, serde_json::json!({ "kind": "watered", "litres": 3 }));
        assert!(receiver.try_recv().is_err(), "the kindless event was sent");
    }
}
