//! The local HTTP API and the MCP server, for BENCHMARKS.md (`make bench`):
//!  1. requests per second for a metadata listing (`GET
//!     /v1/vaults/bench/secrets`, 20 secrets) from 4 keep-alive connections
//!     for 10 s into a release `opsdeck serve --api`, with p50/p99 latency;
//!  2. the MCP tool-call round trip (`secret_list`) from the official Python
//!     SDK over stdio, 200 calls one after another.
//!
//! The HTTP client is a few lines over a TCP stream rather than a client
//! library: it sends the same request again and again on a kept-alive
//! connection and reads each answer by its Content-Length, so the figure is
//! the server's, not a client library's.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const PASSPHRASE: &str = "api bench passphrase";
const CONNECTIONS: usize = 4;
const WINDOW: Duration = Duration::from_secs(10);

fn binary() -> PathBuf {
    let binary = opsdeck_tests::workspace_root().join("target/release/opsdeck");
    assert!(binary.is_file(), "build the release binary first: cargo build --release -p opsdeck-cli");
    binary
}

fn cli(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(binary())
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run opsdeck");
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One keep-alive connection sending `request` until `until`; the latency of each answer.
async fn hammer(address: String, request: Arc<Vec<u8>>, until: Instant) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut latencies = Vec::new();
    let mut line = String::new();
    while Instant::now() < until {
        let start = Instant::now();
        writer.write_all(&request).await.expect("send");
        let mut length = 0_usize;
        let mut status = 0_u16;
        loop {
            line.clear();
            reader.read_line(&mut line).await.expect("read header");
            if line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                length = value.trim().parse().expect("length");
            } else if let Some(rest) = lower.strip_prefix("http/1.1 ") {
                status = rest[..3].parse().expect("status");
            }
        }
        let mut body = vec![0_u8; length];
        reader.read_exact(&mut body).await.expect("read body");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        latencies.push(start.elapsed());
    }
    latencies
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() as f64 * fraction) as usize).min(sorted.len() - 1)]
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path();
    cli(path, &["vault", "init", "bench", "--no-keychain"], None);
    let mut env_file = String::new();
    for index in 0..20 {
        env_file.push_str(&format!("SECRET_{index:02}=value-{index}\n"));
    }
    let file = path.join("bench.env");
    std::fs::write(&file, env_file).expect("write env file");
    cli(path, &["secret", "import", "bench", file.to_str().expect("path")], None);
    let made: serde_json::Value = serde_json::from_str(&cli(
        path,
        &["--json", "api", "token", "create", "--name", "bench", "--role", "viewer"],
        None,
    ))
    .expect("token json");
    let token = made["token"].as_str().expect("token").to_owned();

    let mut serve = opsdeck_tests::deck_api::ApiServer::start_binary(&binary(), path, PASSPHRASE);
    let address = serve.address.clone();

    let request = Arc::new(
        format!(
            "GET /v1/vaults/bench/secrets HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .into_bytes(),
    );
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    // Warm up (first token check, statement cache), then measure.
    runtime.block_on(hammer(address.clone(), request.clone(), Instant::now() + Duration::from_secs(2)));
    let all = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    runtime.block_on(async {
        let until = Instant::now() + WINDOW;
        let tasks: Vec<_> =
            (0..CONNECTIONS).map(|_| tokio::spawn(hammer(address.clone(), request.clone(), until))).collect();
        for task in tasks {
            let latencies = task.await.expect("connection task");
            all.lock().expect("lock").extend(latencies);
        }
    });
    let elapsed = started.elapsed();
    let mut latencies = all.lock().expect("lock").clone();
    latencies.sort();
    println!(
        "{:<52} {:>8.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} requests, {} connections, {:.0} s)",
        "HTTP API: GET /v1/vaults/bench/secrets (20 secrets)",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len(),
        CONNECTIONS,
        elapsed.as_secs_f64()
    );
    serve.stop();

    // MCP: the official Python SDK, one call after another.
    let python = opsdeck_tests::workspace_root().join(".tools/mcp-venv/bin/python");
    assert!(python.exists(), "the MCP Python SDK is not installed: run `make setup`");
    let script = r#"
import asyncio, os, statistics, sys, time
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
async def main():
    server = StdioServerParameters(command=os.environ["OPSDECK"], args=["--data-dir", os.environ["DATA_DIR"], "mcp"], env=dict(os.environ))
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            for _ in range(20):
                await session.call_tool("secret_list", {"vault": "bench"})
            samples = []
            for _ in range(200):
                start = time.perf_counter()
                result = await session.call_tool("secret_list", {"vault": "bench"})
                samples.append((time.perf_counter() - start) * 1000)
                assert not result.is_error, result
            samples.sort()
            print(f"{'MCP tool call secret_list, stdio (round trip)':<52} {statistics.median(samples):>8.2f} ms median, p99 {samples[int(len(samples) * 0.99) - 1]:.2f} ms (200 calls)")
asyncio.run(main())
"#;
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        .env("OPSDECK", binary())
        .env("DATA_DIR", path)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .expect("run the MCP client");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    print!("{}", String::from_utf8_lossy(&output.stdout));
}
