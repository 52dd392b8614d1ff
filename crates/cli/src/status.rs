//! `opsdeck status`.

use std::process::ExitCode;

use opsdeck::{Deck, DeckError};

use super::Output;

pub(crate) async fn run(deck: &Deck, output: Output) -> Result<ExitCode, DeckError> {
    let status = deck.status().await?;
    output.print(&status, |status| {
        format!(
            "data dir        {}\nstore           {} ({})\nschema version  {}\nopsdeck         {}\n",
            status.data_dir,
            status.store,
            status.store_location,
            status.schema_version,
            status.opsdeck_version
        )
    });
    Ok(ExitCode::SUCCESS)
}
