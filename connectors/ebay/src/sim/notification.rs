//! The Notification API's `GET /commerce/notification/v1/public_key/{public_key_id}`
//! (`commerce_notification_v1_oas3.json`): the key that signs Marketplace Account Deletion
//! notices, for an application token only. It knows the key of eBay's own SDK test vector
//! (`notification-examples/event-notification-sdk-test-vectors.json`), so tests post notices
//! eBay really signed; an unknown id is 404 `195001`, and `/_sim/public_key_outage` makes it
//! answer 500 `195000`.

use super::SimState;
use super::api::ebay_error;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The key id of eBay's SDK test vector and its public key (one-line PEM, as eBay sends it).
pub const TEST_KEY_ID: &str = "9936261a-7d7b-4621-a0f1-96ccb428af49";
pub const TEST_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZhhxXKtR+TOvtDbgTPCkSof02qgBB7IsYOyf76ilExJ/upAa/vKIKheOoCyOpcLmi4t0b4uepb7LLjmMr90FUg==-----END PUBLIC KEY-----";

pub async fn public_key(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let app = s
        .auth
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_app(&headers, s.now_secs());
    if !app {
        return ebay_error(
            StatusCode::UNAUTHORIZED,
            1001,
            "OAuth",
            "REQUEST",
            "Invalid access token",
            None,
        );
    }
    if s.key_outage.load(Ordering::Relaxed) {
        return ebay_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            195000,
            "API_NOTIFICATION",
            "APPLICATION",
            "There was a problem with an eBay internal system or process. Contact eBay developer support for assistance.",
            None,
        );
    }
    if id != TEST_KEY_ID {
        return ebay_error(
            StatusCode::NOT_FOUND,
            195001,
            "API_NOTIFICATION",
            "REQUEST",
            "The specified key id is invalid.",
            Some(("public_key_id", &id)),
        );
    }
    Json(json!({ "key": TEST_KEY_PEM, "algorithm": "ECDSA", "digest": "SHA1" })).into_response()
}

#[derive(Deserialize)]
pub struct OutageReq {
    on: bool,
}

/// `POST /_sim/public_key_outage {"on": true}`: getPublicKey answers 500 until turned off.
pub async fn outage(
    State(s): State<Arc<SimState>>,
    Json(r): Json<OutageReq>,
) -> Json<serde_json::Value> {
    s.key_outage.store(r.on, Ordering::Relaxed);
    Json(json!({ "outage": r.on }))
}

#[derive(Deserialize)]
pub struct BuyerReq {
    order_ids: Vec<String>,
    username: String,
}

/// `POST /_sim/buyer {"order_ids": [...], "username": "test_user"}`: these orders were
/// placed by that eBay user (so a test can post the SDK's signed notice naming them).
pub async fn buyer(
    State(s): State<Arc<SimState>>,
    Json(r): Json<BuyerReq>,
) -> Json<serde_json::Value> {
    let mut store = s.store();
    let mut changed = 0;
    for id in &r.order_ids {
        if let Some(n) = super::parse_order_id(id)
            && store.edit(n, |o| o.username = r.username.clone()).is_some()
        {
            changed += 1;
        }
    }
    Json(json!({ "changed": changed }))
}
