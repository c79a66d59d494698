//! The [`Source`] implementation: pull windows (paged, or as one bulk export on a large first
//! sync), fetch by id, verify webhooks.
//!
//! Page tokens: a GraphQL `endCursor` as is; `page:` restarts the paged read of the window (a
//! bulk export that cannot be used); `bulk:{offset}:{gid}` is a bulk export being polled
//! (`offset` 0) or read.

use crate::bulk::{self, BulkReader, ReadError};
use crate::client::Client;
use crate::config::ShopifyConfig;
use crate::errors::Answer;
use crate::mapping;
use crate::paging::Sizer;
use crate::queries::{
    BULK_POLL_QUERY, BULK_RUN_GROUPED, BULK_RUN_LEGACY, CONNECTION_BASE, EXTRAS_BASE, EXTRAS_FIRST,
    EXTRAS_PER_ITEM, FETCH_LINE_PAGE, LINE_FOLLOW_UP, LINE_NODE_COST, LINE_PAGE, ORDER_BODY_COST,
    ORDER_EXTRAS_QUERY, ORDER_LINES_QUERY, ORDER_NODE_COST, ORDER_QUERY, ORDERS_COUNT_QUERY,
    ORDERS_QUERY, bulk_orders_query,
};
use crate::wire::{
    BulkNodeData, BulkRunData, OrderData, OrderExtrasData, OrderLinesData, OrdersCountData,
    OrdersData,
};
use async_trait::async_trait;
use ordersync_sdk::{
    ConnectorError, ErrorClass, Order, Page, PullCursor, Rejected, Source, SourceCaps,
    WebhookError, WebhookHint,
};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// How long one `pull` waits for a running bulk operation before handing back a poll token
/// (the engine calls again at once): bounded pacing instead of a busy loop, well inside the
/// engine's lease.
const BULK_POLL_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);
/// Polls start quick (a small export is done in well under a second) and back off.
const BULK_POLL_FIRST_DELAY: std::time::Duration = std::time::Duration::from_millis(50);
const BULK_POLL_MAX_DELAY: std::time::Duration = std::time::Duration::from_secs(2);
/// Follow-up pages of one order's line items before it is rejected (100 lines each).
const MAX_LINE_PAGES: usize = 1000;
/// Fixed cost of `order(id:) { lineItems(...) }`: the order object and the connection.
const ORDER_LINES_BASE: f64 = 1.0 + CONNECTION_BASE;
/// Fixed cost of `order(id:) { ...OrderFields }` besides its lines (see `queries.rs`).
const ORDER_FETCH_BASE: f64 = ORDER_BODY_COST + CONNECTION_BASE;

pub struct ShopifySource {
    cfg: ShopifyConfig,
    client: Client,
    webhook_secret: Option<SecretString>,
    orders: Mutex<Sizer>,
    lines: Mutex<Sizer>,
    fetch_lines: Mutex<Sizer>,
    extras: Mutex<Sizer>,
    /// The bulk result being read, kept open between pulls of the same window.
    bulk: tokio::sync::Mutex<Option<BulkReader>>,
}

impl ShopifySource {
    pub fn new(cfg: ShopifyConfig, client: Client, webhook_secret: Option<SecretString>) -> Self {
        let orders = Sizer::new(cfg.page_size, CONNECTION_BASE, ORDER_NODE_COST);
        Self {
            orders: Mutex::new(orders),
            lines: Mutex::new(Sizer::new(LINE_FOLLOW_UP, ORDER_LINES_BASE, LINE_NODE_COST)),
            fetch_lines: Mutex::new(Sizer::new(
                FETCH_LINE_PAGE,
                ORDER_FETCH_BASE,
                LINE_NODE_COST,
            )),
            extras: Mutex::new(Sizer::new(EXTRAS_FIRST, EXTRAS_BASE, EXTRAS_PER_ITEM)),
            bulk: tokio::sync::Mutex::new(None),
            cfg,
            client,
            webhook_secret,
        }
    }

