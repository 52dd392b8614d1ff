//! Notifications (signed webhooks) and the outbound connections they use.

pub mod operations;

use opsdeck_core::http::EndpointHealth;
use opsdeck_core::keys::{load_or_create_key, Key};
use opsdeck_core::webhooks::{self, Delivery, DeliveryStatus, WebhookTarget, WEBHOOK_KEY_NAME};
use zeroize::Zeroizing;

use crate::jobs::JobKinds;
use crate::{Caller, Deck, DeckError, Outcome};
use opsdeck_core::scheduler::{JobSpec, Schedule, Scheduler};

/// A deck's notification targets and deliveries: `deck.notify()`.
#[derive(Clone, Copy)]
pub struct Notify<'d> {
    pub(crate) deck: &'d crate::Deck,
}

impl Deck {
    /// Outbound endpoints this process has called: breaker state and recent outcomes.
    pub fn connections(&self) -> Vec<EndpointHealth> {
        self.http.health()
    }
}

impl<'d> Notify<'d> {
    async fn webhook_key(self) -> Result<&'d Key, DeckError> {
        self.deck
            .webhook_key
            .get_or_try_init(|| async {
                load_or_create_key(&self.deck.store, WEBHOOK_KEY_NAME, &self.deck.keys.snapshot()).await
            })
            .await
            .map_err(DeckError::from)
    }

    /// Adds (or replaces) a notification target. Without a secret, a random
    /// one is made; it is returned so it can be shown once and copied to the
    /// receiver, and is never shown again.
    pub async fn add(
        self,
        caller: &Caller,
        name: &str,
        url: &str,
        secret: Option<Zeroizing<Vec<u8>>>,
    ) -> Result<Option<Zeroizing<String>>, DeckError> {
        let (secret, generated) = match secret {
            Some(secret) => (secret, None),
            None => {
                let mut random = [0_u8; 24];
                getrandom::fill(&mut random)
                    .map_err(|error| opsdeck_core::CoreError::Random(error.to_string()))?;
                let text = Zeroizing::new(format!("whsec_{}", hex::encode(random)));
                (Zeroizing::new(text.as_bytes().to_vec()), Some(text))
            }
        };
        let key = self.webhook_key().await?;
        self.deck.audit(caller, "notify.add", name, Outcome::Ok, serde_json::json!({ "url": url })).await?;
        webhooks::add_target(&self.deck.store, key, name, url, &secret).await?;
        Ok(generated)
    }

    /// Every notification target (without secrets).
    pub async fn targets(self) -> Result<Vec<WebhookTarget>, DeckError> {
        Ok(webhooks::targets(&self.deck.store).await?)
    }

    /// The latest deliveries, newest first.
    pub async fn deliveries(self, target: Option<&str>, limit: i64) -> Result<Vec<Delivery>, DeckError> {
        Ok(webhooks::deliveries(&self.deck.store, target, limit).await?)
    }

    /// Sends a `test` event to one target now and returns how it went.
    pub async fn test(self, caller: &Caller, target: &str) -> Result<Delivery, DeckError> {
        let key = self.webhook_key().await?;
        let payload =
            serde_json::json!({ "message": "a test notification from OpsDeck", "by": caller.actor });
        let ids = webhooks::enqueue(&self.deck.store, Some(target), "test", &payload).await?;
        let id = ids.first().cloned().unwrap_or_default();
        let delivery = webhooks::deliver(&self.deck.store, key, &self.deck.http, &id).await?;
        let outcome =
            if delivery.status == DeliveryStatus::Delivered { Outcome::Ok } else { Outcome::Failed };
        self.deck
            .audit(caller, "notify.test", target, outcome, serde_json::json!({ "delivery": id }))
            .await?;
        Ok(delivery)
    }

    /// Sends `event` to every target (queued first, so nothing is lost when a
    /// receiver is down: the redelivery job tries again).
    pub async fn broadcast(
        self,
        event: &str,
        payload: &serde_json::Value,
    ) -> Result<Vec<Delivery>, DeckError> {
        let key = self.webhook_key().await?;
        let mut results = Vec::new();
        for id in webhooks::enqueue(&self.deck.store, None, event, payload).await? {
            results.push(webhooks::deliver(&self.deck.store, key, &self.deck.http, &id).await?);
        }
        Ok(results)
    }

    /// Sends `event` to one named target now; returns the delivery's status
    /// (`delivered`, or `pending`/`failed` — redelivery retries pending ones).
    pub(crate) async fn send_to(
        self,
        target: &str,
        event: &str,
        payload: &serde_json::Value,
    ) -> Result<DeliveryStatus, DeckError> {
        let key = self.webhook_key().await?;
        let mut status = DeliveryStatus::Pending;
        for id in webhooks::enqueue(&self.deck.store, Some(target), event, payload).await? {
            status = webhooks::deliver(&self.deck.store, key, &self.deck.http, &id).await?.status;
        }
        Ok(status)
    }

    /// Attempts deliveries already queued (in the transaction of the change
    /// they announce); returns how many were delivered now. Those that were
    /// not stay pending for the redelivery job.
    pub(crate) async fn deliver_queued(self, ids: &[String]) -> Result<usize, DeckError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let key = self.webhook_key().await?;
        let mut delivered = 0;
        for id in ids {
            if webhooks::deliver(&self.deck.store, key, &self.deck.http, id).await?.status
                == DeliveryStatus::Delivered
            {
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    /// Retries deliveries still pending; returns how many were delivered.
    pub(crate) async fn redeliver_pending(self) -> Result<usize, DeckError> {
        let pending = webhooks::pending(&self.deck.store, 100).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let key = self.webhook_key().await?;
        let mut delivered = 0;
        for id in pending {
            if webhooks::deliver(&self.deck.store, key, &self.deck.http, &id).await?.status
                == DeliveryStatus::Delivered
            {
                delivered += 1;
            }
        }
        Ok(delivered)
    }
}

/// The built-in job that retries webhook deliveries that could not be made.
pub const WEBHOOK_REDELIVERY_JOB: &str = "webhook-redelivery";
const REDELIVERY_JOB_KIND: &str = "webhooks.redeliver";

/// Notifications' job: redelivering what a receiver did not take (built in,
/// every minute).
pub(crate) async fn register_jobs(deck: &Deck, kinds: &mut JobKinds<'_>) -> Result<(), DeckError> {
    let redelivery = JobSpec {
        name: WEBHOOK_REDELIVERY_JOB.to_owned(),
        kind: REDELIVERY_JOB_KIND.to_owned(),
        schedule: Schedule::Every(std::time::Duration::from_secs(60)),
        payload: serde_json::json!({}),
    };
    Scheduler::ensure_job(&deck.store, &redelivery).await?;
    kinds.register(REDELIVERY_JOB_KIND, |deck, _job| async move {
        let delivered = deck.notify().redeliver_pending().await.map_err(|error| error.to_string())?;
        Ok(format!("{delivered} pending deliveries delivered"))
    });
    Ok(())
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![
        entry::<operations::NotifyTargets>(),
        entry::<operations::NotifyDeliveries>(),
        entry::<operations::NotifyTest>(),
        entry::<operations::NotifyAdd>(),
        entry::<operations::ConnectionList>(),
    ]
}
