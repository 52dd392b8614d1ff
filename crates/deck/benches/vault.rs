//! `make bench` (vaults): seal/open throughput of the envelope, and listing
//! 10,000 secrets through the deck on the embedded store. Plain timing loops
//! (median of several runs) keep the bench free of extra dependencies; the
//! CLI wall time is measured by scripts/bench.sh around the real binary.

use std::time::{Duration, Instant};

use opsdeck::{Caller, Deck, DeckOptions, KeyAccess, SecretType};
use opsdeck_vault::envelope::{open_version, seal_version};
use zeroize::Zeroizing;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn throughput(label: &str, bytes: usize, runs: usize, mut work: impl FnMut()) {
    let samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    let time = median(samples);
    let rate = bytes as f64 / time.as_secs_f64() / 1e9;
    println!("{label:<44} {rate:>8.2} GB/s   ({:.2} ms per {} MiB)", time.as_secs_f64() * 1e3, bytes >> 20);
}

fn envelope() {
    let key = opsdeck_core::keys::random_key().expect("random key");
    let payload = vec![0x5a_u8; 64 << 20];
    throughput("seal (AES-256-GCM, 64 MiB value)", payload.len(), 7, || {
        let sealed = seal_version(&key, "vlt_bench", "sec_bench", 1, &payload).expect("seal");
        std::hint::black_box(sealed);
    });
    let (nonce, sealed) = seal_version(&key, "vlt_bench", "sec_bench", 1, &payload).expect("seal");
    throughput("open (AES-256-GCM, 64 MiB value)", payload.len(), 7, || {
        let opened = open_version(&key, "vlt_bench", "sec_bench", 1, &nonce, &sealed).expect("open");
        std::hint::black_box(opened);
    });
    // Typical secrets are small: per-operation cost matters more than bandwidth.
    let small = [0x41_u8; 64];
    let count = 200_000;
    let start = Instant::now();
    for version in 0..count {
        std::hint::black_box(seal_version(&key, "vlt_bench", "sec_bench", version, &small).expect("seal"));
    }
    let per = start.elapsed() / u32::try_from(count).unwrap_or(1);
    println!("{:<44} {:>8.2} µs per secret", "seal (64-byte value)", per.as_secs_f64() * 1e6);
}

async fn list_10k() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = DeckOptions {
        data_dir: Some(dir.path().to_path_buf()),
        keys: KeyAccess {
            passphrase: Some(Zeroizing::new("bench passphrase".into())),
            no_keychain: true,
            key_dir: None,
        },
        ..DeckOptions::default()
    };
    let deck = Deck::open(options).await.expect("open deck");
    let caller = Caller::new("cli:bench");
    deck.vaults().init(&caller, "bench", true).await.expect("vault");
    let entries: Vec<(String, Zeroizing<String>)> =
        (0..10_000).map(|i| (format!("SECRET_{i:05}"), Zeroizing::new(format!("value-{i}")))).collect();
    let start = Instant::now();
    deck.vaults()
        .secret_import(&caller, "bench", entries, SecretType::ApiKey, "bench")
        .await
        .expect("import");
    println!(
        "{:<44} {:>8.0} ms",
        "import 10,000 secrets (one transaction)",
        start.elapsed().as_secs_f64() * 1e3
    );
    let mut samples = Vec::new();
    for _ in 0..9 {
        let start = Instant::now();
        let secrets = deck.vaults().secret_list(&caller, Some("bench")).await.expect("list");
        samples.push(start.elapsed());
        assert_eq!(secrets.len(), 10_000);
    }
    let fastest = samples.iter().min().copied().unwrap_or_default();
    let slowest = samples.iter().max().copied().unwrap_or_default();
    println!(
        "{:<44} {:>8.1} ms median of 9 ({:.1}–{:.1} ms)",
        "list 10,000 secrets (metadata)",
        median(samples).as_secs_f64() * 1e3,
        fastest.as_secs_f64() * 1e3,
        slowest.as_secs_f64() * 1e3
    );
    deck.shutdown().await;
}

/// What unlocking with a passphrase costs: one Argon2id derivation with the
/// parameters new keys and slots use, beside the ones used before issue 15.
fn passphrase_unlock() {
    let salt = [7_u8; 16];
    for (label, params) in [
        ("Argon2id 64 MiB, t=3 (new keys and slots)", opsdeck_core::keys::default_kdf_params()),
        ("Argon2id 19 MiB, t=2 (before; still opened)", "19456,2,1".to_owned()),
    ] {
        let mut samples = Vec::new();
        for _ in 0..7 {
            let start = Instant::now();
            let key = opsdeck_core::keys::derive_from_passphrase("bench passphrase", &salt, &params)
                .expect("derive");
            samples.push(start.elapsed());
            std::hint::black_box(&key);
        }
        println!("{label:<44} {:>8.1} ms median of 7", median(samples).as_secs_f64() * 1e3);
    }
}

fn main() {
    envelope();
    passphrase_unlock();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(list_10k());
}
