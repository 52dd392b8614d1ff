//! The deck itself: where it keeps its data and which store it uses.

use opsdeck_vault::Role;

use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::status::DeckStatus;
use crate::{Caller, Deck, DeckError};

/// `status`.
pub struct Status;

impl Operation for Status {
    type Input = Nothing;
    type Output = DeckStatus;
    const NAME: &'static str = "status";
    const SUMMARY: &'static str = "Where this deck keeps its data, which store it uses and its version.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Viewer;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/status";

    async fn run(deck: &Deck, _caller: &Caller, _input: Nothing) -> Result<DeckStatus, DeckError> {
        deck.status().await
    }
}
