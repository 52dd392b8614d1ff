//! Chain checks: does a served or stored chain lead to a root we trust, at a
//! given time? Roots are the operating system's (as `rustls-native-certs`
//! finds them) plus any bundle the user names (a private CA).

use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Serialize;
use ts_rs::TS;

use crate::x509::certificates_in;
use crate::CertError;

opsdeck_core::word_enum! {
    /// How a chain check came out.
    "chain status" pub enum ChainStatus {
        /// It leads to a trusted root and every certificate is within its validity.
        Valid = "valid",
        /// A certificate of the chain has expired.
        Expired = "expired",
        /// A certificate of the chain is not valid yet.
        NotYetValid = "not_yet_valid",
        /// Self-signed and not among the trusted roots.
        SelfSigned = "self_signed",
        /// It does not lead to a trusted root.
        Untrusted = "untrusted",
        /// It cannot be checked (no certificate, a malformed one, a wrong signature).
        Invalid = "invalid",
        /// Nothing to check yet: no certificate has been issued.
        None = "none",
    }
}

/// How a chain fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ChainCheck {
    /// The outcome.
    pub status: ChainStatus,
    /// Why, in words (empty when valid).
    pub reason: String,
}

impl ChainCheck {
    fn new(status: ChainStatus, reason: impl Into<String>) -> ChainCheck {
        ChainCheck { status, reason: reason.into() }
    }
}

/// The roots chains are checked against.
#[derive(Debug, Clone, Default)]
pub struct TrustRoots {
    roots: Vec<CertificateDer<'static>>,
    /// Where the roots came from, for messages.
    pub described: String,
}

impl TrustRoots {
    /// The operating system's roots, plus the certificates of `bundle` when given.
    pub fn system_and(bundle: Option<&std::path::Path>) -> Result<TrustRoots, CertError> {
        let loaded = rustls_native_certs::load_native_certs();
        let mut roots: Vec<CertificateDer<'static>> = loaded.certs;
        let mut described = format!("{} system roots", roots.len());
        if let Some(path) = bundle {
            roots.extend(Self::bundle(path)?.roots);
            described.push_str(&format!(" and {}", path.display()));
        }
        Ok(TrustRoots { roots, described })
    }

    /// Only the certificates of `path` (a PEM bundle).
    pub fn bundle(path: &std::path::Path) -> Result<TrustRoots, CertError> {
        let bytes = std::fs::read(path)
            .map_err(|error| CertError::Io { path: path.display().to_string(), reason: error.to_string() })?;
        let roots = certificates_in(&bytes, &path.display().to_string())?
            .into_iter()
            .map(CertificateDer::from)
            .collect();
        Ok(TrustRoots { roots, described: path.display().to_string() })
    }

    /// Checks `chain` (leaf first, then intermediates) at `now_ms` for TLS server use.
    pub fn check(&self, chain: &[Vec<u8>], now_ms: i64) -> ChainCheck {
        let Some(leaf) = chain.first() else {
            return ChainCheck::new(ChainStatus::Invalid, "no certificate");
        };
        let leaf_der = CertificateDer::from(leaf.as_slice());
        let end_entity = match webpki::EndEntityCert::try_from(&leaf_der) {
            Ok(cert) => cert,
            Err(error) => {
                return ChainCheck::new(
                    ChainStatus::Invalid,
                    format!("the certificate cannot be used: {error}"),
                )
            }
        };
        let anchors: Vec<_> =
            self.roots.iter().filter_map(|root| webpki::anchor_from_trusted_cert(root).ok()).collect();
        let intermediates: Vec<CertificateDer<'_>> =
            chain[1..].iter().map(|der| CertificateDer::from(der.as_slice())).collect();
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_millis(now_ms.max(0) as u64));
        let verified = end_entity.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            time,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        );
        match verified {
            Ok(_) => ChainCheck::new(ChainStatus::Valid, ""),
            Err(webpki::Error::CertExpired { .. }) => {
                ChainCheck::new(ChainStatus::Expired, "a certificate of the chain has expired")
            }
            Err(webpki::Error::CertNotValidYet { .. }) => {
                ChainCheck::new(ChainStatus::NotYetValid, "a certificate of the chain is not valid yet")
            }
            Err(webpki::Error::UnknownIssuer) => {
                let self_signed =
                    crate::x509::describe(leaf).map(|details| details.self_signed).unwrap_or(false);
                if self_signed {
                    ChainCheck::new(ChainStatus::SelfSigned, "self-signed and not among the trusted roots")
                } else {
                    ChainCheck::new(
                        ChainStatus::Untrusted,
                        format!(
                            "no path to a trusted root ({}): an intermediate is missing or the root is not trusted; \
                             pass the CA bundle with --ca-bundle",
                            self.described
                        ),
                    )
                }
            }
            Err(webpki::Error::CaUsedAsEndEntity) => {
                if self.roots.iter().any(|root| root.as_ref() == leaf.as_slice()) {
                    ChainCheck::new(ChainStatus::Valid, "a trusted root CA")
                } else {
                    ChainCheck::new(
                        ChainStatus::Untrusted,
                        "a CA certificate that is not among the trusted roots",
                    )
                }
            }
            Err(error) => ChainCheck::new(ChainStatus::Invalid, error.to_string()),
        }
    }
}
