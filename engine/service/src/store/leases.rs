//! `leases`: who does a shared job for now (the outbox relay; `/readyz` writes a probe row it rolls
//! back). Leases only share out work. Sweeps share theirs through claims on timers instead (`rungs.rs`).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::rows::ms;
use super::tx::with_tx;
use super::{Store, StoreError};

const TRY_LEASE: &str = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
     WHERE leases.holder = excluded.holder OR leases.expires_at <= $4";

impl Store {
    /// Takes the lease `name` for `holder` until `now + ttl` when it is free, expired (expiry ≤ `now`)
    /// or already held by `holder` (which extends it). False when another holder has it. Leases only
    /// share out work; exactly-once comes from unique rows (invariant 6).
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let expires = ms(now).saturating_add(ttl_ms);
        let mut tx = self.begin().await?;
        let taken = with_tx!(tx, c => {
            sqlx::query(TRY_LEASE)
                .bind(name.to_owned())
                .bind(holder.to_owned())
                .bind(expires)
                .bind(ms(now))
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        tx.commit().await?;
        Ok(taken == 1)
    }

    /// Gives up the lease `name` if `holder` has it; otherwise does nothing.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                .bind(name.to_owned())
                .bind(holder.to_owned())
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await
    }
}
