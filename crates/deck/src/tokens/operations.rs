//! API token operations reachable through the API itself (making and
//! revoking tokens stays with people at the command line and in the app).

use opsdeck_core::api_tokens::ApiToken;
use opsdeck_vault::Role;

use crate::catalogue::{Effect, Method, Nothing, Operation};
use crate::{Caller, Deck, DeckError};

/// `api.token_list`.
pub struct TokenList;

impl Operation for TokenList {
    type Input = Nothing;
    type Output = Vec<ApiToken>;
    const NAME: &'static str = "api.token_list";
    const SUMMARY: &'static str =
        "The API tokens: names, rights, makers, expiry, last use; never their values.";
    const EFFECT: Effect = Effect::Read;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/v1/api/tokens";

    async fn run(deck: &Deck, caller: &Caller, _input: Nothing) -> Result<Vec<ApiToken>, DeckError> {
        deck.require_deck_admin(caller, "api.token_list", "listing API tokens").await?;
        deck.api_tokens().list().await
    }
}
