//! The MCP server, driven by the official Python SDK over stdio: tools
//! listed from the catalogue, searches and a side-effecting tool called, and
//! no secret value without `--allow-reveal`.

use std::path::Path;

use serde_json::Value;

const PASSPHRASE: &str = "mcp-test-passphrase-6d21";

fn ok(dir: &Path, args: &[&str], stdin: Option<&str>) -> Value {
    opsdeck_tests::deck_api::cli_json(dir, PASSPHRASE, args, stdin)
}

/// Runs the Python client against `opsdeck mcp` on `dir`.
fn client(dir: &Path, allow_reveal: bool) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = root.join(".tools/mcp-venv/bin/python");
    assert!(python.exists(), "the MCP Python SDK is not installed: run `make setup`");
    let output = std::process::Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("mcp/client.py"))
        .env("OPSDECK", opsdeck_tests::binaries::opsdeck_binary())
        .env("DATA_DIR", dir)
        .env("ALLOW_REVEAL", if allow_reveal { "1" } else { "0" })
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(
        output.stdout.split(|byte| *byte == b'\n').find(|line| line.starts_with(b"{")).unwrap(),
    )
    .unwrap()
}

#[test]
fn a_model_client_lists_and_calls_the_catalogue_and_sees_no_secret_value_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    opsdeck_tests::deck_api::vault_with_one_secret(path, PASSPHRASE, "s3cret-mcp-value");

    let seen = client(path, false);
    let tools = seen["tools"].as_object().unwrap();
    for name in ["vault_list", "secret_list", "secret_show", "secret_versions", "audit_log", "audit_verify"] {
        assert!(tools.contains_key(name), "{name} is not offered: {tools:?}");
    }
    assert!(!tools.contains_key("secret_reveal"), "a revealing tool is offered without --allow-reveal");
    assert_eq!(tools["secret_list"]["read_only"], true);
    assert_eq!(tools["audit_verify"]["read_only"], false);
    assert_eq!(
        tools["secret_list"]["schema"]["properties"]["vault"]["type"], "string",
        "{}",
        tools["secret_list"]
    );
    assert_eq!(seen["vaults"]["body"][0]["name"], "prod", "{seen}");
    assert_eq!(seen["secrets"]["body"][0]["name"], "db", "{seen}");
    assert_eq!(seen["unknown_vault"]["error"], true);
    assert_eq!(seen["unknown_vault"]["body"]["code"], "unknown_vault", "{seen}");
    assert_eq!(seen["bad_input"]["body"]["code"], "invalid_input", "{seen}");
    assert_eq!(seen["verify"]["body"]["ok"], true, "{seen}");
    assert_eq!(seen["reveal"]["error"], true);
    assert_eq!(seen["reveal"]["body"]["code"], "forbidden", "{seen}");
    assert!(!seen.to_string().contains("s3cret-mcp-value"), "a value reached the client: {seen}");

    // Allowed: the value comes back, and the reveal is audited with the MCP actor.
    let seen = client(path, true);
    assert!(seen["tools"].as_object().unwrap().contains_key("secret_reveal"));
    assert_eq!(seen["reveal"]["body"]["value"], "s3cret-mcp-value", "{seen}");
    let entries = ok(path, &["audit", "log", "--action", "secret.reveal"], None);
    assert!(
        entries.as_array().unwrap().iter().any(|entry| entry["actor"].as_str().unwrap().starts_with("mcp:")),
        "{entries}"
    );
    let refused = ok(path, &["audit", "log", "--action", "mcp.refused"], None);
    assert_eq!(refused.as_array().unwrap().len(), 1, "{refused}");
}

#[test]
fn over_http_each_token_gets_the_tools_and_values_its_rights_allow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    opsdeck_tests::deck_api::vault_with_one_secret(path, PASSPHRASE, "s3cret-over-http");
    let token = |args: &[&str]| opsdeck_tests::deck_api::api_token(path, PASSPHRASE, args);
    let tokens = serde_json::json!({
        "viewer": token(&["--name", "viewer", "--role", "viewer"]),
        "admin": token(&["--name", "admin", "--role", "admin"]),
        "reveal": token(&["--name", "reveal", "--role", "operator", "--vault", "prod", "--reveal"]),
    });
    let mut serve = opsdeck_tests::deck_api::ApiServer::start(path, PASSPHRASE);
    let address = serve.address.clone();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let output = std::process::Command::new(root.join(".tools/mcp-venv/bin/python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("mcp/http_client.py"))
        .env("URL", format!("http://{address}/mcp"))
        .env("TOKENS", tokens.to_string())
        .output()
        .unwrap();
    serve.stop();
    assert!(
        output.status.success(),
        "{}\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        serve.log()
    );
    let line = output.stdout.split(|byte| *byte == b'\n').find(|line| line.starts_with(b"{")).unwrap();
    let seen: Value = serde_json::from_slice(line).unwrap();
    let tools = |name: &str| -> Vec<String> {
        seen[name]["tools"].as_array().unwrap().iter().map(|tool| tool.as_str().unwrap().to_owned()).collect()
    };
    // A viewer token: reads only; the side-effecting job tool is neither offered nor run.
    assert!(tools("viewer").contains(&"secret_list".to_owned()), "{seen}");
    assert!(!tools("viewer").contains(&"job_run_now".to_owned()), "{seen}");
    assert!(!tools("viewer").contains(&"secret_reveal".to_owned()), "{seen}");
    assert_eq!(seen["viewer"]["search"]["body"][0]["name"], "db", "{seen}");
    assert_eq!(seen["viewer"]["side_effect"]["body"]["code"], "forbidden", "{seen}");
    assert_eq!(seen["viewer"]["reveal"]["body"]["code"], "forbidden", "{seen}");
    // An admin token without the reveal grant: runs the job, reveals nothing.
    assert_eq!(seen["admin"]["side_effect"]["body"]["due_now"], true, "{seen}");
    assert_eq!(seen["admin"]["reveal"]["body"]["code"], "forbidden", "{seen}");
    // Only the token with the reveal grant sees the value, audited as itself.
    assert_eq!(seen["reveal"]["reveal"]["body"]["value"], "s3cret-over-http", "{seen}");
    let mut without_the_grant = seen.clone();
    without_the_grant.as_object_mut().unwrap().remove("reveal");
    assert!(!without_the_grant.to_string().contains("s3cret-over-http"), "{seen}");
    assert!(seen["no_token"].as_str().unwrap().starts_with("refused"), "{seen}");
    let reveals = ok(path, &["audit", "log", "--action", "secret.reveal"], None);
    assert!(reveals.as_array().unwrap().iter().any(|entry| entry["actor"] == "api:reveal"), "{reveals}");
}
