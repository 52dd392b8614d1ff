//! Changing the certificate inventory: importing, probing, issuing through
//! ACME, renewing, revoking, removing, and what happens after each issuance.
//!
//! Issuance and renewal report their steps as `CertProgress` deck events
//! (the app shows them); the operations here return when they are done.

use std::path::PathBuf;

use opsdeck_certs::deploy::DeployHook;
use opsdeck_certs::CertRecord;
use opsdeck_vault::Role;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalogue::certs::OneCert;
use crate::catalogue::{Effect, Method, Operation};
use crate::certs::{CertImportReport, IssueOptions, RevokeReason};
use crate::{Caller, Deck, DeckError};

/// Files and directories on this machine to import certificates from.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ImportPaths {
    /// Files (PEM or DER) and directories (searched for .pem, .crt, .cer, .der, .cert).
    pub paths: Vec<String>,
    /// A PEM bundle of extra roots to check chains against (a private CA).
    #[serde(default)]
    pub ca_bundle: Option<String>,
}

/// `cert.import`.
pub struct CertImport;

impl Operation for CertImport {
    type Input = ImportPaths;
    type Output = CertImportReport;
    const NAME: &'static str = "cert.import";
    const SUMMARY: &'static str =
        "Adds the certificates found in files and directories on the OpsDeck machine \
         to the inventory (keys and requests beside them are passed over); reports files it could not read.";
    const EFFECT: Effect = Effect::Change;
    // It reads any path the OpsDeck process can read.
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/certs/import";

    async fn run(deck: &Deck, caller: &Caller, input: ImportPaths) -> Result<CertImportReport, DeckError> {
        let paths: Vec<PathBuf> = input
            .paths
            .iter()
            .map(|path| path.trim())
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
            .collect();
        let bundle = given_path(input.ca_bundle);
        deck.certs().import(caller, &paths, bundle.as_deref()).await
    }
}

/// One certificate file's contents.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    /// The file's name (shown in the inventory and in problems).
    pub name: String,
    /// The file's bytes (PEM or DER).
    pub bytes: Vec<u8>,
}

/// `cert.import_file`.
pub struct CertImportFile;

impl Operation for CertImportFile {
    type Input = ImportFile;
    type Output = CertImportReport;
    const NAME: &'static str = "cert.import_file";
    const SUMMARY: &'static str =
        "Adds the certificates of one file's contents (PEM or DER, sent with the request) to the inventory.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/certs/import-file";

    async fn run(deck: &Deck, caller: &Caller, input: ImportFile) -> Result<CertImportReport, DeckError> {
        deck.certs().import_bytes(caller, &input.name, &input.bytes, None).await
    }
}

/// A TLS endpoint to read a chain from.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ProbeInput {
    /// `HOST:PORT` (port 443 when absent).
    pub endpoint: String,
    /// The name to ask for (SNI) when it differs from the host.
    #[serde(default)]
    pub servername: Option<String>,
    /// A PEM bundle of extra roots to check the chain against.
    #[serde(default)]
    pub ca_bundle: Option<String>,
}

/// `cert.probe`.
pub struct CertProbe;

impl Operation for CertProbe {
    type Input = ProbeInput;
    type Output = CertRecord;
    const NAME: &'static str = "cert.probe";
    const SUMMARY: &'static str =
        "Connects to a TLS endpoint, records the chain it serves in the inventory and \
         checks it (trusted, expired, wrong names).";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/certs/probe";

    async fn run(deck: &Deck, caller: &Caller, input: ProbeInput) -> Result<CertRecord, DeckError> {
        let servername = input.servername.filter(|name| !name.trim().is_empty());
        let bundle = given_path(input.ca_bundle);
        deck.certs().probe(caller, input.endpoint.trim(), servername.as_deref(), bundle.as_deref()).await
    }
}

/// The deploy hook fields that write files or run a command.
const DEPLOY_INPUTS: [&str; 5] =
    ["deploy.cert_path", "deploy.chain_path", "deploy.fullchain_path", "deploy.key_path", "deploy.command"];

/// `cert.issue`.
pub struct CertIssue;

