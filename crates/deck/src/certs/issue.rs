//! Issuing through ACME: the order with its challenges, the key and account
//! sealed in a vault, installation, deploy hooks and the renewal time; and
//! renewal, revocation and changes of a managed certificate's settings.

use std::path::Path;

use opsdeck_certs::acme;
use opsdeck_certs::deploy::DeployHook;
use opsdeck_certs::inventory::iso_day;
use opsdeck_certs::keys::KeyKind;
use opsdeck_certs::renewal::{random_unit, renew_at};
use opsdeck_certs::rfc2136::Rfc2136;
use opsdeck_certs::trust::TrustRoots;
use opsdeck_certs::{CertError, CertRecord, CertState, Managed};
use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::scheduler::{JobSpec, Schedule, Scheduler};
use opsdeck_vault::{MetadataChange, Role, SecretType};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::options::{challenge_plan, check_remaining, managed_from};
use super::Certs;
use super::{
    iso_minute, renew_job_name, CertsEvent, IssueOptions, RenewOutcome, RevokeReason, RENEWAL_CHECK_EVERY,
    RENEW_JOB_KIND,
};
use crate::definitions::MANAGED_CERT;
use crate::{Caller, DeckError, Outcome};

/// True when renewing `managed` runs a command or writes a file on this
/// machine (a deploy hook, a DNS hook, a webroot): it is then pinned to the
/// host that set it.
fn has_machine_effects(managed: &opsdeck_certs::inventory::Managed) -> bool {
    !managed.deploy.is_empty() || managed.dns_hook.is_some() || managed.webroot.is_some()
}

