//! Who is acting, and the correlation id that ties one user action's audit
//! entries, events and log lines together.

/// The person or process behind one user action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who acts, as `interface:user` (e.g. `cli:alice`, `app:alice`, `scheduler`).
    pub actor: String,
    /// A random id for this action, carried through every service it reaches.
    pub correlation_id: String,
    /// The real OS user who took this identity on (`OPSDECK_ACT_AS`), if any.
    pub assumed_by: Option<String>,
    /// For an API token's caller: the rights the token carries, which take
    /// the place of the member rights a person has.
    pub grant: Option<Grant>,
}

/// The rights of an API token: a role, on one vault or on every vault, and
/// whether it may reveal values (`secret.reveal` over MCP, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    /// The vault it is limited to; `None` for every vault (and, for an admin
    /// token, the deck's other areas).
    pub vault: Option<String>,
    /// Whether it may reveal secret values.
    pub reveal: bool,
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
        Caller { actor: actor.into(), correlation_id: hex::encode(bytes), assumed_by: None, grant: None }
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

    /// A caller for an interface (`cli`, `app`) run by the current OS user,
    /// as the operating system knows them (the real user id's account name;
    /// never `USER`, `LOGNAME` or `HOME`, which any program can set).
    pub fn local_user(interface: &str) -> Caller {
        Caller::new(format!("{interface}:{}", os_user_name()))
    }

    /// Like [`Caller::local_user`], but honouring `OPSDECK_ACT_AS=NAME`: an
    /// identity the OS superuser (who can become anyone anyway) takes on,
    /// e.g. to script a second person's approval in a test. Anyone else who
    /// sets it is refused, and every audit entry of an assumed caller names
    /// who assumed it.
    pub fn local_user_or_assumed(interface: &str) -> Result<Caller, crate::CoreError> {
        let Some(assumed) = std::env::var(ACT_AS_VARIABLE).ok().filter(|name| !name.is_empty()) else {
            return Ok(Caller::local_user(interface));
        };
        let real = os_user_name();
        if !running_as_superuser() {
            return Err(crate::CoreError::IdentityOverrideRefused {
                why: format!(
                    "{ACT_AS_VARIABLE} is honoured only for the system's superuser, and you are `{real}`; \
                     unset it to act as yourself"
                ),
            });
        }
        if assumed.is_empty() || assumed.contains(|c: char| c.is_whitespace() || c == ':' || c.is_control()) {
            return Err(crate::CoreError::IdentityOverrideRefused {
                why: format!("{ACT_AS_VARIABLE}=`{assumed}` is not a user name (no spaces or colons)"),
            });
        }
        let mut caller = Caller::new(format!("{interface}:{assumed}"));
        caller.assumed_by = Some(real);
        Ok(caller)
    }

    /// The actor as the audit trail records it: `cli:bob`, or
    /// `cli:bob (assumed by root)` for an identity taken on with `OPSDECK_ACT_AS`.
    pub fn audited_actor(&self) -> String {
        match &self.assumed_by {
            Some(real) => format!("{} (assumed by {real})", self.actor),
            None => self.actor.clone(),
        }
    }
}

/// The variable through which the OS superuser acts as another member.
pub const ACT_AS_VARIABLE: &str = "OPSDECK_ACT_AS";

/// The account name of the process's real user id (`uid1234` when the
/// account database has no name for it).
#[cfg(unix)]
pub fn os_user_name() -> String {
    let uid = uzers::get_current_uid();
    uzers::get_user_by_uid(uid)
        .map(|user| user.name().to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("uid{uid}"))
}

/// The signed-in user's name. (Windows: `USERNAME`, which the session sets;
/// a process can change it for its children, so attribution there is weaker.)
#[cfg(not(unix))]
pub fn os_user_name() -> String {
    std::env::var("USERNAME").ok().filter(|name| !name.is_empty()).unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(unix)]
fn running_as_superuser() -> bool {
    uzers::get_current_uid() == 0
}

#[cfg(not(unix))]
fn running_as_superuser() -> bool {
    false
}
