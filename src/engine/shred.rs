//! Epoch crypto-shredding (docs/privacy.md). An order's DEK is wrapped under the epoch key of
//! the ISO week its PII is purged in. When the purge date moves (the delivery becomes known, a
//! retention policy changes), the purge sweep moves the DEK into the epoch of the new date: one
//! unwrap and one wrap, the PII blob untouched. Once an epoch's week has ended and no order
//! still holds a DEK under it, its key is destroyed, and with it every copy of those orders'
//! PII, in backups of the orders database too (the keystore is a database of its own).
//!
//! New PII is never sealed into a week that has ended (a late order goes into this week's
//! epoch), and a key is destroyed only [`EPOCH_GRACE`] after its week ended, so no page or
//! re-wrap can still be writing into an epoch when it goes.

use super::Engine;
use crate::crypto::{CryptoError, EpochKey, PiiRow, SealedPii, epoch_end, epoch_of, epoch_week};
use crate::store::{RewrapItem, RewrapUpdate};
use ordersync_sdk::clock::{from_micros, to_micros};
use std::collections::{BTreeMap, HashMap, HashSet};
use time::{Duration, OffsetDateTime};

/// How long after its week has ended an epoch key is kept at least: a page sealed just before
/// the week ended, or by a worker whose clock is a little behind, has committed by then.
pub const EPOCH_GRACE: Duration = Duration::days(1);

/// Orders re-wrapped per pass.
pub const REWRAP_BATCH: i64 = 1000;

/// The epoch new PII purged at `purge_at` is sealed into: that date's week, or this week's if
/// that one has ended (a late order, or one already overdue: an ended week's key may be gone).
pub fn sealing_epoch(purge_at: OffsetDateTime, now: OffsetDateTime) -> String {
    epoch_of(purge_at.max(now))
}

/// Whether time allows destroying an epoch's key: its week ended at least [`EPOCH_GRACE`] ago.
pub fn epoch_closed(epoch: &str, now: OffsetDateTime) -> bool {
    epoch_end(epoch)
        .and_then(|end| end.checked_add(EPOCH_GRACE))
        .is_some_and(|t| t <= now)
}

/// What one purge pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PurgeStep {
    /// Orders whose PII was deleted.
    pub purged: usize,
    /// Orders whose DEK moved to the epoch of their purge date (or whose mark was settled).
    pub rewrapped: usize,
    /// Epoch keys destroyed.
    pub epochs_destroyed: usize,
}

/// The live epoch keys (for `keys status`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EpochStatus {
    pub live: usize,
    /// Week over and no order needs them: the next purge sweep destroys them.
    pub pending: usize,
    /// Week over but some order still holds a DEK under them (on legal hold, awaiting a
    /// delivery, or not purged yet).
    pub held: usize,
}

