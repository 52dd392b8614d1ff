//! Notifications (signed webhooks) and the outbound connections they use.

use opsdeck_core::http::EndpointHealth;
use opsdeck_core::keys::{load_or_create_key, Key};
use opsdeck_core::webhooks::{self, Delivery, DeliveryStatus, WebhookTarget, WEBHOOK_KEY_NAME};
use zeroize::Zeroizing;

use crate::{Caller, Deck, DeckError, Outcome};

impl Deck {
    async fn webhook_key(&self) -> Result<&Key, DeckError> {
        self.webhook_key
            .get_or_try_init(|| async {
                load_or_create_key(&self.store, WEBHOOK_KEY_NAME, &self.keys.snapshot()).await
            })
            .await
            .map_err(DeckError::from)
    }

    /// Adds (or replaces) a notification target. Without a secret, a random
    /// one is made; it is returned so it can be shown once and copied to the
    /// receiver, and is never shown again.
    pub async fn notify_add(
        &self,
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
        self.audit(caller, "notify.add", name, Outcome::Ok, serde_json::json!({ "url": url })).await?;
        webhooks::add_target(&self.store, key, name, url, &secret).await?;
        Ok(generated)
    }

    /// Every notification target (without secrets).
    pub async fn notify_targets(&self) -> Result<Vec<WebhookTarget>, DeckError> {
        Ok(webhooks::targets(&self.store).await?)
    }

    /// The latest deliveries, newest first.
    pub async fn notify_deliveries(
        &self,
        target: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Delivery>, DeckError> {
        Ok(webhooks::deliveries(&self.store, target, limit).await?)
    }

    /// Sends a `test` event to one target now and returns how it went.
    pub async fn notify_test(&self, caller: &Caller, target: &str) -> Result<Delivery, DeckError> {
        let key = self.webhook_key().await?;
        let payload =
            serde_json::json!({ "message": "a test notification from OpsDeck", "by": caller.actor });
        let ids = webhooks::enqueue(&self.store, Some(target), "test", &payload).await?;
        let id = ids.first().cloned().unwrap_or_default();
        let delivery = webhooks::deliver(&self.store, key, &self.http, &id).await?;
        let outcome =
            if delivery.status == DeliveryStatus::Delivered { Outcome::Ok } else { Outcome::Failed };
        self.audit(caller, "notify.test", target, outcome, serde_json::json!({ "delivery": id })).await?;
        Ok(delivery)
    }

    /// Sends `event` to every target (queued first, so nothing is lost when a
    /// receiver is down: the redelivery job tries again).
    pub async fn notify_all(
        &self,
        event: &str,
        payload: &serde_json::Value,
    ) -> Result<Vec<Delivery>, DeckError> {
        let key = self.webhook_key().await?;
        let mut results = Vec::new();
        for id in webhooks::enqueue(&self.store, None, event, payload).await? {
            results.push(webhooks::deliver(&self.store, key, &self.http, &id).await?);
        }
        Ok(results)
    }

    /// Sends `event` to one named target now; returns the delivery's status
    /// (`delivered`, or `pending`/`failed` — redelivery retries pending ones).
    pub(crate) async fn notify_target(
        &self,
        target: &str,
        event: &str,
        payload: &serde_json::Value,
    ) -> Result<DeliveryStatus, DeckError> {
        let key = self.webhook_key().await?;
        let mut status = DeliveryStatus::Pending;
        for id in webhooks::enqueue(&self.store, Some(target), event, payload).await? {
            status = webhooks::deliver(&self.store, key, &self.http, &id).await?.status;
        }
        Ok(status)
    }

    /// Retries deliveries still pending; returns how many were delivered.
    pub(crate) async fn redeliver_pending(&self) -> Result<usize, DeckError> {
        let pending = webhooks::pending(&self.store, 100).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let key = self.webhook_key().await?;
        let mut delivered = 0;
        for id in pending {
            if webhooks::deliver(&self.store, key, &self.http, &id).await?.status == DeliveryStatus::Delivered
            {
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    /// Outbound endpoints this process has called: breaker state and recent outcomes.
    pub fn connections(&self) -> Vec<EndpointHealth> {
        self.http.health()
    }
}
