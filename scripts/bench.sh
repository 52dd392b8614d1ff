#!/usr/bin/env bash
# `make bench`: the figures of BENCHMARKS.md.
#  1. seal/open throughput and listing 10,000 secrets (crates/deck/benches/vault.rs);
#  2. `opsdeck secret get` wall time from process start, with the vault's key
#     in a real OS keychain (gnome-keyring on a private D-Bus session);
#  3. certificate issuance against a local pebble, beside lego on the same CA,
#     and probes of 100 local TLS endpoints (tests/benches/certs.rs);
#  4. telemetry: 1,000,000 spans over OTLP/gRPC into a release `opsdeck
#     serve` (ingest rate, receiver memory), then search, the service map and
#     a 10,000-span trace over that store (tests/benches/telemetry.rs);
#  5. many processes on one SQLite store: `secret set` latency alone, beside
#     full OTLP ingest and among 36 CLI processes, and the ingest rate in each
#     case (tests/benches/contention.rs);
#  6. the HTTP API's requests/s for a metadata listing and the MCP tool-call
#     round trip (tests/benches/api.rs);
#  7. the metrics sample encoding: append and read rates, bytes per sample
#     (crates/metrics/benches/chunk.rs), and the series store over SQLite:
#     append rate, bytes per sample, a range read (crates/metrics/benches/store.rs);
#     a 90-day panel before and after downsampling (crates/metrics/benches/downsample.rs);
#     PromQL against Prometheus (tests/benches/promql.rs) and the Service RED
#     dashboard's 8 panels opened (tests/benches/dashboard.rs);
#  8. the secret scanner's throughput over the cargo registry's crate sources
#     and over this repository's git history (crates/scan/benches/throughput.rs),
#     then the labelled corpus and the peers side by side — Kingfisher and
#     detect-secrets (PyPI), ripsecrets (crates.io) — recall, precision and MB/s
#     over the same tree (scripts/scan_corpus.py).
# Release builds; prints the machine it ran on.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d)"
cargo bench -p opsdeck --bench vault --locked
# lego is the peer the certificate figures are compared with.
if ! command -v lego >/dev/null; then
  echo "==> Installing lego (the peer of the certificate benchmark)"
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends lego >/dev/null
fi
cargo bench -p opsdeck-tests --bench certs --locked
cargo build --release -p opsdeck-cli --locked --quiet
cargo bench -p opsdeck-tests --bench telemetry --locked
cargo bench -p opsdeck-tests --bench contention --locked
cargo bench -p opsdeck-tests --bench api --locked
cargo bench -p opsdeck-metrics --bench chunk --locked
cargo bench -p opsdeck-metrics --bench store --locked
cargo bench -p opsdeck-metrics --bench downsample --locked
cargo bench -p opsdeck-tests --bench promql --locked
cargo bench -p opsdeck-tests --bench dashboard --locked
cargo bench -p opsdeck-scan --bench throughput --locked
# The scanning peers, each installed once into .tools (kept out of git).
PEERS_VENV=.tools/scan-peers-venv
if [ ! -x "$PEERS_VENV/bin/kingfisher" ] || [ ! -x "$PEERS_VENV/bin/detect-secrets" ]; then
  echo "==> Installing Kingfisher and detect-secrets (the scanning peers) into $PEERS_VENV"
  python3 -m venv "$PEERS_VENV"
  "$PEERS_VENV/bin/pip" install -q kingfisher-bin==2.14.0 detect-secrets==1.5.0
fi
if [ ! -x .tools/ripsecrets/bin/ripsecrets ]; then
  echo "==> Installing ripsecrets (a scanning peer) into .tools/ripsecrets"
  cargo install ripsecrets --root .tools/ripsecrets --locked --quiet
fi
# The peers' throughput over a 200 MB slice of the registry's sources (detect-secrets
# would take many minutes over all of it); the same slice for every scanner.
scan_tree=$(mktemp -d)
registry_src="${CARGO_HOME:-$HOME/.cargo}/registry/src"
python3 - "$registry_src" "$scan_tree" <<'PY'
import os, shutil, sys
source, target = sys.argv[1], sys.argv[2]
total = 0
for index in sorted(os.listdir(source)):
    for crate in sorted(os.listdir(os.path.join(source, index))):
        if total >= 200e6:
            break
        shutil.copytree(os.path.join(source, index, crate), os.path.join(target, crate), symlinks=True)
        for folder, _, files in os.walk(os.path.join(target, crate)):
            total += sum(os.lstat(os.path.join(folder, name)).st_size for name in files)
PY
python3 scripts/scan_corpus.py --opsdeck target/release/opsdeck \
  --kingfisher "$PEERS_VENV/bin/kingfisher" --detect-secrets "$PEERS_VENV/bin/detect-secrets" \
  --ripsecrets .tools/ripsecrets/bin/ripsecrets --tree "$scan_tree"
rm -rf "$scan_tree"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/inner.sh" <<'INNER'
set -euo pipefail
export HOME="$WORK/home" XDG_DATA_HOME="$WORK/home/data" XDG_RUNTIME_DIR="$WORK/home"
mkdir -p "$HOME"
printf 'opsdeck-bench-keyring' | gnome-keyring-daemon --unlock --components=secrets --replace >/dev/null 2>&1
sleep 1
bin="$PWD/target/release/opsdeck"
# time_get DATA RUNS LABEL: `secret get` wall time from process start.
time_get() {
  python3 - "$bin" "$1" "$2" "$3" <<'PY'
import statistics, subprocess, sys, time
binary, data, runs, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
samples = []
for _ in range(runs):
    start = time.perf_counter()
    out = subprocess.run([binary, "--data-dir", data, "secret", "get", "bench/api"], capture_output=True, check=True)
    samples.append((time.perf_counter() - start) * 1000)
    assert out.stdout.strip() == b"bench-value", out
samples.sort()
print(f"{label:<44} {statistics.median(samples):>8.1f} ms median, p95 {samples[int(len(samples) * 0.95) - 1]:.1f} ms ({runs} runs)")
PY
}
data="$WORK/data"
"$bin" --data-dir "$data" vault init bench >/dev/null
printf 'bench-value' | "$bin" --data-dir "$data" secret set bench/api --type api_key --value-stdin >/dev/null
time_get "$data" 40 'opsdeck secret get, keychain slot (wall)'
# The same with no keychain: every process derives its keys from the passphrase (Argon2id).
pdata="$WORK/pdata"
export OPSDECK_PASSPHRASE='opsdeck bench passphrase'
"$bin" --data-dir "$pdata" vault init bench --no-keychain >/dev/null
printf 'bench-value' | "$bin" --data-dir "$pdata" secret set bench/api --type api_key --value-stdin >/dev/null
time_get "$pdata" 20 'opsdeck secret get, passphrase only (wall)'
INNER
WORK="$work" OPSDECK_PASSPHRASE= dbus-run-session -- bash "$work/inner.sh"
