//! Certificate figures for BENCHMARKS.md (`make bench`):
//!  1. issuance of a 2-name certificate against a local pebble (sleeps off,
//!     fresh authorizations every time, so each order answers two HTTP-01
//!     challenges), through the deck as `opsdeck cert issue` does it;
//!  2. probing 100 local TLS endpoints, one at a time and concurrently.
//!
//! Real servers: pebble from Debian; the 100 endpoints are rustls servers in
//! this process, each on its own port, serving a leaf + intermediate chain.

use std::sync::Arc;
use std::time::Instant;

use opsdeck::{Caller, Deck, DeckOptions, IssueOptions, KeyAccess};
use opsdeck_tests::pebble::Pebble;
use opsdeck_tests::testpki::{now_ms, Pki};

const ISSUANCES: usize = 15;
const ENDPOINTS: usize = 100;

fn summary(label: &str, mut samples: Vec<f64>, unit: &str) {
    samples.sort_by(|a, b| a.total_cmp(b));
    let median = samples[samples.len() / 2];
    let p95 = samples[((samples.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)];
    println!(
        "{label:<52} {median:>8.1} {unit} median, p95 {p95:.1} {unit}, min {:.1}, max {:.1} ({} runs)",
        samples[0],
        samples[samples.len() - 1],
        samples.len()
    );
}

async fn issuance(deck: &Deck) {
    let pebble = Pebble::start(&[("PEBBLE_AUTHZREUSE", "0")]);
    let bundle = pebble.trust_bundle().display().to_string();
    let caller = Caller::local_user("bench");
    deck.vaults().init(&caller, "bench", true).await.expect("vault");
    let mut samples = Vec::new();
    for round in 0..ISSUANCES {
        let options = IssueOptions {
            domains: vec![format!("r{round}.example.test"), format!("www.r{round}.example.test")],
            directory_url: pebble.directory_url.clone(),
            email: "bench@example.test".to_owned(),
            challenge: opsdeck::ChallengeKind::Http01,
            http_port: Some(pebble.http_port),
            key_type: opsdeck::KeyKind::EcdsaP256,
            ca_bundle: Some(bundle.clone()),
            vault: Some("bench".to_owned()),
            ..IssueOptions::default()
        };
        let start = Instant::now();
        let issued = deck.certs().issue(&caller, &options, &|_| {}).await.expect("issue");
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(issued.state, opsdeck::CertState::Active);
        // The first order also registers the ACME account; keep it apart.
        if round == 0 {
            println!(
                "{:<52} {elapsed:>8.1} ms (registers the ACME account too)",
                "cert issue, first (2 names, HTTP-01)"
            );
        } else {
            samples.push(elapsed);
        }
    }
    summary("cert issue, 2 names, HTTP-01, pebble on loopback", samples, "ms");
    lego(&pebble).await;
}

/// The peer, side by side on the same pebble: lego (Debian's package), a
/// whole process per issuance as people run it, its account kept in `--path`.
async fn lego(pebble: &Pebble) {
    if std::process::Command::new("lego").arg("--version").output().is_err() {
        println!("peer: lego is not installed (apt-get install lego) — skipped");
        return;
    }
    let path = tempfile::tempdir().expect("temp dir");
    let mut samples = Vec::new();
    for round in 0..ISSUANCES {
        let (first, second) = (format!("lego{round}.example.test"), format!("www.lego{round}.example.test"));
        let start = Instant::now();
        let output = tokio::process::Command::new("lego")
            .env("LEGO_CA_CERTIFICATES", pebble.tls_ca())
            .args(["--accept-tos", "--server", &pebble.directory_url, "--email", "bench@example.test"])
            .arg("--path")
            .arg(path.path())
            .args(["--domains", &first, "--domains", &second, "--key-type", "ec256", "--http"])
            .args(["--http.port", &format!("127.0.0.1:{}", pebble.http_port), "run"])
            .output()
            .await
            .expect("lego");
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        assert!(output.status.success(), "lego: {}", String::from_utf8_lossy(&output.stderr));
        if round > 0 {
            samples.push(elapsed);
        }
    }
    summary("peer: lego run, 2 names, HTTP-01 (whole process)", samples, "ms");
}

/// Starts `count` TLS servers on loopback, each waiting `delay` before its
/// handshake (a far-away server's round trips); returns their `localhost:PORT`s.
async fn tls_servers(count: usize, delay: std::time::Duration) -> Vec<String> {
    let pki = Pki::new();
    let now = now_ms();
    let (leaf, key) = pki.leaf_with_key("localhost", now - 86_400_000, now + 90 * 86_400_000);
    use rustls::pki_types::pem::PemObject;
    let mut chain: Vec<rustls::pki_types::CertificateDer<'static>> =
        rustls::pki_types::CertificateDer::pem_slice_iter(leaf.as_bytes())
            .map(|cert| cert.unwrap())
            .collect();
    chain.extend(
        rustls::pki_types::CertificateDer::pem_slice_iter(pki.intermediate_pem().as_bytes())
            .map(|cert| cert.unwrap()),
    );
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key");
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let mut endpoints = Vec::with_capacity(count);
    for _ in 0..count {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        endpoints.push(format!("localhost:{}", listener.local_addr().expect("address").port()));
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Ok(mut tls) = acceptor.accept(stream).await {
                        use tokio::io::AsyncWriteExt;
                        let _ = tls.shutdown().await;
                    }
                });
            }
        });
    }
    endpoints
}

