//! The V2 [`Sink`]: batch create with conflict recovery (the lost create is updated with the
//! current body), update, withdraw, delivery status and the delivery feed.

use crate::client::Client;
use crate::mapping::{NOTHING_TO_SHIP, delivered, per_shipment_code, shipment_plan};
use crate::wire::{ShipmentBody, ShipmentResult};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use ordersync_sdk::{
    ConnectorError, Delivered, DeliveryOutcome, DeliveryReport, DeliveryRequest, FeedCursor,
    FeedPage, OutcomeKind, Sink, SinkCaps, SinkRole,
};

/// Shipments per `POST /v2/shipments`.
pub const BATCH_SIZE: usize = 100;

/// Shipments per page of the delivery feed's `GET /v2/shipments`.
pub const FEED_PAGE_SIZE: u32 = 100;
/// Label and tracking lookups a feed page runs at once.
const FEED_LOOKUPS: usize = 4;

pub struct ShipStationSink {
    client: Client,
    warehouse_id: Option<String>,
}

impl ShipStationSink {
    pub(crate) fn new(client: Client, warehouse_id: Option<String>) -> Self {
        Self {
            client,
            warehouse_id,
        }
    }

    /// A full `PUT` of the current body. ShipStation takes it only while the shipment is
    /// pending (no label, not cancelled); after that the change cannot reach it: Permanent,
    /// with a reason saying what to do.
    async fn update(
        &self,
        shipment_id: &str,
        body: &ShipmentBody,
    ) -> Result<DeliveryOutcome, ConnectorError> {
        match self.client.update_shipment(shipment_id, body).await {
            Ok(s) => Ok(DeliveryOutcome {
                external_ref: s.shipment_id.unwrap_or_else(|| shipment_id.to_string()),
                kind: OutcomeKind::Updated,
            }),
            Err(ConnectorError::Permanent { reason }) if reason.contains("invalid_status") => {
                Err(ConnectorError::permanent(format!(
                    "the order changed, but its shipment already has a label or is cancelled \
                     ({reason}): change it in ShipStation"
                )))
            }
            Err(e) => Err(e),
        }
    }

