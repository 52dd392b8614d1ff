//! The certificate inventory in the store: what we know of each certificate,
//! where it lives, its lifecycle state and history.
//!
//! States: `requested → issuing → issued → active → renewing → active`, and
//! `failed`, `revoked`, `expired`. Imported and probed certificates are
//! `active` (or `expired`); the effective state turns to `expired` on its own
//! once `not_after` has passed.

use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::{Store, StoreKind};
use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;
use ts_rs::TS;

use crate::deploy::DeployHook;
use crate::trust::{ChainCheck, ChainStatus};
use crate::x509::{certificates_in, describe, to_pem, CertDetails};
use crate::CertError;

/// This crate's migrations for the store's backend (versions 2000–2999).
pub fn migrator(kind: StoreKind) -> Migrator {
    match kind {
        StoreKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        StoreKind::Postgres => sqlx::migrate!("./migrations/postgres"),
    }
}

const DAY_MS: i64 = 86_400_000;

/// How a managed certificate is issued and renewed (kept as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Managed {
    /// The names, the first being the subject.
    pub domains: Vec<String>,
    /// The CA's ACME directory URL.
    pub directory_url: String,
    /// The account's contact address.
    pub email: String,
    /// How names are proved (`http-01` or `dns-01`).
    pub challenge: crate::challenges::ChallengeKind,
    /// Where the built-in HTTP-01 responder listens (`127.0.0.1:5002`).
    pub http_bind: Option<String>,
    /// Answer HTTP-01 through files under this document root instead.
    pub webroot: Option<String>,
    /// The DNS-01 hook command.
    pub dns_hook: Option<String>,
    /// DNS-01 through RFC 2136 dynamic updates instead of a hook.
    #[serde(default)]
    pub dns_update: Option<DnsUpdate>,
    /// The key type of each new key.
    pub key_type: crate::keys::KeyKind,
    /// The vault that keeps the private key and the ACME account.
    pub vault: String,
    /// The secret holding the private key (in `vault`).
    pub key_secret: String,
    /// A CA bundle to trust for the ACME server (a private CA).
    pub ca_bundle: Option<String>,
    /// The CA's external account binding, when it requires one.
    #[serde(default)]
    pub eab: Option<ExternalAccount>,
    /// Renew when this fraction of the lifetime remains (default a third).
    pub renew_remaining: f64,
    /// What to do after each issuance.
    pub deploy: DeployHook,
}

/// An external account binding as kept: the key id, and the vault secret
/// holding the HMAC key the CA gave (`VAULT/NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ExternalAccount {
    /// The CA's key id.
    pub kid: String,
    /// The vault secret holding the HMAC key, `VAULT/NAME`.
    pub hmac_key: String,
}

/// Where and how DNS-01 records are set through RFC 2136 dynamic updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DnsUpdate {
    /// The primary DNS server, `HOST:PORT`.
    pub server: String,
    /// The zone to update (`example.com`).
    pub zone: String,
    /// The TSIG key's name (HMAC-SHA256).
    pub key_name: String,
    /// The vault secret holding the TSIG key's base64 secret, `VAULT/NAME`.
    pub key_secret: String,
}

/// A place a certificate lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct Location {
    /// `file`, `endpoint`, `deploy`.
    pub kind: String,
    /// The path or `HOST:PORT (SNI name)`.
    pub location: String,
    /// When it was last seen there.
    #[ts(type = "number")]
    pub seen_at: i64,
}

opsdeck_core::word_enum! {
    /// Where a certificate is in its life (see the module docs).
    "certificate state" pub enum CertState {
        /// A managed certificate asked for; nothing issued yet.
        Requested = "requested",
        /// The first issuance is under way.
        Issuing = "issuing",
        /// Issued; not yet deployed everywhere.
        Issued = "issued",
        /// In use and within its validity.
        Active = "active",
        /// A renewal is under way; the current certificate still works.
        Renewing = "renewing",
        /// Issuance failed (the last error says why).
        Failed = "failed",
        /// Revoked at the CA.
        Revoked = "revoked",
        /// Past `not_after`.
        Expired = "expired",
    }
}

opsdeck_core::word_enum! {
    /// Where a certificate in the inventory came from.
    "certificate source" pub enum CertSource {
        /// Imported from a file.
        File = "file",
        /// Read from a TLS endpoint.
        Endpoint = "endpoint",
        /// Issued and renewed by OpsDeck through ACME.
        Acme = "acme",
    }
}

