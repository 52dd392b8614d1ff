//! `opsdeck`: the service layer every interface of OpsDeck goes through.
//!
//! [`Deck::open`] turns [`DeckOptions`] (a data dir, an optional database URL)
//! into a running deck: the data dir checked, the store open and migrated, and
//! the background tasks started. The command line (`src/main.rs`), the desktop
//! app (`src-tauri`) and later the local HTTP API are thin adapters over the
//! functions here; no rule of the product lives in them.
//!
//! Each area (vaults, certificates, configs, telemetry, rate limits) plugs in
//! here as its domain crate is added: `Deck` wires the crates together, and is
//! the only place where two areas meet.

mod access;
pub mod alerts;
pub mod app_code;
pub mod audit;
pub mod catalogue;
pub mod certs;
pub mod configs;
mod definitions;
mod error;
pub mod http_api;
pub mod jobs;
pub mod logging;
pub mod mcp;
pub mod metrics;
pub mod notify;
mod output_files;
pub mod scan;
pub mod status;
pub mod telemetry;
pub mod tokens;
pub mod vaults;

use std::path::PathBuf;
use std::time::Duration;

use opsdeck_core::events::EventBus;
use opsdeck_core::{BackgroundTasks, DataDir, Store, StoreLocation};

pub use opsdeck_core::audit::{AuditEntry, AuditFilter, Checkpoint, Outcome, VerifyReport};
pub use opsdeck_core::events::{CoreEvent, DeckEvent};
pub use opsdeck_core::http::{EndpointHealth, HttpPolicy};
pub use opsdeck_core::keys::KeyAccess;
pub use opsdeck_core::scheduler::{JobInfo, JobRun, RunOutcome, Schedule, SchedulerConfig};
pub use opsdeck_core::webhooks::{Delivery, DeliveryStatus, WebhookTarget};
pub use opsdeck_core::Caller;
pub use opsdeck_vault::{
    MemberInfo, MetadataChange, Role, SecretInfo, SecretType, SecretValue, SlotInfo, VaultError, VaultInfo,
    VersionInfo,
};

pub use certs::{
    CertDetail, CertImportProblem, CertImportReport, CertQuery, CertSummary, IssueOptions, RenewOutcome,
    RevokeReason,
};
pub use configs::{ConfigExplained, ConfigLayer, ConfigSummary, ConfigValidation};
pub use configs::{LinkConflict, LinkResolution, LinkResolved, LinkSync, SyncOutcome};
pub use error::DeckError;
pub use logging::{init_logging, LogGuard};
pub use opsdeck_certs::challenges::ChallengeKind;
pub use opsdeck_certs::deploy::DeployHook;
pub use opsdeck_certs::keys::KeyKind;
pub use opsdeck_certs::x509::CertDetails;
pub use opsdeck_certs::{
    CertEvent, CertRecord, CertSource, CertState, ChainStatus, DnsUpdate, ExternalAccount,
    Location as CertLocation, Managed as ManagedCert,
};
pub use opsdeck_config::{
    Change as ConfigChange, ConfigLink, ConfigVersion, DraftCheck, LayerChange, ProjectAdmin,
    ProjectInfo as ConfigProject, Promotion as ConfigPromotion, PromotionPreview, PromotionRequest,
    PromotionStatus, ReloadHook, ReloadOutcome, SyntaxProblem, Violation as ConfigViolation,
};
pub use opsdeck_core::api_tokens::ApiToken;
pub use opsdeck_telemetry::{
    LogQuery, LogRecord, MetricPoint, MetricSeries, PathSegment, Pruned, Retention, ServiceEdge,
    ServiceOperations, SlowTrace, Span, SpanComparison, SpanStatus, TraceQuery, TraceSummary,
};
pub use opsdeck_vault::generators::{generate_for, Alphabet, Generated, StringPolicy};
pub use status::DeckStatus;
pub use telemetry::{
    address_setting, DemoReport, OtlpAddresses, TelemetrySummary, TraceDetail, OTLP_GRPC_ENV, OTLP_HTTP_ENV,
};
pub use tokens::NewApiToken;
pub use vaults::RotationReport;
pub use vaults::{parse_dotenv, parse_json_secrets, ImportReport};

/// Environment variable naming the data dir (same as `--data-dir`).
pub const DATA_DIR_ENV: &str = "OPSDECK_DATA_DIR";
/// Environment variable with a `postgres://` URL for a shared store.
pub const DATABASE_URL_ENV: &str = "OPSDECK_DATABASE_URL";
/// Environment variable with the passphrase for keys kept without a keychain.
pub const PASSPHRASE_ENV: &str = "OPSDECK_PASSPHRASE";