    /// Runs a query whose size is `sizer`'s to choose: asks for `first`, learns from the cost
    /// reported, and shrinks and retries when Shopify says the query is too costly.
    async fn sized<T: DeserializeOwned>(
        &self,
        sizer: &Mutex<Sizer>,
        document: &str,
        vars: impl Fn(u32) -> Value,
    ) -> Result<T, ConnectorError> {
        let mut first = lock(sizer).first();
        loop {
            match self.client.query::<T>(document, vars(first)).await? {
                Answer::Data { data, cost } => {
                    if let Some(c) = cost {
                        lock(sizer).learn(first, &c);
                    }
                    return Ok(data);
                }
                Answer::TooCostly { requested, limit } => {
                    tracing::debug!(first, requested, limit, "Query too costly; shrinking.");
                    match lock(sizer).shrink(first, requested, limit) {
                        Some(n) => first = n,
                        None => {
                            return Err(ConnectorError::permanent(
                                "graphql MAX_COST_EXCEEDED even for one item",
                            ));
                        }
                    }
                }
            }
        }
    }

    /// One page of the paged read of a window.
    async fn orders_page(
        &self,
        cursor: &PullCursor,
        after: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let search = window_query(cursor.since, cursor.until);
        let data: OrdersData = self
            .sized(&self.orders, ORDERS_QUERY, |first| {
                json!({ "first": first, "after": after, "query": search, "lineFirst": LINE_PAGE })
            })
            .await?;
        let mut page = Page {
            orders: Vec::with_capacity(data.orders.edges.len()),
            ..Default::default()
        };
        for e in data.orders.edges {
            let mut node = e.node;
            match self.complete(&mut node).await? {
                Ok(()) => push_node(&mut page, &node),
                Err(reason) => page.rejected.push(Rejected {
                    external_id: mapping::gql_external_id(&node),
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

    /// Completes a node with what its page could not hold: the rest of its line items, and
    /// its refunds, shipping lines and discount applications when it has more than the page's.
    async fn complete(&self, node: &mut Value) -> Result<Result<(), String>, ConnectorError> {
        if let Err(r) = self.complete_lines(node).await? {
            return Ok(Err(r));
        }
        self.complete_extras(node).await
    }

    /// One [`ORDER_EXTRAS_QUERY`] for an order that needs it; its answer replaces the node's
    /// shipping lines, discount applications and refunds.
    async fn complete_extras(
        &self,
        node: &mut Value,
    ) -> Result<Result<(), String>, ConnectorError> {
        if !mapping::needs_extras(node) {
            return Ok(Ok(()));
        }
        let Some(id) = node.get("id").and_then(Value::as_str).map(str::to_string) else {
            return Ok(Err("missing id".into()));
        };
        let data: OrderExtrasData = self
            .sized(
                &self.extras,
                ORDER_EXTRAS_QUERY,
                |first| json!({ "id": id, "first": first }),
            )
            .await?;
        let Some(Value::Object(mut extras)) = data.order else {
            return Ok(Err("order disappeared while reading its refunds".into()));
        };
        for field in ["shippingLines", "discountApplications", "refunds"] {
            let v = extras.remove(field).unwrap_or(Value::Null);
            let more = v
                .pointer("/pageInfo/hasNextPage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if more {
                return Ok(Err(format!("more {field} than one follow-up page")));
            }
            if let Some(o) = node.as_object_mut() {
                o.insert(field.into(), v);
            }
        }
        Ok(Ok(()))
    }

    /// Reads the rest of an order's line items when its nested page says there are more, and
    /// appends them to the node. `Ok(Err(reason))`: the order cannot be completed.
    async fn complete_lines(&self, node: &mut Value) -> Result<Result<(), String>, ConnectorError> {
        let info = node.pointer("/lineItems/pageInfo");
        if !info
            .and_then(|i| i.get("hasNextPage"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            return Ok(Ok(()));
        }
        let mut after = match info
            .and_then(|i| i.get("endCursor"))
            .and_then(Value::as_str)
        {
            Some(c) => c.to_string(),
            None => return Ok(Err("line items: hasNextPage without endCursor".into())),
        };
        let Some(id) = node.get("id").and_then(Value::as_str).map(str::to_string) else {
            return Ok(Err("missing id".into()));
        };
        let mut more = Vec::new();
        for _ in 0..MAX_LINE_PAGES {
            let data: OrderLinesData = self
                .sized(
                    &self.lines,
                    ORDER_LINES_QUERY,
                    |first| json!({ "id": id, "first": first, "after": after }),
                )
                .await?;
            let Some(o) = data.order else {
                return Ok(Err("order disappeared while reading its line items".into()));
            };
            more.extend(o.line_items.nodes);
            if !o.line_items.page_info.has_next_page {
                if let Some(Value::Array(nodes)) = node.pointer_mut("/lineItems/nodes") {
                    nodes.append(&mut more);
                    if let Some(p) = node.pointer_mut("/lineItems/pageInfo/hasNextPage") {
                        *p = Value::Bool(false);
                    }
                    return Ok(Ok(()));
                }
                return Ok(Err("unexpected line items shape".into()));
            }
            match o.line_items.page_info.end_cursor {
                Some(c) => after = c,
                None => return Ok(Err("line items: hasNextPage without endCursor".into())),
            }
        }
        Ok(Err("too many line items".into()))
    }

    /// Whether the window holds more than `threshold` orders (Shopify counts up to a limit).
    async fn is_large(
        &self,
        threshold: u64,
        until: OffsetDateTime,
    ) -> Result<bool, ConnectorError> {
        let vars =
            json!({ "query": window_query(None, until), "limit": threshold.saturating_add(1) });
        match self
            .client
            .graphql::<OrdersCountData>(ORDERS_COUNT_QUERY, vars)
            .await
        {
            Ok(d) => Ok(d.orders_count.is_some_and(|c| c.count > threshold)),
            // An API version without `ordersCount`: read page by page.
            Err(e) if e.class() == ErrorClass::Permanent => {
                tracing::warn!(error = %e, "Cannot count orders; reading page by page.");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Starts a bulk export of the window; `None` when Shopify refuses (another operation
    /// running, an old API version): the caller reads page by page instead.
    async fn start_bulk(&self, until: OffsetDateTime) -> Result<Option<String>, ConnectorError> {
        let document = if self.cfg.api_version.as_str() >= "2024-10" {
            BULK_RUN_GROUPED
        } else {
            BULK_RUN_LEGACY
        };
        let vars = json!({ "query": bulk_orders_query(&window_query(None, until)) });
        match self.client.graphql::<BulkRunData>(document, vars).await {
            Ok(d) => {
                let p = d.bulk_operation_run_query;
                if let Some(e) = p.user_errors.first() {
                    let code = safe_code(e.code.as_deref());
                    tracing::warn!(code, "Bulk operation refused; reading page by page.");
                    return Ok(None);
                }
                Ok(p.bulk_operation.map(|o| o.id))
            }
            Err(e) if e.class() == ErrorClass::Permanent => {
                tracing::warn!(error = %e, "Bulk operation not available; reading page by page.");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// One page of a bulk export: polls until it completes (within [`BULK_POLL_BUDGET`]),
    /// then streams its result.
    async fn bulk_page(&self, id: &str, offset: u64) -> Result<Page, ConnectorError> {
        let mut slot = self.bulk.lock().await;
        if !slot
            .as_ref()
            .is_some_and(|r| r.id == id && r.offset == offset)
        {
            *slot = None;
            let url = match self.poll_bulk(id).await? {
                Polled::Running => return Ok(token_page(bulk::token(offset, id))),
                Polled::Unusable => return Ok(token_page(RESTART.into())),
                // Nothing matched the query: the window is empty.
                Polled::Done(None) => return Ok(Page::default()),
                Polled::Done(Some(url)) => url,
            };
            let mut r = BulkReader::new(id.to_string(), self.client.download(&url).await?);
            while r.offset < offset {
                match r.next_order().await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => return read_failure(e),
                }
            }
            *slot = Some(r);
        }
        let Some(r) = slot.as_mut() else {
            return Err(ConnectorError::retriable("bulk reader missing"));
        };
        let mut page = Page::default();
        let size = self.cfg.page_size as usize;
        while page.orders.len() + page.rejected.len() < size {
            match r.next_order().await {
                Ok(Some(mut node)) => match self.complete_extras(&mut node).await? {
                    Ok(()) => push_node(&mut page, &node),
                    Err(reason) => page.rejected.push(Rejected {
                        external_id: mapping::gql_external_id(&node),
                        reason,
                    }),
                },
                Ok(None) => break,
                Err(e) => {
                    *slot = None;
                    return read_failure(e);
                }
            }
        }
        // Within the page, oldest first (the export is sorted by UPDATED_AT as asked, but
        // Shopify does not promise the order of JSONL lines).
        page.orders
            .sort_by(|a, b| (a.updated_at, &a.external_id).cmp(&(b.updated_at, &b.external_id)));
        if r.finished() {
            *slot = None;
        } else {
            page.next_page_token = Some(bulk::token(r.offset, id));
        }
        Ok(page)
    }

    async fn poll_bulk(&self, id: &str) -> Result<Polled, ConnectorError> {
        let deadline = Instant::now() + BULK_POLL_BUDGET;
        let mut delay = BULK_POLL_FIRST_DELAY;
        loop {
            let data: BulkNodeData = self
                .client
                .graphql(BULK_POLL_QUERY, json!({ "id": id }))
                .await?;
            let Some(op) = data.node else {
                tracing::warn!("Bulk operation not found; reading page by page.");
                return Ok(Polled::Unusable);
            };
            match op.status.as_str() {
                "COMPLETED" => return Ok(Polled::Done(op.url)),
                "CREATED" | "RUNNING" => {}
                other => {
                    let status = safe_code(Some(other));
                    let code = safe_code(op.error_code.as_deref());
                    tracing::warn!(
                        status,
                        code,
                        "Bulk operation ended without a result; reading page by page."
                    );
                    return Ok(Polled::Unusable);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Polled::Running);
            }
            tokio::time::sleep(delay.min(deadline - now)).await;
            delay = (delay * 2).min(BULK_POLL_MAX_DELAY);
        }
    }
}

enum Polled {
    Running,
    Done(Option<String>),
    Unusable,
}

/// Restarts the paged read of the window.
const RESTART: &str = "page:";

fn token_page(token: String) -> Page {
    Page {
        next_page_token: Some(token),
        ..Default::default()
    }
}

fn read_failure(e: ReadError) -> Result<Page, ConnectorError> {
    match e {
        ReadError::Transport(e) => Err(e),
        ReadError::Unusable(why) => {
            tracing::warn!(why, "Bulk result unusable; reading page by page.");
            Ok(token_page(RESTART.into()))
        }
    }
}

fn push_node(page: &mut Page, node: &Value) {
    match mapping::order_from_graphql(node) {
        Ok(o) => page.orders.push(o),
        Err(reason) => page.rejected.push(Rejected {
            external_id: mapping::gql_external_id(node),
            reason,
        }),
    }
}

fn lock(m: &Mutex<Sizer>) -> std::sync::MutexGuard<'_, Sizer> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An enum-like code from the platform, reduced to safe characters.
fn safe_code(c: Option<&str>) -> String {
    c.unwrap_or("none")
        .chars()
        .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
        .take(64)
        .collect()
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
        match cursor.page_token.as_deref() {
            None => {
                // A first sync of a large store: one bulk export instead of thousands of pages.
                if cursor.since.is_none()
                    && let Some(t) = self.cfg.bulk_threshold
                    && self.is_large(t, cursor.until).await?
                    && let Some(id) = self.start_bulk(cursor.until).await?
                {
                    return self.bulk_page(&id, 0).await;
                }
                self.orders_page(cursor, None).await
            }
            Some(RESTART) => self.orders_page(cursor, None).await,
            Some(t) => match bulk::parse_token(t) {
                Some((offset, id)) => self.bulk_page(id, offset).await,
                None => self.orders_page(cursor, Some(t)).await,
            },
        }
    }

    async fn fetch(&self, external_id: &str) -> Result<Option<Order>, ConnectorError> {
        if external_id.is_empty() || !external_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnectorError::permanent("shopify order ids are numeric"));
        }
        let id = format!("gid://shopify/Order/{external_id}");
        let data: OrderData = self
            .sized(
                &self.fetch_lines,
                ORDER_QUERY,
                |first| json!({ "id": id, "lineFirst": first }),
            )
            .await?;
        let Some(mut node) = data.order.filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        self.complete(&mut node)
            .await?
            .map_err(|r| ConnectorError::permanent(format!("order not mappable: {r}")))?;
        mapping::order_from_graphql(&node)
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
