//! Who may set what runs or is written on a config project's behalf: its
//! admins. Reload hooks (commands run after each change, on the machine that
//! makes it), linked files (written on each change) and approval rules are
//! theirs to set. A refused attempt is audited as `denied`.
//!
//! A project with no admin yet (made before admins existed, or implicitly by
//! a `config set`) is claimed by the first person who sets one of those
//! things; the claim is audited. `config_create_project` makes its creator
//! the first admin.

use opsdeck_config::{ConfigError, ProjectAdmin};

use super::Configs;
use crate::{Caller, DeckError, Outcome};

impl Configs<'_> {
    /// Checks that `caller` is an admin of `project` (claiming a project that
    /// has none). The deck's own actors (the scheduler) pass.
    pub(crate) async fn require_project_admin(
        self,
        caller: &Caller,
        project: &str,
        action: &str,
        doing: &str,
    ) -> Result<(), DeckError> {
        let Some(user) = caller.user() else {
            return Ok(());
        };
        let admins = self.deck.configs.admins(project).await?;
        if admins.is_empty() {
            self.deck.configs.add_admin(project, user, &caller.actor).await?;
            let details = serde_json::json!({ "member": user, "while": action });
            self.deck.audit(caller, "config.admin_claim", project, Outcome::Ok, details).await?;
            return Ok(());
        }
        if admins.iter().any(|admin| admin.member == user) {
            return Ok(());
        }
        let names: Vec<&str> = admins.iter().map(|admin| admin.member.as_str()).collect();
        let details = serde_json::json!({ "needed": "project admin", "admins": names });
        self.deck.audit(caller, action, project, Outcome::Denied, details).await?;
        Err(ConfigError::Forbidden {
            project: project.to_owned(),
            member: user.to_owned(),
            action: doing.to_owned(),
            admins: names.join(", "),
        }
        .into())
    }

    /// The admins of `project`, oldest first.
    pub async fn admins(self, project: &str) -> Result<Vec<ProjectAdmin>, DeckError> {
        Ok(self.deck.configs.admins(project).await?)
    }

    /// Makes `member` an admin of `project` (admins only). Audited.
    pub async fn admin_add(self, caller: &Caller, project: &str, member: &str) -> Result<(), DeckError> {
        let target = format!("{project}/{member}");
        self.require_project_admin(caller, project, "config.admin_add", "making an admin").await?;
        self.deck.audit(caller, "config.admin_add", &target, Outcome::Ok, serde_json::json!({})).await?;
        self.deck.configs.add_admin(project, member, &caller.actor).await?;
        Ok(())
    }

    /// Takes `member`'s admin role on `project` away (admins only; never the
    /// last admin's). Audited.
    pub async fn admin_remove(self, caller: &Caller, project: &str, member: &str) -> Result<(), DeckError> {
        let target = format!("{project}/{member}");
        self.require_project_admin(caller, project, "config.admin_remove", "removing an admin").await?;
        self.deck.configs.remove_admin(project, member).await?;
        self.deck.audit(caller, "config.admin_remove", &target, Outcome::Ok, serde_json::json!({})).await?;
        Ok(())
    }
}
