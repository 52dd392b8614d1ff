//! Certificates: the inventory, one certificate in detail, what needs attention.

use opsdeck_certs::CertRecord;
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::Deserialize;
use ts_rs::TS;

use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::certs::{CertDetail, CertQuery, CertSummary};
use crate::{Caller, Deck, DeckError};

/// `cert.list`.
pub struct CertList;

impl Operation for CertList {
    type Input = CertQuery;
    type Output = Vec<CertRecord>;
    const NAME: &'static str = "cert.list";
    const SUMMARY: &'static str = "The certificate inventory, soonest expiry first: subjects, names, issuers, days \
         left, chain status, where each lives, renewal; optionally only those expiring within some days, from one \
         source or in one state.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/certs";

    async fn run(deck: &Deck, _caller: &Caller, query: CertQuery) -> Result<Vec<CertRecord>, DeckError> {
        deck.certs().query(&query).await
    }
}

/// One certificate.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct OneCert {
    /// Its id, as the inventory lists it.
    pub id: String,
}

/// `cert.show`.
pub struct CertShow;

impl Operation for CertShow {
    type Input = OneCert;
    type Output = CertDetail;
    const NAME: &'static str = "cert.show";
    const SUMMARY: &'static str = "One certificate in detail: its chain, where it lives, how it is renewed and deployed, and its history.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/certs/{id}";

    async fn run(deck: &Deck, _caller: &Caller, input: OneCert) -> Result<CertDetail, DeckError> {
        deck.certs().show(&input.id).await
    }
}

/// `cert.summary`.
pub struct CertSummaryOperation;

impl Operation for CertSummaryOperation {
    type Input = Nothing;
    type Output = CertSummary;
    const NAME: &'static str = "cert.summary";
    const SUMMARY: &'static str = "Readiness of the certificates: how many there are, expiring soon, expired, with broken chains or failed renewals.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/certs/summary";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<CertSummary, DeckError> {
        deck.certs().summary().await
    }
}