/// How long each background task gets to finish its work at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What a deck needs to open: where its data lives.
#[derive(Debug, Clone, Default)]
pub struct DeckOptions {
    /// The data dir; the platform's default when `None`.
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL URL for the store; the SQLite file in the data dir when `None`.
    pub database_url: Option<String>,
    /// How to reach the deck's own keys (keychain, passphrase).
    pub keys: KeyAccess,
    /// Timeouts, retries and breakers of outbound calls.
    pub http: HttpPolicy,
}

impl DeckOptions {
    /// Options read from `OPSDECK_DATA_DIR` and `OPSDECK_DATABASE_URL`.
    pub fn from_env() -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        DeckOptions {
            data_dir: non_empty(DATA_DIR_ENV).map(PathBuf::from),
            database_url: non_empty(DATABASE_URL_ENV),
            keys: KeyAccess {
                passphrase: std::env::var(PASSPHRASE_ENV)
                    .ok()
                    .filter(|value| !value.is_empty())
                    .map(Into::into),
                no_keychain: false,
                key_dir: None,
            },
            http: HttpPolicy::default(),
        }
    }
}

/// An open deck: the data dir, the store and the background tasks.
pub struct Deck {
    data_dir: DataDir,
    store: Store,
    tasks: BackgroundTasks,
    audit: std::sync::Arc<audit::AuditService>,
    events: EventBus,
    keys: opsdeck_core::keys::SharedKeyAccess,
    webhook_key: tokio::sync::OnceCell<opsdeck_core::keys::Key>,
    /// Seals on stored definitions that run commands or write files.
    seals: opsdeck_core::definitions::Seals,
    /// API tokens this process has checked (see `api_tokens`).
    api_token_cache: tokens::TokenCache,
    /// Where this process serves the HTTP API, while it does.
    api_address: std::sync::Mutex<Option<std::net::SocketAddr>>,
    http: opsdeck_core::http::ResilientClient,
    vaults: opsdeck_vault::Vaults,
    certs: opsdeck_certs::Inventory,
    configs: opsdeck_config::Configs,
    telemetry: opsdeck_telemetry::Telemetry,
    /// The metrics series store, appending as this process.
    metrics: std::sync::Arc<opsdeck_metrics::SeriesStore>,
    /// The series each scrape target returned last (staleness markers for
    /// the ones its next scrape no longer has).
    scraped_series: std::sync::Mutex<
        std::collections::HashMap<String, std::collections::HashSet<opsdeck_metrics::Labels>>,
    >,
    /// `Authorization` headers of scrape targets and data sources, revealed
    /// as their definers and kept for a while (see `metrics::Metrics::kept_header`).
    revealed_headers:
        std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, zeroize::Zeroizing<String>)>>,
    background_started: std::sync::atomic::AtomicBool,
    /// This process's own counts, for its self metrics.
    self_counters: std::sync::Arc<metrics::self_metrics::SelfCounters>,
    /// Where the OTLP receivers listen once the background work starts.
    otlp: std::sync::Mutex<telemetry::OtlpAddresses>,
}

impl std::fmt::Debug for Deck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deck")
            .field("data_dir", &self.data_dir)
            .field("store", &self.store)
            .field("tasks", &self.tasks.names())
            .finish()
    }
}

