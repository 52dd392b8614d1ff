#!/usr/bin/env python3
"""The labelled secret-scanning corpus, and the four scanners scored on it.

`make bench` (scripts/bench.sh) runs this. It writes a corpus of our own —
secrets of many providers, made from their published token formats with a
fixed random seed, planted in realistic code, config, notebooks, `.env`
files and Kubernetes manifests (some base64-encoded), beside look-alike
decoys: UUIDs, hashes, lockfile integrity strings, base64 images,
placeholders, documentation examples, a GitHub token with a bad checksum,
publishable keys — and a label for every planted secret (file and lines).

Then it runs OpsDeck (`opsdeck scan --format json`), Kingfisher, ripsecrets
and detect-secrets on it and scores each: recall (labelled secrets reported
on their lines) and precision (reports that are labelled secrets), and for
OpsDeck recall per rule (found on the line, and named by the expected rule).
With --tree DIR it also times each scanner over DIR (MB/s, second of two
runs).

Usage: scan_corpus.py --opsdeck BIN --kingfisher BIN --ripsecrets BIN
       --detect-secrets BIN [--tree DIR] [--keep DIR]
"""

import argparse
import base64
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
import zlib

RNG = random.Random(20261207)
ALNUM = string.ascii_letters + string.digits
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "_-"


def rand(alphabet, n):
    return "".join(RNG.choice(alphabet) for _ in range(n))


def base62(number, width):
    out = ""
    while number:
        number, digit = divmod(number, 62)
        out = B62[digit] + out
    return out.rjust(width, "0")


def github(prefix):
    body = rand(ALNUM, 30)
    return f"{prefix}_{body}{base62(zlib.crc32(body.encode()), 6)}"


def npm():
    body = rand(ALNUM, 30)
    return f"npm_{body}{base62(zlib.crc32(body.encode()), 6)}"


def pem():
    lines = [rand(string.ascii_letters + string.digits + "+/", 64) for _ in range(12)]
    return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----"


def jwt():
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    header = part({"alg": "HS256", "typ": "JWT"})
    payload = part({"sub": rand(HEX, 12), "name": "Service Account", "iat": 1767225600 + RNG.randrange(10**6)})
    return f"{header}.{payload}.{rand(URLSAFE, 43)}"


def password():
    return rand(ALNUM, 10) + RNG.choice("!#%^*") + rand(ALNUM, 5)


