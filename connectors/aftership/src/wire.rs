//! The 2026-07 JSON shapes this connector sends and reads (2024-04+ payloads: unwrapped request
//! body, `data` is the tracking itself). Only the fields we use are typed; unknown response
//! fields are ignored. The simulator reads the request types too, so both sides agree.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `custom_fields` key carrying the delivery's `object_key`: it tells our tracking apart
/// from one the merchant (or another order) made with the same number.
pub const KEY_FIELD: &str = "ordersync_key";

/// One `customers[]` entry (only sent with `send_customers`). Buyer PII: `Debug` is redacted.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl std::fmt::Debug for Customer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Customer([redacted])")
    }
}

/// `POST /trackings` (CreateTrackingRequest) and, without `tracking_number`/`slug`, the body of
/// `PUT /trackings/{id}` (UpdateTrackingByIdRequest).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackingBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customers: Option<Vec<Customer>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_country_region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl std::fmt::Debug for TrackingBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // customers are PII: identifiers only.
        f.debug_struct("TrackingBody")
            .field("tracking_number", &self.tracking_number)
            .field("slug", &self.slug)
            .field("order_id", &self.order_id)
            .finish_non_exhaustive()
    }
}

/// `meta` of every answer: `{code, message, type}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    #[serde(default)]
    pub meta: Meta,
    pub data: T,
}

/// An error answer: `data` may be `{}` or absent.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorEnvelope {
    #[serde(default)]
    pub meta: Meta,
}

/// One `checkpoints[]` entry (the parts the delivery time needs).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Checkpoint {
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub checkpoint_time: Option<String>,
}

/// A tracking as answered (the parts we read).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Tracking {
    pub id: String,
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub shipment_delivery_date: Option<String>,
    #[serde(default)]
    pub checkpoints: Vec<Checkpoint>,
    #[serde(default)]
    pub custom_fields: Option<Map<String, Value>>,
}

impl Tracking {
    /// The `object_key` we stored in `custom_fields`, if this tracking carries one.
    pub fn ordersync_key(&self) -> Option<&str> {
        self.custom_fields.as_ref()?.get(KEY_FIELD)?.as_str()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Pagination {
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub has_next_page: bool,
}

/// `data` of `GET /trackings` (2026-07: cursor pagination).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TrackingList {
    #[serde(default)]
    pub pagination: Pagination,
    #[serde(default)]
    pub trackings: Vec<Tracking>,
}

/// A webhook delivery: `{ts, event, event_id, is_tracking_first_tag, msg: {tracking}}`.
#[derive(Debug, Deserialize)]
pub struct WebhookBody {
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub event_id: Option<String>,
    #[serde(default)]
    pub msg: Option<WebhookTracking>,
}

#[derive(Debug, Deserialize)]
pub struct WebhookTracking {
    #[serde(default)]
    pub id: Option<String>,
}
