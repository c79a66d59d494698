//! Turning one page of canonical orders into one store transaction: dedupe by content hash,
//! merge PII a refetch no longer carries, encrypt PII under a fresh DEK, enqueue one delivery
//! per routed sink with a deterministic idempotency key, advance the cursor.
//!
//! One bad order never fails its page: an order the engine cannot schedule (a creation date
//! in the future, a purge date past year 9999) is rejected like an unmappable one, and stored
//! PII that cannot be opened is handled for that order alone (see `merge_stored_pii`).

use super::routes::RouteRule;
use super::{Engine, LeaseLost};
use crate::crypto::{EpochKey, PiiRow, SealedPii};
use crate::store::{
    ConnectionRow, CursorRow, DeliveryEnqueue, ExistingOrder, OrderUpsert, PageCommit,
    PageCommitted, RouteTarget,
};
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{Order, OrderStatus, Page, Rejected};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use time::{Duration, OffsetDateTime};

/// How far ahead of our clock a platform's `created_at` may be (clock skew, time-zone bugs).
const MAX_CREATED_AHEAD: Duration = Duration::days(1);

/// The fallback purge date: `days` after the order was created; `None` if not representable.
pub fn fallback_purge(created_at: OffsetDateTime, days: i64) -> Option<OffsetDateTime> {
    let secs = days.checked_mul(86_400)?;
    created_at.checked_add(Duration::seconds(secs))
}

/// The summary of one page's rejections (the store keeps the connection-wide one).
pub fn rejection_summary(rejected: &[Rejected]) -> Option<String> {
    let first = rejected.first()?;
    let mut by_reason: BTreeMap<&str, i64> = BTreeMap::new();
    for r in rejected {
        *by_reason.entry(r.reason.as_str()).or_default() += 1;
    }
    let by_reason: Vec<(String, i64)> = by_reason
        .into_iter()
        .map(|(r, n)| (r.to_string(), n))
        .collect();
    let total = i64::try_from(rejected.len()).unwrap_or(i64::MAX);
    Some(crate::store::rejection_summary(
        total,
        &first.external_id,
        &by_reason,
    ))
}

/// Why the engine refuses to store an order it was given (PII-free).
fn schedule_problem(order: &Order, now: OffsetDateTime) -> Option<&'static str> {
    match now.checked_add(MAX_CREATED_AHEAD) {
        Some(limit) if order.created_at > limit => Some("createdAt is in the future"),
        _ => None,
    }
}

/// Deterministic key of one write: `hash(order_id, sink_id, version)`.
pub fn idempotency_key(order_id: &str, sink_id: &str, version: i64) -> String {
    hex32(
        &Sha256::new()
            .chain_update(order_id)
            .chain_update(b"|")
            .chain_update(sink_id)
            .chain_update(b"|")
            .chain_update(version.to_le_bytes())
            .finalize(),
    )
}

/// Deterministic id of the object an order becomes at a sink (the same for every version).
pub fn object_key(order_id: &str, sink_id: &str) -> String {
    hex32(
        &Sha256::new()
            .chain_update(order_id)
            .chain_update(b"|")
            .chain_update(sink_id)
            .finalize(),
    )
}

fn hex32(d: &[u8]) -> String {
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

pub fn status_str(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Open => "open",
        OrderStatus::Closed => "closed",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Unknown => "unknown",
    }
}

/// What [`Engine::ingest`] stored of a page.
pub(super) struct Ingested {
    /// Orders written (new or changed; unchanged re-reads are not).
    pub written: usize,
    /// Orders held back for review.
    pub rejected: usize,
    /// The rejection summary, if any.
    pub summary: Option<String>,
}

impl Engine {
    /// Stores one page in one transaction; returns the page's rejection summary, if any.
    pub(super) async fn ingest_page(
        &self,
        c: &ConnectionRow,
        routes: &[RouteTarget],
        page: Page,
        cursor: CursorRow,
        lease_owner: &str,
    ) -> anyhow::Result<Option<String>> {
        Ok(self
            .ingest(c, routes, page, cursor, lease_owner)
            .await?
            .summary)
    }

