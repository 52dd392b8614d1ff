//! The inventory side: importing certificate files and directories, and
//! probing live endpoints.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use opsdeck_certs::trust::TrustRoots;
use opsdeck_certs::{CertError, CertRecord, CertSource};
use opsdeck_core::clock::now_unix_ms;

use super::Certs;
use super::{CertImportProblem, CertImportReport, CERT_EXTENSIONS, PROBE_TIMEOUT};
use crate::{Caller, DeckError, Outcome};

impl Certs<'_> {
    /// Imports certificates from files and directories (recursively: files
    /// ending in .pem, .crt, .cer, .der, .cert). A file with a chain becomes one
    /// entry; a bundle of unrelated certificates becomes one entry each. Unreadable
    /// files are reported, not fatal, unless nothing could be imported.
    pub async fn import(
        self,
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
                    self.add_certificates_from(caller, &roots, &absolute, &bytes, &mut report).await?
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
        self.deck.audit(caller, "cert.import", &paths_text(paths), Outcome::Ok, details).await?;
        Ok(report)
    }

    /// Imports the certificates of one file's bytes (the app's file picker
    /// hands over contents, not paths); `name` is the file's name.
    pub async fn import_bytes(
        self,
        caller: &Caller,
        name: &str,
        bytes: &[u8],
        ca_bundle: Option<&Path>,
    ) -> Result<CertImportReport, DeckError> {
        let roots = TrustRoots::system_and(ca_bundle)?;
        let mut report = CertImportReport::default();
        self.add_certificates_from(caller, &roots, name, bytes, &mut report).await?;
        let details = serde_json::json!({
            "certificates": report.certificates.len(), "problems": report.problems.len(),
        });
        self.deck.audit(caller, "cert.import", name, Outcome::Ok, details).await?;
        Ok(report)
    }

    async fn add_certificates_from(
        self,
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
            let record = self
                .deck
                .certs
                .record_found(&chain, &check, CertSource::File, ("file", location), &caller.actor)
                .await?;
            report.certificates.push(record);
        }
        Ok(())
    }

    /// Connects to `endpoint` (`HOST:PORT`), records the chain it serves and checks it.
    pub async fn probe(
        self,
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
    pub async fn probe_many(
        self,
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
        self,
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
            .deck
            .certs
            .record_found(&probed.chain, &check, CertSource::Endpoint, ("endpoint", &location), &caller.actor)
            .await?;
        let details = serde_json::json!({ "id": record.id, "chain": check.status });
        self.deck.audit(caller, "cert.probe", &probed.endpoint, Outcome::Ok, details).await?;
        Ok(record)
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
