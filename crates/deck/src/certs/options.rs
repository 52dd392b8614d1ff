//! What to issue and how: checking the Issue form's (or the CLI's) options
//! into the settings kept with a managed certificate, and turning those
//! settings into the plan for answering the CA's challenges.

use std::path::PathBuf;
use std::sync::Arc;

use opsdeck_certs::acme::{self, ChallengePlan};
use opsdeck_certs::challenges::{ChallengeKind, ScriptDns};
use opsdeck_certs::renewal::DEFAULT_REMAINING_FRACTION;
use opsdeck_certs::rfc2136::Rfc2136;
use opsdeck_certs::{CertError, DnsUpdate, Managed};
use zeroize::Zeroizing;

use super::IssueOptions;

/// Checks issue options and turns them into the stored settings.
pub(super) fn managed_from(options: &IssueOptions, vault: &str) -> Result<Managed, CertError> {
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
    let http_bind =
        match options.challenge {
            ChallengeKind::Http01 if options.webroot.is_none() => Some(format!(
                "{}:{}",
                options.http_bind.as_deref().unwrap_or("127.0.0.1"),
                options.http_port.unwrap_or(80)
            )),
            ChallengeKind::Http01 => None,
            ChallengeKind::Dns01 => {
                let hook = options.dns_hook.as_deref().is_some_and(|hook| !hook.trim().is_empty());
                match (&options.dns_update, hook) {
                    (Some(_), true) => {
                        return Err(CertError::Invalid(
                            "give either a DNS hook command or an RFC 2136 server for dns-01, not both"
                                .to_owned(),
                        ))
                    }
                    (Some(update), false) => check_dns_update(update)?,
                    (None, true) => {}
                    (None, false) => return Err(CertError::Invalid(
                        "dns-01 needs a way to set TXT records: a DNS hook command, or an RFC 2136 server \
                         (host:port, zone, TSIG key name and the vault secret VAULT/NAME holding its key)"
                            .to_owned(),
                    )),
                }
                None
            }
        };
    let renew_remaining = options.renew_remaining.unwrap_or(DEFAULT_REMAINING_FRACTION);
    check_remaining(renew_remaining)?;
    let deploy = options.deploy.clone().unwrap_or_default();
    deploy.check()?;
    if let Some(eab) = &options.eab {
        if eab.kid.trim().is_empty() || !eab.hmac_key.contains('/') {
            return Err(CertError::Invalid(
                "an external account binding needs the key id the CA gave you and VAULT/NAME of the vault \
                 secret holding its HMAC key"
                    .to_owned(),
            ));
        }
    }
    let managed = Managed {
        domains,
        directory_url,
        email: options.email.trim().to_owned(),
        challenge: options.challenge,
        http_bind,
        webroot: options.webroot.clone(),
        dns_hook: options.dns_hook.clone().filter(|hook| !hook.trim().is_empty()),
        dns_update: options.dns_update.clone(),
        key_type: options.key_type,
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

pub(super) fn check_remaining(remaining: f64) -> Result<(), CertError> {
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
pub(super) fn challenge_plan(
    managed: &Managed,
    tsig_secret: Zeroizing<Vec<u8>>,
) -> Result<ChallengePlan, CertError> {
    match managed.challenge {
        ChallengeKind::Dns01 => Ok(ChallengePlan::Dns01(match &managed.dns_update {
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
        ChallengeKind::Http01 => match (&managed.webroot, &managed.http_bind) {
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