    /// [`Engine::ingest_page`], saying what was stored (the reconciliation counts its gaps).
    pub(super) async fn ingest(
        &self,
        c: &ConnectionRow,
        routes: &[RouteTarget],
        page: Page,
        cursor: CursorRow,
        lease_owner: &str,
    ) -> anyhow::Result<Ingested> {
        let started = std::time::Instant::now();
        let now = self.clock.now();
        let now_us = to_micros(now);
        // The last copy of an order within a page wins.
        let mut latest: HashMap<String, Order> = HashMap::with_capacity(page.orders.len());
        for o in page.orders {
            latest.insert(o.external_id.clone(), o);
        }
        let ids: Vec<String> = latest.keys().cloned().collect();
        let existing: HashMap<String, ExistingOrder> = self
            .store
            .existing_orders(&c.id, &ids)
            .await?
            .into_iter()
            .map(|e| (e.external_id.clone(), e))
            .collect();
        let rules: Vec<RouteRule> = routes.iter().map(RouteRule::of).collect();
        let known_ids: Vec<String> = existing.values().map(|e| e.id.clone()).collect();
        let routed: std::collections::HashSet<(String, String)> = if known_ids.is_empty() {
            Default::default()
        } else {
            self.store
                .delivery_pairs(&known_ids)
                .await?
                .into_iter()
                .collect()
        };
        let lookup_ms = started.elapsed().as_millis() as u64;
        let index_key = self.crypto.index_key(&c.merchant_id, now).await?;
        let hasher = self.crypto.content_hasher(&c.merchant_id, now).await?;
        let mut epochs: HashMap<String, EpochKey> = HashMap::new();
        let mut retention: HashMap<String, (i64, i64)> = HashMap::new();
        let mut commit = PageCommit {
            connection_id: c.id.clone(),
            lease_owner: Some(lease_owner.to_string()),
            now: now_us,
            cursor,
            ..Default::default()
        };

        let mut rejected = page.rejected;
        for (ext_id, mut order) in latest {
            if let Some(why) = schedule_problem(&order, now) {
                rejected.push(Rejected {
                    external_id: ext_id,
                    reason: why.to_string(),
                });
                continue;
            }
            let prev = existing.get(&ext_id);
            let marketplace = order.marketplace.clone();
            // Known before sealing: the PII's AAD binds our order id.
            let id = prev
                .map(|p| p.id.clone())
                .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
            let row = PiiRow {
                merchant_id: &c.merchant_id,
                marketplace: &marketplace,
                external_id: &ext_id,
                connection_id: &c.id,
                order_id: &id,
            };
            if let Some(p) = prev {
                if p.pii_purged_at.is_some() {
                    // Purged is final: a refetch never brings the PII back.
                    order.pii = Default::default();
                }
                self.merge_stored_pii(p, row, &mut order, now).await?;
            }
            let data = serde_json::to_string(&order)?;
            let pii_json = serde_json::to_vec(&order.pii)?;
            let content = format!("{}\u{0}{}", data, String::from_utf8_lossy(&pii_json));
            let content_hash = hasher.hash(&content);
            // Hashes stored before the hash key existed are compared under the index key.
            if prev.is_some_and(|p| hasher.unchanged(&p.content_hash, &content, &content_hash)) {
                continue; // unchanged re-read (overlap): nothing to store or deliver
            }
            let days_after_order = match retention.get(&marketplace) {
                Some(r) => r.1,
                None => {
                    let r = self.retention_for(&c.merchant_id, &marketplace).await?;
                    retention.insert(marketplace.clone(), r);
                    r.1
                }
            };
            let Some(purge_at) = fallback_purge(order.created_at, days_after_order) else {
                rejected.push(Rejected {
                    external_id: ext_id,
                    reason: "createdAt too late to schedule a purge".to_string(),
                });
                continue;
            };
            // The epoch of the purge week, unless that week has ended (a late order): its key
            // may be destroyed already, so this week's epoch (shred.rs).
            let epoch = super::shred::sealing_epoch(purge_at, now);
            let ek = match epochs.get(&epoch) {
                Some(k) => k.clone(),
                None => {
                    let k = self.crypto.sealing_key(&c.merchant_id, &epoch, now).await?;
                    epochs.insert(epoch, k.clone());
                    k
                }
            };
            let (pii_ct, pii_dek) = if order.pii.is_empty() {
                (None, None)
            } else {
                let s = self.crypto.seal_pii_with(&ek, row, &order.pii);
                (Some(s.pii_ct), Some(s.dek))
            };
            let email_bidx = order.pii.normalized_email().map(|e| index_key.index(&e));
            let buyer_bidx = (prev.is_none_or(|p| p.pii_purged_at.is_none()))
                .then(|| {
                    order
                        .buyer_account
                        .as_ref()
                        .map(|a| index_key.buyer(a.expose()))
                })
                .flatten();
            let version = prev.map_or(1, |p| p.version + 1);
            for rule in &rules {
                let sink = rule.sink;
                if !routed.contains(&(id.clone(), sink.to_string())) && !rule.takes(&order) {
                    continue;
                }
                commit.deliveries.push(DeliveryEnqueue {
                    id: uuid::Uuid::now_v7().to_string(),
                    order_id: id.clone(),
                    merchant_id: c.merchant_id.clone(),
                    sink_connection_id: sink.to_string(),
                    version,
                    idempotency_key: idempotency_key(&id, sink, version),
                });
            }
            commit.orders.push(OrderUpsert {
                id,
                merchant_id: c.merchant_id.clone(),
                connection_id: c.id.clone(),
                marketplace,
                external_id: ext_id,
                order_number: order.order_number.clone(),
                status: status_str(order.status).to_string(),
                data,
                content_hash,
                version,
                pii_ct,
                pii_dek,
                pii_epoch: Some(ek.epoch.clone()),
                pii_fields: order.pii.field_mask(),
                email_bidx,
                buyer_bidx,
                source_created_at: to_micros(order.created_at),
                source_updated_at: to_micros(order.updated_at),
                purge_after: to_micros(purge_at),
                now: now_us,
            });
        }
        if !rejected.is_empty() {
            commit.rejected = rejected
                .iter()
                .map(|r| (r.external_id.clone(), r.reason.clone()))
                .collect();
            commit.rejected_reason = rejection_summary(&rejected);
            tracing::warn!(connection = %c.id, rejected = rejected.len(), "Orders could not be mapped or scheduled and are held for review.");
            metrics::counter!("ordersync_orders_rejected_total", "kind" => c.kind.clone())
                .increment(rejected.len() as u64);
        }
        let n = commit.orders.len();
        let prepared_ms = started.elapsed().as_millis() as u64;
        let summary = match self.store.commit_page(&commit).await? {
            PageCommitted::Written(s) => s,
            PageCommitted::LeaseLost => return Err(LeaseLost.into()),
        };
        tracing::debug!(connection = %c.id, orders = n, lookup_ms, prepared_ms, total_ms = started.elapsed().as_millis() as u64, "Page ingested.");
        metrics::counter!("ordersync_orders_ingested_total", "kind" => c.kind.clone())
            .increment(n as u64);
        Ok(Ingested {
            written: n,
            rejected: commit.rejected.len(),
            summary: summary.or(commit.rejected_reason),
        })
    }

