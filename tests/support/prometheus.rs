//! A real Prometheus (Debian's `prometheus` package) serving data given as
//! OpenMetrics text, loaded with `promtool tsdb create-blocks-from
//! openmetrics`: the PromQL tests and benchmark compare OpsDeck with it on
//! the same samples.

use std::time::Duration;

use serde_json::Value;

/// A running Prometheus, stopped when dropped.
pub struct PrometheusServer {
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// An HTTP client for it (statuses are answers, not errors).
    pub agent: ureq::Agent,
    guard: std::process::Child,
    _dir: tempfile::TempDir,
}

impl PrometheusServer {
    /// Loads `openmetrics` (with timestamps, ending in `# EOF`) into blocks
    /// and starts Prometheus on them, keeping data for 100 years so that
    /// old test data is not dropped.
    pub fn start(openmetrics: &str) -> PrometheusServer {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("data.om");
        std::fs::write(&input, openmetrics).unwrap();
        let blocks = dir.path().join("tsdb");
        let output = std::process::Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&input)
            .arg(&blocks)
            .output()
            .expect("promtool (Debian's prometheus package; `make test` installs it)");
        assert!(output.status.success(), "promtool: {}", String::from_utf8_lossy(&output.stderr));
        std::fs::remove_file(&input).unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1m\nscrape_configs: []\n").unwrap();
        let port = crate::process::free_port();
        let address = format!("127.0.0.1:{port}");
        let log = dir.path().join("prometheus.log");
        let guard = crate::process::spawn_logged(
            "prometheus",
            &[
                &format!("--config.file={}", config.display()),
                &format!("--storage.tsdb.path={}", blocks.display()),
                "--storage.tsdb.retention.time=100y",
                &format!("--web.listen-address={address}"),
            ],
            &[],
            &log,
        );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let ready = crate::process::poll(Duration::from_secs(60), || {
            agent.get(&format!("http://{address}/-/ready")).call().is_ok_and(|answer| answer.status() == 200)
        });
        assert!(ready, "prometheus did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
        PrometheusServer { address, agent, guard, _dir: dir }
    }

    /// Bytes on disk of the blocks' chunk files, and of everything in the
    /// data directory (index, tombstones and meta included).
    pub fn disk_bytes(&self) -> (u64, u64) {
        fn walk(dir: &std::path::Path, chunks: &mut u64, total: &mut u64, in_chunks: bool) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    let is_chunks = path.file_name().is_some_and(|name| name == "chunks");
                    walk(&path, chunks, total, in_chunks || is_chunks);
                } else if let Ok(meta) = entry.metadata() {
                    *total += meta.len();
                    if in_chunks {
                        *chunks += meta.len();
                    }
                }
            }
        }
        let (mut chunks, mut total) = (0, 0);
        walk(&self._dir.path().join("tsdb"), &mut chunks, &mut total, false);
        (chunks, total)
    }

    /// `GET path?params` as JSON.
    pub fn get(&self, path: &str, params: &[(&str, String)]) -> Value {
        let mut request = self.agent.get(&format!("http://{}{path}", self.address));
        for (name, value) in params {
            request = request.query(*name, value);
        }
        let mut answer = request.call().unwrap();
        // A day of a thousand series is far over ureq's 10 MB default.
        let text = answer.body_mut().with_config().limit(1 << 30).read_to_string().unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        crate::process::stop(&mut self.guard);
    }
}

/// OpsDeck's series store on a SQLite store in the data dir `dir`,
/// migrated, appending as `writer`: the other side of each comparison.
pub async fn series_store_in(
    dir: &std::path::Path,
    writer: &str,
) -> (opsdeck_core::Store, opsdeck_metrics::SeriesStore) {
    let data_dir = opsdeck_core::DataDir::prepare(dir).expect("data dir");
    let location = opsdeck_core::StoreLocation::choose(&data_dir, None).expect("location");
    let store = opsdeck_core::Store::open(location).await.expect("store");
    store.apply_migrations(opsdeck_metrics::migrator(store.kind())).await.expect("migrations");
    let series = opsdeck_metrics::SeriesStore::new(store.clone(), writer);
    (store, series)
}