async fn probes(deck: &Deck) {
    let caller = Caller::local_user("bench");
    let far = tls_servers(ENDPOINTS, std::time::Duration::from_millis(50)).await;
    for concurrency in [1, 100] {
        let start = Instant::now();
        let results = deck.certs().probe_many(&caller, &far, None, concurrency).await.expect("probe");
        assert!(results.iter().all(Result::is_ok), "every endpoint answered");
        println!(
            "{:<52} {:>8.1} ms (1 run)",
            format!("probe {ENDPOINTS} endpoints 50 ms away, {concurrency} at a time"),
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
    let endpoints = tls_servers(ENDPOINTS, std::time::Duration::ZERO).await;
    for concurrency in [1, 16, 100] {
        let mut samples = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let results =
                deck.certs().probe_many(&caller, &endpoints, None, concurrency).await.expect("probe");
            samples.push(start.elapsed().as_secs_f64() * 1000.0);
            assert!(results.iter().all(Result::is_ok), "every endpoint answered");
        }
        summary(&format!("probe {ENDPOINTS} TLS endpoints, {concurrency} at a time"), samples, "ms");
    }
    // The scripted baseline people write: openssl s_client over the same endpoints, one by one.
    let start = Instant::now();
    for endpoint in &endpoints {
        let output = tokio::process::Command::new("openssl")
            .args(["s_client", "-connect", endpoint, "-servername", "localhost", "-showcerts"])
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .expect("openssl s_client");
        assert!(String::from_utf8_lossy(&output.stdout).contains("BEGIN CERTIFICATE"));
    }
    println!(
        "{:<52} {:>8.1} ms (1 run; fetch only, no parsing or checks)",
        format!("peer: openssl s_client loop over {ENDPOINTS} endpoints"),
        start.elapsed().as_secs_f64() * 1000.0
    );
}

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = DeckOptions {
            data_dir: Some(dir.path().to_path_buf()),
            database_url: None,
            keys: KeyAccess {
                passphrase: Some("bench passphrase".to_owned().into()),
                no_keychain: true,
                key_dir: None,
            },
            ..DeckOptions::default()
        };
        let deck = Deck::open(options).await.expect("deck");
        issuance(&deck).await;
        probes(&deck).await;
        deck.shutdown().await;
    });
}