/// One entry of a certificate's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, schemars::JsonSchema)]
pub struct CertEvent {
    /// When (Unix ms).
    #[ts(type = "number")]
    pub at: i64,
    /// The state it entered.
    pub state: CertState,
    /// What happened.
    pub message: String,
    /// Who did it.
    pub actor: String,
}

/// A certificate as listed and shown.
#[derive(Debug, Clone, PartialEq, Serialize, TS, schemars::JsonSchema)]
pub struct CertRecord {
    /// Stable id (12 hex digits).
    pub id: String,
    /// The subject's distinguished name.
    pub subject: String,
    /// DNS names and IP addresses.
    pub sans: Vec<String>,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// Serial number (hex).
    pub serial: String,
    /// `ECDSA P-256`, `RSA 2048`, ...
    pub key_type: String,
    /// Start of validity (Unix ms; 0 before the first issuance).
    #[ts(type = "number")]
    pub not_before: i64,
    /// End of validity (Unix ms; 0 before the first issuance).
    #[ts(type = "number")]
    pub not_after: i64,
    /// Whole days until `not_after` (negative once expired).
    #[ts(type = "number")]
    pub days_left: i64,
    /// SHA-256 of the leaf, hex.
    pub fingerprint: String,
    /// Self-signed leaf.
    pub self_signed: bool,
    /// A CA certificate.
    pub is_ca: bool,
    /// How the chain check came out.
    pub chain_status: ChainStatus,
    /// Why the chain check said so.
    pub chain_reason: String,
    /// Where it came from.
    pub source: CertSource,
    /// The lifecycle state (see the module docs).
    pub state: CertState,
    /// Where it lives.
    pub locations: Vec<Location>,
    /// The ACME settings of a managed certificate.
    pub managed: Option<Managed>,
    /// When the renewal job will renew it (Unix ms).
    #[ts(type = "number | null")]
    pub next_renewal_at: Option<i64>,
    /// The last failure, in the CA's words.
    pub last_error: Option<String>,
    /// The chain as PEM, leaf first.
    pub chain_pem: String,
    /// When it entered the inventory.
    #[ts(type = "number")]
    pub created_at: i64,
    /// When it last changed.
    #[ts(type = "number")]
    pub updated_at: i64,
}

impl CertRecord {
    /// The chain's DER certificates, leaf first.
    pub fn chain(&self) -> Vec<Vec<u8>> {
        if self.chain_pem.is_empty() {
            return Vec::new();
        }
        certificates_in(self.chain_pem.as_bytes(), &self.id).unwrap_or_default()
    }
}

#[derive(sqlx::FromRow)]
struct CertRow {
    id: String,
    fingerprint: String,
    subject: String,
    sans: String,
    issuer: String,
    serial: String,
    key_type: String,
    not_before: i64,
    not_after: i64,
    self_signed: i64,
    is_ca: i64,
    chain_pem: String,
    chain_status: String,
    chain_reason: String,
    source: String,
    state: String,
    managed: Option<String>,
    next_renewal_at: Option<i64>,
    last_error: Option<String>,
    alerted_days: Option<i64>,
    created_at_unix_ms: i64,
    updated_at_unix_ms: i64,
}

const COLUMNS: &str = "id, fingerprint, subject, sans, issuer, serial, key_type, not_before, not_after, \
     self_signed, is_ca, chain_pem, chain_status, chain_reason, source, state, managed, next_renewal_at, \
     last_error, alerted_days, created_at_unix_ms, updated_at_unix_ms";

/// The state shown for a stored state once time has passed `not_after`.
pub fn effective_state(state: CertState, not_after: i64, now: i64) -> CertState {
    let lapses =
        matches!(state, CertState::Active | CertState::Issued | CertState::Renewing | CertState::Failed);
    if lapses && not_after > 0 && not_after <= now {
        CertState::Expired
    } else {
        state
    }
}

/// Whole days from `now` to `not_after` (rounded down).
pub fn days_left(not_after: i64, now: i64) -> i64 {
    (not_after - now).div_euclid(DAY_MS)
}

/// The certificates of one store.
#[derive(Clone)]
pub struct Inventory {
    store: Store,
}

impl Inventory {
    /// The inventory kept in `store`.
    pub fn new(store: Store) -> Inventory {
        Inventory { store }
    }

