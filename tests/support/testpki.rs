//! Test certificates with chosen names and validity, made with rcgen: a root,
//! an intermediate, and leaves signed by it (or broken on purpose).

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}

fn at(unix_ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix_ms / 1000).unwrap()
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params
}

/// A root CA and an intermediate under it.
pub struct Pki {
    root_pem: String,
    intermediate_params: CertificateParams,
    intermediate_key: KeyPair,
    intermediate_pem: String,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    /// A fresh root and intermediate.
    pub fn new() -> Pki {
        let root_key = KeyPair::generate().unwrap();
        let root_params = ca_params("OpsDeck Test Root");
        let root = root_params.self_signed(&root_key).unwrap();
        let intermediate_key = KeyPair::generate().unwrap();
        let intermediate_params = ca_params("OpsDeck Test Intermediate");
        let intermediate = intermediate_params
            .signed_by(&intermediate_key, &Issuer::from_params(&root_params, &root_key))
            .unwrap();
        Pki {
            root_pem: root.pem(),
            intermediate_pem: intermediate.pem(),
            intermediate_params,
            intermediate_key,
        }
    }

    /// The root, PEM.
    pub fn root_pem(&self) -> String {
        self.root_pem.clone()
    }

    /// The intermediate, PEM.
    pub fn intermediate_pem(&self) -> String {
        self.intermediate_pem.clone()
    }

    fn leaf(&self, name: &str, not_before: i64, not_after: i64) -> (rcgen::Certificate, KeyPair) {
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.not_before = at(not_before);
        params.not_after = at(not_after);
        let key = KeyPair::generate().unwrap();
        let cert = params
            .signed_by(&key, &Issuer::from_params(&self.intermediate_params, &self.intermediate_key))
            .unwrap();
        (cert, key)
    }

    /// Leaf + intermediate, PEM.
    pub fn leaf_chain(&self, name: &str, not_before: i64, not_after: i64) -> String {
        format!("{}{}", self.leaf(name, not_before, not_after).0.pem(), self.intermediate_pem)
    }

    /// Leaf PEM and its key PEM.
    pub fn leaf_with_key(&self, name: &str, not_before: i64, not_after: i64) -> (String, String) {
        let (cert, key) = self.leaf(name, not_before, not_after);
        (cert.pem(), key.serialize_pem())
    }

    /// The leaf alone (its intermediate missing), PEM.
    pub fn leaf_only(&self, name: &str) -> String {
        let now = now_ms();
        self.leaf(name, now - 86_400_000, now + 30 * 86_400_000).0.pem()
    }

    /// The leaf as DER.
    pub fn leaf_der(&self, name: &str) -> Vec<u8> {
        let now = now_ms();
        self.leaf(name, now - 86_400_000, now + 30 * 86_400_000).0.der().to_vec()
    }
}

/// A self-signed server certificate, PEM.
pub fn self_signed(name: &str) -> String {
    let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().pem()
}
