//! `opsdeck cert …`: the certificate inventory, ACME issuance and renewal.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use opsdeck::{
    CertRecord, CertSource, CertState, ChainStatus, ChallengeKind, Deck, DeckError, DeployHook, IssueOptions,
    KeyKind, RevokeReason,
};

use opsdeck::catalogue::cert_changes::{CertConfigure, CertRemove, CertRevoke, ConfigureInput, RevokeInput};
use opsdeck::catalogue::certs::{CertList, CertShow, OneCert};

use super::{operation, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum CertCommand {
    /// Import PEM/DER certificate files, or every certificate file under directories.
    Import {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Also trust the certificates of this PEM bundle when checking chains.
        #[arg(long, value_name = "FILE")]
        ca_bundle: Option<PathBuf>,
    },
    /// Connect to TLS endpoints and record the chain each serves (16 at a time).
    Probe {
        /// HOST:PORT (the port defaults to 443); several are probed concurrently.
        #[arg(required = true)]
        endpoints: Vec<String>,
        /// The name to send as SNI (default: the host).
        #[arg(long)]
        servername: Option<String>,
        /// Also trust the certificates of this PEM bundle when checking the chain.
        #[arg(long, value_name = "FILE")]
        ca_bundle: Option<PathBuf>,
    },
    /// Issue a certificate from an ACME CA and keep renewing it.
    Issue(Box<IssueArgs>),
    /// List certificates, soonest expiry first.
    List {
        /// Only those expiring within this many days (and the expired).
        #[arg(long, value_name = "DAYS")]
        expiring_within: Option<i64>,
        /// Only this source.
        #[arg(long, value_parser = crate::words::one_of::<CertSource>(CertSource::WORDS))]
        source: Option<CertSource>,
        /// Only this state.
        #[arg(long, value_parser = crate::words::one_of::<CertState>(CertState::WORDS))]
        state: Option<CertState>,
    },
    /// Show one certificate: chain, names, locations, history, next renewal.
    Show {
        /// The certificate's id (or a unique prefix of it).
        id: String,
    },
    /// Renew one managed certificate now, or every one that is due.
    Renew {
        /// The certificate's id.
        #[arg(required_unless_present = "due", conflicts_with = "due")]
        id: Option<String>,
        /// Renew every managed certificate whose renewal time has come.
        #[arg(long)]
        due: bool,
    },
    /// Revoke a certificate issued here.
    Revoke {
        /// The certificate's id.
        id: String,
        /// Why (sent to the CA).
        #[arg(long, value_parser = crate::words::one_of::<RevokeReason>(RevokeReason::WORDS))]
        reason: Option<RevokeReason>,
    },
    /// Change a managed certificate's deploy hook or renewal threshold.
    Configure {
        /// The certificate's id.
        id: String,
        /// Renew when this fraction of the lifetime remains (e.g. 0.33).
        #[arg(long, value_name = "FRACTION")]
        renew_remaining: Option<f64>,
        /// Remove the deploy hook.
        #[arg(long, conflicts_with_all = ["deploy_cert", "deploy_chain", "deploy_fullchain", "deploy_key", "deploy_key_mode", "deploy_command"])]
        no_deploy: bool,
        #[command(flatten)]
        hook: DeployArgs,
    },
    /// Set the expiry warnings: days before expiry, e.g. 30,14,7.
    Alerts {
        /// Comma-separated days.
        #[arg(long, value_delimiter = ',', required = true)]
        days: Vec<i64>,
    },
    /// Forget a certificate (a managed one stops renewing; its key stays in the vault).
    Rm {
        /// The certificate's id.
        id: String,
    },
}

#[derive(Debug, clap::Args)]
pub(crate) struct IssueArgs {
    /// A name for the certificate (repeat for more; `*.example.com` needs dns-01).
    #[arg(long = "domain", required = true)]
    domains: Vec<String>,
    /// The CA's ACME directory (Let's Encrypt: https://acme-v02.api.letsencrypt.org/directory).
    #[arg(long, value_name = "URL")]
    acme_directory: String,
    /// The account's contact email.
    #[arg(long)]
    email: String,
    /// http-01 (built-in responder or --webroot) or dns-01 (--dns-hook).
    #[arg(long, default_value = "http-01", value_parser = crate::words::one_of::<ChallengeKind>(ChallengeKind::WORDS))]
    challenge: ChallengeKind,
    /// HTTP-01: the port the built-in responder listens on (the CA calls port 80).
    #[arg(long, default_value_t = 80)]
    http_port: u16,
    /// HTTP-01: the responder's address; 0.0.0.0 to answer the CA directly.
    #[arg(long, default_value = "127.0.0.1")]
    http_bind: String,
    /// HTTP-01 through files under this document root of your web server.
    #[arg(long, value_name = "DIR")]
    webroot: Option<String>,
    /// DNS-01: a command run through `sh -c` with OPSDECK_DNS_ACTION (set|remove),
    /// OPSDECK_DNS_DOMAIN, OPSDECK_DNS_NAME and OPSDECK_DNS_VALUE; exit 0 once the TXT record is live.
    #[arg(long, value_name = "CMD")]
    dns_hook: Option<String>,
    /// DNS-01 through RFC 2136 dynamic updates to this primary server (HOST:PORT).
    #[arg(long, value_name = "HOST:PORT", requires_all = ["dns_zone", "tsig_key", "tsig_secret"])]
    dns_server: Option<String>,
    /// RFC 2136: the zone to update.
    #[arg(long, value_name = "ZONE")]
    dns_zone: Option<String>,
    /// RFC 2136: the TSIG key's name (HMAC-SHA256).
    #[arg(long, value_name = "NAME")]
    tsig_key: Option<String>,
    /// RFC 2136: the vault secret holding the TSIG key's base64 secret.
    #[arg(long, value_name = "VAULT/NAME")]
    tsig_secret: Option<String>,
    /// The key's type.
    #[arg(long = "key", default_value = "ecdsa-p256", value_parser = crate::words::one_of::<KeyKind>(KeyKind::WORDS))]
    key_type: KeyKind,
    /// Trust this PEM bundle for the ACME server (a private or test CA).
    #[arg(long, value_name = "FILE")]
    ca_bundle: Option<String>,
    /// The CA's external account binding key id (ZeroSSL, Google Trust Services, …).
    #[arg(long, value_name = "KID", requires = "eab_hmac_key")]
    eab_kid: Option<String>,
    /// The vault secret holding the CA's EAB HMAC key.
    #[arg(long, value_name = "VAULT/NAME", requires = "eab_kid")]
    eab_hmac_key: Option<String>,
    /// The vault for the private key and the account (default: the only vault, or `certs`).
    #[arg(long)]
    vault: Option<String>,
    /// Renew when this fraction of the lifetime remains.
    #[arg(long, default_value_t = 1.0 / 3.0, value_name = "FRACTION")]
    renew_remaining: f64,
    #[command(flatten)]
    deploy: DeployArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DeployArgs {
    /// After issuance, write the certificate here.
    #[arg(long, value_name = "FILE")]
    deploy_cert: Option<String>,
    /// After issuance, write the intermediates here.
    #[arg(long, value_name = "FILE")]
    deploy_chain: Option<String>,
    /// After issuance, write certificate + intermediates here.
    #[arg(long, value_name = "FILE")]
    deploy_fullchain: Option<String>,
    /// After issuance, write the private key here (the only time it leaves the vault).
    #[arg(long, value_name = "FILE")]
    deploy_key: Option<String>,
    /// The key file's mode (octal).
    #[arg(long, value_name = "MODE")]
    deploy_key_mode: Option<String>,
    /// After writing, run this (e.g. `systemctl reload nginx`).
    #[arg(long, value_name = "CMD")]
    deploy_command: Option<String>,
}

impl DeployArgs {
    fn hook(self) -> DeployHook {
        DeployHook {
            cert_path: self.deploy_cert,
            chain_path: self.deploy_chain,
            fullchain_path: self.deploy_fullchain,
            key_path: self.deploy_key,
            key_mode: self.deploy_key_mode,
            command: self.deploy_command,
        }
    }
}

/// The `cert list` JSON row (the CLI contract, plus a few useful fields).
#[derive(serde::Serialize)]
struct ListRow<'a> {
    id: &'a str,
    subject: &'a str,
    sans: &'a [String],
    issuer: &'a str,
    not_after: i64,
    days_left: i64,
    state: CertState,
    source: CertSource,
    chain_status: ChainStatus,
    next_renewal_at: Option<i64>,
}

fn list_row(cert: &CertRecord) -> ListRow<'_> {
    ListRow {
        id: &cert.id,
        subject: &cert.subject,
        sans: &cert.sans,
        issuer: &cert.issuer,
        not_after: cert.not_after,
        days_left: cert.days_left,
        state: cert.state,
        source: cert.source,
        chain_status: cert.chain_status,
        next_renewal_at: cert.next_renewal_at,
    }
}

