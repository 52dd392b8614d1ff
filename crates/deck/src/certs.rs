//! Certificates in the deck: the inventory (import, probe), ACME issuance
//! and renewal with keys sealed in a vault, deploy hooks, the renewal and
//! expiry-warning jobs, and the notifications they send.
//!
//! The ACME account credentials and each certificate's private key live in
//! a vault as secrets (`acme-account-…`, `tls-key-ID`), so issuing needs the
//! operator role in that vault; the key is written unencrypted only by a
//! deploy hook the user configured.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use opsdeck_certs::acme::{self, ChallengePlan};
use opsdeck_certs::challenges::ScriptDns;
use opsdeck_certs::deploy::DeployHook;
use opsdeck_certs::inventory::iso_day;
use opsdeck_certs::keys::KeyKind;
use opsdeck_certs::renewal::{random_unit, renew_at, DEFAULT_REMAINING_FRACTION};
use opsdeck_certs::rfc2136::Rfc2136;
use opsdeck_certs::trust::TrustRoots;
use opsdeck_certs::{CertError, CertEvent, CertRecord, DnsUpdate, ExternalAccount, Managed};
use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::events::DeckEvent;
use opsdeck_core::scheduler::{JobSpec, Schedule, Scheduler};
use opsdeck_vault::{MetadataChange, Role, SecretType};
use zeroize::Zeroizing;

use crate::{Caller, Deck, DeckError, Outcome};

/// The scheduler job kind that renews one managed certificate when due.
pub const RENEW_JOB_KIND: &str = "cert.renew";
/// The scheduler job kind that sends expiry warnings.
pub const EXPIRY_JOB_KIND: &str = "cert.expiry";
/// The built-in job that checks every certificate's expiry.
pub const EXPIRY_JOB: &str = "cert-expiry-check";
/// Expiry warnings go out when this many days are left (then again at each smaller one).
pub const DEFAULT_WARN_DAYS: [i64; 3] = [30, 14, 7];
/// How often a managed certificate's renewal job looks at it.
const RENEWAL_CHECK_EVERY: Duration = Duration::from_secs(12 * 3600);
/// How long a probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

fn renew_job_name(id: &str) -> String {
    format!("cert-renew:{id}")
}

/// What to issue and how (the CLI's and the Issue dialog's input).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct IssueOptions {
    /// Names to put in the certificate; `*.example.com` needs dns-01.
    pub domains: Vec<String>,
    /// The CA's ACME directory URL.
    pub directory_url: String,
    /// The account's contact email.
    pub email: String,
    /// `http-01` (default) or `dns-01`.
    pub challenge: String,
    /// HTTP-01: the built-in responder's port (default 80).
    pub http_port: Option<u16>,
    /// HTTP-01: the responder's address (default 127.0.0.1; 0.0.0.0 to answer the CA directly).
    pub http_bind: Option<String>,
    /// HTTP-01 through files under this document root instead of the responder.
    pub webroot: Option<String>,
    /// DNS-01: the hook command that sets and removes TXT records.
    pub dns_hook: Option<String>,
    /// DNS-01: RFC 2136 dynamic updates (instead of a hook).
    pub dns_update: Option<DnsUpdate>,
    /// `ecdsa-p256` (default), `ecdsa-p384`, `rsa2048`, `rsa3072`.
    pub key_type: String,
    /// A CA bundle to trust for the ACME server (a private CA).
    pub ca_bundle: Option<String>,
    /// The CA's external account binding (ZeroSSL, Google Trust Services, …).
    pub eab: Option<ExternalAccount>,
    /// The vault for the key and the account (default: the only vault, or `certs`).
    pub vault: Option<String>,
    /// Renew when this fraction of the lifetime remains (default 1/3).
    pub renew_remaining: Option<f64>,
    /// Files to write and a command to run after each issuance.
    pub deploy: Option<DeployHook>,
}

/// Which certificates `cert list` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertQuery {
    /// Only those expiring within this many days (expired ones included).
    pub expiring_within_days: Option<i64>,
    /// Only this source: `file`, `endpoint` or `acme`.
    pub source: Option<String>,
    /// Only this state (`active`, `expired`, `failed`, ...).
    pub state: Option<String>,
}

/// A certificate with its history, for the detail view and `cert show`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct CertDetail {
    /// The certificate.
    pub certificate: CertRecord,
    /// Its lifecycle history, oldest first.
    pub history: Vec<CertEvent>,
    /// The chain, leaf first, each described.
    pub chain: Vec<opsdeck_certs::x509::CertDetails>,
}

/// What an import found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
pub struct CertImportReport {
    /// Certificates added or seen again.
    pub certificates: Vec<CertRecord>,
    /// Files that held no readable certificate, with why.
    pub problems: Vec<CertImportProblem>,
    /// Files a directory held that are not certificates (keys, requests), passed over.
    pub skipped: Vec<CertImportProblem>,
}

/// A file an import could not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CertImportProblem {
    /// The file.
    pub path: String,
    /// What was wrong.
    pub error: String,
}

