//! Certificates in the deck: the inventory (import, probe), ACME issuance
//! and renewal with keys sealed in a vault, deploy hooks, the renewal and
//! expiry-warning jobs, and the notifications they send.
//!
//! The ACME account credentials and each certificate's private key live in
//! a vault as secrets (`acme-account-…`, `tls-key-ID`), so issuing needs the
//! operator role in that vault; the key is written unencrypted only by a
//! deploy hook the user configured.
//!
//! One module per part: [`inventory`] (import, probes), [`issue`] (ACME
//! issuance, renewal, revocation, settings), [`options`] (checking what to
//! issue and how its challenges are answered), [`jobs`] (the renewal and
//! expiry-warning jobs).

pub mod change_operations;
mod inventory;
mod issue;
mod jobs;
pub mod operations;
mod options;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use opsdeck_certs::challenges::ChallengeKind;
use opsdeck_certs::deploy::DeployHook;
use opsdeck_certs::keys::KeyKind;
use opsdeck_certs::{CertEvent, CertRecord, CertSource, CertState, DnsUpdate, ExternalAccount};
use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::scheduler::Scheduler;
use opsdeck_vault::Role;

use crate::{Caller, Deck, DeckError, Outcome};

/// A deck's certificates: `deck.certs()`.
#[derive(Clone, Copy)]
pub struct Certs<'d> {
    pub(crate) deck: &'d crate::Deck,
}

/// The scheduler job kind that renews one managed certificate when due.
pub const RENEW_JOB_KIND: &str = "cert.renew";
/// The scheduler job kind that sends expiry warnings.
pub const EXPIRY_JOB_KIND: &str = "cert.expiry";
/// The built-in job that checks every certificate's expiry.
pub const EXPIRY_JOB: &str = "cert-expiry-check";
/// Expiry warnings go out when this many days are left (then again at each smaller one).
pub const DEFAULT_WARN_DAYS: [i64; 3] = [30, 14, 7];
/// How often a managed certificate's renewal job looks at it.
/// What the certificates area publishes on the deck's event bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CertsEvent {
    /// A step of a certificate's issuance or renewal (for progress displays).
    CertProgress {
        /// The certificate.
        id: String,
        /// What is happening now ("answering the challenge for a.example").
        step: String,
    },
}

pub(crate) const RENEWAL_CHECK_EVERY: Duration = Duration::from_secs(12 * 3600);
/// How long a probe may take.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn renew_job_name(id: &str) -> String {
    format!("cert-renew:{id}")
}

opsdeck_core::word_enum! {
    /// Why a certificate is revoked (RFC 5280's reason codes that ACME accepts).
    "revocation reason" pub enum RevokeReason {
        /// No reason given.
        Unspecified = "unspecified",
        /// The private key may be known to someone else.
        KeyCompromise = "key-compromise",
        /// A new certificate replaces it.
        Superseded = "superseded",
        /// The names are no longer in use.
        CessationOfOperation = "cessation-of-operation",
        /// The subject's details changed.
        AffiliationChanged = "affiliation-changed",
    }
}

/// What to issue and how (the CLI's and the Issue dialog's input).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueOptions {
    /// Names to put in the certificate; `*.example.com` needs dns-01.
    pub domains: Vec<String>,
    /// The CA's ACME directory URL.
    pub directory_url: String,
    /// The account's contact email.
    pub email: String,
    /// How the CA checks the names (HTTP-01 unless given).
    #[serde(default)]
    pub challenge: ChallengeKind,
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
    /// The key's type (ECDSA P-256 unless given).
    #[serde(default)]
    pub key_type: KeyKind,
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

/// Which certificates to list (every condition given must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, TS, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields)]
pub struct CertQuery {
    /// Only those expiring within this many days (expired ones included).
    #[ts(type = "number", optional)]
    pub expiring_within_days: Option<i64>,
    /// Only this source.
    pub source: Option<CertSource>,
    /// Only this state.
    pub state: Option<CertState>,
}

/// A certificate with its history, for the detail view and `cert show`.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct CertDetail {
    /// The certificate.
    pub certificate: CertRecord,
    /// Its lifecycle history, oldest first.
    pub history: Vec<CertEvent>,
    /// The chain, leaf first, each described.
    pub chain: Vec<opsdeck_certs::x509::CertDetails>,
}

/// What an import found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct CertImportReport {
    /// Certificates added or seen again.
    pub certificates: Vec<CertRecord>,
    /// Files that held no readable certificate, with why.
    pub problems: Vec<CertImportProblem>,
    /// Files a directory held that are not certificates (keys, requests), passed over.
    pub skipped: Vec<CertImportProblem>,
}

