//! Certificate keys and signing requests: ECDSA P-256/P-384 through ring,
//! RSA 2048/3072 through the `rsa` crate (ring signs with RSA but cannot make
//! RSA keys). Private keys leave this module only as zeroized PKCS#8 PEM.

use rcgen::{CertificateParams, DistinguishedName, KeyPair};
use rustls_pki_types::PrivatePkcs8KeyDer;
use zeroize::Zeroizing;

use crate::CertError;

opsdeck_core::word_enum! {
    /// The key types a certificate can be issued for.
    #[derive(Default)]
    "key type" pub enum KeyKind {
        /// ECDSA on P-256 (the default: small, fast, accepted everywhere).
        #[default]
        EcdsaP256 = "ecdsa-p256",
        /// ECDSA on P-384.
        EcdsaP384 = "ecdsa-p384",
        /// RSA 2048 bits.
        Rsa2048 = "rsa2048",
        /// RSA 3072 bits.
        Rsa3072 = "rsa3072",
    }
}

/// A fresh private key: rcgen's handle (to sign the CSR) and its PKCS#8 PEM.
pub struct CertKey {
    /// For signing the request.
    pub pair: KeyPair,
    /// The private key as PKCS#8 PEM, to seal in a vault.
    pub pem: Zeroizing<String>,
}

/// Makes a new private key of `kind`.
pub fn generate(kind: KeyKind) -> Result<CertKey, CertError> {
    let failed =
        |error: String| CertError::Invalid(format!("could not generate a {} key: {error}", kind.as_str()));
    let pair = match kind {
        KeyKind::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyKind::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeyKind::Rsa2048 | KeyKind::Rsa3072 => {
            use rsa::pkcs8::EncodePrivateKey;
            let bits = if kind == KeyKind::Rsa2048 { 2048 } else { 3072 };
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
                .map_err(|error| failed(error.to_string()))?;
            let document = key.to_pkcs8_der().map_err(|error| failed(error.to_string()))?;
            let der = PrivatePkcs8KeyDer::from(document.as_bytes());
            KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256)
        }
    }
    .map_err(|error| failed(error.to_string()))?;
    let pem = Zeroizing::new(pair.serialize_pem());
    Ok(CertKey { pair, pem })
}

/// A DER certificate signing request for `domains` (the first is the subject's CN).
pub fn signing_request(domains: &[String], key: &KeyPair) -> Result<Vec<u8>, CertError> {
    let mut params = CertificateParams::new(domains.to_vec())
        .map_err(|error| CertError::Invalid(format!("cannot request these names: {error}")))?;
    let mut name = DistinguishedName::new();
    if let Some(first) = domains.first() {
        name.push(rcgen::DnType::CommonName, first.clone());
    }
    params.distinguished_name = name;
    let request = params
        .serialize_request(key)
        .map_err(|error| CertError::Invalid(format!("cannot sign the request: {error}")))?;
    Ok(request.der().to_vec())
}