/// The outcome of one renewal among several (`cert renew --due`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct RenewOutcome {
    /// The certificate.
    pub id: String,
    /// Its first name.
    pub name: String,
    /// True when a new certificate is in place.
    pub renewed: bool,
    /// What happened (the new expiry, or the CA's error).
    pub message: String,
}

/// Certificates that need attention, for the Overview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct CertSummary {
    /// How many certificates are known.
    #[ts(type = "number")]
    pub total: i64,
    /// Expiring within 30 days (not yet expired).
    #[ts(type = "number")]
    pub expiring_soon: i64,
    /// Already expired.
    #[ts(type = "number")]
    pub expired: i64,
    /// Managed certificates whose last issuance or renewal failed.
    #[ts(type = "number")]
    pub failed: i64,
}

/// Certificate files a directory import picks up.
const CERT_EXTENSIONS: [&str; 6] = ["pem", "crt", "cer", "der", "cert", "ca-bundle"];

impl Deck {
    /// Every certificate, soonest expiry first.
    pub async fn cert_list(&self) -> Result<Vec<CertRecord>, DeckError> {
        Ok(self.certs.list().await?)
    }

    /// The certificates matching `query`, soonest expiry first.
    pub async fn cert_query(&self, query: &CertQuery) -> Result<Vec<CertRecord>, DeckError> {
        let by = query.expiring_within_days.map(|days| now_unix_ms() + days.max(0) * 86_400_000);
        Ok(self
            .certs
            .list()
            .await?
            .into_iter()
            .filter(|cert| by.is_none_or(|by| cert.not_after > 0 && cert.not_after <= by))
            .filter(|cert| query.source.as_deref().is_none_or(|source| cert.source == source))
            .filter(|cert| query.state.as_deref().is_none_or(|state| cert.state == state))
            .collect())
    }

    /// One certificate with its history and described chain.
    pub async fn cert_show(&self, id: &str) -> Result<CertDetail, DeckError> {
        let certificate = self.certs.get(id).await?;
        let history = self.certs.events(&certificate.id).await?;
        let chain =
            certificate.chain().iter().filter_map(|der| opsdeck_certs::x509::describe(der).ok()).collect();
        Ok(CertDetail { certificate, history, chain })
    }

    /// Counts for the Overview.
    pub async fn cert_summary(&self) -> Result<CertSummary, DeckError> {
        let list = self.certs.list().await?;
        let mut summary = CertSummary { total: list.len() as i64, ..CertSummary::default() };
        for cert in &list {
            match cert.state.as_str() {
                "expired" => summary.expired += 1,
                "failed" => summary.failed += 1,
                "revoked" => {}
                _ if cert.not_after > 0 && cert.days_left < 30 => summary.expiring_soon += 1,
                _ => {}
            }
            if cert.state != "failed" && cert.last_error.is_some() && cert.managed.is_some() {
                summary.failed += 1;
            }
        }
        Ok(summary)
    }

    /// Imports certificates from files and directories (recursively: files
    /// ending in .pem, .crt, .cer, .der, .cert). A file with a chain becomes one
    /// entry; a bundle of unrelated certificates becomes one entry each. Unreadable
    /// files are reported, not fatal, unless nothing could be imported.
    pub async fn cert_import(
        &self,
        caller: &Caller,
        paths: &[PathBuf],
        ca_bundle: Option<&Path>,
    ) -> Result<CertImportReport, DeckError> {
        let roots = TrustRoots::system_and(ca_bundle)?;
        let mut files = Vec::new();
        for path in paths {
            collect_files(path, true, &mut files)?;
        }
        let mut report = CertImportReport::default();
        for (file, named) in files {
            let shown = file.display().to_string();
            let absolute =
                std::fs::canonicalize(&file).map(|path| path.display().to_string()).unwrap_or(shown.clone());
            match std::fs::read(&file) {
                Ok(bytes) => {
                    // A directory's keys and requests sit beside its certificates: pass over them.
                    if let Some(kind) = opsdeck_certs::x509::non_certificate_pem(&bytes).filter(|_| !named) {
                        report.skipped.push(CertImportProblem {
                            path: absolute,
                            error: format!("{kind}, not a certificate"),
                        });
                        continue;
                    }
                    self.import_bytes(caller, &roots, &absolute, &bytes, &mut report).await?
                }
                Err(error) => report.problems.push(CertImportProblem {
                    error: CertError::Io { path: shown.clone(), reason: error.to_string() }.to_string(),
                    path: shown,
                }),
            }
        }
        let details = serde_json::json!({
            "certificates": report.certificates.len(), "problems": report.problems.len(),
        });
        self.audit(caller, "cert.import", &paths_text(paths), Outcome::Ok, details).await?;
        Ok(report)
    }