# (expected rule, variable name, token maker): formats as the providers publish them.
PROVIDERS = [
    ("github-pat", "GITHUB_TOKEN", lambda: github("ghp")),
    ("github-oauth-token", "GH_OAUTH", lambda: github("gho")),
    ("github-app-token", "GH_APP_TOKEN", lambda: github("ghs")),
    ("github-fine-grained-pat", "GH_PAT", lambda: f"github_pat_{rand(ALNUM, 22)}_{rand(ALNUM, 59)}"),
    ("gitlab-pat", "GITLAB_TOKEN", lambda: f"glpat-{rand(URLSAFE, 20)}"),
    ("npm-token", "NPM_TOKEN", npm),
    ("pypi-token", "PYPI_TOKEN", lambda: f"pypi-AgEIcHlwaS5vcmc{rand(URLSAFE, 70)}"),
    ("docker-hub-pat", "DOCKER_PAT", lambda: f"dckr_pat_{rand(URLSAFE, 27)}"),
    ("aws-access-key-id", "AWS_ACCESS_KEY_ID", lambda: "AKIA" + rand(string.ascii_uppercase + "234567", 16)),
    ("gcp-api-key", "GOOGLE_API_KEY", lambda: "AIza" + rand(URLSAFE, 35)),
    ("digitalocean-token", "DO_TOKEN", lambda: f"dop_v1_{rand(HEX, 64)}"),
    ("hashicorp-vault-token", "VAULT_TOKEN", lambda: f"hvs.{rand(URLSAFE, 90)}"),
    ("terraform-cloud-token", "TFE_TOKEN", lambda: f"{rand(ALNUM, 14)}.atlasv1.{rand(ALNUM, 67)}"),
    ("pulumi-token", "PULUMI_ACCESS_TOKEN", lambda: f"pul-{rand(HEX, 40)}"),
    ("doppler-token", "DOPPLER_TOKEN", lambda: f"dp.pt.{rand(ALNUM, 43)}"),
    ("databricks-token", "DATABRICKS_TOKEN", lambda: f"dapi{rand(HEX, 32)}"),
    ("planetscale-token", "PLANETSCALE_TOKEN", lambda: f"pscale_tkn_{rand(URLSAFE, 43)}"),
    ("supabase-token", "SUPABASE_ACCESS_TOKEN", lambda: f"sbp_{rand(HEX, 40)}"),
    ("netlify-token", "NETLIFY_AUTH_TOKEN", lambda: f"nfp_{rand(ALNUM, 36)}"),
    ("tailscale-key", "TS_AUTHKEY", lambda: f"tskey-auth-{rand(ALNUM, 12)}-{rand(ALNUM, 30)}"),
    ("openai-api-key", "OPENAI_API_KEY", lambda: f"sk-proj-{rand(URLSAFE, 58)}T3BlbkFJ{rand(URLSAFE, 58)}"),
    ("anthropic-api-key", "ANTHROPIC_API_KEY", lambda: f"sk-ant-api03-{rand(URLSAFE, 93)}AA"),
    ("huggingface-token", "HF_TOKEN", lambda: f"hf_{rand(string.ascii_letters, 34)}"),
    ("groq-api-key", "GROQ_API_KEY", lambda: f"gsk_{rand(ALNUM, 52)}"),
    ("replicate-token", "REPLICATE_API_TOKEN", lambda: f"r8_{rand(ALNUM, 37)}"),
    ("openrouter-api-key", "OPENROUTER_API_KEY", lambda: f"sk-or-v1-{rand(HEX, 64)}"),
    ("stripe-secret-key", "STRIPE_SECRET_KEY", lambda: f"sk_live_{rand(ALNUM, 99)}"),
    ("stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET", lambda: f"whsec_{rand(ALNUM, 32)}"),
    ("square-token", "SQUARE_ACCESS_TOKEN", lambda: f"EAAA{rand(URLSAFE, 60)}"),
    ("shopify-token", "SHOPIFY_ACCESS_TOKEN", lambda: f"shpat_{rand(HEX, 32)}"),
    ("slack-bot-token", "SLACK_BOT_TOKEN", lambda: f"xoxb-{rand(string.digits, 12)}-{rand(string.digits, 13)}-{rand(ALNUM, 24)}"),
    ("slack-webhook-url", "SLACK_WEBHOOK", lambda: f"https://hooks.slack.com/services/T{rand(string.ascii_uppercase + string.digits, 10)}/B{rand(string.ascii_uppercase + string.digits, 10)}/{rand(ALNUM, 24)}"),
    ("discord-webhook-url", "DISCORD_WEBHOOK", lambda: f"https://discord.com/api/webhooks/{rand(string.digits, 18)}/{rand(URLSAFE, 68)}"),
    ("telegram-bot-token", "TELEGRAM_BOT_TOKEN", lambda: f"{rand(string.digits, 10)}:AA{rand(URLSAFE, 33)}"),
    ("sendgrid-api-key", "SENDGRID_API_KEY", lambda: f"SG.{rand(URLSAFE, 22)}.{rand(URLSAFE, 43)}"),
    ("twilio-api-key", "TWILIO_API_KEY", lambda: f"SK{rand(HEX, 32)}"),
    ("mailgun-api-key", "MAILGUN_API_KEY", lambda: f"key-{rand(HEX, 32)}"),
    ("mailchimp-api-key", "MAILCHIMP_API_KEY", lambda: f"{rand(HEX, 32)}-us{RNG.randrange(1, 21)}"),
    ("datadog-api-key", "DD_API_KEY", lambda: rand(HEX, 32)),
    ("new-relic-key", "NEW_RELIC_API_KEY", lambda: f"NRAK-{rand(string.ascii_uppercase + string.digits, 27)}"),
    ("grafana-token", "GRAFANA_TOKEN", lambda: f"glsa_{rand(ALNUM, 32)}_{rand(HEX, 8)}"),
    ("sentry-dsn", "SENTRY_DSN", lambda: f"https://{rand(HEX, 32)}@o{rand(string.digits, 6)}.ingest.sentry.io/{rand(string.digits, 7)}"),
    ("linear-api-key", "LINEAR_API_KEY", lambda: f"lin_api_{rand(ALNUM, 40)}"),
    ("notion-token", "NOTION_TOKEN", lambda: f"ntn_{rand(string.digits, 11)}{rand(ALNUM, 35)}"),
    ("figma-token", "FIGMA_TOKEN", lambda: f"figd_{rand(URLSAFE, 40)}"),
    ("postman-api-key", "POSTMAN_API_KEY", lambda: f"PMAK-{rand(HEX, 24)}-{rand(HEX, 34)}"),
    ("age-secret-key", "AGE_KEY", lambda: "AGE-SECRET-KEY-1" + rand("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)),
    ("jwt", "SERVICE_JWT", jwt),
    ("generic-secret-env-assignment", "API_SECRET", lambda: rand(ALNUM, 24)),
]

# Where a secret is planted: (file suffix, how one line holds NAME=VALUE).
def python_line(name, value):
    return f'{name.lower()} = "{value}"'


def yaml_line(name, value):
    return f"  {name.lower()}: {value}"


def env_line(name, value):
    return f"{name}={value}"


def json_line(name, value):
    return f'  "{name.lower()}": "{value}",'


def js_line(name, value):
    return f"const {name} = '{value}';"


CONTEXTS = [
    ("py", python_line, ["import os", "import requests", "", "BASE_URL = 'https://api.example.com'", "TIMEOUT = 30"], ["", "def client():", "    return requests.Session()"]),
    ("yaml", yaml_line, ["service: checkout", "replicas: 3", "env:"], ["  log_level: info", "  region: eu-west-1"]),
    ("env", env_line, ["# local settings", "DEBUG=false", "PORT=8080"], ["LOG_LEVEL=info"]),
    ("json", json_line, ["{", '  "name": "billing",', '  "version": "1.4.2",'], ['  "retries": 3', "}"]),
    ("js", js_line, ["import fetch from 'node-fetch';", "", "// release settings"], ["export default { timeout: 5000 };"]),
]

PNG_HEADER = b"\x89PNG\r\n\x1a\n"

DECOYS = [
    # Identifiers, hashes and integrity strings everywhere in real code.
    lambda: f'request_id = "{rand(HEX, 8)}-{rand(HEX, 4)}-4{rand(HEX, 3)}-a{rand(HEX, 3)}-{rand(HEX, 12)}"',
    lambda: f"commit: {rand(HEX, 40)}",
    lambda: f'checksum = "{rand(HEX, 64)}"',
    lambda: f'"integrity": "sha512-{base64.b64encode(RNG.randbytes(64)).decode()}",',
    lambda: 'logo = "data:image/png;base64,' + base64.b64encode(PNG_HEADER + RNG.randbytes(120)).decode() + '"',
    # Placeholders and documentation examples.
    lambda: 'STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx',
    lambda: 'OPENAI_API_KEY="<your-openai-api-key>"',
    lambda: 'GITHUB_TOKEN=${GITHUB_TOKEN}',
    lambda: 'api_key = os.environ["API_KEY"]',
    lambda: 'password = "changeme"',
    lambda: 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
    lambda: 'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/shop',
    # Look-alikes: a bad checksum, a publishable key, a public key.
    lambda: f"token = ghp_{rand(ALNUM, 36)}",
    lambda: f"STRIPE_PUBLISHABLE_KEY=pk_live_{rand(ALNUM, 24)}",
    lambda: f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{rand(ALNUM + '+/', 43)} deploy@ci",
    lambda: f"const SEED = 0x{rand(HEX, 16)};",
    lambda: f"test_user_name = 'fixture_{rand(string.ascii_lowercase, 12)}'",
]


def write(root, relative, lines, labels, planted):
    """Writes `lines` to root/relative; `planted` maps a line index to (rule, first, last) offsets."""
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    for index, rule, extra in planted:
        labels.append({"path": relative, "first": index + 1, "last": index + 1 + extra, "rule": rule})


def generate(root):
    labels = []
    for number, (rule, name, make) in enumerate(PROVIDERS):
        for context_index, (suffix, line_of, before, after) in enumerate(CONTEXTS):
            if (number + context_index) % 2 == 1 and rule != "generic-secret-env-assignment":
                continue  # each provider in about half the contexts
            if suffix == "json" and rule == "generic-secret-env-assignment":
                continue
            value = make()
            lines = list(before)
            planted_at = len(lines)
            lines.append(line_of(name, value))
            lines.extend(after)
            # A decoy in every Python and .env file.
            decoy = RNG.choice(DECOYS)()
            if suffix in ("py", "env"):
                lines.append(decoy if suffix == "env" or decoy[0].islower() else f"# {decoy}")
            write(root, f"services/{rule}/settings.{suffix}", lines, labels, [(planted_at, rule, 0)])
    # A notebook with a key in a cell (JSON with the code as strings).
    key = f"sk-proj-{rand(URLSAFE, 58)}T3BlbkFJ{rand(URLSAFE, 58)}"
    notebook = {"cells": [{"cell_type": "code", "source": ["import openai\n", f"openai.api_key = \"{key}\"\n"]}], "nbformat": 4}
    text = json.dumps(notebook, indent=1).split("\n")
    line = next(i for i, l in enumerate(text) if key in l)
    write(root, "notebooks/explore.ipynb", text, labels, [(line, "openai-api-key", 0)])
    # Kubernetes Secrets with base64 values.
    for index, (rule, name, make) in enumerate(PROVIDERS[:6]):
        value = base64.b64encode(make().encode()).decode()
        lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: app-{index}", "type: Opaque", "data:", f"  {name.lower()}: {value}"]
        write(root, f"k8s/secret-{index}.yaml", lines, labels, [(6, rule, 0)])
    # A private key in a file of its own, and a database URL in a compose file.
    write(root, "deploy/id_rsa", pem().split("\n"), labels, [(0, "private-key", 13)])
    db = password()
    compose = ["services:", "  api:", "    image: shop/api:1.4", "    environment:", f"      DATABASE_URL: postgres://shop:{db}@db:5432/shop"]
    write(root, "deploy/compose.yaml", compose, labels, [(4, "database-url-password", 0)])
    # Files of decoys only.
    for index in range(40):
        lines = ["# generated fixtures and docs"] + [RNG.choice(DECOYS)() for _ in range(8)]
        write(root, f"fixtures/decoys-{index}.txt", lines, labels, [])
    with open(os.path.join(root, "..", "labels.json"), "w") as handle:
        json.dump(labels, handle, indent=1)
    return labels


# Each scanner run over a folder: the (relative path, line) of each report.
def run_opsdeck(binary, root):
    data = tempfile.mkdtemp()
    out = subprocess.run([binary, "--data-dir", data, "scan", root, "--format", "json"], capture_output=True, env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"})
    shutil.rmtree(data, ignore_errors=True)
    found = json.loads(out.stdout or b"[]")
    return [(f["relative_path"], f["line"], f["rule"]) for f in found]


def run_kingfisher(binary, root):
    out = subprocess.run([binary, "scan", root, "--format", "json", "--no-validate", "--no-update-check"], capture_output=True)
    reports = []
    # One JSON document per line: the findings, then a summary.
    items = []
    for line in out.stdout.decode(errors="replace").splitlines():
        if line.startswith("{"):
            document = json.loads(line)
            if isinstance(document.get("findings"), list):
                items.extend(document["findings"])
    for item in items:
        finding = item.get("finding", {})
        path = finding.get("path", "")
        rule = item.get("rule", {}).get("id", "")
        reports.append((os.path.relpath(path, root) if os.path.isabs(path) else path, int(finding.get("line", 0)), rule))
    return reports


def run_ripsecrets(binary, root):
    out = subprocess.run([binary, "--only-matching", root], capture_output=True)
    reports = []
    for line in out.stdout.decode(errors="replace").splitlines():
        parts = line.split(":", 2)
        if len(parts) >= 2 and parts[1].isdigit():
            reports.append((os.path.relpath(parts[0], root), int(parts[1]), "ripsecrets"))
    return reports


def run_detect_secrets(binary, root):
    out = subprocess.run([binary, "scan", "--all-files", "."], capture_output=True, cwd=root)
    document = json.loads(out.stdout or b"{}")
    return [(path, item["line_number"], item["type"]) for path, items in document.get("results", {}).items() for item in items]


def score(labels, reports):
    reported = {}
    for path, line, rule in reports:
        reported.setdefault((os.path.normpath(path), line), []).append(rule)
    matched_reports = set()
    found = []
    for label in labels:
        hits = [(key, rules) for key, rules in reported.items() if key[0] == label["path"] and label["first"] <= key[1] <= label["last"]]
        for key, _ in hits:
            matched_reports.add(key)
        found.append((label, [rule for _, rules in hits for rule in rules]))
    recall = sum(1 for _, rules in found if rules) / max(len(labels), 1)
    precision = len(matched_reports) / max(len(reported), 1)
    return recall, precision, found, len(reported)


def tree_megabytes(tree):
    total = 0
    for folder, _, files in os.walk(tree):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total / 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--opsdeck", required=True)
    parser.add_argument("--kingfisher")
    parser.add_argument("--ripsecrets")
    parser.add_argument("--detect-secrets")
    parser.add_argument("--tree")
    parser.add_argument("--keep")
    args = parser.parse_args()
    for name in ("opsdeck", "kingfisher", "ripsecrets", "detect_secrets"):
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    work = args.keep or tempfile.mkdtemp()
    root = os.path.join(work, "corpus")
    shutil.rmtree(root, ignore_errors=True)
    labels = generate(root)
    print(f"scan corpus: {len(labels)} labelled secrets of {len({label['rule'] for label in labels})} rules in {sum(len(files) for _, _, files in os.walk(root))} files (and decoys), {root}")
    scanners = [("OpsDeck", run_opsdeck, args.opsdeck)]
    for name, runner, binary in [("Kingfisher", run_kingfisher, args.kingfisher), ("ripsecrets", run_ripsecrets, args.ripsecrets), ("detect-secrets", run_detect_secrets, args.detect_secrets)]:
        if binary and os.path.exists(binary):
            scanners.append((name, runner, binary))
        else:
            print(f"scan corpus: {name} is not installed here ({binary}); left out")
    ours = None
    print(f"{'scanner':<16} {'recall':>7} {'precision':>10} {'reports':>8}")
    for name, runner, binary in scanners:
        reports = runner(binary, root)
        recall, precision, found, count = score(labels, reports)
        print(f"{name:<16} {recall:>7.3f} {precision:>10.3f} {count:>8}")
        if name == "OpsDeck":
            ours = found
            labelled = {(label["path"], line) for label in labels for line in range(label["first"], label["last"] + 1)}
            wrong = sorted({(rule, path, line) for path, line, rule in reports if (os.path.normpath(path), line) not in labelled})
            ours_wrong = wrong
    print("OpsDeck per rule: planted / found on the line / named by the rule")
    by_rule = {}
    for label, rules in ours:
        entry = by_rule.setdefault(label["rule"], [0, 0, 0])
        entry[0] += 1
        entry[1] += bool(rules)
        entry[2] += label["rule"] in rules
    missed = []
    for rule, (planted, hit, named) in sorted(by_rule.items()):
        flag = "" if hit == planted else "  <- missed"
        print(f"  {rule:<32} {planted:>3} {hit:>3} {named:>3}{flag}")
        if hit < planted:
            missed.append(rule)
    for label, rules in ours:
        if not rules:
            print(f"  missed: {label['path']}:{label['first']} ({label['rule']})")
    for rule, path, line in ours_wrong:
        with open(os.path.join(root, path), errors="replace") as handle:
            text = handle.read().split("\n")[line - 1][:90]
        print(f"  not a labelled secret: {path}:{line} {rule}: {text}")
    if args.tree:
        megabytes = tree_megabytes(args.tree)
        print(f"scan throughput over {args.tree} ({megabytes:.0f} MB of files), whole process, second of two runs (detect-secrets: one):")
        commands = {
            "OpsDeck": lambda b: [b, "--data-dir", tempfile.mkdtemp(), "scan", args.tree, "--format", "json"],
            "Kingfisher": lambda b: [b, "scan", args.tree, "--format", "json", "--no-validate", "--no-update-check"],
            "ripsecrets": lambda b: [b, args.tree],
            # Run inside the tree: given a path elsewhere from inside a git
            # repository, detect-secrets scans that repository's files instead.
            "detect-secrets": lambda b: [b, "scan", "--all-files", "."],
        }
        for name, _, binary in scanners:
            seconds = None
            # detect-secrets is pure Python and takes minutes: one run.
            for _ in range(1 if name == "detect-secrets" else 2):
                started = time.perf_counter()
                try:
                    subprocess.run(commands[name](binary), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900, cwd=args.tree, env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"})
                except subprocess.TimeoutExpired:
                    seconds = None
                    break
                seconds = time.perf_counter() - started
            shown = f"{megabytes / seconds:8.0f} MB/s ({seconds:.2f} s)" if seconds else "did not finish in 900 s"
            print(f"  {name:<16} {shown}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