/// A file an import could not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
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
pub(crate) const CERT_EXTENSIONS: [&str; 6] = ["pem", "crt", "cer", "der", "cert", "ca-bundle"];

impl Certs<'_> {
    /// Every certificate, soonest expiry first.
    pub async fn list(self) -> Result<Vec<CertRecord>, DeckError> {
        Ok(self.deck.certs.list().await?)
    }

    /// The certificates matching `query`, soonest expiry first.
    pub async fn query(self, query: &CertQuery) -> Result<Vec<CertRecord>, DeckError> {
        let by = query.expiring_within_days.map(|days| now_unix_ms() + days.max(0) * 86_400_000);
        Ok(self
            .deck
            .certs
            .list()
            .await?
            .into_iter()
            .filter(|cert| by.is_none_or(|by| cert.not_after > 0 && cert.not_after <= by))
            .filter(|cert| query.source.is_none_or(|source| cert.source == source))
            .filter(|cert| query.state.is_none_or(|state| cert.state == state))
            .collect())
    }

    /// One certificate with its history and described chain.
    pub async fn show(self, id: &str) -> Result<CertDetail, DeckError> {
        let certificate = self.deck.certs.get(id).await?;
        let history = self.deck.certs.events(&certificate.id).await?;
        let chain =
            certificate.chain().iter().filter_map(|der| opsdeck_certs::x509::describe(der).ok()).collect();
        Ok(CertDetail { certificate, history, chain })
    }

    /// Counts for the Overview.
    pub async fn summary(self) -> Result<CertSummary, DeckError> {
        let list = self.deck.certs.list().await?;
        let mut summary = CertSummary { total: list.len() as i64, ..CertSummary::default() };
        for cert in &list {
            match cert.state {
                CertState::Expired => summary.expired += 1,
                CertState::Failed => summary.failed += 1,
                CertState::Revoked => {}
                _ if cert.not_after > 0 && cert.days_left < 30 => summary.expiring_soon += 1,
                _ => {}
            }
            if cert.state != CertState::Failed && cert.last_error.is_some() && cert.managed.is_some() {
                summary.failed += 1;
            }
        }
        Ok(summary)
    }

    /// Forgets a certificate (not its key in the vault); stops its renewal.
    pub async fn remove(self, caller: &Caller, id: &str) -> Result<(), DeckError> {
        let record = self.deck.certs.get(id).await?;
        if let Some(managed) = &record.managed {
            self.deck
                .require(
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
        if Scheduler::exists(&self.deck.store, &job).await? {
            Scheduler::remove(&self.deck.store, &job).await?;
        }
        self.deck.certs.remove(&record.id).await?;
        if record.managed.is_some() {
            // Its deploy and DNS hooks must not come back with an old row.
            self.deck.unseal_definition(caller, crate::definitions::MANAGED_CERT, &record.id).await?;
        }
        self.deck
            .audit(
                caller,
                "cert.remove",
                &record.id,
                Outcome::Ok,
                serde_json::json!({ "subject": record.subject }),
            )
            .await?;
        Ok(())
    }
}

pub(crate) fn iso_minute(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms)
        .map(|time| time.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| unix_ms.to_string())
}

/// Certificates' jobs: each managed certificate's renewal, and the expiry
/// warnings (built in).
pub(crate) async fn register_jobs(
    deck: &Deck,
    kinds: &mut crate::jobs::JobKinds<'_>,
) -> Result<(), DeckError> {
    deck.certs().ensure_expiry_job().await?;
    kinds.register(
        RENEW_JOB_KIND,
        |deck, job| async move { deck.certs().run_renewal_job(&job.payload).await },
    );
    kinds.register(
        EXPIRY_JOB_KIND,
        |deck, job| async move { deck.certs().run_expiry_job(&job.payload).await },
    );
    Ok(())
}

/// This area's operations in the catalogue, in the order front ends list
/// them: a new operation is written in this folder and added here.
pub(crate) fn catalogue_entries() -> Vec<crate::catalogue::Entry> {
    use crate::catalogue::entry;
    vec![
        entry::<operations::CertList>(),
        entry::<operations::CertShow>(),
        entry::<operations::CertSummaryOperation>(),
        entry::<change_operations::CertImport>(),
        entry::<change_operations::CertImportFile>(),
        entry::<change_operations::CertProbe>(),
        entry::<change_operations::CertIssue>(),
        entry::<change_operations::CertRenew>(),
        entry::<change_operations::CertRevoke>(),
        entry::<change_operations::CertRemove>(),
        entry::<change_operations::CertConfigure>(),
    ]
}
