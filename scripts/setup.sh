#!/usr/bin/env bash
# Installs what OpsDeck needs to build, run and test, and nothing that is
# already there: Debian packages (WebKitGTK for the app, Xvfb and
# WebKitWebDriver for end-to-end tests, PostgreSQL for store tests), the UI's
# npm packages, and tauri-driver. Safe to run again: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------
APT_PACKAGES=(
  # Building the desktop app (Tauri 2 on Linux).
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libssl-dev pkg-config
  # Running it without a desktop and driving it through WebDriver.
  xvfb xauth webkit2gtk-driver
  # Reading the clipboard of the app's display (Copy clears it after 30 s).
  xclip
  # A real notification daemon on the app's display: the alert journey reads
  # the desktop notifications it showed (`dunstctl history`).
  dunst
  # Real servers the tests start themselves: PostgreSQL, and a Secret Service
  # (GNOME Keyring on a private D-Bus session) as the OS keychain.
  postgresql gnome-keyring dbus libsecret-tools
  # OpenSSH's ssh-keygen checks the SSH keys the vault generates.
  openssh-client
  # A real ACME CA (pebble, with its DNS/HTTP test server) and a real DNS
  # server taking RFC 2136 updates (BIND) for certificate tests; openssl
  # makes their throwaway CAs and serves TLS for probes.
  pebble bind9 openssl curl
  # A virtual environment for the real OpenTelemetry SDK the telemetry tests send with.
  python3-venv
  # Real Prometheus (and promtool, which loads test data into it): the PromQL
  # tests compare OpsDeck's answers with its answers on the same samples.
  prometheus
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "error: missing system packages (${missing[*]}) and no apt-get to install them; install them with your package manager" >&2
    exit 1
  fi
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  say "Installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a system PostgreSQL cluster on install; tests run their own.
  if [[ " ${missing[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null; then
    "${sudo_cmd[@]}" systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
fi

# --- UI packages -----------------------------------------------------------
# Reinstall only when the lockfile changed since the last install.
stamp=ui/node_modules/.opsdeck-lock-hash
want=$(sha256sum ui/package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # `npm install` rather than `npm ci`: the registry reachable here serves only
  # the Linux builds of native optional packages (Tailwind's oxide), so the
  # lockfile cannot list the other platforms and `npm ci` would refuse it.
  # With an up-to-date lockfile `npm install` installs exactly its versions.
  say "Installing UI packages (npm install from package-lock.json)"
  (cd ui && npm install --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi

# --- A real OpenTelemetry client for the telemetry tests --------------------
# PyPI's SDK and OTLP/HTTP and gRPC exporters (grpcio) in .tools/otel-venv (kept out of git),
# installed once; the tests send their traces and logs through it. Prometheus'
# own Python client sits beside it: the alert tests' exporter.
OTEL_VENV=.tools/otel-venv
if ! "$OTEL_VENV/bin/python" -c 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http, opentelemetry.exporter.otlp.proto.grpc, prometheus_client' 2>/dev/null; then
  say "Installing the OpenTelemetry SDK for the telemetry tests (into $OTEL_VENV)"
  python3 -m venv "$OTEL_VENV"
  "$OTEL_VENV/bin/pip" install --quiet --disable-pip-version-check \
    'opentelemetry-sdk>=1.30,<2' 'opentelemetry-exporter-otlp-proto-http>=1.30,<2' \
    'opentelemetry-exporter-otlp-proto-grpc>=1.30,<2' 'prometheus-client>=0.20,<1'
fi

# --- Clients for the API and MCP tests --------------------------------------
# The official MCP Python SDK, and openapi-spec-validator for the API's
# OpenAPI document, in .tools/mcp-venv.
MCP_VENV=.tools/mcp-venv
if ! "$MCP_VENV/bin/python" -c 'import mcp.client.stdio, openapi_spec_validator' 2>/dev/null; then
  say "Installing the MCP Python SDK and openapi-spec-validator (into $MCP_VENV)"
  python3 -m venv "$MCP_VENV"
  "$MCP_VENV/bin/pip" install --quiet --disable-pip-version-check 'mcp>=1.20,<3' 'openapi-spec-validator>=0.7,<1'
fi

# --- The SARIF validator for the scanning tests --------------------------------
# Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool-linux, a
# self-contained .NET program) in .tools/sarif-multitool: `validate` checks
# `opsdeck scan --format sarif` against the SARIF 2.1.0 schema, the SARIF
# rules and GitHub code scanning's ingestion rules.
SARIF_MULTITOOL=.tools/sarif-multitool/package/Sarif.Multitool
if [ ! -x "$SARIF_MULTITOOL" ]; then
  say "Installing the SARIF Multitool for the scanning tests (into .tools/sarif-multitool)"
  rm -rf .tools/sarif-multitool && mkdir -p .tools/sarif-multitool
  (cd .tools/sarif-multitool \
    && npm pack --silent @microsoft/sarif-multitool-linux@5.7.0 >/dev/null \
    && tar xzf microsoft-sarif-multitool-linux-5.7.0.tgz \
    && rm microsoft-sarif-multitool-linux-5.7.0.tgz)
  chmod +x "$SARIF_MULTITOOL"
fi

# --- tauri-driver (WebDriver bridge for the end-to-end tests) ----------------
if ! command -v tauri-driver >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  say "Installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked --quiet
fi
