//! Signed webhook notifications: the targets and the delivery log.

use opsdeck_core::http::EndpointHealth;
use opsdeck_core::webhooks::{Delivery, WebhookTarget};
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::{Effect, Method, Nothing, Operation};
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
        deck.notify().targets().await
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
        deck.notify().deliveries(input.target.as_deref(), input.limit.unwrap_or(50).clamp(1, 500)).await
    }
}

/// A webhook target.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct OneTarget {
    /// The target's name.
    pub name: String,
}

/// `notify.test`.
pub struct NotifyTest;

impl Operation for NotifyTest {
    type Input = OneTarget;
    type Output = Delivery;
    const NAME: &'static str = "notify.test";
    const SUMMARY: &'static str =
        "Sends a signed test event to one webhook target now and returns the delivery: status, attempts, last error.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/notify/targets/{name}/test";

    async fn run(deck: &Deck, caller: &Caller, input: OneTarget) -> Result<Delivery, DeckError> {
        deck.notify().test(caller, &input.name).await
    }
}

/// `connection.list`.
pub struct ConnectionList;

impl Operation for ConnectionList {
    type Input = Nothing;
    type Output = Vec<EndpointHealth>;
    const NAME: &'static str = "connection.list";
    const SUMMARY: &'static str = "The outside endpoints this process has called (ACME, webhooks, OpenBao, …): circuit breaker state and recent outcomes.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/connections";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<Vec<EndpointHealth>, DeckError> {
        Ok(deck.connections())
    }
}

/// A webhook target to add (or replace).
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct NewTargetInput {
    /// The target's name.
    pub name: String,
    /// Where events are POSTed (https://, or http:// on this machine).
    pub url: String,
}

/// A new target with its generated signing secret, shown this once.
#[derive(Serialize, JsonSchema, TS)]
pub struct NewTarget {
    /// The target's name.
    pub name: String,
    /// The signing secret to give to the receiver (it checks
    /// `OpsDeck-Signature` with it); never shown again.
    pub secret: String,
}

/// `notify.add`.
pub struct NotifyAdd;

impl Operation for NotifyAdd {
    type Input = NewTargetInput;
    type Output = NewTarget;
    const NAME: &'static str = "notify.add";
    const SUMMARY: &'static str =
        "Adds (or replaces) a webhook target and returns its new signing secret, once; \
         events are signed with it and retried until delivered.";
    // The answer holds a new secret: only callers who may see secrets get it.
    const EFFECT: Effect = Effect::Reveal;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/notify/targets";

    async fn run(deck: &Deck, caller: &Caller, input: NewTargetInput) -> Result<NewTarget, DeckError> {
        let secret = deck.notify().add(caller, &input.name, &input.url, None).await?;
        Ok(NewTarget {
            name: input.name,
            secret: secret.map(|secret| secret.to_string()).unwrap_or_default(),
        })
    }
}
