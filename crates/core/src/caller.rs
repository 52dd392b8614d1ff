//! Who is acting, and the correlation id that ties one user action's audit
//! entries, events and log lines together.

/// The person or process behind one user action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who acts, as `interface:user` (e.g. `cli:alice`, `app:alice`, `scheduler`).
    pub actor: String,
    /// A random id for this action, carried through every service it reaches.
    pub correlation_id: String,
}

impl Caller {
    /// A caller for one new action by `actor`, with a fresh correlation id.
    pub fn new(actor: impl Into<String>) -> Caller {
        let mut bytes = [0_u8; 8];
        // A correlation id only needs to be unlikely to repeat; if the OS
        // generator fails, fall back to the clock rather than fail the action.
        if getrandom::fill(&mut bytes).is_err() {
            bytes = crate::clock::now_unix_ms().to_be_bytes();
        }
        Caller { actor: actor.into(), correlation_id: hex::encode(bytes) }
    }

    /// A tracing span carrying this action's correlation id and actor; log
    /// lines emitted inside it (`.instrument(caller.span())`) carry both.
    pub fn span(&self) -> tracing::Span {
        tracing::info_span!("action", correlation_id = %self.correlation_id, actor = %self.actor)
    }

    /// The user behind an interface actor (`alice` of `cli:alice`); `None`
    /// for the deck's own actors such as `scheduler`.
    pub fn user(&self) -> Option<&str> {
        self.actor.split_once(':').map(|(_, user)| user)
    }

    /// A caller for an interface (`cli`, `app`) run by the current OS user.
    pub fn local_user(interface: &str) -> Caller {
        let from_home = || {
            std::env::var_os("HOME").and_then(|home| {
                std::path::Path::new(&home).file_name().map(|name| name.to_string_lossy().into_owned())
            })
        };
        let user = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
            .or_else(from_home)
            .unwrap_or_else(|| "unknown".to_owned());
        Caller::new(format!("{interface}:{user}"))
    }
}
