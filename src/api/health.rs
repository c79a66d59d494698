//! Liveness, readiness and Prometheus metrics.

use super::ApiState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
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

async fn metrics(State(s): State<ApiState>) -> String {
    if let Ok(t) = s.store.totals().await {
        metrics::gauge!("ordersync_orders").set(t.orders as f64);
        metrics::gauge!("ordersync_orders_pii_purged").set(t.pii_purged as f64);
        for (status, n) in [
            ("pending", t.deliveries_pending),
            ("in_flight", t.deliveries_in_flight),
            ("done", t.deliveries_done),
            ("dead", t.deliveries_dead),
        ] {
            metrics::gauge!("ordersync_deliveries", "status" => status).set(n as f64);
        }
    }
    if let Ok(conns) = s.store.connection_status(None).await {
        let now = s.engine.now_us();
        for c in conns.iter().filter(|c| c.role == "source") {
            let lag = c.last_pull_at.map_or(-1.0, |t| (now - t) as f64 / 1e6);
            metrics::gauge!("ordersync_pull_lag_seconds", "kind" => c.kind.clone()).set(lag);
        }
    }
    crate::telemetry::metrics().render()
}
