//! States kept as words: a certificate's lifecycle state, a delivery's
//! status, a job run's outcome, ... Each is an enum in Rust, a word in the
//! store and in JSON, and a union of string literals in TypeScript, declared
//! once with [`word_enum!`](crate::word_enum).
//!
//! Why a macro: every such enum needs the same six things (the variants'
//! words for serde, ts-rs and schemars, `as_str` for SQL binds, `FromStr` for
//! rows read back, `Display` for CLI tables), and writing them by hand per
//! enum is where a word in the store and a word in the UI drift apart.

use std::fmt;

/// A word (typed, sent, or read from the store) that is not one of its
/// enum's words. A row changed by hand or by a newer OpsDeck ends here
/// rather than being shown as something it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWord {
    /// What was being read (`certificate state`).
    pub what: &'static str,
    /// The word found.
    pub found: String,
    /// The words allowed.
    pub allowed: &'static [&'static str],
}

impl fmt::Display for UnknownWord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "unknown {} '{}': use one of {}", self.what, self.found, self.allowed.join(", "))
    }
}

impl std::error::Error for UnknownWord {}

/// Declares an enum whose values are fixed words.
///
/// ```
/// opsdeck_core::word_enum! {
///     /// How a delivery stands.
///     "delivery status" pub enum Status {
///         /// Not yet sent.
///         Pending = "pending",
///         /// Sent.
///         Done = "done",
///     }
/// }
/// assert_eq!(Status::Done.as_str(), "done");
/// assert_eq!("pending".parse::<Status>().unwrap(), Status::Pending);
/// assert!("later".parse::<Status>().is_err());
/// ```
///
/// The calling crate must depend on `serde`, `ts-rs` and `schemars` (every
/// domain crate does).
#[macro_export]
macro_rules! word_enum {
    (
        $(#[$meta:meta])*
        $what:literal $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $word:literal ),+ $(,)?
        }
    ) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, ts_rs::TS, schemars::JsonSchema,
        )]
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $word)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every word, in declaration order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            /// The word, as stored and shown.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::words::UnknownWord;

            fn from_str(text: &str) -> ::std::result::Result<$name, $crate::words::UnknownWord> {
                match text {
                    $($word => Ok($name::$variant),)+
                    other => Err($crate::words::UnknownWord {
                        what: $what,
                        found: other.to_owned(),
                        allowed: $name::WORDS,
                    }),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::word_enum! {
        /// A test state.
        "test state" enum Light {
            /// Go.
            Green = "green",
            /// Almost stop.
            NotYetRed = "not_yet_red",
        }
    }

    #[test]
    fn words_round_trip_through_text_json_and_typescript() {
        for light in Light::ALL {
            assert_eq!(light.as_str().parse::<Light>().unwrap(), *light);
            assert_eq!(serde_json::to_string(light).unwrap(), format!("\"{light}\""));
        }
        use ts_rs::TS;
        assert_eq!(Light::inline(&ts_rs::Config::new()), "\"green\" | \"not_yet_red\"");
    }

    #[test]
    fn an_unknown_word_names_what_was_read_and_what_is_allowed() {
        let error = "amber".parse::<Light>().unwrap_err().to_string();
        assert!(error.contains("unknown test state 'amber'"), "{error}");
        assert!(error.ends_with("use one of green, not_yet_red"), "{error}");
    }
}
