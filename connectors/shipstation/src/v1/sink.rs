//! The V1 [`Sink`]: `createorder` / `createorders` upserts keyed by `orderKey`, and
//! withdrawal of an order with nothing left to ship (set to `cancelled` the same way).

use super::client::Client;
use super::errors::{LOCKED, bulk_row_error};
use super::mapping::{CANCELLED, cancel_body, order_plan};
use super::wire::{OrderAnswer, OrderBody};
use crate::mapping::NOTHING_TO_SHIP;
use async_trait::async_trait;
use ordersync_sdk::{
    ConnectorError, DeliveryOutcome, DeliveryRequest, OutcomeKind, Sink, SinkCaps, SinkRole,
};

/// Orders per `POST /orders/createorders` (V1's maximum).
pub const BATCH_SIZE: usize = 100;

/// Pages of `GET /orders?orderNumber=` read to find a lost create (a number is rarely reused).
const LOOKUP_PAGES: u32 = 3;

pub struct ShipStationV1Sink {
    client: Client,
    warehouse_id: Option<u64>,
    /// `SinkCaps::deliveries_per_minute`.
    pace: Option<u32>,
}

impl ShipStationV1Sink {
    pub(crate) fn new(client: Client, warehouse_id: Option<u64>, pace: Option<u32>) -> Self {
        Self {
            client,
            warehouse_id,
            pace,
        }
    }

    fn outcome(a: &OrderAnswer, previous_ref: Option<&str>) -> DeliveryOutcome {
        let id = a.order_id.to_string();
        // The upsert does not say which it did: an earlier ref, or a modifyDate after the
        // createDate, means the order already existed.
        let existed = previous_ref == Some(id.as_str())
            || matches!((&a.create_date, &a.modify_date), (Some(c), Some(m)) if c != m);
        DeliveryOutcome {
            external_ref: id,
            kind: if existed {
                OutcomeKind::Updated
            } else {
                OutcomeKind::Created
            },
        }
    }

    async fn upsert(
        &self,
        body: &OrderBody,
        previous_ref: Option<&str>,
    ) -> Result<DeliveryOutcome, ConnectorError> {
        let a = self.client.create_order(body).await?;
        Ok(Self::outcome(&a, previous_ref))
    }

    /// The order an earlier delivery (maybe one whose answer was lost) made under this key.
    async fn existing(&self, req: &DeliveryRequest<'_>) -> Result<Option<u64>, ConnectorError> {
        if let Some(r) = req.previous_ref {
            return r
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ConnectorError::permanent("previous ref is not a V1 orderId"));
        }
        let number =
            crate::mapping::truncate(&req.order.order_number, super::mapping::MAX_NUMBER_LEN);
        for page in 1..=LOOKUP_PAGES {
            let list = self.client.orders_numbered(&number, page).await?;
            if let Some(o) = list
                .orders
                .iter()
                .find(|o| o.order_key.as_deref() == Some(req.object_key))
            {
                return Ok(Some(o.order_id));
            }
            if page >= list.pages {
                break;
            }
        }
        Ok(None)
    }

    /// Nothing left to ship: an order ShipStation holds is set to `cancelled` (so the
    /// warehouse does not ship refunded goods); without one there is nothing to do.
    async fn withdraw(&self, req: &DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError> {
        let Some(id) = self.existing(req).await? else {
            return Ok(skipped());
        };
        let body = cancel_body(req.order, req.object_key)?;
        match self.client.create_order(&body).await {
            Ok(_) => Ok(skipped()),
            Err(ConnectorError::Permanent { reason }) if reason == LOCKED => {
                // Already cancelled is done; shipped is too late to stop.
                match self.client.order(id).await {
                    Ok(o) if o.order_status.as_deref() == Some(CANCELLED) => Ok(skipped()),
                    Ok(_) => Err(ConnectorError::permanent(format!(
                        "{NOTHING_TO_SHIP}, but the ShipStation V1 order has shipped already"
                    ))),
                    Err(ConnectorError::NotFound) => Ok(skipped()),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

fn skipped() -> DeliveryOutcome {
    DeliveryOutcome {
        external_ref: String::new(),
        kind: OutcomeKind::Skipped,
    }
}

#[async_trait]
impl Sink for ShipStationV1Sink {
    fn kind(&self) -> &'static str {
        crate::KIND
    }

    fn capabilities(&self) -> SinkCaps {
        SinkCaps {
            role: SinkRole::Fulfillment,
            batch_size: BATCH_SIZE,
            // 40 requests a minute: bulk batches, two at a time, are plenty.
            concurrency: 2,
            deliveries_per_minute: self.pace,
            updates: true,
            // V1 has no delivery date at all.
            tracks_delivery: false,
            delivery_feed: false,
        }
    }

    async fn deliver(&self, req: DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError> {
        match order_plan(req.order, req.object_key, self.warehouse_id)? {
            Some(body) => self.upsert(&body, req.previous_ref).await,
            None => self.withdraw(&req).await,
        }
    }

    async fn deliver_batch(
        &self,
        reqs: &[DeliveryRequest<'_>],
    ) -> Vec<Result<DeliveryOutcome, ConnectorError>> {
        let mut out: Vec<Option<Result<DeliveryOutcome, ConnectorError>>> =
            (0..reqs.len()).map(|_| None).collect();
        let mut upserts: Vec<(usize, OrderBody)> = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            match order_plan(r.order, r.object_key, self.warehouse_id) {
                Ok(Some(b)) => upserts.push((i, b)),
                Ok(None) => out[i] = Some(self.withdraw(r).await),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        for chunk in upserts.chunks(BATCH_SIZE) {
            if let [(i, body)] = chunk {
                // One order: `createorder` answers the order itself (created or updated).
                out[*i] = Some(self.upsert(body, reqs[*i].previous_ref).await);
                continue;
            }
            let bodies: Vec<OrderBody> = chunk.iter().map(|(_, b)| b.clone()).collect();
            match self.client.create_orders(&bodies).await {
                Ok(resp) if resp.results.len() == chunk.len() => {
                    for ((i, _), row) in chunk.iter().zip(resp.results) {
                        out[*i] = Some(match (row.success, row.order_id) {
                            (true, Some(id)) => {
                                let prev = reqs[*i].previous_ref;
                                let id = id.to_string();
                                Ok(DeliveryOutcome {
                                    kind: if prev == Some(id.as_str()) {
                                        OutcomeKind::Updated
                                    } else {
                                        OutcomeKind::Created
                                    },
                                    external_ref: id,
                                })
                            }
                            (true, None) => Err(ConnectorError::retriable(
                                "createorders row succeeded without an orderId",
                            )),
                            (false, _) => Err(bulk_row_error(row.error_message.as_deref())),
                        });
                    }
                }
                Ok(_) => {
                    // Retrying is safe: the orderKey upsert never makes a second order.
                    for (i, _) in chunk {
                        out[*i] = Some(Err(ConnectorError::retriable(
                            "createorders answer has a different number of results",
                        )));
                    }
                }
                Err(e) => {
                    for (i, _) in chunk {
                        out[*i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        out.into_iter()
            .map(|o| o.unwrap_or_else(|| Err(ConnectorError::permanent("delivery not attempted"))))
            .collect()
    }
}
