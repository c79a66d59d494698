//! `/_sim/` control routes (ARCHITECTURE §10) besides `/_sim/faults` and `/_sim/reject`.

use super::SimState;
use crate::mapping::MARKER;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ordersync_sdk::sim::{ExpiredResponse, Received, ReceivedObject, SimStats};
use rust_decimal::Decimal;
use serde_json::{Map, json};
use std::sync::Arc;

/// `GET /_sim/received`: one object per invoice of every tenant, in creation order. The
/// order's id and our object key come from the invoice's `Reference`
/// (`<external id> os:<object key>`); `credit_notes` is the total credited by the
/// invoice's credit notes (`<number>-R<n>`, not voided).
pub async fn received(State(s): State<Arc<SimState>>) -> Json<Received> {
    let d = s.data();
    let mut objects = Vec::new();
    let mut tenants: Vec<_> = d.tenants.iter().collect();
    tenants.sort_by(|a, b| a.0.cmp(b.0));
    for (_, t) in tenants {
        for e in t.invoices.iter() {
            let inv = &e.body.inv;
            let reference = inv.reference.clone().unwrap_or_default();
            let (order_id, key) = match reference.rsplit_once(MARKER) {
                Some((o, k)) => (o.to_string(), k.to_string()),
                None => (reference.clone(), String::new()),
            };
            let prefix = format!("{}-R", inv.invoice_number.clone().unwrap_or_default());
            let credited: Decimal = t
                .credit_notes
                .iter()
                .filter(|c| !matches!(c.cn.status.as_deref(), Some("VOIDED" | "DELETED")))
                .filter(|c| {
                    c.cn.credit_note_number
                        .as_deref()
                        .is_some_and(|n| n.starts_with(&prefix))
                })
                .map(|c| c.total)
                .sum();
            objects.push(ReceivedObject {
                external_order_id: order_id,
                object_key: key,
                idempotency_key: t.invoice_keys.get(&e.num()).cloned(),
                external_ref: inv.invoice_id.clone().unwrap_or_default(),
                creates: 1,
                updates: e.updates,
                status: inv.status.clone(),
                units: None,
                extra: Map::from_iter([
                    ("invoice_number".to_string(), json!(inv.invoice_number)),
                    (
                        "total".to_string(),
                        json!(e.body.total.normalize().to_string()),
                    ),
                    (
                        "credit_notes".to_string(),
                        json!(credited.normalize().to_string()),
                    ),
                    (
                        "amount_due".to_string(),
                        json!(e.body.due().normalize().to_string()),
                    ),
                    ("currency".to_string(), json!(inv.currency_code)),
                ]),
            });
        }
    }
    Json(Received::new(objects))
}

/// `GET /_sim/stats`: requests (API and token endpoint), 429s, faults, per route, plus
/// documents held and token refreshes.
pub async fn stats(State(s): State<Arc<SimState>>) -> Json<SimStats> {
    let d = s.data();
    let (mut invoices, mut contacts, mut credit_notes) = (0, 0, 0);
    for t in d.tenants.values() {
        invoices += t.invoices.len();
        contacts += t.contacts.len();
        credit_notes += t.credit_notes.len();
    }
    Json(
        s.core
            .stats()
            .with("invoices", invoices)
            .with("contacts", contacts)
            .with("credit_notes", credit_notes)
            .with("token_refreshes", d.refreshes)
            .with("tokens_used", d.used_tokens.len()),
    )
}

/// `POST /_sim/expire_tokens`: every access token expires now (refresh tokens live on).
pub async fn expire_tokens(State(s): State<Arc<SimState>>) -> Json<ExpiredResponse> {
    let now = s.now_secs();
    let n = s.data().tokens.expire_all(now);
    Json(ExpiredResponse { expired: n as u64 })
}

/// `POST /_sim/reset`.
pub async fn reset(State(s): State<Arc<SimState>>) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}
