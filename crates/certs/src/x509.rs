//! Reading certificates: PEM or DER bytes into DER blobs, and a DER blob into
//! the facts people look for (names, issuer, validity, key, fingerprint).
//!
//! Nothing here trusts or distrusts a certificate; see [`crate::trust`].

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use sha2::{Digest, Sha256};
use ts_rs::TS;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::CertError;

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct CertDetails {
    /// The subject's distinguished name (`CN=example.com`).
    pub subject: String,
    /// DNS names and IP addresses it is valid for.
    pub sans: Vec<String>,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// The serial number in hex, colon-separated.
    pub serial: String,
    /// `RSA 2048`, `ECDSA P-256`, `Ed25519`, ...
    pub key_type: String,
    /// Start of validity (Unix ms).
    #[ts(type = "number")]
    pub not_before: i64,
    /// End of validity (Unix ms).
    #[ts(type = "number")]
    pub not_after: i64,
    /// SHA-256 of the DER, hex.
    pub fingerprint: String,
    /// True when subject and issuer are the same name.
    pub self_signed: bool,
    /// True for a CA certificate (basic constraints CA:true).
    pub is_ca: bool,
}

/// Splits `bytes` (PEM with one or more certificates, or one DER certificate)
/// into DER certificates. `source_name` names the bytes in errors.
pub fn certificates_in(bytes: &[u8], source_name: &str) -> Result<Vec<Vec<u8>>, CertError> {
    let unreadable = |reason: String| CertError::Unreadable { source_name: source_name.to_owned(), reason };
    if bytes.is_empty() {
        return Err(unreadable("the file is empty".to_owned()));
    }
    let looks_like_pem = bytes.windows(11).any(|window| window == b"-----BEGIN ");
    if looks_like_pem {
        let mut found = Vec::new();
        for item in CertificateDer::pem_slice_iter(bytes) {
            let der = item.map_err(|error| {
                unreadable(format!(
                    "broken PEM ({error}); the file may be truncated or edited — export it again"
                ))
            })?;
            describe(&der)
                .map_err(|reason| unreadable(format!("a PEM block holds no valid certificate ({reason})")))?;
            found.push(der.to_vec());
        }
        if found.is_empty() {
            return Err(unreadable(
                "PEM without any CERTIFICATE block (a key or CSR alone is not a certificate)".to_owned(),
            ));
        }
        return Ok(found);
    }
    match X509Certificate::from_der(bytes) {
        Ok((&[], _)) => Ok(vec![bytes.to_vec()]),
        Ok(_) => Err(unreadable("DER certificate followed by extra bytes".to_owned())),
        Err(error) => Err(unreadable(format!(
            "neither PEM nor a DER certificate ({}); expected a .pem/.crt/.cer/.der file",
            short_parse_error(&error.to_string())
        ))),
    }
}

/// What a PEM file holds instead of certificates (`a private key`, `a
/// certificate request`, ...), so a directory import can pass over it; `None`
/// when it holds a certificate or is not PEM.
pub fn non_certificate_pem(bytes: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(bytes);
    if text.contains("-----BEGIN CERTIFICATE-----") || !text.contains("-----BEGIN ") {
        return None;
    }
    let kinds = [
        ("PRIVATE KEY-----", "a private key"),
        ("CERTIFICATE REQUEST-----", "a certificate request"),
        ("PUBLIC KEY-----", "a public key"),
        ("PARAMETERS-----", "key parameters"),
        ("X509 CRL-----", "a revocation list"),
    ];
    kinds.iter().find(|(label, _)| text.contains(label)).map(|(_, kind)| *kind)
}

