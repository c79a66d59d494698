//! The [`Source`]: pull windows slice by slice (`slices.rs`), complete the cancel state of
//! refunded orders with getOrder, fetch by id. eBay has no order webhooks: poll only.

use crate::account_deletion::KeyFetcher;
use crate::client::{Client, millis};
use crate::config::EbayConfig;
use crate::mapping;
use crate::slices::{Token, grown, narrowed};
use async_trait::async_trait;
use ordersync_sdk::{
    ConnectorError, Order, Page, PullCursor, Rejected, Source, SourceCaps, WebhookError,
    WebhookHint,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use time::Duration;

/// getOrders reaches back two years, and a filter's range may not be longer.
const TWO_YEARS_MS: i64 = 730 * 86_400_000;
/// getOrders calls one pull may spend finding a slice that fits in a page; a window that
/// needs more goes on from a token holding what was learnt.
const MAX_PROBES: u32 = 16;
/// Cancel states remembered per (order id, lastModifiedDate): re-reads inside the overlap do
/// not call getOrder again.
const CANCEL_CACHE: usize = 10_000;
/// getOrder calls in flight at once for one page's cancel states.
const CANCEL_CONCURRENCY: usize = 4;

pub struct EbaySource {
    cfg: EbayConfig,
    client: Client,
    notices: KeyFetcher,
    cancel_cache: Mutex<HashMap<(String, String), Value>>,
}

impl EbaySource {
    pub fn new(cfg: EbayConfig, client: Client, notices: KeyFetcher) -> Self {
        Self {
            cfg,
            client,
            notices,
            cancel_cache: Mutex::new(HashMap::new()),
        }
    }

    /// Reads slices from `start` until one holds orders (or the window ends).
    async fn slice_page(
        &self,
        mut start: i64,
        mut span: i64,
        until: i64,
    ) -> Result<Page, ConnectorError> {
        let limit = self.cfg.page_size;
        let mut narrowings = 0;
        for _ in 0..MAX_PROBES {
            span = span.clamp(1, until.saturating_sub(start).saturating_add(1).max(1));
            let end = start.saturating_add(span - 1).min(until);
            let got = self.client.orders_modified(start, end, limit, 0).await?;
            let count = got.orders.len() as u64;
            // eBay always sends `total`; without it a full page may not be the whole slice.
            let total = got.total.unwrap_or(if count >= u64::from(limit) {
                count + 1
            } else {
                count
            });
            if count >= total {
                let next = (end < until).then(|| Token::Slice {
                    start: end + 1,
                    span: grown(span, total, limit),
                });
                if count == 0
                    && let Some(Token::Slice { start: s, span: n }) = next
                {
                    // An empty slice: go on within this pull rather than answer empty pages.
                    (start, span) = (s, n);
                    continue;
                }
                return self.page_of(got.orders, next).await;
            }
            if span == 1 {
                // One millisecond with more orders than a page: read it by offset.
                let next = Token::Offset {
                    at: start,
                    offset: count,
                    total,
                };
                return self.page_of(got.orders, Some(next)).await;
            }
            let seen: Vec<i64> = got.orders.iter().filter_map(modified_ms).collect();
            span = narrowed(start, span, total, &seen, limit, narrowings);
            narrowings += 1;
        }
        // Still looking: hand back what was learnt, so the next pull starts from it.
        Ok(Page {
            next_page_token: Some(Token::Slice { start, span }.encode()),
            ..Default::default()
        })
    }

    /// One page inside a crowded millisecond.
    async fn offset_page(
        &self,
        at: i64,
        mut offset: u64,
        seen_total: u64,
        until: i64,
    ) -> Result<Page, ConnectorError> {
        let limit = self.cfg.page_size;
        let mut got = self.client.orders_modified(at, at, limit, offset).await?;
        let mut total = got.total.unwrap_or(offset + got.orders.len() as u64);
        if total < seen_total && offset > 0 {
            // Orders left the set since the last page: the rows behind them moved up by as
            // many places. Step back so none of them is skipped.
            offset = offset.saturating_sub(seen_total - total);
            got = self.client.orders_modified(at, at, limit, offset).await?;
            total = got.total.unwrap_or(offset + got.orders.len() as u64);
        }
        let count = got.orders.len() as u64;
        let end_of_ms = count == 0 || offset.saturating_add(count) >= total;
        let next = if !end_of_ms {
            Some(Token::Offset {
                at,
                offset: offset + count,
                total,
            })
        } else if at < until {
            Some(Token::Slice {
                start: at + 1,
                span: 60_000,
            })
        } else {
            None
        };
        self.page_of(got.orders, next).await
    }

    /// Maps one slice's orders (oldest `lastModifiedDate` first), with the cancel state of
    /// those that need it.
    async fn page_of(
        &self,
        mut orders: Vec<Value>,
        next: Option<Token>,
    ) -> Result<Page, ConnectorError> {
        let mut page = Page {
            orders: Vec::with_capacity(orders.len()),
            next_page_token: next.map(|t| t.encode()),
            ..Default::default()
        };
        let checks: Vec<usize> = (0..orders.len())
            .filter(|i| mapping::needs_cancel_check(&orders[*i]))
            .collect();
        for chunk in checks.chunks(CANCEL_CONCURRENCY) {
            let answers =
                futures::future::join_all(chunk.iter().map(|i| self.cancel_status(&orders[*i])))
                    .await;
            for (i, answer) in chunk.iter().zip(answers) {
                if let Some(status) = answer?
                    && let Some(o) = orders[*i].as_object_mut()
                {
                    o.insert("cancelStatus".into(), status);
                }
            }
        }
        for v in &orders {
            match mapping::order_from_json(v) {
                Ok(o) => page.orders.push(o),
                Err(reason) => page.rejected.push(Rejected {
                    external_id: mapping::external_id(v),
                    reason,
                }),
            }
        }
        page.orders
            .sort_by(|a, b| (a.updated_at, &a.external_id).cmp(&(b.updated_at, &b.external_id)));
        Ok(page)
    }

    /// getOrder's `cancelStatus` for getOrders' always-empty one. Only the cancel state is
    /// taken: the rest of the order stays as the window read it, so a later modification is
    /// picked up by the next window, not mixed into this one. `Ok(None)`: nothing to replace
    /// (the order is gone meanwhile). A getOrder answer that cannot be read fails the page
    /// like an unreadable getOrders answer would (the window is read again later): a garbled
    /// body is as often the network's as eBay's, and mapped without its cancel state the order
    /// could be shipped although cancelled.
    async fn cancel_status(&self, v: &Value) -> Result<Option<Value>, ConnectorError> {
        let (Some(id), Some(modified)) = (
            v.get("orderId")
                .and_then(Value::as_str)
                .filter(|s| mapping::is_order_id(s)),
            v.get("lastModifiedDate").and_then(Value::as_str),
        ) else {
            return Ok(None);
        };
        let key = (id.to_string(), modified.to_string());
        if let Some(s) = self.cache().get(&key).cloned() {
            return Ok(Some(s));
        }
        let status = match self.client.order(id).await {
            Err(e) => return Err(e),
            Ok(None) => return Ok(None),
            Ok(Some(full)) => match full.get("cancelStatus") {
                Some(s) if !s.is_null() => s.clone(),
                _ => return Ok(None),
            },
        };
        let mut c = self.cache();
        if c.len() >= CANCEL_CACHE {
            c.clear();
        }
        c.insert(key, status.clone());
        Ok(Some(status))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Value>> {
        self.cancel_cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn modified_ms(v: &Value) -> Option<i64> {
    crate::client::parse_millis(v.get("lastModifiedDate")?.as_str()?)
}

#[async_trait]
impl Source for EbaySource {
    fn kind(&self) -> &'static str {
        crate::KIND
    }

    fn capabilities(&self) -> SourceCaps {
        SourceCaps {
            page_size: self.cfg.page_size,
            webhooks: false,
            // eBay's search index lags behind its orders; sellers' tools re-read an hour.
            overlap: Duration::hours(1),
            settle: Duration::seconds(120),
            pii_window: Some(Duration::days(14)),
        }
    }

    async fn pull(&self, cursor: &PullCursor) -> Result<Page, ConnectorError> {
        let until = millis(cursor.until);
        let floor = until.saturating_sub(TWO_YEARS_MS - 1);
        let since = cursor.since.map_or(floor, millis).max(floor);
        if since > until {
            return Ok(Page::default());
        }
        let token = match cursor.page_token.as_deref() {
            None => Token::Slice {
                start: since,
                span: until - since + 1,
            },
            Some(t) => Token::decode(t)
                .ok_or_else(|| ConnectorError::permanent("unreadable eBay page token"))?,
        };
        match token {
            Token::Slice { start, span } if start <= until => {
                self.slice_page(start.max(since), span, until).await
            }
            Token::Offset { at, offset, total } if at <= until => {
                self.offset_page(at, offset, total, until).await
            }
            // A token past the window's end: nothing is left.
            _ => Ok(Page::default()),
        }
    }

    async fn fetch(&self, external_id: &str) -> Result<Option<Order>, ConnectorError> {
        if !mapping::is_order_id(external_id) {
            return Err(ConnectorError::permanent(
                "eBay order ids are letters, digits and dashes",
            ));
        }
        let Some(v) = self.client.order(external_id).await? else {
            return Ok(None);
        };
        mapping::order_from_json(&v)
            .map(Some)
            .map_err(|r| ConnectorError::permanent(format!("order not mappable: {r}")))
    }

    /// A Marketplace Account Deletion notice (`account_deletion.rs`).
    async fn verify_notification(
        &self,
        headers: &http::HeaderMap,
        raw_body: &[u8],
    ) -> Result<WebhookHint, WebhookError> {
        self.notices.verify(headers, raw_body).await
    }
}