impl Engine {
    /// Moves up to [`REWRAP_BATCH`] DEKs whose order's purge date moved into the epoch of that
    /// date; returns how many orders it settled.
    pub async fn rewrap_once(&self) -> anyhow::Result<usize> {
        let items = self.store.rewrap_due(REWRAP_BATCH).await?;
        if items.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let mut keys: HashMap<(String, String), EpochKey> = HashMap::new();
        let mut updates = Vec::with_capacity(items.len());
        let (mut moved, mut unreadable) = (0u64, 0u64);
        for it in &items {
            let mut u = RewrapUpdate {
                id: it.id.clone(),
                old_dek: it.pii_dek.clone(),
                purge_after: it.purge_after,
                moved: None,
            };
            if let (Some(ct), Some(dek), Some(purge_after)) =
                (&it.pii_ct, &it.pii_dek, it.purge_after)
            {
                match self
                    .rewrap_one(it, ct, dek, purge_after, now, &mut keys)
                    .await
                {
                    Ok(m) => {
                        moved += u64::from(m.is_some());
                        u.moved = m;
                    }
                    // A keystore outage, or a master key version this process lacks: the PII is
                    // still readable later, retry.
                    Err(e) if e.is_transient() => return Err(e.into()),
                    // Already unreadable (shredded, corrupt): nothing to move, the mark goes.
                    Err(e) => {
                        tracing::warn!(order = %it.id, error = %e, "An order's DEK cannot be moved to the epoch of its purge date; it is left where it is.");
                        unreadable += 1;
                    }
                }
            }
            updates.push(u);
        }
        let n = self.store.apply_rewraps(&updates).await?;
        if moved > 0 {
            metrics::counter!("ordersync_pii_rewrapped_total").increment(moved);
            tracing::debug!(
                orders = moved,
                "Moved DEKs to the epochs of their purge dates."
            );
        }
        if unreadable > 0 {
            metrics::counter!("ordersync_pii_unreadable_total", "stage" => "rewrap")
                .increment(unreadable);
        }
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// The new wrapped DEK and epoch of one order, `None` when it is in the right epoch.
    async fn rewrap_one(
        &self,
        it: &RewrapItem,
        ct: &str,
        dek: &str,
        purge_after: i64,
        now: OffsetDateTime,
        keys: &mut HashMap<(String, String), EpochKey>,
    ) -> Result<Option<(String, String)>, CryptoError> {
        let target = sealing_epoch(from_micros(purge_after), now);
        let current = it.pii_epoch.as_deref().unwrap_or_default();
        if epoch_week(current) == target {
            return Ok(None);
        }
        let slot = (it.merchant_id.clone(), target);
        let to = match keys.get(&slot) {
            Some(k) => k.clone(),
            None => {
                let k = self.crypto.sealing_key(&slot.0, &slot.1, now).await?;
                keys.insert(slot, k.clone());
                k
            }
        };
        let row = PiiRow {
            merchant_id: &it.merchant_id,
            marketplace: &it.marketplace,
            external_id: &it.external_id,
            connection_id: &it.connection_id,
            order_id: &it.id,
        };
        let sealed = SealedPii {
            pii_ct: ct.to_string(),
            dek: dek.to_string(),
        };
        let dek = self
            .crypto
            .rewrap_dek(row, current, &sealed, &to, now)
            .await?;
        Ok(Some((dek, to.epoch)))
    }

    /// Destroys every epoch key whose week has ended ([`EPOCH_GRACE`] ago) and under which no
    /// order holds a DEK any more; each destruction is audited (`key.epoch_destroyed`: epoch
    /// and key id, no PII). Returns how many.
    pub async fn shred_epochs(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut destroyed = 0;
        for (merchant, epochs) in self.closed_epochs(now).await? {
            let names: Vec<String> = epochs.iter().map(|(e, _)| e.clone()).collect();
            let in_use: HashSet<String> = self
                .store
                .epochs_in_use(&merchant, &names)
                .await?
                .into_iter()
                .collect();
            for (epoch, key_id) in epochs.into_iter().filter(|(e, _)| !in_use.contains(e)) {
                if !self.crypto.destroy_epoch(&merchant, &epoch, now).await? {
                    continue;
                }
                destroyed += 1;
                metrics::counter!("ordersync_epoch_keys_destroyed_total").increment(1);
                let detail = serde_json::json!({ "epoch": epoch, "key_id": key_id }).to_string();
                self.store
                    .audit(
                        Some(&merchant),
                        "system",
                        "key.epoch_destroyed",
                        Some(&epoch),
                        Some(&detail),
                        to_micros(now),
                    )
                    .await?;
            }
        }
        if destroyed > 0 {
            tracing::info!(
                keys = destroyed,
                "Destroyed epoch keys no order needs any more (crypto-shredding)."
            );
        }
        Ok(destroyed)
    }

    /// Live epoch keys whose week has ended, by merchant: `(epoch, key id)`.
    async fn closed_epochs(
        &self,
        now: OffsetDateTime,
    ) -> anyhow::Result<BTreeMap<String, Vec<(String, String)>>> {
        let mut by_merchant: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (merchant, epoch, key_id) in self.crypto.keystore().live_scopes("epoch").await? {
            if epoch_closed(&epoch, now) {
                by_merchant
                    .entry(merchant)
                    .or_default()
                    .push((epoch, key_id));
            }
        }
        Ok(by_merchant)
    }

    /// Live epoch keys, and of those whose week has ended, how many wait for destruction.
    pub async fn epoch_status(&self) -> anyhow::Result<EpochStatus> {
        let now = self.clock.now();
        let mut s = EpochStatus {
            live: self.crypto.keystore().live_scopes("epoch").await?.len(),
            ..Default::default()
        };
        for (merchant, epochs) in self.closed_epochs(now).await? {
            let names: Vec<String> = epochs.into_iter().map(|(e, _)| e).collect();
            let held = self.store.epochs_in_use(&merchant, &names).await?.len();
            s.held += held;
            s.pending += names.len() - held;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn late_orders_seal_into_this_week_and_ended_weeks_close_after_the_grace() {
        let now = datetime!(2026-12-02 12:00 UTC); // Wednesday of 2026-W49
        assert_eq!(
            sealing_epoch(datetime!(2027-02-01 00:00 UTC), now),
            "2027-W05"
        );
        assert_eq!(
            sealing_epoch(datetime!(2026-11-20 00:00 UTC), now),
            "2026-W49"
        );
        assert_eq!(
            sealing_epoch(datetime!(2026-12-01 00:00 UTC), now),
            "2026-W49"
        );
        // 2026-W48 ended on Monday 30 November 00:00: closed from 1 December 00:00.
        assert!(!epoch_closed("2026-W48", datetime!(2026-11-30 23:59 UTC)));
        assert!(epoch_closed("2026-W48", datetime!(2026-12-01 00:00 UTC)));
        assert!(epoch_closed("2026-W48.2", now));
        assert!(!epoch_closed("2026-W49", now));
        assert!(!epoch_closed("2026-W49", datetime!(2026-12-07 12:00 UTC)));
        assert!(!epoch_closed("not-an-epoch", now));
    }
}
