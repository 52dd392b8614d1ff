"""Black-box checks of the local HTTP API from another language (stdlib only).

Reads BASE (http://127.0.0.1:PORT) and tokens from the environment; exits
non-zero with a message on the first check that fails.
"""
import json
import os
import re
import urllib.error
import urllib.request

BASE = os.environ["BASE"]
TOKENS = json.loads(os.environ["TOKENS"])


def call(method, path, token=None, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text else None, dict(error.headers)


def call_oversized(path, token, raw):
    """POSTs a body the server refuses before it has all of it: the server
    may answer 413 and close while the body is still being sent, so the
    answer is read even when sending stopped with a broken pipe."""
    import http.client
    import urllib.parse
    address = urllib.parse.urlsplit(BASE)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    try:
        connection.request("POST", path, body=raw, headers=headers)
    except (BrokenPipeError, ConnectionResetError):
        pass
    response = connection.getresponse()
    text = response.read()
    return response.status, json.loads(text) if text else None


def expect(status, answer, wanted, what):
    assert status == wanted, f"{what}: HTTP {status}, wanted {wanted}: {answer}"


# The document is open; every other route needs a token.
status, document, headers = call("GET", "/openapi.json")
expect(status, document, 200, "openapi")
assert document["openapi"] == "3.1.0", document["openapi"]
assert "access-control-allow-origin" not in {name.lower() for name in headers}, headers
status, answer, headers = call("GET", "/v1/vaults")
expect(status, answer, 401, "no token")
assert answer["error"]["code"] == "unauthenticated", answer
status, answer, _ = call("GET", "/v1/vaults", token="odk_not-a-real-token")
expect(status, answer, 401, "unknown token")
for name in ("revoked", "expired"):
    status, answer, _ = call("GET", "/v1/vaults", token=TOKENS[name])
    expect(status, answer, 401, f"{name} token")
    assert name in answer["error"]["message"], answer

viewer, operator, reveal, admin = TOKENS["viewer"], TOKENS["operator"], TOKENS["reveal"], TOKENS["admin"]

# Metadata, never values.
status, vaults, _ = call("GET", "/v1/vaults", token=viewer)
expect(status, vaults, 200, "vault list")
assert [vault["name"] for vault in vaults] == ["prod"], vaults
status, secrets, _ = call("GET", "/v1/vaults/prod/secrets", token=viewer)
expect(status, secrets, 200, "secret list")
assert [secret["name"] for secret in secrets] == ["db"], secrets
assert "s3cret-db-password" not in json.dumps(secrets)
status, answer, _ = call("GET", "/v1/vaults/nope/secrets", token=viewer)
expect(status, answer, 404, "unknown vault")
status, entries, _ = call("GET", "/v1/audit?limit=3", token=viewer)
expect(status, entries, 200, "audit log")
assert len(entries) == 3, entries
status, answer, _ = call("GET", "/v1/audit?limit=many", token=viewer)
expect(status, answer, 422, "a query that does not fit")

# Reveals: only with the operator role and the reveal grant; audited.
for token, why in ((viewer, "viewer"), (operator, "reveal grant")):
    status, answer, _ = call("POST", "/v1/vaults/prod/secrets/db/reveal", token=token)
    expect(status, answer, 403, f"reveal without {why}")
    assert answer["error"]["code"] == "forbidden", answer
status, revealed, _ = call("POST", "/v1/vaults/prod/secrets/db/reveal", token=reveal, body={})
expect(status, revealed, 200, "reveal")
assert revealed["value"] == "s3cret-db-password" and revealed["version"] == 1, revealed
status, entries, _ = call("GET", "/v1/audit?action=secret.reveal&limit=10", token=viewer)
assert any(entry["actor"] == "api:reveal" and entry["outcome"] == "ok" for entry in entries), entries
status, entries, _ = call("GET", "/v1/audit?action=api.refused&limit=10", token=viewer)
assert any(entry["actor"] == "api:viewer" and entry["outcome"] == "denied" for entry in entries), entries

# Bad bodies are refused, and the server stays up.
status, answer, _ = call("POST", "/v1/audit/verify", token=viewer, raw=b"{not json")
expect(status, answer, 400, "malformed JSON")
status, answer, _ = call("POST", "/v1/audit/verify", token=viewer, body={"unexpected": 1})
expect(status, answer, 422, "unknown field")
status, answer = call_oversized("/v1/audit/verify", viewer, b"[" + b" " * (11 * 1024 * 1024) + b"]")
expect(status, answer, 413, "11 MB body")
status, report, _ = call("POST", "/v1/audit/verify", token=viewer)
expect(status, report, 200, "verify after the bad bodies")
assert report["ok"], report

# Token listing is for admins of everything; values never appear.
status, answer, _ = call("GET", "/v1/api/tokens", token=viewer)
expect(status, answer, 403, "token list as viewer")
status, tokens, _ = call("GET", "/v1/api/tokens", token=admin)
expect(status, tokens, 200, "token list")
assert {token["name"] for token in tokens} >= {"viewer", "reveal", "revoked"}, tokens
assert not any(value in json.dumps(tokens) for value in TOKENS.values())

# Jobs: starting one through a token takes an admin token for every vault.
status, jobs, _ = call("GET", "/v1/jobs", token=viewer)
expect(status, jobs, 200, "job list")
assert "audit-verify" in [job["name"] for job in jobs], jobs
for token, why in ((viewer, "viewer"), (operator, "vault-limited operator")):
    status, answer, _ = call("POST", "/v1/jobs/audit-verify/run", token=token)
    expect(status, answer, 403, f"run a job as {why}")
status, answer, _ = call("POST", "/v1/jobs/audit-verify/run", token=admin)
expect(status, answer, 200, "run a job as admin")
assert answer == {"name": "audit-verify", "due_now": True}, answer
status, answer, _ = call("POST", "/v1/jobs/nope/run", token=admin)
expect(status, answer, 404, "unknown job")

# Trace search takes typed filters; half an attribute filter is refused.
status, traces, _ = call("GET", "/v1/traces?errors_only=true&limit=5", token=viewer)
expect(status, traces, 200, "trace search")
status, answer, _ = call("GET", "/v1/traces?attribute_key=http.route", token=viewer)
expect(status, answer, 422, "attribute key without a value")

# Changes: a new version from a value or from the type's generator, an
# import, metadata, a rollback and a removal, each gated by role.
secret = "/v1/vaults/prod/secrets/api-key"
status, answer, _ = call("PUT", secret, token=viewer, body={"type": "api_key", "value": {"value": "k-1"}})
expect(status, answer, 403, "set as viewer")
status, stored, _ = call("PUT", secret, token=operator,
                         body={"type": "api_key", "value": {"value": "k-1"}, "metadata": {"tags": ["team:pay"]}})
expect(status, stored, 200, "set a value")
assert stored["secret"]["version"] == 1 and stored["secret"]["tags"] == ["team:pay"], stored
assert "k-1" not in json.dumps(stored), stored
status, stored, _ = call("PUT", secret, token=operator,
                         body={"type": "api_key", "value": {"generate": {"length": 40, "alphabet": "hex"}}})
expect(status, stored, 200, "set a generated value")
assert stored["secret"]["version"] == 2, stored
status, revealed, _ = call("POST", secret + "/reveal", token=reveal, body={})
assert re.fullmatch(r"[0-9a-f]{40}", revealed["value"]), revealed
for body, why in (({"type": "api_key", "value": {"value": "a", "generate": {}}}, "a value and a generator"),
                  ({"type": "nope", "value": {"value": "a"}}, "an unknown type"),
                  ({"type": "api_key", "value": {"value": ""}}, "an empty value"),
                  ({"type": "api_key"}, "no value")):
    status, answer, _ = call("PUT", secret, token=operator, body=body)
    expect(status, answer, 422, f"set with {why}")
status, report, _ = call("POST", "/v1/vaults/prod/import", token=operator,
                         body={"text": "A=1\nexport B='two'\n", "format": "env"})
expect(status, report, 200, "import env text")
assert report == {"vault": "prod", "imported": ["A", "B"]}, report
for body, why in (({"text": "not a line", "format": "env"}, "a malformed line"),
                  ({"text": "[1]", "format": "json"}, "JSON that is not an object"),
                  ({"text": "A=1", "format": "yaml"}, "an unknown format")):
    status, answer, _ = call("POST", "/v1/vaults/prod/import", token=operator, body=body)
    expect(status, answer, 422, f"import with {why}")
status, secrets, _ = call("GET", "/v1/vaults/prod/secrets", token=viewer)
assert sorted(secret["name"] for secret in secrets) == ["A", "B", "api-key", "db"], secrets
status, edited, _ = call("POST", secret + "/metadata", token=operator, body={"metadata": {"note": "for payments"}})
expect(status, edited, 200, "edit metadata")
assert edited["note"] == "for payments" and edited["version"] == 2 and edited["tags"] == ["team:pay"], edited
status, rolled, _ = call("POST", secret + "/rollback", token=operator, body={"to": 1})
expect(status, rolled, 200, "roll back")
assert rolled["version"] == 3, rolled
status, revealed, _ = call("POST", secret + "/reveal", token=reveal, body={})
assert revealed["value"] == "k-1", revealed
status, answer, _ = call("DELETE", "/v1/vaults/prod/secrets/A", token=operator)
expect(status, answer, 403, "remove as operator")
status, answer, _ = call("DELETE", "/v1/vaults/prod/secrets/A", token=admin)
expect(status, answer, 200, "remove as admin")
assert answer == {"removed": "prod/A"}, answer
status, entries, _ = call("GET", "/v1/audit?action=secret.set&limit=10", token=viewer)
assert sum(entry["actor"] == "api:operator" and entry["outcome"] == "ok" for entry in entries) == 2, entries

# People and rotation: only an admin token changes members; a rotation whose
# check refuses keeps the old value; pausing a job takes an admin token.
status, answer, _ = call("POST", "/v1/vaults/prod/members", token=operator, body={"member": "ana", "role": "viewer"})
expect(status, answer, 403, "member set as operator")
status, member, _ = call("POST", "/v1/vaults/prod/members", token=admin, body={"member": "ana", "role": "viewer"})
expect(status, member, 200, "member set as admin")
assert member["member"] == "ana" and member["role"] == "viewer", member
status, access, _ = call("GET", "/v1/vaults/prod/access", token=admin)
expect(status, access, 200, "vault access")
assert "ana" in [entry["member"] for entry in access["members"]], access
status, answer, _ = call("POST", "/v1/vaults/prod/members", token=admin, body={"member": "ana", "role": "owner"})
expect(status, answer, 422, "an unknown role")
status, answer, _ = call("DELETE", "/v1/vaults/prod/members/ana", token=admin)
expect(status, answer, 200, "member remove")
assert answer == {"vault": "prod", "removed": "ana"}, answer
status, answer, _ = call("POST", secret + "/rotate", token=admin, body={"verify": "exit 3"})
expect(status, answer, 403, "a check that would see the new value, without the reveal grant")
assert "reveal" in answer["error"]["message"], answer
status, report, _ = call("POST", secret + "/rotate", token=reveal, body={})
expect(status, report, 200, "rotate")
assert report["rotated"] is True and report["version"] == 4, report
status, revealed, _ = call("POST", secret + "/reveal", token=reveal, body={})
assert revealed["version"] == 4 and revealed["value"] != "k-1", revealed
status, answer, _ = call("POST", "/v1/jobs/audit-verify/paused", token=operator, body={"paused": True})
expect(status, answer, 403, "pause a job as a vault-limited operator")
status, answer, _ = call("POST", "/v1/jobs/audit-verify/paused", token=admin, body={"paused": True})
expect(status, answer, 200, "pause a job")
assert answer == {"name": "audit-verify", "paused": True}, answer
status, jobs, _ = call("GET", "/v1/jobs", token=viewer)
assert [job["paused"] for job in jobs if job["name"] == "audit-verify"] == [True], jobs
status, answer, _ = call("GET", "/v1/connections", token=viewer)
expect(status, answer, 200, "connections")

# Configs: a project made through the API, its layers and reload hook read
# back; setting a command that runs on this machine takes an admin token.
status, made, _ = call("POST", "/v1/configs", token=viewer, body={"project": "shop"})
expect(status, made, 403, "make a project as viewer")
status, made, _ = call("POST", "/v1/configs", token=admin, body={"project": "shop"})
expect(status, made, 200, "make a project")
assert made == {"project": "shop"}, made
status, layers, _ = call("GET", "/v1/configs/shop/dev/layers", token=viewer)
expect(status, layers, 200, "layers")
status, hook, _ = call("GET", "/v1/configs/shop/dev/reload-hook", token=viewer)
expect(status, hook, 200, "reload hook")
assert hook == {"command": None, "webhook": None}, hook
status, answer, _ = call("PUT", "/v1/configs/shop/dev/reload-hook", token=operator,
                         body={"hook": {"command": "touch /tmp/x", "webhook": None}})
expect(status, answer, 403, "set a reload command as operator")
status, answer, _ = call("GET", "/v1/configs/shop/promotions/preview?from=dev&to=staging", token=viewer)
assert status in (200, 422), (status, answer)

# The config editor's operations: a draft checked, a layer saved with its
# format as a word, the schema read; certificates listed by state; a new
# webhook signing secret only for a token that may see secrets.
status, check, _ = call("POST", "/v1/configs/shop/dev/layers/committed/check", token=viewer,
                        body={"format": "yaml", "content": "db: [unclosed\n"})
expect(status, check, 200, "check a draft")
assert check["ok"] is False and check["syntax"]["line"] >= 1, check
status, saved, _ = call("PUT", "/v1/configs/shop/dev/layers/committed", token=operator,
                        body={"format": "yaml", "content": "db:\n  pool: 5\n", "message": "through the API"})
expect(status, saved, 200, "save a layer")
assert saved["format"] == "yaml" and saved["layer"] == "committed", saved
status, answer, _ = call("PUT", "/v1/configs/shop/dev/layers/committed", token=operator,
                         body={"format": "ini", "content": "x=1"})
expect(status, answer, 422, "an unknown config format")
assert "yaml" in answer["error"]["message"], answer
status, schema, _ = call("GET", "/v1/configs/shop/schema", token=viewer)
assert schema == {"project": "shop", "schema": None}, schema
status, certs, _ = call("GET", "/v1/certs?state=active", token=viewer)
expect(status, certs, 200, "certificates by state")
status, answer, _ = call("GET", "/v1/certs?state=shiny", token=viewer)
expect(status, answer, 422, "an unknown certificate state")
status, answer, _ = call("POST", "/v1/notify/targets", token=admin,
                         body={"name": "ops", "url": "https://example.com/hook"})
expect(status, answer, 403, "a new signing secret without the reveal grant")

# Every route of the document answers (path parameters filled with prod/db).
for path, item in document["paths"].items():
    values = {"vault": "prod", "name": "db", "project": "shop", "env": "dev"}
    concrete = re.sub(r"\{(\w+)\}", lambda match: values.get(match.group(1), "x"), path)
    for method in item:
        status, answer, _ = call(method.upper(), concrete, token=admin, body={} if method != "get" else None)
        assert status != 404 or answer["error"]["code"] != "unknown_route", (method, path, answer)
        assert status < 500, (method, path, status, answer)
print("api black-box: all checks passed")