impl Deck {
    /// Opens the deck described by `options`. Fails with a [`DeckError`] whose
    /// message names what was wrong (the data dir, the database URL, the store)
    /// before anything already stored is touched.
    pub async fn open(options: DeckOptions) -> Result<Deck, DeckError> {
        let data_dir_path = match options.data_dir {
            Some(path) => path,
            None => DataDir::platform_default()?,
        };
        let data_dir = DataDir::prepare(&data_dir_path)?;
        let location = StoreLocation::choose(&data_dir, options.database_url.as_deref())?;
        let store = Store::open(location).await?;
        store.apply_migrations(opsdeck_vault::migrator(store.kind())).await?;
        store.apply_migrations(opsdeck_certs::migrator(store.kind())).await?;
        store.apply_migrations(opsdeck_config::migrator(store.kind())).await?;
        store.apply_migrations(opsdeck_telemetry::migrator(store.kind())).await?;
        store.apply_migrations(opsdeck_metrics::migrator(store.kind())).await?;
        store.apply_migrations(scan::migrator(store.kind())).await?;
        tracing::info!(data_dir = %data_dir.path().display(), store = %store.location().display(), "deck open");
        let events = EventBus::new();
        // Passphrase keys are completed by a part kept in the data dir.
        let mut key_access = options.keys;
        key_access.key_dir.get_or_insert_with(|| data_dir.path().to_path_buf());
        let keys = opsdeck_core::keys::SharedKeyAccess::new(key_access);
        let audit = audit::AuditService::new(
            store.clone(),
            keys.clone(),
            data_dir.path().to_path_buf(),
            events.clone(),
        );
        let http = opsdeck_core::http::ResilientClient::new(options.http.clone(), Some(events.clone()));
        let vaults = opsdeck_vault::Vaults::new(store.clone(), keys.clone());
        let seals = opsdeck_core::definitions::Seals::new(store.clone(), keys.clone());
        let certs = opsdeck_certs::Inventory::new(store.clone());
        let configs = opsdeck_config::Configs::new(store.clone());
        let telemetry = opsdeck_telemetry::Telemetry::new(store.clone());
        // Each process appends its own chunks (see the metrics crate's store).
        let metrics_writer = format!(
            "{}:{}:{:x}",
            opsdeck_core::definitions::this_host(),
            std::process::id(),
            opsdeck_core::clock::now_unix_ms()
        );
        let metrics = std::sync::Arc::new(opsdeck_metrics::SeriesStore::new(store.clone(), &metrics_writer));
        Ok(Deck {
            data_dir,
            store,
            tasks: BackgroundTasks::new(),
            audit,
            keys,
            webhook_key: tokio::sync::OnceCell::new(),
            seals,
            api_token_cache: tokens::TokenCache::default(),
            api_address: std::sync::Mutex::new(None),
            http,
            vaults,
            certs,
            configs,
            telemetry,
            metrics,
            scraped_series: std::sync::Mutex::new(std::collections::HashMap::new()),
            revealed_headers: std::sync::Mutex::new(std::collections::HashMap::new()),
            events,
            background_started: std::sync::atomic::AtomicBool::new(false),
            self_counters: std::sync::Arc::default(),
            otlp: std::sync::Mutex::new(telemetry::OtlpAddresses::from_env()),
        })
    }

    /// The vaults area: vaults, secrets, members, rotation, injection.
    pub fn vaults(&self) -> vaults::Vaults<'_> {
        vaults::Vaults { deck: self }
    }

    /// The certificates area: inventory, ACME issuance and renewal, deploy hooks.
    pub fn certs(&self) -> certs::Certs<'_> {
        certs::Certs { deck: self }
    }

    /// The configs area: projects, layers, history, promotion, links.
    pub fn configs(&self) -> configs::Configs<'_> {
        configs::Configs { deck: self }
    }

    /// The telemetry area: traces, logs, metrics and the OTLP receiver's addresses.
    pub fn telemetry(&self) -> telemetry::Telemetry<'_> {
        telemetry::Telemetry { deck: self }
    }

    /// The metrics area: series from OTLP (and, later, scrapes).
    pub fn metrics(&self) -> metrics::Metrics<'_> {
        metrics::Metrics { deck: self }
    }

    /// Notification targets (signed webhooks) and their deliveries.
    pub fn notify(&self) -> notify::Notify<'_> {
        notify::Notify { deck: self }
    }

    /// Scheduled jobs: list, history, run now, pause, add, remove.
    pub fn jobs(&self) -> jobs::Jobs<'_> {
        jobs::Jobs { deck: self }
    }

    /// The audit trail as users reach it: list, verify, checkpoints.
    pub fn audit_trail(&self) -> audit::AuditTrail<'_> {
        audit::AuditTrail { deck: self }
    }

    /// Bearer tokens of the local HTTP API.
    pub fn api_tokens(&self) -> tokens::ApiTokens<'_> {
        tokens::ApiTokens { deck: self }
    }

    /// The data dir this deck uses.
    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    /// The store shared by every area.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The event bus: subscribe to follow what happens in the deck.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// The background tasks this deck owns.
    pub fn tasks(&self) -> &BackgroundTasks {
        &self.tasks
    }

    /// Stops the background tasks (newest first, each allowed to finish its
    /// work) and then closes the store. Idempotent.
    pub async fn shutdown(&self) {
        let report = self.tasks.shutdown(SHUTDOWN_GRACE).await;
        if !report.failed.is_empty() {
            tracing::error!(failed = ?report.failed, "some background tasks did not stop cleanly");
        }
        self.store.close().await;
    }
}
