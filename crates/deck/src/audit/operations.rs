//! Audit operations: reading the trail and checking its chain.

use opsdeck_core::audit::{AuditEntry, AuditFilter, VerifyReport};
use opsdeck_vault::Role;

use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::{Caller, Deck, DeckError};

/// `audit.log`.
pub struct AuditLog;

impl Operation for AuditLog {
    type Input = AuditFilter;
    type Output = Vec<AuditEntry>;
    const NAME: &'static str = "audit.log";
    const SUMMARY: &'static str =
        "Recorded actions, newest first, filtered by actor, action prefix, target, time or paging.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/audit";

    async fn run(deck: &Deck, _caller: &Caller, input: AuditFilter) -> Result<Vec<AuditEntry>, DeckError> {
        deck.audit_trail().entries(&input).await
    }
}

/// `audit.verify`.
pub struct AuditVerify;

impl Operation for AuditVerify {
    type Input = Nothing;
    type Output = VerifyReport;
    const NAME: &'static str = "audit.verify";
    const SUMMARY: &'static str =
        "Checks that no audit entry was edited, deleted, inserted or reordered; an intact chain records the check.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/audit/verify";

    async fn run(deck: &Deck, caller: &Caller, _input: Nothing) -> Result<VerifyReport, DeckError> {
        deck.audit_trail().verify(caller).await
    }
}
