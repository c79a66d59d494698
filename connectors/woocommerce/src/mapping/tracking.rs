//! Tracking numbers. WooCommerce core has none; the Shipment Tracking extension keeps them in
//! order meta `_wc_shipment_tracking_items`: a list of `{tracking_provider,
//! custom_tracking_provider, custom_tracking_link, tracking_number, date_shipped, tracking_id}`
//! with `date_shipped` in unix seconds (a string or a number) and `tracking_provider` a slug
//! (`usps`, `royal-mail`, read as `royal mail`), empty when `custom_tracking_provider` names
//! an unlisted carrier.
//! Tracking is optional: a malformed item is skipped, never a reason to reject the order.

use crate::wire::WireMeta;
use ordersync_sdk::Fulfillment;
use serde_json::Value;
use time::OffsetDateTime;

pub const TRACKING_META: &str = "_wc_shipment_tracking_items";

/// Longest tracking number or carrier name kept; real ones are under 40 characters.
const MAX_TEXT: usize = 100;

/// Trimmed, non-empty, printable and short, else `None`.
fn clean(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.trim().to_string(),
        // Numbers-only tracking numbers saved by code that did not quote them.
        Value::Number(n) if n.is_u64() => n.to_string(),
        _ => return None,
    };
    (!s.is_empty() && s.chars().count() <= MAX_TEXT && !s.chars().any(char::is_control))
        .then_some(s)
}

fn shipped(v: Option<&Value>) -> Option<OffsetDateTime> {
    let secs = match v? {
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    // Zero is the plugin's "not set".
    (secs > 0)
        .then(|| OffsetDateTime::from_unix_timestamp(secs).ok())
        .flatten()
}

/// Every tracking item of the order's Shipment Tracking meta, in order, each number once.
pub fn fulfillments(meta: &[WireMeta]) -> Vec<Fulfillment> {
    let mut out: Vec<Fulfillment> = Vec::new();
    for m in meta
        .iter()
        .filter(|m| m.key.as_deref() == Some(TRACKING_META))
    {
        // PHP arrays with gaps in their keys come as objects.
        let items: Vec<&Value> = match &m.value {
            Value::Array(a) => a.iter().collect(),
            Value::Object(o) => o.values().collect(),
            _ => continue,
        };
        for item in items {
            let Some(number) = clean(item.get("tracking_number")) else {
                continue;
            };
            if out.iter().any(|f| f.tracking_number == number) {
                continue;
            }
            out.push(Fulfillment {
                tracking_number: number,
                carrier: clean(item.get("custom_tracking_provider")).or_else(|| {
                    // The slug is the plugin's provider name through `sanitize_title`
                    // (`Royal Mail` → `royal-mail`): given back its spaces, it names the
                    // carrier as the merchant saw it (case aside).
                    clean(item.get("tracking_provider")).map(|s| s.replace('-', " "))
                }),
                shipped_at: shipped(item.get("date_shipped")),
            });
        }
    }
    out
}