    /// The shipment an earlier, unanswered create made under `object_key`, if any.
    async fn existing(&self, object_key: &str) -> Result<Option<String>, ConnectorError> {
        match self.client.shipment_by_external_id(object_key).await {
            Ok(s) => s
                .shipment_id
                .filter(|id| !id.is_empty())
                .map(Some)
                .ok_or_else(|| {
                    ConnectorError::permanent("shipment lookup answered without shipment_id")
                }),
            Err(ConnectorError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The delivery time of a shipment's live label, if the parcel has arrived: the label
    /// list (its `tracking_status`), then the tracking log only when the label says delivered
    /// (or does not say).
    async fn delivered_of(&self, shipment_id: &str) -> Result<Option<Delivered>, ConnectorError> {
        let labels = self.client.labels_of(shipment_id).await?;
        // A voided label never travels; the live one is the parcel's.
        let Some(label) = labels
            .labels
            .iter()
            .find(|l| l.status.as_deref() != Some("voided"))
        else {
            return Ok(None);
        };
        if label
            .tracking_status
            .as_deref()
            .is_some_and(|t| t != "delivered")
        {
            return Ok(None);
        }
        let tracking = match self.client.track(&label.label_id).await {
            Ok(t) => t,
            // A label without tracking events yet.
            Err(ConnectorError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        delivered(&tracking)
    }

    /// Cancels the shipment of an order that has nothing left to ship: then there is nothing
    /// for ShipStation to do (skipped, no longer tracked). A shipment with a label cannot be
    /// cancelled: that is Permanent, with a reason saying what to do; outages stay retriable.
    async fn withdraw(&self, shipment_id: &str) -> Result<DeliveryOutcome, ConnectorError> {
        match self.client.cancel_shipment(shipment_id).await {
            Ok(()) | Err(ConnectorError::NotFound) => Ok(skipped()),
            Err(ConnectorError::Permanent { reason }) => Err(ConnectorError::permanent(format!(
                "{NOTHING_TO_SHIP}, but the earlier shipment could not be cancelled ({reason}): \
                 void its label in ShipStation"
            ))),
            Err(e) => Err(e),
        }
    }

    /// One shipment's line of a batch answer.
    async fn settle(
        &self,
        req: &DeliveryRequest<'_>,
        r: ShipmentResult,
    ) -> Result<DeliveryOutcome, ConnectorError> {
        if let Some(code) = r.errors.first().map(|m| per_shipment_code(m)) {
            if r.errors
                .iter()
                .any(|m| per_shipment_code(m) == "identifier_conflict")
            {
                // An earlier attempt created it and we lost the answer. That object may hold
                // an older version of the order (a changed address must still reach the
                // warehouse): it gets the current body.
                let id = self.existing(req.object_key).await?.ok_or_else(|| {
                    ConnectorError::retriable("conflicting shipment not found yet")
                })?;
                let body = shipment_plan(req.order, req.object_key, self.warehouse_id.as_deref())?
                    .ok_or_else(|| ConnectorError::permanent(NOTHING_TO_SHIP))?;
                return self.update(&id, &body).await;
            }
            return Err(ConnectorError::permanent(format!(
                "shipstation rejected the shipment: {code}"
            )));
        }
        let id = r
            .shipment_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ConnectorError::permanent("created shipment has no shipment_id"))?;
        Ok(DeliveryOutcome {
            external_ref: id,
            kind: OutcomeKind::Created,
        })
    }
}

fn skipped() -> DeliveryOutcome {
    DeliveryOutcome {
        external_ref: String::new(),
        kind: OutcomeKind::Skipped,
    }
}

#[async_trait]
impl Sink for ShipStationSink {
    fn kind(&self) -> &'static str {
        crate::KIND
    }

    fn capabilities(&self) -> SinkCaps {
        SinkCaps {
            role: SinkRole::Fulfillment,
            batch_size: BATCH_SIZE,
            concurrency: 4,
            updates: true,
            tracks_delivery: true,
            delivery_feed: true,
        }
    }

    async fn deliver(&self, req: DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError> {
        let mut out = self.deliver_batch(std::slice::from_ref(&req)).await;
        out.pop()
            .unwrap_or_else(|| Err(ConnectorError::permanent("no result for the delivery")))
    }

    async fn deliver_batch(
        &self,
        reqs: &[DeliveryRequest<'_>],
    ) -> Vec<Result<DeliveryOutcome, ConnectorError>> {
        let mut out: Vec<Option<Result<DeliveryOutcome, ConnectorError>>> =
            (0..reqs.len()).map(|_| None).collect();
        let mut creates: Vec<(usize, ShipmentBody)> = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            let body = match shipment_plan(r.order, r.object_key, self.warehouse_id.as_deref()) {
                Ok(Some(b)) => b,
                // Fully refunded, cancelled, or only tips and gift cards: nothing for a
                // warehouse to do. A shipment made earlier must not go out either.
                Ok(None) => {
                    out[i] = Some(match r.previous_ref {
                        Some(id) => self.withdraw(id).await,
                        // A create whose answer was lost may have made one all the same.
                        None => match self.existing(r.object_key).await {
                            Ok(Some(id)) => self.withdraw(&id).await,
                            Ok(None) => Ok(skipped()),
                            Err(e) => Err(e),
                        },
                    });
                    continue;
                }
                Err(e) => {
                    out[i] = Some(Err(e));
                    continue;
                }
            };
            match r.previous_ref {
                Some(id) => out[i] = Some(self.update(id, &body).await),
                None => creates.push((i, body)),
            }
        }
        let mut creates = creates.into_iter().peekable();
        while creates.peek().is_some() {
            // Bodies move into the request: no copy of the batch is kept.
            let (idx, bodies): (Vec<usize>, Vec<ShipmentBody>) =
                creates.by_ref().take(BATCH_SIZE).unzip();
            match self.client.create_shipments(bodies).await {
                Ok(resp) if resp.shipments.len() == idx.len() => {
                    for (i, r) in idx.into_iter().zip(resp.shipments) {
                        out[i] = Some(self.settle(&reqs[i], r).await);
                    }
                }
                Ok(_) => {
                    // Retrying is safe: created ones come back as identifier conflicts.
                    for i in idx {
                        out[i] = Some(Err(ConnectorError::retriable(
                            "batch answer has a different number of shipments",
                        )));
                    }
                }
                Err(e) => {
                    for i in idx {
                        out[i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        out.into_iter()
            .map(|o| o.unwrap_or_else(|| Err(ConnectorError::permanent("delivery not attempted"))))
            .collect()
    }

    async fn delivery_status(
        &self,
        external_ref: &str,
    ) -> Result<Option<Delivered>, ConnectorError> {
        self.delivered_of(external_ref).await
    }

    /// Shipments changed since the cursor, newest change first, `FEED_PAGE_SIZE` a page; the
    /// page token is the next page number. Newest first because a shipment that changes
    /// during the pass moves to the front: later pages shift towards repeats, never gaps (it
    /// is read again by the next pass, its change being after this pass's start).
    async fn delivery_feed(&self, cursor: &FeedCursor) -> Result<FeedPage, ConnectorError> {
        let page =
            match cursor.page_token.as_deref() {
                None => 1,
                Some(t) => t.parse::<u32>().ok().filter(|p| *p >= 1).ok_or_else(|| {
                    ConnectorError::permanent("feed page token is not a page number")
                })?,
            };
        let list = self
            .client
            .changed_shipments(cursor.since, page, FEED_PAGE_SIZE)
            .await?;
        // Only a labelled shipment travels; pending and cancelled ones cost nothing.
        let labelled: Vec<String> = list
            .shipments
            .iter()
            .filter(|s| s.shipment_status.as_deref() == Some("label_purchased"))
            .filter_map(|s| s.shipment_id.clone())
            .filter(|id| !id.is_empty())
            .collect();
        // A few lookups at once (the client's limiter still paces them): one at a time, a
        // page's latency and retry waits add up (85 s a pass under the demo's 20 % faults).
        let looked_up: Vec<(String, Option<Delivered>)> = futures::stream::iter(labelled)
            .map(|id: String| async move { self.delivered_of(&id).await.map(|d| (id, d)) })
            .buffered(FEED_LOOKUPS)
            .try_collect()
            .await?;
        let delivered = looked_up
            .into_iter()
            .filter_map(|(id, d)| {
                d.map(|d| DeliveryReport {
                    external_ref: id,
                    at: d.at,
                })
            })
            .collect();
        // An empty page ends the feed even if `pages` says otherwise.
        let next_page_token = (page < list.pages && !list.shipments.is_empty())
            .then(|| page.saturating_add(1).to_string());
        Ok(FeedPage {
            delivered,
            next_page_token,
        })
    }
}
