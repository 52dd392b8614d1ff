#!/usr/bin/env bash
# Supply-chain checks, run by `make test`:
#  - cargo deny: licences, banned crates and duplicate majors, sources (all
#    offline, from Cargo.lock) and RustSec advisories (needs the advisory
#    database: when it cannot be fetched, the check is skipped with a note);
#  - npm audit of the UI's runtime dependencies (needs the registry's audit
#    endpoint: when it cannot be reached, skipped with a note).
# Accepted exceptions live in deny.toml, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}

if ! command -v cargo-deny >/dev/null; then
  echo "supply-chain: installing cargo-deny (once)"
  $CARGO install --locked cargo-deny
fi

# Every platform's crates (cargo deny reads the whole lock file, Windows' too);
# a no-op once they are in the local cache.
cargo fetch --locked --quiet
cargo deny --log-level error --offline check licenses bans sources

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if cargo deny check advisories >"$log" 2>&1; then
  if grep -q "failed to fetch advisory database" "$log"; then
    echo "supply-chain: NOTE advisories not checked: the RustSec advisory database could not be fetched (no network to github.com); run 'cargo deny check advisories' where it can be"
  else
    echo "supply-chain: advisories ok"
  fi
else
  if grep -q "failed to fetch advisory database" "$log"; then
    echo "supply-chain: NOTE advisories not checked: the RustSec advisory database could not be fetched (no network to github.com); run 'cargo deny check advisories' where it can be"
  else
    cat "$log"
    exit 1
  fi
fi

if (cd ui && npm audit --omit=dev --audit-level=moderate >"$log" 2>&1); then
  echo "supply-chain: npm audit ok"
elif grep -qE "audit endpoint returned an error|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|405 Method Not Allowed" "$log"; then
  echo "supply-chain: NOTE npm audit not run: the registry's audit endpoint could not be reached ($(grep -oE '405 Method Not Allowed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED' "$log" | head -1))"
else
  cat "$log"
  exit 1
fi
