//! The [`Sink`]: create with 4003 adoption, update (or replace when the parcel changed),
//! withdraw on cancellation, delivery status and the delivery feed.

use crate::client::{Client, Created};
use crate::mapping::{Target, create_body, delivered_at, same_parcel, target, update_body};
use crate::wire::Tracking;
use async_trait::async_trait;
use ordersync_sdk::{
    ConnectorError, Delivered, DeliveryOutcome, DeliveryReport, DeliveryRequest, FeedCursor,
    FeedPage, OrderStatus, OutcomeKind, Sink, SinkCaps, SinkRole,
};
use std::collections::BTreeMap;

/// Deliveries per `deliver_batch` (AfterShip has no bulk create; they go one by one).
pub const BATCH_SIZE: usize = 20;

pub struct AfterShipSink {
    client: Client,
    slugs: BTreeMap<String, String>,
    send_customers: bool,
    /// `SinkCaps::deliveries_per_minute`.
    pace: Option<u32>,
}

fn outcome(external_ref: String, kind: OutcomeKind) -> DeliveryOutcome {
    DeliveryOutcome { external_ref, kind }
}

fn skipped() -> DeliveryOutcome {
    outcome(String::new(), OutcomeKind::Skipped)
}

impl AfterShipSink {
    pub(crate) fn new(
        client: Client,
        slugs: BTreeMap<String, String>,
        send_customers: bool,
        pace: Option<u32>,
    ) -> Self {
        Self {
            client,
            slugs,
            send_customers,
            pace,
        }
    }

    /// Creates the tracking; a 4003 means it exists (an earlier create whose answer was lost,
    /// or the merchant's own): that one is adopted and brought to the current version.
    async fn create_or_adopt(
        &self,
        req: &DeliveryRequest<'_>,
        target: &Target,
    ) -> Result<DeliveryOutcome, ConnectorError> {
        let body = create_body(req.order, target, req.object_key, self.send_customers);
        match self.client.create(&body).await? {
            Created::New(t) => Ok(outcome(t.id, OutcomeKind::Created)),
            Created::Exists => {
                let existing = self.client.find(target).await?.ok_or_else(|| {
                    // Listing can lag a create by a moment: try again later.
                    ConnectorError::retriable("4003 but the tracking is not listed yet")
                })?;
                if existing
                    .ordersync_key()
                    .is_some_and(|k| k != req.object_key)
                {
                    return Err(ConnectorError::permanent(
                        "this tracking number is already followed at AfterShip for another order",
                    ));
                }
                let t = self.put(&existing.id, req).await?;
                Ok(outcome(t.id, OutcomeKind::Updated))
            }
        }
    }

    async fn put(&self, id: &str, req: &DeliveryRequest<'_>) -> Result<Tracking, ConnectorError> {
        let body = update_body(req.order, req.object_key, self.send_customers);
        self.client.update(id, &body).await
    }

    /// A cancelled order has nothing to follow: its tracking goes (also one whose create
    /// answer was lost, found by number when it carries our key).
    async fn withdraw(
        &self,
        req: &DeliveryRequest<'_>,
        target: Option<&Target>,
    ) -> Result<DeliveryOutcome, ConnectorError> {
        if let Some(id) = req.previous_ref {
            self.client.delete(id).await?;
        } else if let Some(t) = target
            && let Some(found) = self.client.find(t).await?
            && found.ordersync_key() == Some(req.object_key)
        {
            self.client.delete(&found.id).await?;
        }
        Ok(skipped())
    }
}

#[async_trait]
impl Sink for AfterShipSink {
    fn kind(&self) -> &'static str {
        crate::KIND
    }

    fn capabilities(&self) -> SinkCaps {
        SinkCaps {
            role: SinkRole::Tracking,
            batch_size: BATCH_SIZE,
            concurrency: 4,
            deliveries_per_minute: self.pace,
            updates: true,
            tracks_delivery: true,
            delivery_feed: true,
        }
    }

    async fn deliver(&self, req: DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError> {
        if req.order.status == OrderStatus::Cancelled {
            // An unknown carrier does not matter for an order that is going away.
            let t = target(req.order, &self.slugs).ok().flatten();
            return self.withdraw(&req, t.as_ref()).await;
        }
        let Some(target) = target(req.order, &self.slugs)? else {
            // Not shipped yet: the engine delivers again when a version has a parcel. A
            // tracking made earlier stays followed (a refetch without fulfillments is not a
            // reason to drop it).
            return Ok(match req.previous_ref {
                Some(id) => outcome(id.to_string(), OutcomeKind::Unchanged),
                None => skipped(),
            });
        };
        if let Some(id) = req.previous_ref {
            match self.put(id, &req).await {
                Ok(t) if same_parcel(&t, &target) => {
                    return Ok(outcome(t.id, OutcomeKind::Updated));
                }
                // The first parcel changed: follow the new number instead of the old one.
                Ok(old) => self.client.delete(&old.id).await?,
                // Deleted at AfterShip (or expired after 120 days): make it again.
                Err(ConnectorError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        self.create_or_adopt(&req, &target).await
    }

    async fn delivery_status(
        &self,
        external_ref: &str,
    ) -> Result<Option<Delivered>, ConnectorError> {
        let t = self.client.get(external_ref).await?;
        Ok(delivered_at(&t)?.map(|d| Delivered { at: d.at }))
    }

    async fn delivery_feed(&self, cursor: &FeedCursor) -> Result<FeedPage, ConnectorError> {
        let page = self
            .client
            .delivered_since(cursor.since, cursor.page_token.as_deref())
            .await?;
        let mut delivered = Vec::with_capacity(page.trackings.len());
        for t in &page.trackings {
            // One unreadable tracking must not hide the others: it is left for
            // `delivery_status` (which reports its error) and the fallback retention.
            if let Ok(Some(d)) = delivered_at(t) {
                delivered.push(DeliveryReport {
                    external_ref: t.id.clone(),
                    at: d.at,
                });
            }
        }
        let next_page_token = page
            .pagination
            .next_cursor
            .filter(|c| page.pagination.has_next_page && !c.is_empty());
        Ok(FeedPage {
            delivered,
            next_page_token,
        })
    }
}
