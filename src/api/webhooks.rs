//! Webhooks are hints: verify the signature over the raw body, dedupe, then schedule a pull.
//! Polling with an overlapping cursor stays the source of truth, so a lost webhook loses nothing.

use super::{ApiError, ApiState};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use ordersync_sdk::WebhookError;
use ordersync_sdk::clock::to_micros;

pub fn routes() -> Router<ApiState> {
    Router::new().route("/webhooks/shopify/{connection_id}", post(source_hint))
}

async fn source_hint(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let c = match s.store.get_connection(&id).await? {
        Some(c) if c.role == "source" && c.state != "deleted" => c,
        _ => return Err(ApiError::not_found()),
    };
    let source = s.engine.connectors.source(&c).await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "connection not usable",
        )
    })?;
    let hint = match source.parse_webhook(&headers, &body) {
        Ok(h) => h,
        Err(WebhookError::BadSignature) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_signature",
                "invalid webhook signature",
            ));
        }
        Err(WebhookError::Unsupported) => return Err(ApiError::not_found()),
        Err(WebhookError::Malformed(_)) => return Err(ApiError::bad_request("malformed webhook")),
    };
    let now = to_micros(s.clock.now());
    let fresh = s
        .store
        .record_webhook(
            &format!("{}:{}", c.id, hint.dedupe_key),
            &c.id,
            &hint.topic,
            now,
        )
        .await?;
    metrics::counter!("ordersync_webhooks_total", "kind" => c.kind.clone(), "duplicate" => if fresh { "no" } else { "yes" }).increment(1);
    if fresh {
        s.store.schedule_pull(&c.id, now).await?;
    }
    Ok(StatusCode::OK)
}
