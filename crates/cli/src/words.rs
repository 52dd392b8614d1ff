//! Flags whose value is one of a state's words (`cert list --state active`):
//! clap lists the words in help and completions, and hands the command the
//! enum, so no command compares strings.

use std::str::FromStr;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use opsdeck_core::words::UnknownWord;

/// A parser accepting exactly `words` (an enum's `WORDS`) and giving the enum.
pub fn one_of<T>(words: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: FromStr<Err = UnknownWord> + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(words).try_map(|word| word.parse::<T>())
}