impl Certs<'_> {
    /// Seals how managed certificate `id` is kept (set by `caller`).
    async fn seal_managed(
        self,
        caller: &Caller,
        id: &str,
        managed: &opsdeck_certs::inventory::Managed,
    ) -> Result<(), DeckError> {
        let content = serde_json::to_value(managed).map_err(|error| CertError::Invalid(error.to_string()))?;
        self.deck.seal_definition(caller, MANAGED_CERT, id, &content, false).await?;
        Ok(())
    }

    /// Issues a new certificate through ACME and keeps managing it (renewal,
    /// deploy hooks). `progress` hears each step.
    pub async fn issue(
        self,
        caller: &Caller,
        options: &IssueOptions,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<CertRecord, DeckError> {
        let vault = self.vault(caller, options.vault.as_deref()).await?;
        let managed = managed_from(options, &vault)?;
        // Hooks and a webroot run commands or write files on a machine: admins only.
        let (needed, doing) = if has_machine_effects(&managed) {
            (Role::Admin, "issuing a certificate with a deploy hook, DNS hook or webroot")
        } else {
            (Role::Operator, "issuing a certificate")
        };
        self.deck.require(caller, &vault, needed, "cert.issue", &managed.domains.join(","), doing).await?;
        if let Some(bundle) = &managed.ca_bundle {
            TrustRoots::bundle(Path::new(bundle))?;
        }
        let id = self.deck.certs.create_managed(&managed, &caller.actor).await?;
        let key_secret = format!("tls-key-{id}");
        let mut managed = managed;
        managed.key_secret = key_secret;
        self.deck.certs.set_managed(&id, &managed).await?;
        self.seal_managed(caller, &id, &managed).await?;
        self.obtain(caller, &id, false, progress).await?;
        Ok(self.deck.certs.get(&id).await?)
    }

    /// Renews one managed certificate now, whether due or not.
    pub async fn renew(
        self,
        caller: &Caller,
        id: &str,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<CertRecord, DeckError> {
        let record = self.deck.certs.get(id).await?;
        let managed = record.managed.as_ref().ok_or_else(|| {
            CertError::Invalid(format!(
                "{} was imported, not issued here: OpsDeck can only renew certificates it issued (cert issue)",
                record.id
            ))
        })?;
        if record.state == CertState::Revoked {
            return Err(CertError::Invalid(format!(
                "{} is revoked; issue a new certificate instead (cert issue)",
                record.id
            ))
            .into());
        }
        self.deck
            .require(
                caller,
                &managed.vault,
                Role::Operator,
                "cert.renew",
                &record.id,
                "renewing a certificate",
            )
            .await?;
        self.obtain(caller, &record.id, true, progress).await?;
        Ok(self.deck.certs.get(&record.id).await?)
    }

    /// Renews every managed certificate whose renewal time has come.
    pub async fn renew_due(self, caller: &Caller) -> Result<Vec<RenewOutcome>, DeckError> {
        let now = now_unix_ms();
        let mut outcomes = Vec::new();
        for cert in self.deck.certs.list().await? {
            let due = cert.managed.is_some()
                && cert.state != CertState::Revoked
                && cert.next_renewal_at.is_some_and(|at| at <= now);
            if !due {
                continue;
            }
            let name = cert.sans.first().cloned().unwrap_or_default();
            let outcome = match self.renew(caller, &cert.id, &|_| {}).await {
                Ok(renewed) => RenewOutcome {
                    id: cert.id,
                    name,
                    renewed: true,
                    message: format!("renewed; valid until {}", iso_day(renewed.not_after)),
                },
                Err(error) => RenewOutcome { id: cert.id, name, renewed: false, message: error.to_string() },
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Asks the CA to revoke a managed certificate and stops renewing it.
    pub async fn revoke(
        self,
        caller: &Caller,
        id: &str,
        reason: Option<RevokeReason>,
    ) -> Result<CertRecord, DeckError> {
        let reason_code = acme_reason(reason);
        let record = self.deck.certs.get(id).await?;
        let managed = record.managed.clone().ok_or_else(|| {
            CertError::Invalid(format!(
                "{} was not issued here; only its CA's account can revoke it",
                record.id
            ))
        })?;
        let leaf =
            record.chain().into_iter().next().ok_or_else(|| {
                CertError::Invalid(format!("{} has no certificate to revoke yet", record.id))
            })?;
        if record.state == CertState::Revoked {
            return Err(CertError::Invalid(format!("{} is already revoked", record.id)).into());
        }
        self.deck
            .require(
                caller,
                &managed.vault,
                Role::Operator,
                "cert.revoke",
                &record.id,
                "revoking a certificate",
            )
            .await?;
        let account = self.acme_account(caller, &managed).await?;
        if let Err(error) = acme::revoke(&account, &leaf, reason_code).await {
            self.deck
                .audit(
                    caller,
                    "cert.revoke",
                    &record.id,
                    Outcome::Failed,
                    serde_json::json!({ "error": error.to_string() }),
                )
                .await?;
            return Err(error.into());
        }
        let message =
            format!("revoked at the CA{}", reason.map(|reason| format!(" ({reason})")).unwrap_or_default());
        self.deck.certs.set_state(&record.id, CertState::Revoked, &message, &caller.actor).await?;
        self.deck.certs.set_next_renewal(&record.id, None).await?;
        let job = renew_job_name(&record.id);
        if Scheduler::exists(&self.deck.store, &job).await? {
            Scheduler::remove(&self.deck.store, &job).await?;
        }
        self.deck
            .audit(
                caller,
                "cert.revoke",
                &record.id,
                Outcome::Ok,
                serde_json::json!({ "serial": record.serial }),
            )
            .await?;
        Ok(self.deck.certs.get(&record.id).await?)
    }

    /// Changes how a managed certificate is kept: its deploy hook (an empty
    /// hook clears it) and/or when it renews (the fraction of the lifetime
    /// left); the renewal job moves to the new time at once.
    pub async fn configure(
        self,
        caller: &Caller,
        id: &str,
        deploy: Option<DeployHook>,
        renew_remaining: Option<f64>,
    ) -> Result<CertRecord, DeckError> {
        let record = self.deck.certs.get(id).await?;
        let mut managed = record.managed.clone().ok_or_else(|| {
            CertError::Invalid(format!(
                "{} is not issued here; deploy hooks and renewal apply to certificates OpsDeck issued",
                record.id
            ))
        })?;
        if deploy.is_none() && renew_remaining.is_none() {
            return Err(CertError::Invalid(
                "nothing to change: give --renew-remaining, --deploy-… options or --no-deploy".to_owned(),
            )
            .into());
        }
        if let Some(hook) = &deploy {
            hook.check()?;
        }
        if let Some(remaining) = renew_remaining {
            check_remaining(remaining)?;
        }
        let sets_hook = deploy.as_ref().is_some_and(|hook| !hook.is_empty());
        let (needed, doing) = if sets_hook {
            (Role::Admin, "setting a deploy hook")
        } else {
            (Role::Operator, "changing a certificate")
        };
        self.deck.require(caller, &managed.vault, needed, "cert.configure", &record.id, doing).await?;
        let mut changes = Vec::new();
        if let Some(hook) = deploy {
            changes.push(if hook.is_empty() {
                "deploy hook removed".to_owned()
            } else {
                "deploy hook set".to_owned()
            });
            managed.deploy = hook;
        }
        if let Some(remaining) = renew_remaining {
            managed.renew_remaining = remaining;
            changes.push(format!("renews when {:.0}% of the lifetime is left", remaining * 100.0));
        }
        self.deck.certs.set_managed(&record.id, &managed).await?;
        self.seal_managed(caller, &record.id, &managed).await?;
        if renew_remaining.is_some() && record.not_after > 0 && record.state != CertState::Revoked {
            let at =
                renew_at(record.not_before, record.not_after, managed.renew_remaining, None, random_unit());
            self.deck.certs.set_next_renewal(&record.id, Some(at)).await?;
            let job = renew_job_name(&record.id);
            if Scheduler::exists(&self.deck.store, &job).await? {
                Scheduler::schedule_at(&self.deck.store, &job, at.max(now_unix_ms())).await?;
            }
            changes.push(format!("next renewal {}", iso_minute(at)));
        }
        let message = changes.join("; ");
        self.deck.certs.set_state(&record.id, record.state, &message, &caller.actor).await?;
        self.deck
            .audit(
                caller,
                "cert.configure",
                &record.id,
                Outcome::Ok,
                // The hook as set, command text and paths included.
                serde_json::json!({ "changes": message, "deploy": managed.deploy }),
            )
            .await?;
        Ok(self.deck.certs.get(&record.id).await?)
    }

    /// The vault for keys: the one named, else the only one, else `certs` (made now).
    async fn vault(self, caller: &Caller, named: Option<&str>) -> Result<String, DeckError> {
        if let Some(name) = named.filter(|name| !name.trim().is_empty()) {
            return Ok(name.trim().to_owned());
        }
        let vaults = self.deck.vaults().list().await?;
        match vaults.as_slice() {
            [only] => Ok(only.name.clone()),
            [] => {
                self.deck.vaults().init(caller, "certs", false).await?;
                Ok("certs".to_owned())
            }
            _ => Err(CertError::Invalid(format!(
                "there are {} vaults; name the one for the private key with --vault",
                vaults.len()
            ))
            .into()),
        }
    }

    /// The ACME account for `managed` (restored from the vault, or registered and sealed there).
    pub(super) async fn acme_account(
        self,
        caller: &Caller,
        managed: &Managed,
    ) -> Result<instant_acme::Account, DeckError> {
        let secret = account_secret_name(&managed.directory_url, &managed.email);
        let reference = format!("{}/{secret}", managed.vault);
        let stored = match self.deck.vaults().secret_get(caller, &reference, None).await {
            Ok(value) => Some(value.value),
            Err(DeckError::Vault(opsdeck_vault::VaultError::UnknownSecret { .. })) => None,
            Err(error) => return Err(error),
        };
        let binding = match (&stored, &managed.eab) {
            (None, Some(eab)) => {
                let key = self.deck.vaults().secret_get(caller, &eab.hmac_key, None).await?;
                Some(acme::ExternalBinding {
                    kid: eab.kid.clone(),
                    hmac_key: acme::ExternalBinding::decode_key(&key.value)?,
                })
            }
            _ => None,
        };
        let (account, fresh) = acme::account(
            &managed.directory_url,
            &managed.email,
            stored.as_deref().map(|value| value.as_str()),
            managed.ca_bundle.as_deref().map(Path::new),
            binding.as_ref(),
        )
        .await?;
        if let Some(credentials) = fresh {
            let metadata = MetadataChange {
                note: Some(format!("ACME account of {} at {}", managed.email, managed.directory_url)),
                tags: Some(vec!["acme".to_owned()]),
                ..MetadataChange::default()
            };
            self.deck
                .vaults()
                .secret_set(caller, &reference, SecretType::ServiceAccount, credentials.as_bytes(), &metadata)
                .await?;
        }
        Ok(account)
    }

    /// Issues (or renews) managed certificate `id`: order, validate, seal the
    /// key, install, deploy, schedule the next renewal. A failure leaves the
    /// error on the certificate (and no new key in the vault).
    pub(super) async fn obtain(
        self,
        caller: &Caller,
        id: &str,
        renewal: bool,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<(), DeckError> {
        let record = self.deck.certs.get(id).await?;
        let managed =
            record.managed.clone().ok_or_else(|| CertError::Invalid(format!("{id} is not managed here")))?;
        // Its deploy hook, DNS hook and webroot run commands and write files:
        // only as a person set them, and (when any is set) on their host.
        let content =
            serde_json::to_value(&managed).map_err(|error| CertError::Invalid(error.to_string()))?;
        let pinned = has_machine_effects(&managed);
        let seal = match self.deck.check_definition(caller, MANAGED_CERT, id, &content, pinned).await {
            Ok(seal) => seal,
            Err(error) => {
                self.deck
                    .certs
                    .set_state(id, record.state, &format!("refused: {error}"), &caller.actor)
                    .await?;
                return Err(error);
            }
        };
        let had_certificate = record.not_after > 0;
        let (working, verb) =
            if renewal { (CertState::Renewing, "renewal") } else { (CertState::Issuing, "issuance") };
        self.deck.certs.set_state(id, working, &format!("{verb} started"), &caller.actor).await?;
        let report = |step: &str| {
            progress(step);
            self.deck
                .events
                .publish_area(&CertsEvent::CertProgress { id: id.to_owned(), step: step.to_owned() });
        };
        let attempt = async {
            report("signing in to the CA");
            let account = self.acme_account(caller, &managed).await?;
            let tsig_secret = match &managed.dns_update {
                Some(update) => {
                    let stored = self.deck.vaults().secret_get(caller, &update.key_secret, None).await?;
                    Rfc2136::decode_secret(&stored.value)?
                }
                None => Zeroizing::new(Vec::new()),
            };
            let plan = challenge_plan(&managed, tsig_secret)?;
            let key: KeyKind = managed.key_type;
            let issued = acme::issue(&account, &managed.domains, key, &plan, &report).await?;
            Ok::<_, DeckError>((account, issued))
        }
        .await;
        let (account, issued) = match attempt {
            Ok(done) => done,
            Err(error) => {
                let state = if renewal && had_certificate { CertState::Active } else { CertState::Failed };
                let message = format!("{verb} failed: {error}");
                self.deck.certs.record_failure(id, state, &message, &caller.actor).await?;
                self.deck
                    .audit(
                        caller,
                        &format!("cert.{}", if renewal { "renew" } else { "issue" }),
                        id,
                        Outcome::Failed,
                        serde_json::json!({ "error": error.to_string() }),
                    )
                    .await?;
                let payload = serde_json::json!({
                    "id": id, "domains": managed.domains, "error": error.to_string(), "renewal": renewal,
                });
                if let Err(notify_error) = self.deck.notify().broadcast("cert.failed", &payload).await {
                    tracing::warn!(error = %notify_error, "could not queue the certificate failure notification");
                }
                return Err(error);
            }
        };

        report("sealing the key in the vault");
        let reference = format!("{}/{}", managed.vault, managed.key_secret);
        let metadata = MetadataChange {
            note: Some(format!("private key of certificate {id} ({})", managed.domains.join(", "))),
            tags: Some(vec!["tls".to_owned()]),
            ..MetadataChange::default()
        };
        self.deck
            .vaults()
            .secret_set(caller, &reference, SecretType::TlsCertificate, issued.key_pem.as_bytes(), &metadata)
            .await?;
        let roots = TrustRoots::system_and(managed.ca_bundle.as_deref().map(Path::new))?;
        let check = roots.check(&issued.chain, now_unix_ms());
        self.deck.certs.install(id, &issued.chain, &check, &caller.actor).await?;
        self.deck
            .audit(
                caller,
                &format!("cert.{}", if renewal { "renew" } else { "issue" }),
                id,
                Outcome::Ok,
                serde_json::json!({
                    "domains": managed.domains, "order": issued.order_url,
                    "deploy": managed.deploy, "dns_hook": managed.dns_hook, "webroot": managed.webroot,
                }),
            )
            .await?;

        if !managed.deploy.is_empty() {
            report("running the deploy hook");
            let leaf = opsdeck_certs::x509::to_pem(&issued.chain[..1]);
            let rest = opsdeck_certs::x509::to_pem(&issued.chain[1..]);
            match managed.deploy.run(&leaf, &rest, &issued.key_pem).await {
                Ok(done) => {
                    self.deck
                        .certs
                        .set_state(id, CertState::Issued, &format!("deployed: {done}"), &caller.actor)
                        .await?;
                    for path in
                        [&managed.deploy.cert_path, &managed.deploy.fullchain_path].into_iter().flatten()
                    {
                        self.deck.certs.add_location(id, "deploy", path).await?;
                    }
                }
                Err(error) => {
                    self.deck
                        .certs
                        .set_state(id, CertState::Issued, &format!("deploy failed: {error}"), &caller.actor)
                        .await?;
                    let payload = serde_json::json!({ "id": id, "domains": managed.domains, "error": error.to_string() });
                    if let Err(notify_error) =
                        self.deck.notify().broadcast("cert.deploy_failed", &payload).await
                    {
                        tracing::warn!(error = %notify_error, "could not queue the deploy failure notification");
                    }
                }
            }
        }
        let next = self.schedule_renewal(id, &managed, &seal, &account, &issued.chain[0]).await?;
        let installed = self.deck.certs.get(id).await?;
        self.deck
            .certs
            .set_state(
                id,
                CertState::Active,
                &format!("active until {}; {next}", iso_day(installed.not_after)),
                &caller.actor,
            )
            .await?;
        report("done");
        Ok(())
    }

    /// Picks the next renewal time (the CA's ARI window when offered, else
    /// the lifetime threshold with jitter) and points the renewal job at it;
    /// returns the choice in words.
    async fn schedule_renewal(
        self,
        id: &str,
        managed: &Managed,
        seal: &opsdeck_core::definitions::Seal,
        account: &instant_acme::Account,
        leaf: &[u8],
    ) -> Result<String, DeckError> {
        let details = opsdeck_certs::x509::describe(leaf).map_err(|reason| CertError::Unreadable {
            source_name: "the issued certificate".to_owned(),
            reason,
        })?;
        let window = match acme::renewal_window(account, leaf).await {
            Ok(window) => window,
            Err(error) => {
                tracing::warn!(%error, "the CA's renewal information could not be read; using the lifetime threshold");
                None
            }
        };
        let at =
            renew_at(details.not_before, details.not_after, managed.renew_remaining, window, random_unit());
        self.deck.certs.set_next_renewal(id, Some(at)).await?;
        let job = renew_job_name(id);
        let spec = JobSpec {
            name: job.clone(),
            kind: RENEW_JOB_KIND.to_owned(),
            schedule: Schedule::Every(RENEWAL_CHECK_EVERY),
            payload: serde_json::json!({ "id": id }),
        };
        Scheduler::upsert_job(&self.deck.store, &spec).await?;
        // Renewing runs its hooks on this machine: only the host that set them renews.
        let host = (has_machine_effects(managed) && !seal.run_anywhere).then_some(seal.host.as_str());
        Scheduler::pin_to_host(&self.deck.store, &job, host).await?;
        Scheduler::schedule_at(&self.deck.store, &job, at.max(now_unix_ms())).await?;
        let why = match window {
            Some(window) => format!(
                "next renewal {} (inside the CA's suggested window {} – {})",
                iso_minute(at),
                iso_minute(window.start),
                iso_minute(window.end)
            ),
            None => format!(
                "next renewal {} (when {:.0}% of the lifetime is left)",
                iso_minute(at),
                managed.renew_remaining * 100.0
            ),
        };
        Ok(why)
    }
}

fn account_secret_name(directory_url: &str, email: &str) -> String {
    let digest = Sha256::digest(format!("{directory_url}\n{email}").as_bytes());
    format!("acme-account-{}", &hex::encode(digest)[..12])
}

fn acme_reason(reason: Option<RevokeReason>) -> Option<instant_acme::RevocationReason> {
    use instant_acme::RevocationReason as R;
    reason.map(|reason| match reason {
        RevokeReason::Unspecified => R::Unspecified,
        RevokeReason::KeyCompromise => R::KeyCompromise,
        RevokeReason::Superseded => R::Superseded,
        RevokeReason::CessationOfOperation => R::CessationOfOperation,
        RevokeReason::AffiliationChanged => R::AffiliationChanged,
    })
}
