//! What the processes OpsDeck starts may inherit, and what their output may say.
//!
//! OpsDeck starts programs in two ways. Hooks — a rotation's verification
//! command, a certificate deploy command or DNS hook, a config reload hook, a
//! `command` job — run a line of shell the deck keeps; they get a **minimal
//! environment**: the few variables a shell needs ([`HOOK_ENV_KEPT`]) plus
//! their own `OPSDECK_…` inputs, never the rest of OpsDeck's environment.
//! `opsdeck run` starts the user's own program with the user's environment,
//! **minus every variable of ours that carries a secret**
//! ([`SECRET_ENV`]): the passphrase that unlocks the deck must not reach a
//! program that was only meant to get one database password.
//!
//! Hooks are given secret values on purpose (a verification command needs the
//! new password); what they print is kept in audit details, errors and
//! webhooks, so [`redact`] takes those values out of it first.

/// Variables of ours whose values unlock or reach the deck: never passed on.
pub const SECRET_ENV: [&str; 5] = [
    "OPSDECK_PASSPHRASE",
    "OPSDECK_NEW_PASSPHRASE",
    "OPSDECK_BUNDLE_PASSPHRASE",
    "OPSDECK_DATABASE_URL",
    "OPSDECK_API_TOKEN",
];

/// The variables a hook keeps from OpsDeck's environment (when set): enough
/// for a shell to find programs, a home, a language and a place for
/// temporary files. Documented in docs/security.md.
pub const HOOK_ENV_KEPT: [&str; 9] =
    ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SHELL"];

/// The shell a hook runs in.
const SHELL: &str = "sh";

/// True for a variable name that must not reach a child: the ones in
/// [`SECRET_ENV`], and any other `OPSDECK_` variable whose name says it holds
/// a secret (so one added later is covered too).
pub fn is_secret_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_ENV.contains(&upper.as_str())
        || (upper.starts_with("OPSDECK_")
            && ["PASSPHRASE", "PASSWORD", "TOKEN", "SECRET", "DATABASE_URL", "KEY"]
                .iter()
                .any(|word| upper.contains(word)))
}

/// `sh -c script` with a minimal environment (see the module's docs) and no
/// stdin; the caller adds the hook's own `OPSDECK_…` inputs.
pub fn hook_command(script: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(SHELL);
    command.arg("-c").arg(script).env_clear().stdin(std::process::Stdio::null());
    for name in HOOK_ENV_KEPT {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command
}

/// Removes every secret-carrying variable of ours (see
/// [`is_secret_variable`]) from what `command` would inherit; the rest of
/// the environment stays (for `opsdeck run`, whose program is the user's).
pub fn without_our_secrets(command: &mut tokio::process::Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_secret_variable) {
            command.env_remove(&name);
        }
    }
    for name in SECRET_ENV {
        command.env_remove(name);
    }
}

/// `text` with each of `values` (non-empty ones) replaced by `[redacted]`,
/// longest first so a value containing another is taken out whole.
pub fn redact(text: &str, values: &[&str]) -> String {
    let mut values: Vec<&str> = values.iter().copied().filter(|value| !value.is_empty()).collect();
    values.sort_by_key(|value| std::cmp::Reverse(value.len()));
    let mut redacted = text.to_owned();
    for value in values {
        redacted = redacted.replace(value, "[redacted]");
    }
    redacted
}

/// Makes this process refuse to be inspected by others: no core dump (which
/// would write unlocked keys and revealed values to disk) and no ptrace or
/// `/proc/PID/mem` / `/proc/PID/environ` reads by other processes of the
/// same user (which could otherwise read `OPSDECK_PASSPHRASE` or a key).
/// Programs OpsDeck starts are not affected (an `exec` resets it). Called
/// first thing by the CLI and the app; where the platform has no such
/// switch it does nothing, and a failure is only logged.
pub fn refuse_inspection() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        tracing::warn!(%error, "could not turn off core dumps and inspection of this process");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variables_are_told_by_name() {
        for name in SECRET_ENV {
            assert!(is_secret_variable(name), "{name}");
        }
        assert!(is_secret_variable("OPSDECK_WEBHOOK_SECRET"));
        assert!(is_secret_variable("opsdeck_passphrase"));
        assert!(!is_secret_variable("OPSDECK_DATA_DIR"));
        assert!(!is_secret_variable("OPSDECK_LOG"));
        assert!(!is_secret_variable("PATH"));
    }

    #[test]
    fn redaction_takes_every_value_out_longest_first() {
        assert_eq!(redact("new=abc123 old=abc", &["abc", "abc123", ""]), "new=[redacted] old=[redacted]");
        assert_eq!(redact("nothing here", &["zzz"]), "nothing here");
    }
}