fn summary_line(cert: &CertRecord) -> String {
    let names = if cert.sans.is_empty() { cert.subject.clone() } else { cert.sans.join(", ") };
    format!(
        "{}  {:<9} {:>5}  {}  {}  [{}; chain {}]\n",
        cert.id,
        cert.state,
        if cert.not_after == 0 { "—".to_owned() } else { format!("{}d", cert.days_left) },
        crate::time::day(cert.not_after),
        names,
        cert.source,
        cert.chain_status
    )
}

pub(crate) async fn run(deck: &Deck, command: CertCommand, output: Output) -> Result<ExitCode, DeckError> {
    let caller = super::cli_caller()?;
    match command {
        CertCommand::Import { paths, ca_bundle } => {
            let report = deck.certs().import(&caller, &paths, ca_bundle.as_deref()).await?;
            for problem in &report.problems {
                eprintln!("error: {}", problem.error);
            }
            output.print(&report, |report| {
                let mut text = format!("imported {} certificates\n", report.certificates.len());
                for skipped in &report.skipped {
                    let _ = writeln!(text, "passed over {} ({})", skipped.path, skipped.error);
                }
                for cert in &report.certificates {
                    text.push_str(&summary_line(cert));
                    if !cert.chain_reason.is_empty() && cert.chain_status != ChainStatus::Valid {
                        let _ = writeln!(text, "    {}", cert.chain_reason);
                    }
                }
                text
            });
            if !report.problems.is_empty() {
                return Ok(ExitCode::from(2));
            }
        }
        CertCommand::Probe { endpoints, servername, ca_bundle } if endpoints.len() > 1 => {
            if servername.is_some() {
                return Err(super::input_error(
                    "--servername applies to one endpoint; probe endpoints with different names one at a time"
                        .to_owned(),
                ));
            }
            let shown = crate::progress::Progress::start(&format!("probing {} endpoints", endpoints.len()));
            let results = deck.certs().probe_many(&caller, &endpoints, ca_bundle.as_deref(), 16).await?;
            drop(shown);
            let failed = results.iter().any(Result::is_err);
            let rows: Vec<serde_json::Value> = endpoints
                .iter()
                .zip(&results)
                .map(|(endpoint, result)| match result {
                    Ok(cert) => serde_json::json!({ "endpoint": endpoint, "certificate": cert }),
                    Err(error) => serde_json::json!({ "endpoint": endpoint, "error": error.to_string() }),
                })
                .collect();
            output.print(&rows, |_| {
                endpoints.iter().zip(&results).fold(String::new(), |mut text, (endpoint, result)| {
                    match result {
                        Ok(cert) => text.push_str(&format!("{endpoint}: {}", summary_line(cert))),
                        Err(error) => {
                            let _ = writeln!(text, "{endpoint}: error: {error}");
                        }
                    }
                    text
                })
            });
            if failed {
                return Ok(ExitCode::from(1));
            }
        }
        CertCommand::Probe { endpoints, servername, ca_bundle } => {
            let endpoint = endpoints.first().cloned().unwrap_or_default();
            let cert =
                deck.certs().probe(&caller, &endpoint, servername.as_deref(), ca_bundle.as_deref()).await?;
            output.print(&cert, |cert| {
                let mut text = summary_line(cert);
                let _ = writeln!(
                    text,
                    "    issuer {}; key {}; serial {}",
                    cert.issuer, cert.key_type, cert.serial
                );
                if cert.chain_status != ChainStatus::Valid {
                    let _ = writeln!(text, "    chain: {}", cert.chain_reason);
                }
                text
            });
        }
        CertCommand::Issue(args) => {
            let args = *args;
            let options = IssueOptions {
                domains: args.domains,
                directory_url: args.acme_directory,
                email: args.email,
                challenge: args.challenge,
                http_port: Some(args.http_port),
                http_bind: Some(args.http_bind),
                webroot: args.webroot,
                dns_hook: args.dns_hook,
                dns_update: args.dns_server.map(|server| opsdeck::DnsUpdate {
                    server,
                    zone: args.dns_zone.unwrap_or_default(),
                    key_name: args.tsig_key.unwrap_or_default(),
                    key_secret: args.tsig_secret.unwrap_or_default(),
                }),
                key_type: args.key_type,
                ca_bundle: args.ca_bundle,
                eab: args.eab_kid.map(|kid| opsdeck::ExternalAccount {
                    kid,
                    hmac_key: args.eab_hmac_key.unwrap_or_default(),
                }),
                vault: args.vault,
                renew_remaining: Some(args.renew_remaining),
                deploy: Some(args.deploy.hook()),
            };
            let shown = crate::progress::Progress::start(&format!("issuing {}", options.domains.join(", ")));
            let progress = |step: &str| shown.step(step);
            let cert = deck.certs().issue(&caller, &options, &progress).await?;
            drop(shown);
            output.print(&cert, |cert| {
                let mut text = format!("issued {}\n", cert.id);
                text.push_str(&summary_line(cert));
                if let Some(at) = cert.next_renewal_at {
                    let _ = writeln!(text, "    next renewal {}", crate::time::minute(at));
                }
                text
            });
        }
        CertCommand::List { expiring_within, source, state } => {
            let filtered = expiring_within.is_some() || source.is_some() || state.is_some();
            let query = opsdeck::CertQuery { expiring_within_days: expiring_within, source, state };
            let certs = operation::<CertList>(deck, query).await?;
            let rows: Vec<ListRow<'_>> = certs.iter().map(list_row).collect();
            output.print(&rows, |_| {
                if certs.is_empty() && filtered {
                    return "No certificate matches.\n".to_owned();
                }
                if certs.is_empty() {
                    return "No certificates yet. Import files with `opsdeck cert import PATH`, probe an endpoint \
                            with `opsdeck cert probe HOST:PORT`, or issue one with `opsdeck cert issue`.\n"
                        .to_owned();
                }
                crate::table::table(
                    ["ID", "STATE", "LEFT", "EXPIRES", "NAMES", "SOURCE", "CHAIN"],
                    certs.iter().map(|cert| {
                        [
                            cert.id.clone(),
                            cert.state.to_string(),
                            if cert.not_after == 0 { "—".to_owned() } else { format!("{}d", cert.days_left) },
                            crate::time::day(cert.not_after),
                            if cert.sans.is_empty() { cert.subject.clone() } else { cert.sans.join(", ") },
                            cert.source.to_string(),
                            cert.chain_status.to_string(),
                        ]
                    }),
                )
            });
        }
        CertCommand::Show { id } => {
            let detail = operation::<CertShow>(deck, OneCert { id: id.clone() }).await?;
            output.print(&detail, |detail| {
                let cert = &detail.certificate;
                let mut text = summary_line(cert);
                let _ = writeln!(text, "subject      {}", cert.subject);
                let _ = writeln!(text, "names        {}", cert.sans.join(", "));
                let _ = writeln!(text, "issuer       {}", cert.issuer);
                let _ = writeln!(text, "serial       {}", cert.serial);
                let _ = writeln!(text, "key          {}", cert.key_type);
                let _ = writeln!(
                    text,
                    "valid        {} – {}",
                    crate::time::day(cert.not_before),
                    crate::time::day(cert.not_after)
                );
                let _ = writeln!(text, "fingerprint  {}", cert.fingerprint);
                let _ = writeln!(text, "chain        {} {}", cert.chain_status, cert.chain_reason);
                for (depth, link) in detail.chain.iter().enumerate() {
                    let _ = writeln!(text, "  {depth}: {} (issued by {})", link.subject, link.issuer);
                }
                for location in &cert.locations {
                    let _ = writeln!(text, "lives at     {} {}", location.kind, location.location);
                }
                if let Some(managed) = &cert.managed {
                    let _ = writeln!(
                        text,
                        "ACME         {} ({}, {})",
                        managed.directory_url, managed.challenge, managed.key_type
                    );
                    let _ = writeln!(text, "key          {}/{}", managed.vault, managed.key_secret);
                }
                if let Some(at) = cert.next_renewal_at {
                    let _ = writeln!(text, "next renewal {}", crate::time::minute(at));
                }
                if let Some(error) = &cert.last_error {
                    let _ = writeln!(text, "last error   {error}");
                }
                text.push_str("history\n");
                for event in &detail.history {
                    let _ = writeln!(
                        text,
                        "  {}  {:<9} {}  ({})",
                        crate::time::minute(event.at),
                        event.state,
                        event.message,
                        event.actor
                    );
                }
                text
            });
        }
        CertCommand::Renew { id: Some(id), .. } => {
            let shown = crate::progress::Progress::start(&format!("renewing {id}"));
            let progress = |step: &str| shown.step(step);
            let cert = deck.certs().renew(&caller, &id, &progress).await?;
            drop(shown);
            output.print(&cert, |cert| format!("renewed {}", summary_line(cert)));
        }
        CertCommand::Renew { id: None, .. } => {
            let outcomes = deck.certs().renew_due(&caller).await?;
            let failed = outcomes.iter().any(|outcome| !outcome.renewed);
            output.print(&outcomes, |outcomes| {
                if outcomes.is_empty() {
                    return "Nothing is due for renewal.\n".to_owned();
                }
                outcomes.iter().fold(String::new(), |mut text, outcome| {
                    let _ = writeln!(text, "{} {}: {}", outcome.id, outcome.name, outcome.message);
                    text
                })
            });
            if failed {
                return Ok(ExitCode::from(1));
            }
        }
        CertCommand::Revoke { id, reason } => {
            let cert = operation::<CertRevoke>(deck, RevokeInput { id, reason }).await?;
            output.print(&cert, |cert| format!("revoked {}", summary_line(cert)));
        }
        CertCommand::Configure { id, renew_remaining, no_deploy, hook } => {
            let hook = hook.hook();
            let deploy = if no_deploy {
                Some(DeployHook::default())
            } else if hook.is_empty() && hook.key_mode.is_none() {
                None
            } else {
                Some(hook)
            };
            let cert =
                operation::<CertConfigure>(deck, ConfigureInput { id, deploy, renew_remaining }).await?;
            output.print(&cert, |cert| {
                let next = cert.next_renewal_at.map(crate::time::minute).unwrap_or_else(|| "—".to_owned());
                format!("{} updated; next renewal {next}\n", cert.id)
            });
        }
        CertCommand::Alerts { days } => {
            deck.certs().set_warn_days(&caller, &days).await?;
            output.print(&days, |days| {
                format!(
                    "expiry warnings at {} days before expiry\n",
                    days.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                )
            });
        }
        CertCommand::Rm { id } => {
            operation::<CertRemove>(deck, OneCert { id: id.clone() }).await?;
            output.print(&serde_json::json!({ "removed": id }), |_| format!("removed {id}\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