    /// Imports the certificates of one file's bytes (the app's file picker
    /// hands over contents, not paths); `name` is the file's name.
    pub async fn cert_import_bytes(
        &self,
        caller: &Caller,
        name: &str,
        bytes: &[u8],
        ca_bundle: Option<&Path>,
    ) -> Result<CertImportReport, DeckError> {
        let roots = TrustRoots::system_and(ca_bundle)?;
        let mut report = CertImportReport::default();
        self.import_bytes(caller, &roots, name, bytes, &mut report).await?;
        let details = serde_json::json!({
            "certificates": report.certificates.len(), "problems": report.problems.len(),
        });
        self.audit(caller, "cert.import", name, Outcome::Ok, details).await?;
        Ok(report)
    }

    async fn import_bytes(
        &self,
        caller: &Caller,
        roots: &TrustRoots,
        location: &str,
        bytes: &[u8],
        report: &mut CertImportReport,
    ) -> Result<(), DeckError> {
        let ders = match opsdeck_certs::x509::certificates_in(bytes, location) {
            Ok(ders) => ders,
            Err(error) => {
                report
                    .problems
                    .push(CertImportProblem { path: location.to_owned(), error: error.to_string() });
                return Ok(());
            }
        };
        let now = now_unix_ms();
        for chain in split_chains(ders) {
            let check = roots.check(&chain, now);
            let record =
                self.certs.record_found(&chain, &check, "file", ("file", location), &caller.actor).await?;
            report.certificates.push(record);
        }
        Ok(())
    }

    /// Connects to `endpoint` (`HOST:PORT`), records the chain it serves and checks it.
    pub async fn cert_probe(
        &self,
        caller: &Caller,
        endpoint: &str,
        servername: Option<&str>,
        ca_bundle: Option<&Path>,
    ) -> Result<CertRecord, DeckError> {
        let roots = TrustRoots::system_and(ca_bundle)?;
        let probed = opsdeck_certs::probe::probe(endpoint, servername, PROBE_TIMEOUT).await?;
        self.record_probe(caller, &roots, &probed).await
    }

