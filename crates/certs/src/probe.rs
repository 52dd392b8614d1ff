//! Probing a live TLS endpoint: connect, shake hands with SNI, and record the
//! chain the server sent. The handshake accepts any chain on purpose (a probe
//! must see expired or self-signed certificates too); the chain is judged
//! afterwards by [`crate::trust::TrustRoots::check`].

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::CertError;

/// What an endpoint served.
#[derive(Debug, Clone)]
pub struct Probed {
    /// `HOST:PORT` as given.
    pub endpoint: String,
    /// The name sent as SNI.
    pub servername: String,
    /// The served chain, leaf first (DER).
    pub chain: Vec<Vec<u8>>,
    /// The negotiated protocol (`TLSv1_3`).
    pub protocol: String,
}

/// Records the chain without judging it; handshake signatures are still checked.
#[derive(Debug)]
struct RecordingVerifier(Arc<CryptoProvider>);

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Splits `HOST:PORT` (`[v6]:PORT` too); the port defaults to 443.
pub fn split_endpoint(endpoint: &str) -> Result<(String, u16), CertError> {
    let invalid =
        || CertError::Invalid(format!("{endpoint:?} is not HOST:PORT (for example example.com:443)"));
    let (host, port) = match endpoint.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') || host.starts_with('[') => {
            (host, port.parse::<u16>().map_err(|_| invalid())?)
        }
        _ => (endpoint, 443),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(invalid());
    }
    Ok((host.to_owned(), port))
}

/// Connects to `endpoint`, sends `servername` (default: the host) as SNI, and
/// returns the served chain. Gives up after `timeout`.
pub async fn probe(endpoint: &str, servername: Option<&str>, timeout: Duration) -> Result<Probed, CertError> {
    let (host, port) = split_endpoint(endpoint)?;
    let servername = servername.unwrap_or(&host).to_owned();
    let failed = |reason: String| CertError::Probe { endpoint: endpoint.to_owned(), reason };
    let sni = ServerName::try_from(servername.clone())
        .map_err(|_| CertError::Invalid(format!("{servername:?} is not a valid server name")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| failed(error.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier(provider)))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let work = async {
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|error| failed(format!("cannot connect: {error}")))?;
        let tls =
            connector.connect(sni, tcp).await.map_err(|error| failed(format!("TLS handshake: {error}")))?;
        let (_, session) = tls.get_ref();
        let chain: Vec<Vec<u8>> = session
            .peer_certificates()
            .map(|certs| certs.iter().map(|cert| cert.to_vec()).collect())
            .unwrap_or_default();
        if chain.is_empty() {
            return Err(failed("the server sent no certificate".to_owned()));
        }
        let protocol = session.protocol_version().map(|version| format!("{version:?}")).unwrap_or_default();
        Ok(Probed { endpoint: endpoint.to_owned(), servername: servername.clone(), chain, protocol })
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| failed(format!("no answer within {} s", timeout.as_secs())))?
}
