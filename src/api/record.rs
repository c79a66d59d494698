//! `GET /api/v1/processing-record`: what the merchant (the controller) needs for its record of
//! processing activities (GDPR Art. 30; our own record as processor is Art. 30(2)): the
//! categories of data and of data subjects, the purposes, where the data comes from and whom
//! it goes to (per connection), how long it is kept (per marketplace), and the security
//! measures. Generated from the merchant's connections and policies, never from order data.

use super::admin::Merchant;
use super::{ApiError, ApiState};
use crate::registry;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(processing_record))
}

/// The PII fields ordersync holds (the SDK's `Pii`); everything else about an order is not
/// personal data (ids, amounts, SKUs, country).
const CATEGORIES: [&str; 6] = [
    "buyer name",
    "email address",
    "phone number",
    "shipping address",
    "billing address",
    "order notes",
];

const MEASURES: [&str; 6] = [
    "PII encrypted at rest field by field (AES-256-GCM, a key per order under per-purge-week and per-merchant keys under a master key kept outside the database)",
    "buyer lookup by a keyed blind index (HMAC-SHA256), never by plaintext",
    "TLS (rustls) for every call to a marketplace or target; no redirects; resolved-address checks on merchant-supplied URLs",
    "no PII in logs, metrics, error messages or non-PII API answers (redacting types)",
    "PII purged after the retention window below, audited; a legal hold must name its basis and ends by itself",
    "marketplace privacy requests (a customer's or a whole account's redaction) erase at once, audited",
];

#[utoipa::path(get, path = "/processing-record", tag = "privacy", responses((status = 200, description = "{controller, processor, data_subjects, categories_of_data, purposes, sources, recipients, retention, security_measures}: no personal data")), security(("bearer" = [])))]
async fn processing_record(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
) -> Result<Json<Value>, ApiError> {
    let conns = s.store.list_connections(&m).await?;
    let policies = s.store.retention_policies(&m).await?;
    let mut sources = Vec::new();
    let mut recipients = Vec::new();
    let mut marketplaces = BTreeSet::new();
    for c in conns.iter().filter(|c| c.state != "deleted") {
        let d = registry::lookup(&c.kind);
        let entry = json!({
            "connection_id": c.id,
            "name": c.name,
            "kind": c.kind,
            "state": c.state,
            "what": d.map(|d| d.summary),
        });
        if c.role == "source" {
            if let Some(mp) = d.and_then(|d| d.marketplace) {
                marketplaces.insert(mp);
            }
            sources.push(entry);
        } else {
            recipients.push(entry);
        }
    }
    let retention: Vec<Value> = marketplaces
        .into_iter()
        .map(|mp| {
            let p = policies.iter().find(|p| p.marketplace == mp);
            let cap = registry::marketplace(mp).and_then(|d| d.retention_cap_days);
            json!({
                "marketplace": mp,
                "days_after_delivery": p.map_or(s.retention.days_after_delivery, |p| p.days_after_delivery),
                "days_after_order": p.map_or(s.retention.days_after_order, |p| p.days_after_order),
                "set_by": if p.is_some() { "merchant policy" } else { "service default" },
                "marketplace_cap_days": cap,
            })
        })
        .collect();
    Ok(Json(json!({
        "controller": { "merchant_id": m },
        "processor": "ordersync",
        "data_subjects": ["buyers of the merchant's marketplace orders"],
        "categories_of_data": CATEGORIES,
        "purposes": [
            "forwarding orders to the merchant's fulfillment targets (shipping)",
            "following parcels to learn when they were delivered (which starts the retention clock)",
            "invoicing and crediting orders in the merchant's accounting targets",
        ],
        "sources": sources,
        "recipients": recipients,
        "retention": retention,
        "security_measures": MEASURES,
    })))
}
