//! Signalling a service after its config changed: the per-environment
//! reload hook (a command and/or a webhook), sealed, run after each change.

use opsdeck_config::reload::ChangeInfo;
use opsdeck_config::{ConfigError, ConfigVersion, ReloadHook, ReloadOutcome};

use super::Configs;
use crate::definitions::RELOAD_HOOK;
use crate::{Caller, DeckError, Outcome};

/// What a reload hook's seal covers: its command and its webhook target.
fn reload_hook_content(hook: &ReloadHook) -> serde_json::Value {
    serde_json::json!({ "command": hook.command, "webhook": hook.webhook })
}

impl Configs<'_> {
    /// What `project/env` signals after a change (an empty hook when nothing).
    pub async fn reload_hook(self, project: &str, env: &str) -> Result<ReloadHook, DeckError> {
        Ok(self.deck.configs.reload_hook(project, env).await?.unwrap_or_default())
    }

    /// Sets what `project/env` signals after each change (an empty hook
    /// clears it). A webhook must name an existing target.
    pub async fn set_reload_hook(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        hook: &ReloadHook,
    ) -> Result<(), DeckError> {
        if let Some(name) = hook.webhook.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
            let targets = self.deck.notify().targets().await?;
            if !targets.iter().any(|target| target.name == name) {
                return Err(ConfigError::Invalid(format!(
                    "there is no webhook target {name}; add it with `opsdeck notify add {name} URL` first"
                ))
                .into());
            }
        }
        let subject = format!("{project}/{env}");
        self.require_project_admin(caller, project, "config.reload_hook", "setting a reload hook").await?;
        let details = serde_json::json!({ "command": hook.command, "webhook": hook.webhook });
        self.deck.audit(caller, "config.reload_hook", &subject, Outcome::Ok, details).await?;
        self.deck.configs.set_reload_hook(project, env, hook).await?;
        // What is stored is sealed (an empty hook stores nothing).
        match self.deck.configs.reload_hook(project, env).await? {
            Some(stored) => {
                self.deck
                    .seal_definition(caller, RELOAD_HOOK, &subject, &reload_hook_content(&stored), true)
                    .await?;
            }
            None => self.deck.unseal_definition(caller, RELOAD_HOOK, &subject).await?,
        }
        Ok(())
    }

    /// After `version` was stored: writes a linked layer's file, then runs
    /// `project/env`'s reload hook and records the outcome on the version. A failing signal never undoes the change:
    /// it is reported (and audited) so the user can act.
    pub(crate) async fn signal_change(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        version: &mut ConfigVersion,
    ) -> Result<(), DeckError> {
        self.write_back_link(caller, project, env, version).await?;
        self.signal_reload(caller, project, env, version).await
    }

    /// Runs `project/env`'s reload hook after `version` was stored, and
    /// records the outcome on it. (A version taken from its linked file
    /// goes straight here: there is nothing to write back, and reading the
    /// file again could meet the person's next edit.)
    pub(crate) async fn signal_reload(
        self,
        caller: &Caller,
        project: &str,
        env: &str,
        version: &mut ConfigVersion,
    ) -> Result<(), DeckError> {
        let Some(hook) = self.deck.configs.reload_hook(project, env).await? else {
            return Ok(());
        };
        let subject = format!("{project}/{env}");
        if let Err(error) = self
            .deck
            .check_definition(caller, RELOAD_HOOK, &subject, &reload_hook_content(&hook), false)
            .await
        {
            // The change is stored; the planted (or altered) hook is not run.
            version.reload =
                Some(ReloadOutcome { ok: false, done: Vec::new(), error: Some(error.to_string()) });
            return Ok(());
        }
        let change = ChangeInfo { project, env, version: version.version, hash: &version.content_hash };
        let mut done = Vec::new();
        let mut errors = Vec::new();
        if let Some(command) = &hook.command {
            match opsdeck_config::reload::run_command(command, &change).await {
                Ok(what) => done.push(what),
                Err(error) => errors.push(error),
            }
        }
        if let Some(target) = &hook.webhook {
            let payload = serde_json::json!({
                "project": project, "env": env, "version": version.version,
                "hash": version.content_hash, "layer": version.layer, "author": version.author,
            });
            match self.deck.notify().send_to(target, "config.changed", &payload).await {
                Ok(crate::DeliveryStatus::Delivered) => done.push(format!("webhook {target}: delivered")),
                Ok(status) => errors.push(format!("webhook {target}: {status} (retried later)")),
                Err(error) => errors.push(format!("webhook {target}: {error}")),
            }
        }
        let outcome = ReloadOutcome {
            ok: errors.is_empty(),
            done,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        };
        let details =
            serde_json::json!({ "version": version.version, "done": outcome.done, "error": outcome.error });
        let result = if outcome.ok { Outcome::Ok } else { Outcome::Failed };
        self.deck.audit(caller, "config.reload", &format!("{project}/{env}"), result, details).await?;
        version.reload = Some(outcome);
        Ok(())
    }
}
