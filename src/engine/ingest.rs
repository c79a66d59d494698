//! Turning one page of canonical orders into one store transaction: dedupe by content hash,
//! merge PII a refetch no longer carries, encrypt PII under a fresh DEK, enqueue one delivery
//! per routed sink with a deterministic idempotency key, advance the cursor.

use super::Engine;
use crate::crypto::{EpochKey, PiiRow, SealedPii, epoch_of};
use crate::store::{
    ConnectionRow, CursorRow, DeliveryEnqueue, ExistingOrder, OrderUpsert, PageCommit,
};
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{Order, OrderStatus, Page};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use time::Duration;

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

impl Engine {
    pub(super) async fn ingest_page(
        &self,
        c: &ConnectionRow,
        sinks: &[String],
        page: Page,
        cursor: CursorRow,
    ) -> anyhow::Result<()> {
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
        let lookup_ms = started.elapsed().as_millis() as u64;
        let index_key = self.crypto.index_key(&c.merchant_id, now).await?;
        let mut epochs: HashMap<String, EpochKey> = HashMap::new();
        let mut retention: HashMap<String, (i64, i64)> = HashMap::new();
        let mut commit = PageCommit {
            connection_id: c.id.clone(),
            now: now_us,
            cursor,
            ..Default::default()
        };

        for (ext_id, mut order) in latest {
            let prev = existing.get(&ext_id);
            let marketplace = order.marketplace.clone();
            let row = PiiRow {
                merchant_id: &c.merchant_id,
                marketplace: &marketplace,
                external_id: &ext_id,
            };
            // Never let a refetch that lacks PII erase what we hold.
            if let Some(p) = prev
                && p.pii_purged_at.is_none()
                && p.pii_fields & !order.pii.field_mask() != 0
                && let (Some(ct), Some(dek), Some(epoch)) = (&p.pii_ct, &p.pii_dek, &p.pii_epoch)
            {
                let sealed = SealedPii {
                    pii_ct: ct.clone(),
                    dek: dek.clone(),
                };
                let mut stored = self.crypto.open_pii(row, epoch, &sealed, now).await?;
                stored.merge_newer(std::mem::take(&mut order.pii));
                order.pii = stored;
            }
            let data = serde_json::to_string(&order)?;
            let pii_json = serde_json::to_vec(&order.pii)?;
            let content_hash = index_key.index(&format!(
                "{}\u{0}{}",
                data,
                String::from_utf8_lossy(&pii_json)
            ));
            if prev.is_some_and(|p| p.content_hash == content_hash) {
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
            let fallback_purge = order.created_at + Duration::days(days_after_order);
            let epoch = epoch_of(fallback_purge);
            let ek = match epochs.get(&epoch) {
                Some(k) => k.clone(),
                None => {
                    let k = self.crypto.epoch_key(&c.merchant_id, &epoch, now).await?;
                    epochs.insert(epoch.clone(), k.clone());
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
            let id = prev
                .map(|p| p.id.clone())
                .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
            let version = prev.map_or(1, |p| p.version + 1);
            for sink in sinks {
                commit.deliveries.push(DeliveryEnqueue {
                    id: uuid::Uuid::now_v7().to_string(),
                    order_id: id.clone(),
                    merchant_id: c.merchant_id.clone(),
                    sink_connection_id: sink.clone(),
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
                pii_epoch: Some(epoch),
                pii_fields: order.pii.field_mask(),
                email_bidx,
                source_created_at: to_micros(order.created_at),
                source_updated_at: to_micros(order.updated_at),
                purge_after: to_micros(fallback_purge),
                now: now_us,
            });
        }
        if !page.rejected.is_empty() {
            commit.rejected = page.rejected.len() as i64;
            let first = &page.rejected[0];
            commit.rejected_reason = Some(format!(
                "{} order(s) could not be mapped; e.g. order {}: {}",
                page.rejected.len(),
                first.external_id,
                first.reason
            ));
            tracing::warn!(connection = %c.id, rejected = page.rejected.len(), "Orders could not be mapped and are held for review.");
        }
        let n = commit.orders.len();
        let prepared_ms = started.elapsed().as_millis() as u64;
        self.store.commit_page(&commit).await?;
        tracing::debug!(connection = %c.id, orders = n, lookup_ms, prepared_ms, total_ms = started.elapsed().as_millis() as u64, "Page ingested.");
        metrics::counter!("ordersync_orders_ingested_total", "kind" => c.kind.clone())
            .increment(n as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