    /// Every certificate, soonest expiry first (managed ones not yet issued last).
    pub async fn list(&self) -> Result<Vec<CertRecord>, CertError> {
        let rows: Vec<CertRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM certificates"))
            .fetch_all(self.store.pool())
            .await?;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            records.push(self.record(row, true).await?);
        }
        records.sort_by_key(|record| (record.not_after == 0, record.not_after, record.id.clone()));
        Ok(records)
    }

    /// One certificate with its locations; `id` may be a unique prefix.
    pub async fn get(&self, id: &str) -> Result<CertRecord, CertError> {
        let row = self.row(id).await?;
        self.record(row, true).await
    }

    /// The smallest expiry threshold already alerted for the current certificate.
    pub async fn alerted_days(&self, id: &str) -> Result<Option<i64>, CertError> {
        Ok(self.row(id).await?.alerted_days)
    }

    async fn locations(&self, id: &str) -> Result<Vec<Location>, CertError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT kind, location, seen_at_unix_ms FROM certificate_locations WHERE certificate_id = $1 \
             ORDER BY kind, location",
        )
        .bind(id)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.into_iter().map(|(kind, location, seen_at)| Location { kind, location, seen_at }).collect())
    }

    /// Remembers that the `days` warning was sent for the current certificate.
    pub async fn set_alerted_days(&self, id: &str, days: i64) -> Result<(), CertError> {
        sqlx::query("UPDATE certificates SET alerted_days = $1 WHERE id = $2")
            .bind(days)
            .bind(id)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    async fn row(&self, id: &str) -> Result<CertRow, CertError> {
        let id = id.trim();
        if id.len() < 4 {
            return Err(CertError::Invalid(format!(
                "{id:?} is too short to name a certificate; give at least 4 characters of its id"
            )));
        }
        let mut rows: Vec<CertRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM certificates WHERE id LIKE $1 ORDER BY id"))
                .bind(format!("{id}%"))
                .fetch_all(self.store.pool())
                .await?;
        match rows.len() {
            0 => Err(CertError::UnknownCertificate { id: id.to_owned() }),
            1 => Ok(rows.remove(0)),
            _ => Err(CertError::Invalid(format!(
                "{id:?} names more than one certificate; give more of its id"
            ))),
        }
    }

    async fn record(&self, row: CertRow, with_locations: bool) -> Result<CertRecord, CertError> {
        let now = now_unix_ms();
        let locations = if with_locations { self.locations(&row.id).await? } else { Vec::new() };
        Ok(CertRecord {
            days_left: if row.not_after > 0 { days_left(row.not_after, now) } else { 0 },
            state: effective_state(row.state.parse()?, row.not_after, now),
            id: row.id,
            subject: row.subject,
            sans: serde_json::from_str(&row.sans).unwrap_or_default(),
            issuer: row.issuer,
            serial: row.serial,
            key_type: row.key_type,
            not_before: row.not_before,
            not_after: row.not_after,
            fingerprint: row.fingerprint,
            self_signed: row.self_signed != 0,
            is_ca: row.is_ca != 0,
            chain_status: row.chain_status.parse()?,
            chain_reason: row.chain_reason,
            source: row.source.parse()?,
            locations,
            managed: row.managed.as_deref().and_then(|json| serde_json::from_str(json).ok()),
            next_renewal_at: row.next_renewal_at,
            last_error: row.last_error,
            chain_pem: row.chain_pem,
            created_at: row.created_at_unix_ms,
            updated_at: row.updated_at_unix_ms,
        })
    }

    /// Records a chain found in a file or at an endpoint: a certificate seen
    /// before (same fingerprint) gains the location; a new one is added.
    /// An endpoint serves one chain, so it leaves whatever it served before.
    pub async fn record_found(
        &self,
        chain: &[Vec<u8>],
        check: &ChainCheck,
        source: CertSource,
        location: (&str, &str),
        actor: &str,
    ) -> Result<CertRecord, CertError> {
        let leaf = chain.first().ok_or_else(|| CertError::Invalid("no certificate".to_owned()))?;
        let details = describe(leaf)
            .map_err(|reason| CertError::Unreadable { source_name: location.1.to_owned(), reason })?;
        let now = now_unix_ms();
        let mut transaction = self.store.begin_write().await?;
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM certificates WHERE fingerprint = $1 AND source <> 'acme' ORDER BY created_at_unix_ms LIMIT 1",
        )
        .bind(&details.fingerprint)
        .fetch_optional(&mut *transaction)
        .await?;
        let id = match existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE certificates SET chain_status = $1, chain_reason = $2, chain_pem = $3, updated_at_unix_ms = $4 \
                     WHERE id = $5",
                )
                .bind(check.status.as_str())
                .bind(&check.reason)
                .bind(to_pem(chain))
                .bind(now)
                .bind(&id)
                .execute(&mut *transaction)
                .await?;
                id
            }
            None => {
                let id = new_id();
                insert(&mut transaction, &id, &details, chain, check, source, CertState::Active, None, now)
                    .await?;
                add_event(
                    &mut transaction,
                    &id,
                    CertState::Active,
                    &format!("found in {} {}", location.0, location.1),
                    actor,
                )
                .await?;
                id
            }
        };
        if location.0 == "endpoint" {
            sqlx::query("DELETE FROM certificate_locations WHERE kind = 'endpoint' AND location = $1")
                .bind(location.1)
                .execute(&mut *transaction)
                .await?;
        }
        upsert_location(&mut transaction, &id, location.0, location.1, now).await?;
        transaction.commit().await?;
        self.get(&id).await
    }

    /// Adds a managed certificate in state `requested` (nothing issued yet).
    pub async fn create_managed(&self, managed: &Managed, actor: &str) -> Result<String, CertError> {
        let id = new_id();
        let now = now_unix_ms();
        let empty = CertDetails {
            subject: format!("CN={}", managed.domains.first().cloned().unwrap_or_default()),
            sans: managed.domains.clone(),
            issuer: String::new(),
            serial: String::new(),
            key_type: managed.key_type.as_str().to_owned(),
            not_before: 0,
            not_after: 0,
            fingerprint: String::new(),
            self_signed: false,
            is_ca: false,
        };
        let check = ChainCheck { status: ChainStatus::None, reason: "not issued yet".to_owned() };
        let json = serde_json::to_string(managed).map_err(|error| CertError::Invalid(error.to_string()))?;
        let mut transaction = self.store.begin_write().await?;
        insert(
            &mut transaction,
            &id,
            &empty,
            &[],
            &check,
            CertSource::Acme,
            CertState::Requested,
            Some(&json),
            now,
        )
        .await?;
        add_event(
            &mut transaction,
            &id,
            CertState::Requested,
            &format!("requested {} from {}", managed.domains.join(", "), managed.directory_url),
            actor,
        )
        .await?;
        transaction.commit().await?;
        Ok(id)
    }

    /// Changes the lifecycle state and records why.
    pub async fn set_state(
        &self,
        id: &str,
        state: CertState,
        message: &str,
        actor: &str,
    ) -> Result<(), CertError> {
        let mut transaction = self.store.begin_write().await?;
        sqlx::query("UPDATE certificates SET state = $1, updated_at_unix_ms = $2 WHERE id = $3")
            .bind(state.as_str())
            .bind(now_unix_ms())
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        add_event(&mut transaction, id, state, message, actor).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Records a failure: the state (`failed`, or back to `active` when a
    /// renewal failed and the current certificate still works) and the error.
    pub async fn record_failure(
        &self,
        id: &str,
        state: CertState,
        error: &str,
        actor: &str,
    ) -> Result<(), CertError> {
        sqlx::query("UPDATE certificates SET last_error = $1 WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(self.store.pool())
            .await?;
        self.set_state(id, state, error, actor).await
    }

    /// Installs a freshly issued chain as the managed certificate's current one.
    pub async fn install(
        &self,
        id: &str,
        chain: &[Vec<u8>],
        check: &ChainCheck,
        actor: &str,
    ) -> Result<(), CertError> {
        let leaf =
            chain.first().ok_or_else(|| CertError::Invalid("the CA sent no certificate".to_owned()))?;
        let details = describe(leaf)
            .map_err(|reason| CertError::Unreadable { source_name: "the CA's answer".to_owned(), reason })?;
        let mut transaction = self.store.begin_write().await?;
        bind_details(
            sqlx::query(
                "UPDATE certificates SET fingerprint = $1, subject = $2, sans = $3, issuer = $4, serial = $5, \
                 key_type = $6, not_before = $7, not_after = $8, self_signed = $9, is_ca = $10, chain_pem = $11, \
                 chain_status = $12, chain_reason = $13, state = 'issued', last_error = NULL, alerted_days = NULL, \
                 updated_at_unix_ms = $14 WHERE id = $15",
            ),
            &details,
            to_pem(chain),
            check,
        )
        .bind(now_unix_ms())
        .bind(id)
        .execute(&mut *transaction)
        .await?;
        add_event(
            &mut transaction,
            id,
            CertState::Issued,
            &format!(
                "issued by {}, serial {}, valid until {}",
                details.issuer,
                details.serial,
                iso_day(details.not_after)
            ),
            actor,
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Changes a managed certificate's settings (deploy hook, threshold).
    pub async fn set_managed(&self, id: &str, managed: &Managed) -> Result<(), CertError> {
        let json = serde_json::to_string(managed).map_err(|error| CertError::Invalid(error.to_string()))?;
        sqlx::query("UPDATE certificates SET managed = $1, updated_at_unix_ms = $2 WHERE id = $3")
            .bind(json)
            .bind(now_unix_ms())
            .bind(id)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Records when the renewal job will run.
    pub async fn set_next_renewal(&self, id: &str, at: Option<i64>) -> Result<(), CertError> {
        sqlx::query("UPDATE certificates SET next_renewal_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Adds a location (a deploy hook's file).
    pub async fn add_location(&self, id: &str, kind: &str, location: &str) -> Result<(), CertError> {
        let mut transaction = self.store.begin_write().await?;
        upsert_location(&mut transaction, id, kind, location, now_unix_ms()).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The history of a certificate, oldest first.
    pub async fn events(&self, id: &str) -> Result<Vec<CertEvent>, CertError> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT at_unix_ms, state, message, actor FROM certificate_events WHERE certificate_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(|(at, state, message, actor)| Ok(CertEvent { at, state: state.parse()?, message, actor }))
            .collect()
    }

    /// Forgets a certificate (its history and locations go with it).
    pub async fn remove(&self, id: &str) -> Result<(), CertError> {
        sqlx::query("DELETE FROM certificates WHERE id = $1").bind(id).execute(self.store.pool()).await?;
        Ok(())
    }
}

fn new_id() -> String {
    let mut bytes = [0u8; 6];
    use rsa::rand_core::RngCore;
    rsa::rand_core::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `2026-11-23` for a Unix ms time.
pub fn iso_day(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms)
        .map(|time| time.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| unix_ms.to_string())
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    details: &CertDetails,
    chain: &[Vec<u8>],
    check: &ChainCheck,
    source: CertSource,
    state: CertState,
    managed: Option<&str>,
    now: i64,
) -> Result<(), CertError> {
    // The details first ($1–$13, as `bind_details` binds them), then the rest.
    bind_details(
        sqlx::query(
            "INSERT INTO certificates (fingerprint, subject, sans, issuer, serial, key_type, not_before, not_after, \
             self_signed, is_ca, chain_pem, chain_status, chain_reason, id, source, state, managed, \
             created_at_unix_ms, updated_at_unix_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        ),
        details,
        if chain.is_empty() { String::new() } else { to_pem(chain) },
        check,
    )
    .bind(id)
    .bind(source.as_str())
    .bind(state.as_str())
    .bind(managed)
    .bind(now)
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// Binds a certificate's described columns, in the order both the insert and
/// the update of an issued certificate name them: fingerprint, subject, sans,
/// issuer, serial, key_type, not_before, not_after, self_signed, is_ca,
/// chain_pem, chain_status, chain_reason.
fn bind_details<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    details: &'q CertDetails,
    chain_pem: String,
    check: &'q ChainCheck,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&details.fingerprint)
        .bind(&details.subject)
        .bind(serde_json::to_string(&details.sans).unwrap_or_default())
        .bind(&details.issuer)
        .bind(&details.serial)
        .bind(&details.key_type)
        .bind(details.not_before)
        .bind(details.not_after)
        .bind(i64::from(details.self_signed))
        .bind(i64::from(details.is_ca))
        .bind(chain_pem)
        .bind(check.status.as_str())
        .bind(&check.reason)
}

async fn add_event(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    state: CertState,
    message: &str,
    actor: &str,
) -> Result<(), CertError> {
    let next: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM certificate_events WHERE certificate_id = $1",
    )
    .bind(id)
    .fetch_one(&mut **transaction)
    .await?;
    sqlx::query(
        "INSERT INTO certificate_events (certificate_id, seq, at_unix_ms, state, message, actor) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(next)
    .bind(now_unix_ms())
    .bind(state.as_str())
    .bind(message)
    .bind(actor)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn upsert_location(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    kind: &str,
    location: &str,
    now: i64,
) -> Result<(), CertError> {
    sqlx::query(
        "DELETE FROM certificate_locations WHERE certificate_id = $1 AND kind = $2 AND location = $3",
    )
    .bind(id)
    .bind(kind)
    .bind(location)
    .execute(&mut **transaction)
    .await?;
    sqlx::query(
        "INSERT INTO certificate_locations (certificate_id, kind, location, seen_at_unix_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(kind)
    .bind(location)
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    Ok(())
}
