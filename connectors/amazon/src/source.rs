//! The [`Source`]: windows of `searchOrders` by `lastUpdatedAfter`/`lastUpdatedBefore`
//! (oldest first, both bounds inclusive) and `getOrder` by id. No webhooks: Amazon pushes
//! order changes to SQS or EventBridge, not to an HTTP endpoint.

use crate::client::{Answer, Client, SearchQuery};
use crate::config::AmazonConfig;
use crate::mapping;
use crate::paging::{PageToken, Window, window};
use crate::wire::{GetOrderResponse, SearchOrdersResponse};
use async_trait::async_trait;
use ordersync_sdk::{Clock, ConnectorError, Order, Page, PullCursor, Rejected, Source, SourceCaps};
use std::sync::Arc;
use time::Duration;

/// How far back each window re-reads: Amazon's `lastUpdatedTime` of an order can land a
/// little late (issues #3945, #5048), and a clamped window end is re-read from here.
pub const OVERLAP: Duration = Duration::minutes(10);
/// Amazon refuses `lastUpdatedBefore` later than now − 2 min; a minute more for clock skew
/// and for the time between the engine's window and our request.
pub const SETTLE: Duration = Duration::minutes(3);

pub struct AmazonSource {
    cfg: AmazonConfig,
    client: Client,
    clock: Arc<dyn Clock>,
}

impl AmazonSource {
    pub fn new(cfg: AmazonConfig, client: Client, clock: Arc<dyn Clock>) -> Self {
        Self { cfg, client, clock }
    }

    /// The transport, for tests that look at its token buckets.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn fulfilled_by(&self) -> Option<String> {
        self.cfg
            .fulfilled_by
            .as_ref()
            .map(|f| f.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(","))
    }

    async fn page(
        &self,
        after: &str,
        before: &str,
        next: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let q = SearchQuery {
            after,
            before,
            marketplace_ids: &self.cfg.marketplace_ids,
            fulfilled_by: self.fulfilled_by(),
            page_size: self.cfg.page_size,
            pagination_token: next,
        };
        let restart = || PageToken {
            after: after.to_string(),
            before: before.to_string(),
            next: None,
            at: self.clock.now().unix_timestamp(),
        };
        let r: SearchOrdersResponse = match self.client.search_orders(&q).await? {
            Answer::Body(r) => r,
            // Amazon's token died (24 h): read the window again from its first page.
            Answer::ExpiredPageToken if next.is_some() => {
                tracing::info!("Pagination token expired; restarting the window.");
                return Ok(Page {
                    next_page_token: Some(restart().encode()),
                    ..Page::default()
                });
            }
            Answer::ExpiredPageToken => {
                return Err(ConnectorError::permanent(
                    "http 400 InvalidInput (expired token without one sent)",
                ));
            }
            Answer::NotFound => {
                return Err(ConnectorError::permanent("http 404 from searchOrders"));
            }
        };
        let mut page = Page {
            orders: Vec::with_capacity(r.orders.len()),
            ..Page::default()
        };
        for v in &r.orders {
            match mapping::order_from_value(v) {
                Ok(o) => page.orders.push(o),
                Err(reason) => page.rejected.push(Rejected {
                    external_id: mapping::external_id(v),
                    reason,
                }),
            }
        }
        page.next_page_token = r
            .pagination
            .and_then(|p| p.next_token)
            .filter(|t| !t.is_empty())
            .map(|n| {
                PageToken {
                    next: Some(n),
                    ..restart()
                }
                .encode()
            });
        Ok(page)
    }
}

#[async_trait]
impl Source for AmazonSource {
    fn kind(&self) -> &'static str {
        crate::KIND
    }

    fn capabilities(&self) -> SourceCaps {
        SourceCaps {
            page_size: self.cfg.page_size,
            webhooks: false,
            overlap: OVERLAP,
            settle: SETTLE,
            pii_window: None,
        }
    }

    async fn pull(&self, cursor: &PullCursor) -> Result<Page, ConnectorError> {
        let now = self.clock.now();
        match cursor.page_token.as_deref() {
            None => match window(cursor.since, cursor.until, now, OVERLAP) {
                Window::Ask { after, before } => self.page(&after, &before, None).await,
                Window::TooRecent(wait) => Err(ConnectorError::Retriable {
                    reason: "window ends less than two minutes ago (Amazon refuses it)".into(),
                    retry_after: Some(std::time::Duration::from_secs(
                        u64::try_from(wait.whole_seconds()).unwrap_or(0).max(1),
                    )),
                }),
            },
            Some(t) => {
                let tok = PageToken::decode(t)
                    .ok_or_else(|| ConnectorError::permanent("unreadable amazon page token"))?;
                let next = tok.next.as_deref().filter(|_| !tok.is_stale(now));
                self.page(&tok.after, &tok.before, next).await
            }
        }
    }

    async fn fetch(&self, external_id: &str) -> Result<Option<Order>, ConnectorError> {
        if !mapping::is_order_id(external_id) {
            return Err(ConnectorError::permanent(
                "amazon order ids are letters, digits and dashes",
            ));
        }
        match self
            .client
            .get_order::<GetOrderResponse>(external_id)
            .await?
        {
            Answer::Body(r) => mapping::order_from_value(&r.order)
                .map(Some)
                .map_err(|reason| {
                    ConnectorError::permanent(format!("order not mappable: {reason}"))
                }),
            Answer::NotFound => Ok(None),
            Answer::ExpiredPageToken => Err(ConnectorError::permanent("http 400 InvalidInput")),
        }
    }
}
