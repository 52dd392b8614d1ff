//! Signed webhook notifications: the targets and the delivery log.

use opsdeck_core::webhooks::{Delivery, WebhookTarget};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::Deserialize;
use ts_rs::TS;

use super::{Effect, Method, Nothing, Operation};
use crate::{Caller, Deck, DeckError};

/// `notify.targets`.
pub struct NotifyTargets;

impl Operation for NotifyTargets {
    type Input = Nothing;
    type Output = Vec<WebhookTarget>;
    const NAME: &'static str = "notify.targets";
    const SUMMARY: &'static str =
        "The webhook targets signed events are sent to (names and URLs; never their secrets).";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/notify/targets";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<WebhookTarget>, DeckError> {
        deck.notify_targets().await
    }
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesInput {
    /// Only this target's deliveries.
    #[serde(default)]
    pub target: Option<String>,
    /// The most deliveries (default 50, at most 500).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub limit: Option<i64>,
}

/// `notify.deliveries`.
pub struct NotifyDeliveries;

impl Operation for NotifyDeliveries {
    type Input = DeliveriesInput;
    type Output = Vec<Delivery>;
    const NAME: &'static str = "notify.deliveries";
    const SUMMARY: &'static str =
        "The latest webhook deliveries, newest first: event, target, status, attempts and the last error.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/notify/deliveries";

    async fn run(deck: &Deck, _caller: &Caller, input: DeliveriesInput) -> Result<Vec<Delivery>, DeckError> {
        deck.notify_deliveries(input.target.as_deref(), input.limit.unwrap_or(50).clamp(1, 500)).await
    }
}
