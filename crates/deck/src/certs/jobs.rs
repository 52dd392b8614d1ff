//! The certificate jobs the scheduler runs: each managed certificate's
//! renewal check (`cert-renew:ID`) and the expiry warnings (`cert-expiry-check`).

use opsdeck_certs::acme;
use opsdeck_certs::inventory::iso_day;
use opsdeck_certs::renewal::{random_unit, renew_at};
use opsdeck_certs::{CertError, CertRecord, CertState};
use opsdeck_core::clock::now_unix_ms;
use opsdeck_core::scheduler::{JobSpec, Schedule, Scheduler};
use std::time::Duration;

use super::Certs;
use super::{iso_minute, DEFAULT_WARN_DAYS, EXPIRY_JOB, EXPIRY_JOB_KIND};
use crate::{Caller, DeckError, Outcome};

impl Certs<'_> {
    /// Sets the expiry-warning thresholds (days before expiry, e.g. 30, 14, 7).
    pub async fn set_warn_days(self, caller: &Caller, days: &[i64]) -> Result<(), DeckError> {
        if days.is_empty() || days.iter().any(|day| *day < 0 || *day > 3650) {
            return Err(
                CertError::Invalid("give warning days between 0 and 3650, like 30,14,7".to_owned()).into()
            );
        }
        let mut days = days.to_vec();
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        Scheduler::upsert_job(&self.deck.store, &expiry_job(&days)).await?;
        self.deck
            .audit(caller, "cert.alerts", EXPIRY_JOB, Outcome::Ok, serde_json::json!({ "days": days }))
            .await?;
        Ok(())
    }

    /// The `cert.renew` job: renews the certificate once its time has come.
    pub(crate) async fn run_renewal_job(self, payload: &serde_json::Value) -> Result<String, String> {
        let id = payload.get("id").and_then(|value| value.as_str()).unwrap_or_default();
        let record = self.deck.certs.get(id).await.map_err(|error| error.to_string())?;
        if record.state == CertState::Revoked {
            return Ok(format!("{id} is revoked; nothing to renew"));
        }
        let now = now_unix_ms();
        let caller = Caller::new("scheduler");
        if let Some(at) = record.next_renewal_at.filter(|at| *at > now) {
            // The CA may want it sooner (ARI: a key compromise, a mass revocation).
            match self.renewal_time_from_ari(&caller, &record).await {
                Ok(Some(sooner)) if sooner < at => {
                    self.deck
                        .certs
                        .set_next_renewal(id, Some(sooner))
                        .await
                        .map_err(|error| error.to_string())?;
                    let message = format!(
                        "the CA's renewal information moved the renewal from {} to {}",
                        iso_minute(at),
                        iso_minute(sooner)
                    );
                    self.deck
                        .certs
                        .set_state(id, record.state, &message, &caller.actor)
                        .await
                        .map_err(|error| error.to_string())?;
                    if sooner > now {
                        return Ok(format!("{id}: {message}"));
                    }
                }
                Ok(_) => return Ok(format!("{id} is not due until {}", iso_minute(at))),
                Err(error) => {
                    tracing::warn!(%error, certificate = id, "the CA's renewal information could not be read");
                    return Ok(format!(
                        "{id} is not due until {} (renewal information unavailable: {error})",
                        iso_minute(at)
                    ));
                }
            }
        }
        match self.obtain(&caller, id, record.not_after > 0, &|_| {}).await {
            Ok(()) => {
                let renewed = self.deck.certs.get(id).await.map_err(|error| error.to_string())?;
                Ok(format!("{id} renewed; valid until {}", iso_day(renewed.not_after)))
            }
            Err(error) => Err(error.to_string()),
        }
    }

    /// A renewal time inside the window the CA suggests now (ARI), or `None`
    /// when it offers none.
    async fn renewal_time_from_ari(
        self,
        caller: &Caller,
        record: &CertRecord,
    ) -> Result<Option<i64>, DeckError> {
        let (Some(managed), Some(leaf)) = (&record.managed, record.chain().into_iter().next()) else {
            return Ok(None);
        };
        let account = self.acme_account(caller, managed).await?;
        let window = acme::renewal_window(&account, &leaf).await?;
        Ok(window.map(|window| {
            renew_at(
                record.not_before,
                record.not_after,
                managed.renew_remaining,
                Some(window),
                random_unit(),
            )
        }))
    }

    /// The `cert.expiry` job: warns once per threshold as certificates near expiry.
    pub(crate) async fn run_expiry_job(self, payload: &serde_json::Value) -> Result<String, String> {
        let warn_days: Vec<i64> = payload
            .get("warn_days")
            .and_then(|days| serde_json::from_value(days.clone()).ok())
            .unwrap_or_else(|| DEFAULT_WARN_DAYS.to_vec());
        let mut sent = 0;
        for cert in self.deck.certs.list().await.map_err(|error| error.to_string())? {
            if cert.not_after == 0 || cert.state == CertState::Revoked {
                continue;
            }
            let threshold = if cert.days_left < 0 {
                Some(-1)
            } else {
                warn_days.iter().copied().filter(|days| cert.days_left <= *days).min()
            };
            let Some(threshold) = threshold else { continue };
            let already = self.deck.certs.alerted_days(&cert.id).await.map_err(|error| error.to_string())?;
            if already.is_some_and(|already| already <= threshold) {
                continue;
            }
            let event = if threshold < 0 { "cert.expired" } else { "cert.expiring" };
            let payload = serde_json::json!({
                "id": cert.id, "subject": cert.subject, "sans": cert.sans, "days_left": cert.days_left,
                "not_after": cert.not_after, "threshold_days": threshold, "source": cert.source,
            });
            self.deck.notify().broadcast(event, &payload).await.map_err(|error| error.to_string())?;
            self.deck.certs.set_alerted_days(&cert.id, threshold).await.map_err(|error| error.to_string())?;
            sent += 1;
        }
        Ok(format!("{sent} expiry warnings sent"))
    }

    /// Makes sure the expiry-warning job exists (default thresholds).
    pub(crate) async fn ensure_expiry_job(self) -> Result<(), DeckError> {
        Scheduler::ensure_job(&self.deck.store, &expiry_job(&DEFAULT_WARN_DAYS)).await?;
        Ok(())
    }
}

fn expiry_job(days: &[i64]) -> JobSpec {
    JobSpec {
        name: EXPIRY_JOB.to_owned(),
        kind: EXPIRY_JOB_KIND.to_owned(),
        schedule: Schedule::Every(Duration::from_secs(6 * 3600)),
        payload: serde_json::json!({ "warn_days": days }),
    }
}