impl Operation for CertIssue {
    type Input = IssueOptions;
    type Output = CertRecord;
    const NAME: &'static str = "cert.issue";
    const SUMMARY: &'static str =
        "Issues a certificate through ACME (HTTP-01 or DNS-01), seals its key in a \
         vault, deploys it and schedules its renewal; takes as long as the CA does.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/certs";
    const MACHINE_INPUTS: &'static [&'static str] = &[
        "webroot",
        "dns_hook",
        DEPLOY_INPUTS[0],
        DEPLOY_INPUTS[1],
        DEPLOY_INPUTS[2],
        DEPLOY_INPUTS[3],
        DEPLOY_INPUTS[4],
    ];

    async fn run(deck: &Deck, caller: &Caller, options: IssueOptions) -> Result<CertRecord, DeckError> {
        deck.certs().issue(caller, &options, &|_| {}).await
    }
}

/// `cert.renew`.
pub struct CertRenew;

impl Operation for CertRenew {
    type Input = OneCert;
    type Output = CertRecord;
    const NAME: &'static str = "cert.renew";
    const SUMMARY: &'static str =
        "Renews a certificate issued here now (or retries a failed issuance), then deploys it.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Operator;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/certs/{id}/renew";

    async fn run(deck: &Deck, caller: &Caller, input: OneCert) -> Result<CertRecord, DeckError> {
        deck.certs().renew(caller, &input.id, &|_| {}).await
    }
}

/// A certificate to revoke, and why.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct RevokeInput {
    /// Its id, as the inventory lists it.
    pub id: String,
    /// Why (sent to the CA).
    #[serde(default)]
    pub reason: Option<RevokeReason>,
}

/// `cert.revoke`.
pub struct CertRevoke;

impl Operation for CertRevoke {
    type Input = RevokeInput;
    type Output = CertRecord;
    const NAME: &'static str = "cert.revoke";
    const SUMMARY: &'static str =
        "Asks the CA to revoke a certificate issued here and stops renewing it; cannot be undone.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/v1/certs/{id}/revoke";

    async fn run(deck: &Deck, caller: &Caller, input: RevokeInput) -> Result<CertRecord, DeckError> {
        deck.certs().revoke(caller, &input.id, input.reason).await
    }
}

/// What a removal removed.
#[derive(Debug, Clone, Serialize, JsonSchema, TS)]
pub struct CertRemoved {
    /// The id of the certificate the inventory forgot.
    pub removed: String,
}

/// `cert.remove`.
pub struct CertRemove;

impl Operation for CertRemove {
    type Input = OneCert;
    type Output = CertRemoved;
    const NAME: &'static str = "cert.remove";
    const SUMMARY: &'static str =
        "Forgets a certificate and stops its renewal; its key stays in the vault and nothing is revoked.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Delete;
    const PATH: &'static str = "/v1/certs/{id}";

    async fn run(deck: &Deck, caller: &Caller, input: OneCert) -> Result<CertRemoved, DeckError> {
        deck.certs().remove(caller, &input.id).await?;
        Ok(CertRemoved { removed: input.id })
    }
}

/// New settings for a certificate issued here; absent fields are kept.
#[derive(Debug, Clone, Deserialize, JsonSchema, TS)]
#[serde(deny_unknown_fields)]
pub struct ConfigureInput {
    /// Its id, as the inventory lists it.
    pub id: String,
    /// Files to write and a command to run after each issuance (an empty
    /// hook clears it).
    #[serde(default)]
    pub deploy: Option<DeployHook>,
    /// Renew when this fraction of the lifetime remains (0.05–0.9).
    #[serde(default)]
    pub renew_remaining: Option<f64>,
}

/// `cert.configure`.
pub struct CertConfigure;

impl Operation for CertConfigure {
    type Input = ConfigureInput;
    type Output = CertRecord;
    const NAME: &'static str = "cert.configure";
    const SUMMARY: &'static str =
        "Changes a certificate's deploy hook (files written, command run after each \
         issuance) and/or when it renews; the renewal job moves at once.";
    const EFFECT: Effect = Effect::Change;
    const ROLE: Role = Role::Admin;
    const METHOD: Method = Method::Put;
    const PATH: &'static str = "/v1/certs/{id}/settings";
    const MACHINE_INPUTS: &'static [&'static str] = &DEPLOY_INPUTS;

    async fn run(deck: &Deck, caller: &Caller, input: ConfigureInput) -> Result<CertRecord, DeckError> {
        deck.certs().configure(caller, &input.id, input.deploy, input.renew_remaining).await
    }
}

fn given_path(path: Option<String>) -> Option<PathBuf> {
    path.map(|path| path.trim().to_owned()).filter(|path| !path.is_empty()).map(PathBuf::from)
}