    /// Never lets a refetch that lacks PII erase what we hold: the stored fields the refetch
    /// does not carry are merged back in. Stored PII that cannot be opened (corrupt
    /// ciphertext, shredded or missing key) is already lost for every purpose, so the update
    /// goes on with the PII the platform sent now, as for a new order; only a keystore
    /// outage (transient, the PII is still readable later) fails the page, to be retried.
    async fn merge_stored_pii(
        &self,
        p: &ExistingOrder,
        row: PiiRow<'_>,
        order: &mut Order,
        now: OffsetDateTime,
    ) -> anyhow::Result<()> {
        let (Some(ct), Some(dek), Some(epoch)) = (&p.pii_ct, &p.pii_dek, &p.pii_epoch) else {
            return Ok(());
        };
        if p.pii_purged_at.is_some() || p.pii_fields & !order.pii.field_mask() == 0 {
            return Ok(());
        }
        let sealed = SealedPii {
            pii_ct: ct.clone(),
            dek: dek.clone(),
        };
        match self.crypto.open_pii(row, epoch, &sealed, now).await {
            Ok(mut stored) => {
                stored.merge_newer(std::mem::take(&mut order.pii));
                order.pii = stored;
            }
            // A keystore outage or a master key version this process lacks (a rotation): the
            // PII is still there, so the page fails and is retried.
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(e) => {
                tracing::warn!(order = %p.id, error = %e, "Stored PII cannot be opened; the update keeps only the PII the platform sent.");
                metrics::counter!("ordersync_pii_unreadable_total", "stage" => "ingest")
                    .increment(1);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_dates_near_year_9999_are_refused_not_panics() {
        let far = OffsetDateTime::parse(
            "9999-12-30T00:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(fallback_purge(far, 90), None);
        assert_eq!(fallback_purge(far, i64::MAX), None);
        let t = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(fallback_purge(t, 1), Some(t + Duration::days(1)));
    }

    #[test]
    fn rejection_summary_counts_each_reason() {
        let r = |id: &str, reason: &str| Rejected {
            external_id: id.into(),
            reason: reason.into(),
        };
        assert_eq!(rejection_summary(&[]), None);
        let s = rejection_summary(&[
            r("7", "missing total"),
            r("8", "bad date"),
            r("9", "missing total"),
        ]);
        assert_eq!(
            s.as_deref(),
            Some("3 order(s) rejected (e.g. order 7): 1× bad date; 2× missing total")
        );
        let many: Vec<Rejected> = (0..9).map(|i| r("1", &format!("reason {i}"))).collect();
        assert!(
            rejection_summary(&many)
                .unwrap()
                .ends_with("1× reason 4; …")
        );
    }

    #[test]
    fn keys_are_deterministic_and_distinct() {
        assert_eq!(
            idempotency_key("o1", "s1", 1),
            idempotency_key("o1", "s1", 1)
        );
        assert_ne!(
            idempotency_key("o1", "s1", 1),
            idempotency_key("o1", "s1", 2)
        );
        assert_eq!(object_key("o1", "s1").len(), 32);
        assert_ne!(object_key("o1", "s1"), object_key("o1", "s2"));
    }
}
