//! The [`Source`] implementation: pull windows, fetch by id, verify webhooks.

use crate::client::{Client, ORDER_QUERY, ORDERS_QUERY, OrderData, OrdersData};
use crate::config::ShopifyConfig;
use crate::mapping;
use async_trait::async_trait;
use ordersync_sdk::{
    ConnectorError, Order, Page, PullCursor, Rejected, Source, SourceCaps, WebhookError,
    WebhookHint,
};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

pub struct ShopifySource {
    cfg: ShopifyConfig,
    client: Client,
    webhook_secret: Option<SecretString>,
}

impl ShopifySource {
    pub fn new(cfg: ShopifyConfig, client: Client, webhook_secret: Option<SecretString>) -> Self {
        Self {
            cfg,
            client,
            webhook_secret,
        }
    }
}

/// Second precision, UTC (`2026-11-20T00:00:00Z`): Shopify's `updated_at` has no fractions.
fn search_time(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The search `query` of a pull window (both bounds inclusive).
pub fn window_query(since: Option<OffsetDateTime>, until: OffsetDateTime) -> String {
    let upper = format!("updated_at:<='{}'", search_time(until));
    match since {
        Some(s) => format!("updated_at:>='{}' AND {upper}", search_time(s)),
        None => upper,
    }
}

#[async_trait]
impl Source for ShopifySource {
    fn kind(&self) -> &'static str {
        crate::KIND
    }

    fn capabilities(&self) -> SourceCaps {
        SourceCaps {
            page_size: self.cfg.page_size,
            webhooks: true,
            overlap: Duration::minutes(5),
            // Results can land out of order; never read the last minute.
            settle: Duration::seconds(60),
            pii_window: None,
        }
    }

    async fn pull(&self, cursor: &PullCursor) -> Result<Page, ConnectorError> {
        let vars = serde_json::json!({
            "first": self.cfg.page_size,
            "after": cursor.page_token,
            "query": window_query(cursor.since, cursor.until),
        });
        let data: OrdersData = self.client.graphql(ORDERS_QUERY, vars).await?;
        let mut page = Page {
            orders: Vec::with_capacity(data.orders.edges.len()),
            ..Default::default()
        };
        for e in &data.orders.edges {
            match mapping::order_from_graphql(&e.node) {
                Ok(o) => page.orders.push(o),
                Err(reason) => page.rejected.push(Rejected {
                    external_id: mapping::gql_external_id(&e.node),
                    reason,
                }),
            }
        }
        let info = data.orders.page_info;
        page.next_page_token = if info.has_next_page {
            Some(
                info.end_cursor
                    .ok_or_else(|| ConnectorError::permanent("hasNextPage without endCursor"))?,
            )
        } else {
            None
        };
        Ok(page)
    }

    async fn fetch(&self, external_id: &str) -> Result<Option<Order>, ConnectorError> {
        if external_id.is_empty() || !external_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnectorError::permanent("shopify order ids are numeric"));
        }
        let vars = serde_json::json!({ "id": format!("gid://shopify/Order/{external_id}") });
        let data: OrderData = self.client.graphql(ORDER_QUERY, vars).await?;
        match data.order.filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(node) => mapping::order_from_graphql(&node)
                .map(Some)
                .map_err(|r| ConnectorError::permanent(format!("order not mappable: {r}"))),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_query_shape() {
        let until = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
            + Duration::milliseconds(700);
        assert_eq!(
            window_query(None, until),
            "updated_at:<='2026-11-18T11:06:40Z'"
        );
        assert_eq!(
            window_query(Some(until - Duration::hours(1)), until),
            "updated_at:>='2026-11-18T10:06:40Z' AND updated_at:<='2026-11-18T11:06:40Z'"
        );
    }
}