/// Reads the facts of one DER certificate; the error says why it is not one.
pub fn describe(der: &[u8]) -> Result<CertDetails, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|error| short_parse_error(&error.to_string()))?;
    let mut sans = Vec::new();
    if let Ok(Some(extension)) = cert.subject_alternative_name() {
        for name in &extension.value.general_names {
            match name {
                GeneralName::DNSName(dns) => sans.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => sans.push(ip_text(bytes)),
                _ => {}
            }
        }
    }
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    Ok(CertDetails {
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        subject,
        sans,
        issuer,
        serial: cert.raw_serial_as_string(),
        key_type: key_type(&cert),
        not_before: cert.validity().not_before.timestamp() * 1000,
        not_after: cert.validity().not_after.timestamp() * 1000,
        fingerprint: fingerprint(der),
        is_ca: cert.is_ca(),
    })
}

/// SHA-256 of the DER, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// DER certificates as one PEM text.
pub fn to_pem(ders: &[Vec<u8>]) -> String {
    use base64::Engine;
    let mut out = String::new();
    for der in ders {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let encoded = base64::engine::general_purpose::STANDARD.encode(der);
        for line in encoded.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

fn key_type(cert: &X509Certificate<'_>) -> String {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.as_oid().ok())
                .map(|oid| oid.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "ECDSA P-256".to_owned(),
                Some("1.3.132.0.34") => "ECDSA P-384".to_owned(),
                Some("1.3.132.0.35") => "ECDSA P-521".to_owned(),
                Some(other) => format!("ECDSA ({other})"),
                None => "ECDSA".to_owned(),
            }
        }
        _ => match spki.algorithm.algorithm.to_id_string().as_str() {
            "1.3.101.112" => "Ed25519".to_owned(),
            "1.3.101.113" => "Ed448".to_owned(),
            other => format!("unknown ({other})"),
        },
    }
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(octets).to_string()
        }
        _ => hex::encode(bytes),
    }
}

fn short_parse_error(text: &str) -> String {
    if text.contains("Incomplete") {
        "the data ends early (truncated)".to_owned()
    } else {
        format!("not X.509 DER: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (String, Vec<u8>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["a.example.test".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), cert.der().to_vec())
    }

    #[test]
    fn reads_pem_and_der_with_names_key_and_fingerprint() {
        let (pem, der) = sample();
        let from_pem = certificates_in(pem.as_bytes(), "a.pem").unwrap();
        let from_der = certificates_in(&der, "a.der").unwrap();
        assert_eq!(from_pem, from_der);
        let details = describe(&der).unwrap();
        assert_eq!(details.sans, ["a.example.test", "127.0.0.1"]);
        assert_eq!(details.key_type, "ECDSA P-256");
        assert!(details.self_signed);
        assert_eq!(details.fingerprint, fingerprint(&der));
        assert_eq!(certificates_in(to_pem(&from_der).as_bytes(), "again").unwrap(), from_der);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let (pem, der) = sample();
        for cut in 0..der.len() {
            let error = certificates_in(&der[..cut], "cut.der").unwrap_err().to_string();
            assert!(error.contains("cut.der"), "{error}");
        }
        for cut in 0..pem.len() - 30 {
            // A PEM cut before its END line is refused; nothing panics.
            let _ = certificates_in(&pem.as_bytes()[..cut], "cut.pem");
        }
        assert!(certificates_in(b"", "empty.pem").unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn flipped_bits_and_noise_never_panic() {
        let (pem, der) = sample();
        // A small deterministic generator (xorshift), so a failure reproduces.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let mut bytes = der.clone();
            let index = (next() % bytes.len() as u64) as usize;
            bytes[index] ^= 1 << (next() % 8);
            if let Ok(ders) = certificates_in(&bytes, "flipped.der") {
                let _ = describe(&ders[0]);
            }
            let mut text = pem.clone().into_bytes();
            let index = (next() % text.len() as u64) as usize;
            text[index] = (next() % 256) as u8;
            let _ = certificates_in(&text, "flipped.pem");
            let noise: Vec<u8> = (0..(next() % 600)).map(|_| (next() % 256) as u8).collect();
            let _ = certificates_in(&noise, "noise");
        }
    }
}
