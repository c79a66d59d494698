//! The V2 [`Sink`]: batch create with conflict recovery (the lost create is updated with the
//! current body), update, withdraw, delivery status and the delivery feed.

use crate::client::Client;
use crate::mapping::{NOTHING_TO_SHIP, delivered, per_shipment_code, shipment_plan};
use crate::wire::{ShipmentBody, ShipmentResult};
use async_trait::async_trait;
use ordersync_sdk::{
    ConnectorError, Delivered, DeliveryOutcome, DeliveryReport, DeliveryRequest, FeedCursor,
    FeedPage, OutcomeKind, Sink, SinkCaps, SinkRole,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Shipments per `POST /v2/shipments`.
pub const BATCH_SIZE: usize = 100;

/// Labels per page of the delivery feed's `GET /v2/labels`.
pub const FEED_PAGE_SIZE: u32 = 100;

pub struct ShipStationSink {
    client: Client,
    warehouse_id: Option<String>,
    /// `SinkCaps::deliveries_per_minute`.
    pace: Option<u32>,
}

impl ShipStationSink {
    pub(crate) fn new(client: Client, warehouse_id: Option<String>, pace: Option<u32>) -> Self {
        Self {
            client,
            warehouse_id,
            pace,
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
            deliveries_per_minute: self.pace,
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

    /// The live labels bought since the oldest shipment still awaiting its delivery time,
    /// newest first, `FEED_PAGE_SIZE` a page; the page token is the next page number. The
    /// label list is ShipStation's only list that carries `tracking_status` (shipments do
    /// not), and it filters by creation only, so a pass reads every label in that window: its
    /// pages, whatever changed (20,000 labels: 200 requests). Newest first because a label
    /// bought during the pass moves to the front: later pages shift towards repeats, never
    /// gaps. Delivered labels are reported again on later passes; the engine records only
    /// those still awaiting a time.
    ///
    /// The list has no delivery date, and one `track` call per parcel is what this feed
    /// avoids, so the time reported is the earliest one the passes allow: the previous pass
    /// (`since`) read this label and did not see it delivered, or the label is newer than
    /// that pass. So `max(label created_at, since)`, at most one tracking interval before the
    /// real delivery and never after it: PII is never kept past its window. A label with
    /// neither bound (no usable `created_at` on the first pass) asks the tracking log.
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
            .labels_since(cursor.oldest_pending, page, FEED_PAGE_SIZE)
            .await?;
        let mut delivered = Vec::new();
        for l in &list.labels {
            let Some(shipment_id) = l.shipment_id.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            if l.status.as_deref() == Some("voided")
                || l.tracking_status.as_deref() != Some("delivered")
            {
                continue;
            }
            let created = l
                .created_at
                .as_deref()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
            let at = match created.max(cursor.since) {
                Some(at) => at,
                None => match self.delivered_of(shipment_id).await? {
                    Some(d) => d.at,
                    None => continue,
                },
            };
            delivered.push(DeliveryReport {
                external_ref: shipment_id.to_string(),
                at,
            });
        }
        // An empty page ends the feed even if `pages` says otherwise.
        let next_page_token = (page < list.pages && !list.labels.is_empty())
            .then(|| page.saturating_add(1).to_string());
        Ok(FeedPage {
            delivered,
            next_page_token,
        })
    }
}
