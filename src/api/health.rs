//! Liveness and readiness (`/metrics` is in `metrics.rs`).

use super::ApiState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// `ok` while every worker loop of this process beats within its bound (a process without
/// workers has none); else 503 naming the silent loops, e.g. `stale: pull 75s`.
async fn healthz(State(s): State<ApiState>) -> (StatusCode, String) {
    let stale = s.engine.heartbeats.stale();
    if stale.is_empty() {
        return (StatusCode::OK, "ok".into());
    }
    let loops: Vec<String> = stale
        .iter()
        .map(|l| format!("{} {}s", l.name, l.silent_secs))
        .collect();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("stale: {}", loops.join(", ")),
    )
}

async fn readyz(State(s): State<ApiState>) -> (StatusCode, &'static str) {
    match s.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}