    /// Probes many endpoints at once (`concurrency` at a time), for a fleet
    /// check; each endpoint's result is reported separately.
    pub async fn cert_probe_many(
        &self,
        caller: &Caller,
        endpoints: &[String],
        ca_bundle: Option<&Path>,
        concurrency: usize,
    ) -> Result<Vec<Result<CertRecord, DeckError>>, DeckError> {
        let roots = TrustRoots::system_and(ca_bundle)?;
        let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, endpoint) in endpoints.iter().enumerate() {
            let limit = limit.clone();
            let endpoint = endpoint.clone();
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                (index, opsdeck_certs::probe::probe(&endpoint, None, PROBE_TIMEOUT).await)
            });
        }
        let mut probed = Vec::with_capacity(endpoints.len());
        while let Some(joined) = tasks.join_next().await {
            if let Ok(result) = joined {
                probed.push(result);
            }
        }
        probed.sort_by_key(|(index, _)| *index);
        let mut results = Vec::with_capacity(probed.len());
        for (_, result) in probed {
            results.push(match result {
                Ok(probed) => self.record_probe(caller, &roots, &probed).await,
                Err(error) => Err(error.into()),
            });
        }
        Ok(results)
    }

    async fn record_probe(
        &self,
        caller: &Caller,
        roots: &TrustRoots,
        probed: &opsdeck_certs::probe::Probed,
    ) -> Result<CertRecord, DeckError> {
        let check = roots.check(&probed.chain, now_unix_ms());
        let location = if probed.endpoint.starts_with(&probed.servername) {
            probed.endpoint.clone()
        } else {
            format!("{} (SNI {})", probed.endpoint, probed.servername)
        };
        let record = self
            .certs
            .record_found(&probed.chain, &check, "endpoint", ("endpoint", &location), &caller.actor)
            .await?;
        let details = serde_json::json!({ "id": record.id, "chain": check.status });
        self.audit(caller, "cert.probe", &probed.endpoint, Outcome::Ok, details).await?;
        Ok(record)
    }

    /// Issues a new certificate through ACME and keeps managing it (renewal,
    /// deploy hooks). `progress` hears each step.
    pub async fn cert_issue(
        &self,
        caller: &Caller,
        options: &IssueOptions,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<CertRecord, DeckError> {
        let vault = self.cert_vault(caller, options.vault.as_deref()).await?;
        let managed = managed_from(options, &vault)?;
        self.require(
            caller,
            &vault,
            Role::Operator,
            "cert.issue",
            &managed.domains.join(","),
            "issuing a certificate",
        )
        .await?;
        if let Some(bundle) = &managed.ca_bundle {
            TrustRoots::bundle(Path::new(bundle))?;
        }
        let id = self.certs.create_managed(&managed, &caller.actor).await?;
        let key_secret = format!("tls-key-{id}");
        let mut managed = managed;
        managed.key_secret = key_secret;
        self.certs.set_managed(&id, &managed).await?;
        self.obtain(caller, &id, false, progress).await?;
        Ok(self.certs.get(&id).await?)
    }

    /// Renews one managed certificate now, whether due or not.
    pub async fn cert_renew(
        &self,
        caller: &Caller,
        id: &str,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<CertRecord, DeckError> {
        let record = self.certs.get(id).await?;
        let managed = record.managed.as_ref().ok_or_else(|| {
            CertError::Invalid(format!(
                "{} was imported, not issued here: OpsDeck can only renew certificates it issued (cert issue)",
                record.id
            ))
        })?;
        if record.state == "revoked" {
            return Err(CertError::Invalid(format!(
                "{} is revoked; issue a new certificate instead (cert issue)",
                record.id
            ))
            .into());
        }
        self.require(
            caller,
            &managed.vault,
            Role::Operator,
            "cert.renew",
            &record.id,
            "renewing a certificate",
        )
        .await?;
        self.obtain(caller, &record.id, true, progress).await?;
        Ok(self.certs.get(&record.id).await?)
    }

    /// Renews every managed certificate whose renewal time has come.
    pub async fn cert_renew_due(&self, caller: &Caller) -> Result<Vec<RenewOutcome>, DeckError> {
        let now = now_unix_ms();
        let mut outcomes = Vec::new();
        for cert in self.certs.list().await? {
            let due = cert.managed.is_some()
                && cert.state != "revoked"
                && cert.next_renewal_at.is_some_and(|at| at <= now);
            if !due {
                continue;
            }
            let name = cert.sans.first().cloned().unwrap_or_default();
            let outcome = match self.cert_renew(caller, &cert.id, &|_| {}).await {
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
    pub async fn cert_revoke(
        &self,
        caller: &Caller,
        id: &str,
        reason: Option<&str>,
    ) -> Result<CertRecord, DeckError> {
        let reason_code = parse_reason(reason)?;
        let record = self.certs.get(id).await?;
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
        if record.state == "revoked" {
            return Err(CertError::Invalid(format!("{} is already revoked", record.id)).into());
        }
        self.require(
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
            self.audit(
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
        self.certs.set_state(&record.id, "revoked", &message, &caller.actor).await?;
        self.certs.set_next_renewal(&record.id, None).await?;
        let job = renew_job_name(&record.id);
        if Scheduler::exists(&self.store, &job).await? {
            Scheduler::remove(&self.store, &job).await?;
        }
        self.audit(
            caller,
            "cert.revoke",
            &record.id,
            Outcome::Ok,
            serde_json::json!({ "serial": record.serial }),
        )
        .await?;
        Ok(self.certs.get(&record.id).await?)
    }

    /// Forgets a certificate (not its key in the vault); stops its renewal.
    pub async fn cert_remove(&self, caller: &Caller, id: &str) -> Result<(), DeckError> {
        let record = self.certs.get(id).await?;
        if let Some(managed) = &record.managed {
            self.require(
                caller,
                &managed.vault,
                Role::Operator,
                "cert.remove",
                &record.id,
                "removing a certificate",
            )
            .await?;
        }
        let job = renew_job_name(&record.id);
        if Scheduler::exists(&self.store, &job).await? {
            Scheduler::remove(&self.store, &job).await?;
        }
        self.certs.remove(&record.id).await?;
        self.audit(
            caller,
            "cert.remove",
            &record.id,
            Outcome::Ok,
            serde_json::json!({ "subject": record.subject }),
        )
        .await?;
        Ok(())
    }

    /// Changes how a managed certificate is kept: its deploy hook (an empty
    /// hook clears it) and/or when it renews (the fraction of the lifetime
    /// left); the renewal job moves to the new time at once.
    pub async fn cert_configure(
        &self,
        caller: &Caller,
        id: &str,
        deploy: Option<DeployHook>,
        renew_remaining: Option<f64>,
    ) -> Result<CertRecord, DeckError> {
        let record = self.certs.get(id).await?;
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
        self.require(
            caller,
            &managed.vault,
            Role::Operator,
            "cert.configure",
            &record.id,
            "changing a certificate",
        )
        .await?;
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
        self.certs.set_managed(&record.id, &managed).await?;
        if renew_remaining.is_some() && record.not_after > 0 && record.state != "revoked" {
            let at =
                renew_at(record.not_before, record.not_after, managed.renew_remaining, None, random_unit());
            self.certs.set_next_renewal(&record.id, Some(at)).await?;
            let job = renew_job_name(&record.id);
            if Scheduler::exists(&self.store, &job).await? {
                Scheduler::schedule_at(&self.store, &job, at.max(now_unix_ms())).await?;
            }
            changes.push(format!("next renewal {}", iso_minute(at)));
        }
        let message = changes.join("; ");
        self.certs.set_state(&record.id, &record.state, &message, &caller.actor).await?;
        self.audit(
            caller,
            "cert.configure",
            &record.id,
            Outcome::Ok,
            serde_json::json!({ "changes": message }),
        )
        .await?;
        Ok(self.certs.get(&record.id).await?)
    }

    /// Sets the expiry-warning thresholds (days before expiry, e.g. 30, 14, 7).
    pub async fn cert_set_warn_days(&self, caller: &Caller, days: &[i64]) -> Result<(), DeckError> {
        if days.is_empty() || days.iter().any(|day| *day < 0 || *day > 3650) {
            return Err(
                CertError::Invalid("give warning days between 0 and 3650, like 30,14,7".to_owned()).into()
            );
        }
        let mut days = days.to_vec();
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        Scheduler::upsert_job(&self.store, &expiry_job(&days)).await?;
        self.audit(caller, "cert.alerts", EXPIRY_JOB, Outcome::Ok, serde_json::json!({ "days": days }))
            .await?;
        Ok(())
    }

    /// The vault for keys: the one named, else the only one, else `certs` (made now).
    async fn cert_vault(&self, caller: &Caller, named: Option<&str>) -> Result<String, DeckError> {
        if let Some(name) = named.filter(|name| !name.trim().is_empty()) {
            return Ok(name.trim().to_owned());
        }
        let vaults = self.vault_list().await?;
        match vaults.as_slice() {
            [only] => Ok(only.name.clone()),
            [] => {
                self.vault_init(caller, "certs", false).await?;
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
    async fn acme_account(
        &self,
        caller: &Caller,
        managed: &Managed,
    ) -> Result<instant_acme::Account, DeckError> {
        let secret = account_secret_name(&managed.directory_url, &managed.email);
        let reference = format!("{}/{secret}", managed.vault);
        let stored = match self.secret_get(caller, &reference, None).await {
            Ok(value) => Some(value.value),
            Err(DeckError::Vault(opsdeck_vault::VaultError::UnknownSecret { .. })) => None,
            Err(error) => return Err(error),
        };
        let binding = match (&stored, &managed.eab) {
            (None, Some(eab)) => {
                let key = self.secret_get(caller, &eab.hmac_key, None).await?;
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
            self.secret_set(
                caller,
                &reference,
                SecretType::ServiceAccount,
                credentials.as_bytes(),
                &metadata,
            )
            .await?;
        }
        Ok(account)
    }

    /// Issues (or renews) managed certificate `id`: order, validate, seal the
    /// key, install, deploy, schedule the next renewal. A failure leaves the
    /// error on the certificate (and no new key in the vault).
    async fn obtain(
        &self,
        caller: &Caller,
        id: &str,
        renewal: bool,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<(), DeckError> {
        let record = self.certs.get(id).await?;
        let managed =
            record.managed.clone().ok_or_else(|| CertError::Invalid(format!("{id} is not managed here")))?;
        let had_certificate = record.not_after > 0;
        let (working, verb) = if renewal { ("renewing", "renewal") } else { ("issuing", "issuance") };
        self.certs.set_state(id, working, &format!("{verb} started"), &caller.actor).await?;
        let report = |step: &str| {
            progress(step);
            self.events.publish(DeckEvent::CertProgress { id: id.to_owned(), step: step.to_owned() });
        };
        let attempt = async {
            report("signing in to the CA");
            let account = self.acme_account(caller, &managed).await?;
            let tsig_secret = match &managed.dns_update {
                Some(update) => {
                    let stored = self.secret_get(caller, &update.key_secret, None).await?;
                    Rfc2136::decode_secret(&stored.value)?
                }
                None => Zeroizing::new(Vec::new()),
            };
            let plan = challenge_plan(&managed, tsig_secret)?;
            let key = KeyKind::parse(&managed.key_type)?;
            let issued = acme::issue(&account, &managed.domains, key, &plan, &report).await?;
            Ok::<_, DeckError>((account, issued))
        }
        .await;
        let (account, issued) = match attempt {
            Ok(done) => done,
            Err(error) => {
                let state = if renewal && had_certificate { "active" } else { "failed" };
                let message = format!("{verb} failed: {error}");
                self.certs.record_failure(id, state, &message, &caller.actor).await?;
                self.audit(
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
                if let Err(notify_error) = self.notify_all("cert.failed", &payload).await {
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
        self.secret_set(caller, &reference, SecretType::TlsCertificate, issued.key_pem.as_bytes(), &metadata)
            .await?;
        let roots = TrustRoots::system_and(managed.ca_bundle.as_deref().map(Path::new))?;
        let check = roots.check(&issued.chain, now_unix_ms());
        self.certs.install(id, &issued.chain, &check, &caller.actor).await?;
        self.audit(
            caller,
            &format!("cert.{}", if renewal { "renew" } else { "issue" }),
            id,
            Outcome::Ok,
            serde_json::json!({ "domains": managed.domains, "order": issued.order_url }),
        )
        .await?;

        if !managed.deploy.is_empty() {
            report("running the deploy hook");
            let leaf = opsdeck_certs::x509::to_pem(&issued.chain[..1]);
            let rest = opsdeck_certs::x509::to_pem(&issued.chain[1..]);
            match managed.deploy.run(&leaf, &rest, &issued.key_pem).await {
                Ok(done) => {
                    self.certs.set_state(id, "issued", &format!("deployed: {done}"), &caller.actor).await?;
                    for path in
                        [&managed.deploy.cert_path, &managed.deploy.fullchain_path].into_iter().flatten()
                    {
                        self.certs.add_location(id, "deploy", path).await?;
                    }
                }
                Err(error) => {
                    self.certs
                        .set_state(id, "issued", &format!("deploy failed: {error}"), &caller.actor)
                        .await?;
                    let payload = serde_json::json!({ "id": id, "domains": managed.domains, "error": error.to_string() });
                    if let Err(notify_error) = self.notify_all("cert.deploy_failed", &payload).await {
                        tracing::warn!(error = %notify_error, "could not queue the deploy failure notification");
                    }
                }
            }
        }
        let next = self.schedule_renewal(id, &managed, &account, &issued.chain[0]).await?;
        let installed = self.certs.get(id).await?;
        self.certs
            .set_state(
                id,
                "active",
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
        &self,
        id: &str,
        managed: &Managed,
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
        self.certs.set_next_renewal(id, Some(at)).await?;
        let job = renew_job_name(id);
        let spec = JobSpec {
            name: job.clone(),
            kind: RENEW_JOB_KIND.to_owned(),
            schedule: Schedule::Every(RENEWAL_CHECK_EVERY),
            payload: serde_json::json!({ "id": id }),
        };
        Scheduler::upsert_job(&self.store, &spec).await?;
        Scheduler::schedule_at(&self.store, &job, at.max(now_unix_ms())).await?;
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

    /// The `cert.renew` job: renews the certificate once its time has come.
    pub(crate) async fn run_renewal_job(&self, payload: &serde_json::Value) -> Result<String, String> {
        let id = payload.get("id").and_then(|value| value.as_str()).unwrap_or_default();
        let record = self.certs.get(id).await.map_err(|error| error.to_string())?;
        if record.state == "revoked" {
            return Ok(format!("{id} is revoked; nothing to renew"));
        }
        let now = now_unix_ms();
        let caller = Caller::new("scheduler");
        if let Some(at) = record.next_renewal_at.filter(|at| *at > now) {
            // The CA may want it sooner (ARI: a key compromise, a mass revocation).
            match self.renewal_time_from_ari(&caller, &record).await {
                Ok(Some(sooner)) if sooner < at => {
                    self.certs.set_next_renewal(id, Some(sooner)).await.map_err(|error| error.to_string())?;
                    let message = format!(
                        "the CA's renewal information moved the renewal from {} to {}",
                        iso_minute(at),
                        iso_minute(sooner)
                    );
                    self.certs
                        .set_state(id, &record.state, &message, &caller.actor)
                        .await
                        .map_err(|error| error.to_string())?;
                    if sooner > now {
                        return Ok(format!("{id}: {message}"));
                    }
                }
                Ok(_) => return Ok(format!("{id} is not due until {}", iso_minute(at))),
                Err(error) => {
                    tracing::warn!(%error, certificate = id, "the CA's renewal information could not be read");
                    return Ok(format!(
                        "{id} is not due until {} (renewal information unavailable: {error})",
                        iso_minute(at)
                    ));
                }
            }
        }
        match self.obtain(&caller, id, record.not_after > 0, &|_| {}).await {
            Ok(()) => {
                let renewed = self.certs.get(id).await.map_err(|error| error.to_string())?;
                Ok(format!("{id} renewed; valid until {}", iso_day(renewed.not_after)))
            }
            Err(error) => Err(error.to_string()),
        }
    }

    /// A renewal time inside the window the CA suggests now (ARI), or `None`
    /// when it offers none.
    async fn renewal_time_from_ari(
        &self,
        caller: &Caller,
        record: &CertRecord,
    ) -> Result<Option<i64>, DeckError> {
        let (Some(managed), Some(leaf)) = (&record.managed, record.chain().into_iter().next()) else {
            return Ok(None);
        };
        let account = self.acme_account(caller, managed).await?;
        let window = acme::renewal_window(&account, &leaf).await?;
        Ok(window.map(|window| {
            renew_at(
                record.not_before,
                record.not_after,
                managed.renew_remaining,
                Some(window),
                random_unit(),
            )
        }))
    }

    /// The `cert.expiry` job: warns once per threshold as certificates near expiry.
    pub(crate) async fn run_expiry_job(&self, payload: &serde_json::Value) -> Result<String, String> {
        let warn_days: Vec<i64> = payload
            .get("warn_days")
            .and_then(|days| serde_json::from_value(days.clone()).ok())
            .unwrap_or_else(|| DEFAULT_WARN_DAYS.to_vec());
        let mut sent = 0;
        for cert in self.certs.list().await.map_err(|error| error.to_string())? {
            if cert.not_after == 0 || cert.state == "revoked" {
                continue;
            }
            let threshold = if cert.days_left < 0 {
                Some(-1)
            } else {
                warn_days.iter().copied().filter(|days| cert.days_left <= *days).min()
            };
            let Some(threshold) = threshold else { continue };
            let already = self.certs.alerted_days(&cert.id).await.map_err(|error| error.to_string())?;
            if already.is_some_and(|already| already <= threshold) {
                continue;
            }
            let event = if threshold < 0 { "cert.expired" } else { "cert.expiring" };
            let payload = serde_json::json!({
                "id": cert.id, "subject": cert.subject, "sans": cert.sans, "days_left": cert.days_left,
                "not_after": cert.not_after, "threshold_days": threshold, "source": cert.source,
            });
            self.notify_all(event, &payload).await.map_err(|error| error.to_string())?;
            self.certs.set_alerted_days(&cert.id, threshold).await.map_err(|error| error.to_string())?;
            sent += 1;
        }
        Ok(format!("{sent} expiry warnings sent"))
    }

    /// Makes sure the expiry-warning job exists (default thresholds).
    pub(crate) async fn ensure_expiry_job(&self) -> Result<(), DeckError> {
        Scheduler::ensure_job(&self.store, &expiry_job(&DEFAULT_WARN_DAYS)).await?;
        Ok(())
    }
}

fn expiry_job(days: &[i64]) -> JobSpec {
    JobSpec {
        name: EXPIRY_JOB.to_owned(),
        kind: EXPIRY_JOB_KIND.to_owned(),
        schedule: Schedule::Every(Duration::from_secs(6 * 3600)),
        payload: serde_json::json!({ "warn_days": days }),
    }
}

fn iso_minute(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms)
        .map(|time| time.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| unix_ms.to_string())
}

fn account_secret_name(directory_url: &str, email: &str) -> String {
    let digest = Sha256::digest(format!("{directory_url}\n{email}").as_bytes());
    format!("acme-account-{}", &hex::encode(digest)[..12])
}

fn parse_reason(reason: Option<&str>) -> Result<Option<instant_acme::RevocationReason>, CertError> {
    use instant_acme::RevocationReason as R;
    Ok(match reason {
        None => None,
        Some("unspecified") => Some(R::Unspecified),
        Some("key-compromise") => Some(R::KeyCompromise),
        Some("superseded") => Some(R::Superseded),
        Some("cessation-of-operation") => Some(R::CessationOfOperation),
        Some("affiliation-changed") => Some(R::AffiliationChanged),
        Some(other) => {
            return Err(CertError::Invalid(format!(
                "unknown revocation reason {other:?}; use unspecified, key-compromise, superseded, \
                 cessation-of-operation or affiliation-changed"
            )))
        }
    })
}

/// Checks issue options and turns them into the stored settings.
fn managed_from(options: &IssueOptions, vault: &str) -> Result<Managed, CertError> {
    let domains: Vec<String> = options
        .domains
        .iter()
        .map(|domain| domain.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|domain| !domain.is_empty())
        .collect();
    let directory_url = options.directory_url.trim().to_owned();
    if !(directory_url.starts_with("https://")
        || directory_url.starts_with("http://127.0.0.1")
        || directory_url.starts_with("http://localhost"))
    {
        return Err(CertError::Invalid(format!(
            "{directory_url:?} is not an ACME directory URL (https://...); Let's Encrypt's is {}",
            acme::LETS_ENCRYPT
        )));
    }
    let challenge =
        if options.challenge.is_empty() { "http-01".to_owned() } else { options.challenge.clone() };
    let key_type =
        if options.key_type.is_empty() { "ecdsa-p256".to_owned() } else { options.key_type.clone() };
    KeyKind::parse(&key_type)?;
    let http_bind = match challenge.as_str() {
        "http-01" if options.webroot.is_none() => Some(format!(
            "{}:{}",
            options.http_bind.as_deref().unwrap_or("127.0.0.1"),
            options.http_port.unwrap_or(80)
        )),
        "http-01" => None,
        "dns-01" => {
            let hook = options.dns_hook.as_deref().is_some_and(|hook| !hook.trim().is_empty());
            match (&options.dns_update, hook) {
                (Some(_), true) => {
                    return Err(CertError::Invalid(
                        "give either --dns-hook or --dns-server (RFC 2136), not both".to_owned(),
                    ))
                }
                (Some(update), false) => check_dns_update(update)?,
                (None, true) => {}
                (None, false) => {
                    return Err(CertError::Invalid(
                        "dns-01 needs a way to set TXT records: --dns-hook CMD, or --dns-server HOST:PORT \
                         --dns-zone ZONE --tsig-key NAME --tsig-secret VAULT/NAME for RFC 2136 updates"
                            .to_owned(),
                    ))
                }
            }
            None
        }
        other => {
            return Err(CertError::Invalid(format!("unknown challenge {other:?}; use http-01 or dns-01")));
        }
    };
    let renew_remaining = options.renew_remaining.unwrap_or(DEFAULT_REMAINING_FRACTION);
    check_remaining(renew_remaining)?;
    let deploy = options.deploy.clone().unwrap_or_default();
    deploy.check()?;
    if let Some(eab) = &options.eab {
        if eab.kid.trim().is_empty() || !eab.hmac_key.contains('/') {
            return Err(CertError::Invalid(
                "an external account binding needs --eab-kid and --eab-hmac-key VAULT/NAME (the vault secret \
                 holding the HMAC key the CA gave you)"
                    .to_owned(),
            ));
        }
    }
    let managed = Managed {
        domains,
        directory_url,
        email: options.email.trim().to_owned(),
        challenge,
        http_bind,
        webroot: options.webroot.clone(),
        dns_hook: options.dns_hook.clone().filter(|hook| !hook.trim().is_empty()),
        dns_update: options.dns_update.clone(),
        key_type,
        vault: vault.to_owned(),
        key_secret: String::new(),
        ca_bundle: options.ca_bundle.clone(),
        eab: options.eab.clone(),
        renew_remaining,
        deploy,
    };
    acme::check_domains(&managed.domains, &challenge_plan(&managed, Zeroizing::new(Vec::new()))?)?;
    if !managed.email.contains('@') {
        return Err(CertError::Invalid(format!(
            "{:?} is not an email address; the CA writes to it about expiry and problems",
            managed.email
        )));
    }
    Ok(managed)
}

fn check_remaining(remaining: f64) -> Result<(), CertError> {
    if remaining > 0.0 && remaining <= 1.0 {
        Ok(())
    } else {
        Err(CertError::Invalid(format!(
            "--renew-remaining {remaining} must be a fraction of the lifetime in (0, 1], like 0.33"
        )))
    }
}

fn check_dns_update(update: &DnsUpdate) -> Result<(), CertError> {
    opsdeck_certs::probe::split_endpoint(&update.server)?;
    if update.zone.trim().is_empty() || update.key_name.trim().is_empty() {
        return Err(CertError::Invalid("RFC 2136 updates need --dns-zone and --tsig-key".to_owned()));
    }
    if !update.key_secret.contains('/') {
        return Err(CertError::Invalid(format!(
            "--tsig-secret {:?} must name a vault secret as VAULT/NAME (the base64 TSIG secret is kept there)",
            update.key_secret
        )));
    }
    Ok(())
}

/// How `managed`'s challenges are answered; `tsig_secret` is the RFC 2136 key's secret when used.
fn challenge_plan(managed: &Managed, tsig_secret: Zeroizing<Vec<u8>>) -> Result<ChallengePlan, CertError> {
    match managed.challenge.as_str() {
        "dns-01" => Ok(ChallengePlan::Dns01(match &managed.dns_update {
            Some(update) => {
                let (host, port) = opsdeck_certs::probe::split_endpoint(&update.server)?;
                Arc::new(Rfc2136 {
                    server: format!("{host}:{port}"),
                    zone: update.zone.clone(),
                    key_name: update.key_name.clone(),
                    key_secret: tsig_secret,
                })
            }
            None => Arc::new(ScriptDns { command: managed.dns_hook.clone().unwrap_or_default() }),
        })),
        _ => match (&managed.webroot, &managed.http_bind) {
            (Some(root), _) => Ok(ChallengePlan::Webroot(PathBuf::from(root))),
            (None, Some(bind)) => Ok(ChallengePlan::Http01 {
                bind: bind.parse().map_err(|_| {
                    CertError::Invalid(format!("{bind:?} is not an address to listen on (like 127.0.0.1:80)"))
                })?,
            }),
            (None, None) => Err(CertError::Invalid("http-01 needs --http-port or --webroot".to_owned())),
        },
    }
}

fn paths_text(paths: &[PathBuf]) -> String {
    paths.iter().map(|path| path.display().to_string()).collect::<Vec<_>>().join(" ")
}

/// Files to import under `path`: itself when a file named directly, or the
/// certificate-looking files below it when a directory; each with whether it
/// was named.
fn collect_files(path: &Path, named: bool, into: &mut Vec<(PathBuf, bool)>) -> Result<(), CertError> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| CertError::Io { path: path.display().to_string(), reason: error.to_string() })?;
    if metadata.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|error| CertError::Io { path: path.display().to_string(), reason: error.to_string() })?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        entries.sort();
        for entry in entries {
            collect_files(&entry, false, into)?;
        }
    } else if named
        || path
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| CERT_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str()))
    {
        into.push((path.to_path_buf(), named));
    }
    Ok(())
}

/// Splits a file's certificates into chains: each certificate continues the
/// chain when the previous one names it as issuer; otherwise it starts a new one.
fn split_chains(ders: Vec<Vec<u8>>) -> Vec<Vec<Vec<u8>>> {
    let mut chains: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut previous_issuer: Option<String> = None;
    for der in ders {
        let details = opsdeck_certs::x509::describe(&der).ok();
        let continues = match (&previous_issuer, &details) {
            (Some(issuer), Some(details)) => *issuer == details.subject && !chains.is_empty(),
            _ => false,
        };
        previous_issuer = details.as_ref().map(|details| details.issuer.clone());
        if continues {
            if let Some(chain) = chains.last_mut() {
                chain.push(der);
                continue;
            }
        }
        chains.push(vec![der]);
    }
    chains
}
