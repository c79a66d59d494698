//! Injected faults, with the 429 shaped like Shopify's own.

use super::SimState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::{FaultKind, fault_response};

pub async fn respond(_s: &SimState, kind: FaultKind) -> Response {
    match kind {
        FaultKind::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1.0"), ("content-type", "application/json")],
            r#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#,
        )
            .into_response(),
        other => fault_response(other).await,
    }
}
