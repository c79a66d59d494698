//! The [`Source`] implementation: keyset-paged pull windows (`paging.rs`), refunds fetched
//! for the orders that have some, fetch by id, webhook verification.

use crate::client::Client;
use crate::config::WooConfig;
use crate::mapping;
use crate::paging::{Token, list_query};
use async_trait::async_trait;
use ordersync_sdk::{
    ConnectorError, Order, Page, PullCursor, Rejected, Source, SourceCaps, WebhookError,
    WebhookHint,
};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use time::Duration;

/// Refund pages of one order read before it is refused (100 refunds a page).
const MAX_REFUND_PAGES: u64 = 20;

pub struct WooSource {
    cfg: WooConfig,
    client: Client,
    webhook_secret: Option<SecretString>,
}

impl WooSource {
    pub fn new(cfg: WooConfig, client: Client, webhook_secret: Option<SecretString>) -> Self {
        Self {
            cfg,
            client,
            webhook_secret,
        }
    }

    /// Every refund of an order; `None` when they cannot be read (the order is gone).
    async fn refunds(&self, id: u64) -> Result<Option<Vec<Value>>, ConnectorError> {
        let mut all = Vec::new();
        for page in 1..=MAX_REFUND_PAGES {
            let Some(listed) = self.client.refunds(id, page).await? else {
                return Ok(None);
            };
            let n = listed.items.len();
            all.extend(listed.items);
            if listed.total_pages.is_none_or(|p| page >= p) || n == 0 {
                return Ok(Some(all));
            }
        }
        Ok(None)
    }

    /// Maps one listed or fetched order, reading its refunds first when it has some.
    async fn map(&self, v: &Value) -> Result<Result<Order, String>, ConnectorError> {
        if !mapping::has_refunds(v) {
            return Ok(mapping::order_from_json(v, &[]));
        }
        let Some(id) = mapping::external_id(v).parse::<u64>().ok() else {
            return Ok(Err("order id is not numeric".into()));
        };
        match self.refunds(id).await? {
            // The order lists refunds the refunds endpoint does not have (it was deleted or
            // edited meanwhile): the next window reads it again.
            Some(r) if r.is_empty() => Ok(Err("its refunds could not be read".into())),
            Some(r) => Ok(mapping::order_from_json(v, &r)),
            None => Ok(Err("its refunds could not be read".into())),
        }
    }
}

#[async_trait]
impl Source for WooSource {
    fn kind(&self) -> &'static str {
        crate::KIND
    }

    fn capabilities(&self) -> SourceCaps {
        SourceCaps {
            page_size: self.cfg.page_size,
            webhooks: true,
            // `modified_after` is second-granular and object caches can lag a save.
            overlap: Duration::minutes(2),
            // An order's `date_modified` is set before its save commits.
            settle: Duration::seconds(30),
            pii_window: None,
        }
    }

    async fn pull(&self, cursor: &PullCursor) -> Result<Page, ConnectorError> {
        let token = cursor
            .page_token
            .as_deref()
            .map(Token::decode)
            .transpose()?;
        let query = list_query(&self.cfg, cursor.since, cursor.until, token.as_ref());
        let listed = self.client.list_orders(&query).await?;
        let full = listed.items.len() >= self.cfg.page_size as usize;
        let mut page = Page {
            orders: Vec::with_capacity(listed.items.len()),
            ..Default::default()
        };
        let mut keys: Vec<(i64, u64)> = Vec::with_capacity(listed.items.len());
        for v in &listed.items {
            let id = mapping::external_id(v);
            match (mapping::modified_at(v), id.parse::<u64>()) {
                (Some(t), Ok(n)) => {
                    let k = (t.unix_timestamp(), n);
                    if keys.last().is_some_and(|last| *last > k) {
                        return Err(ConnectorError::permanent(
                            "orders are not sorted by date_modified (orderby=modified ignored?)",
                        ));
                    }
                    keys.push(k);
                }
                _ => {
                    page.rejected.push(Rejected {
                        external_id: id,
                        reason: "order has no numeric id or readable date_modified_gmt".into(),
                    });
                    continue;
                }
            }
            match self.map(v).await? {
                Ok(o) => page.orders.push(o),
                Err(reason) => page.rejected.push(Rejected {
                    external_id: id,
                    reason,
                }),
            }
        }
        let more = match listed.total_pages {
            Some(p) => p > 1,
            None => full,
        };
        if more {
            let next = Token::after_page(token.as_ref(), &keys).ok_or_else(|| {
                ConnectorError::permanent("a full page without a readable order id or date")
            })?;
            page.next_page_token = Some(next.encode());
        }
        Ok(page)
    }

    async fn fetch(&self, external_id: &str) -> Result<Option<Order>, ConnectorError> {
        let id: u64 = external_id
            .parse()
            .map_err(|_| ConnectorError::permanent("woocommerce order ids are numeric"))?;
        let Some(v) = self.client.order(id).await? else {
            return Ok(None);
        };
        self.map(&v)
            .await?
            .map(Some)
            .map_err(|r| ConnectorError::permanent(format!("order not mappable: {r}")))
    }

    fn parse_webhook(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
    ) -> Result<WebhookHint, WebhookError> {
        let secret = self
            .webhook_secret
            .as_ref()
            .ok_or(WebhookError::Unsupported)?;
        crate::webhooks::verify(headers, raw_body, secret.expose_secret().as_bytes())
    }
}
