//! `/_sim/` control routes (ARCHITECTURE §10) besides faults and rejects.

use super::SimState;
use super::state::{object_id, parse_object_id};
use crate::mapping::Marker;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ordersync_sdk::Decimal;
use ordersync_sdk::sim::{ExpiredResponse, Received, ReceivedObject, SimStats};
use serde::Deserialize;
use serde_json::{Map, json};
use std::sync::Arc;

/// `GET /_sim/received`: one object per sales invoice (every business), with the order it
/// is for (from the sink's marker in `notes`), its status, total and the credit notes that
/// carry the same object key.
pub async fn received(State(s): State<Arc<SimState>>) -> Json<Received> {
    let all = s.all_books();
    let mut businesses: Vec<_> = all.keys().cloned().collect();
    businesses.sort();
    let mut objects = Vec::new();
    for biz in businesses {
        let Some(b) = all.get(&biz) else { continue };
        for e in b.invoices.iter() {
            let r = &e.body;
            let marker = r.notes.as_deref().and_then(Marker::parse);
            let key = marker
                .as_ref()
                .map(|m| m.object_key.clone())
                .unwrap_or_default();
            let credits: Vec<_> = b
                .credit_notes
                .iter()
                .filter(|c| {
                    c.body
                        .notes
                        .as_deref()
                        .and_then(Marker::parse)
                        .is_some_and(|m| !key.is_empty() && m.object_key == key)
                })
                .collect();
            let credited: Decimal = credits.iter().map(|c| c.body.total).sum();
            objects.push(ReceivedObject {
                external_order_id: marker
                    .as_ref()
                    .map(|m| m.external_id.clone())
                    .unwrap_or_default(),
                object_key: key,
                idempotency_key: None,
                external_ref: object_id('a', e.num()),
                creates: 1,
                updates: e.updates,
                status: Some(r.status.to_string()),
                units: None,
                extra: Map::from_iter([
                    ("business".to_string(), json!(biz)),
                    ("reference".to_string(), json!(r.reference)),
                    ("total_amount".to_string(), json!(r.total.to_string())),
                    ("credited_amount".to_string(), json!(credited.to_string())),
                    (
                        "credit_notes".to_string(),
                        json!(
                            credits
                                .iter()
                                .map(|c| json!({
                                    "id": object_id('c', c.num()),
                                    "reference": c.body.reference,
                                    "total_amount": c.body.total.to_string(),
                                }))
                                .collect::<Vec<_>>()
                        ),
                    ),
                ]),
            });
        }
    }
    Json(Received::new(objects))
}

/// `GET /_sim/stats`.
pub async fn stats(State(s): State<Arc<SimState>>) -> Json<SimStats> {
    let (mut inv, mut cn, mut ct) = (0, 0, 0);
    for b in s.all_books().values() {
        inv += b.invoices.len();
        cn += b.credit_notes.len();
        ct += b.contacts.len();
    }
    Json(
        s.core
            .stats()
            .with("sales_invoices", inv)
            .with("sales_credit_notes", cn)
            .with("contacts", ct),
    )
}

/// `POST /_sim/expire_tokens`: every access token expires now (refresh tokens live on).
pub async fn expire_tokens(State(s): State<Arc<SimState>>) -> Json<ExpiredResponse> {
    let now = s.now().unix_timestamp();
    let n = s.auth().book.expire_all(now);
    Json(ExpiredResponse { expired: n as u64 })
}

/// `POST /_sim/authorize`: the merchant authorises the app again (Sage's consent screen):
/// a fresh token pair, of which the refresh token is answered (`{"refresh_token"}`).
pub async fn authorize(State(s): State<Arc<SimState>>) -> Json<serde_json::Value> {
    let now = s.now().unix_timestamp();
    let pair = s.auth().book.issue(now);
    Json(serde_json::json!({ "refresh_token": pair.refresh_token }))
}

#[derive(Deserialize)]
pub struct Pay {
    id: String,
    #[serde(default)]
    business: Option<String>,
}

/// `POST /_sim/pay {"id"}`: the merchant records a full payment of an invoice in Sage.
pub async fn pay(State(s): State<Arc<SimState>>, Json(p): Json<Pay>) -> Response {
    let biz = p.business.unwrap_or_else(|| s.lead());
    let now = s.now();
    s.books(&biz, |b| {
        let Some(e) = parse_object_id('a', &p.id).and_then(|n| b.invoices.get_mut(n)) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        e.body.paid = e.body.total;
        e.body.status = "PAID";
        e.modified_at = now;
        StatusCode::NO_CONTENT.into_response()
    })
}

/// `POST /_sim/reset`.
pub async fn reset(State(s): State<Arc<SimState>>) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}
