//! A stateful ShipStation V2 simulator (feature `sim`), faithful to
//! `shared/api-specs/shipstation/v2/openapi.yaml` and the research notes: the `API-Key` header,
//! a fixed-window limit per key with `X-Rate-Limit-*` on every answer and `429` +
//! `Retry-After`, V2 error bodies, batch create with per-shipment errors and
//! `identifier_conflict` on a reused `external_shipment_id` (truncated at 50 chars), get by
//! id / external id, the filtered and paged `GET /v2/shipments`, full update (pending
//! shipments only), cancel, and labels + tracking that evolve with the clock and move the
//! shipment's `modified_at`. Every answer has the spec's response shape (a test validates
//! them against the copied schemas).
//!
//! The V1 API (`ssapi.shipstation.com`) is served by the same server (`sim/v1`).
//!
//! Control routes: `GET /_sim/received`, `POST /_sim/faults`, `POST /_sim/reject` (the next
//! n shipment writes are refused with `invalid_field_value`), `GET /_sim/stats`,
//! `POST /_sim/reset`.

mod control;
mod errors;
mod gate;
mod labels;
mod list;
mod shipments;
mod state;
mod v1;
mod view;

use axum::Router;
use axum::routing::{get, post, put};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{
    SimServer, held_handler, set_faults_handler, set_hold_handler, set_rejects_handler, with_faults,
};
use std::sync::Arc;

pub use state::SimState;

/// Limits and credentials of a simulated account.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Accepted `API-Key` values; `None` accepts any non-empty key.
    pub api_keys: Option<Vec<String>>,
    /// Requests allowed per key in each rate window (V2: 200 a minute).
    pub requests_per_minute: u32,
    /// Length of the fixed rate window in seconds (60 like the real API; tests shorten it so
    /// a throttled client waits a second, not a minute).
    pub rate_window_secs: u64,
    /// Accepted V1 `(api_key, api_secret)` pairs; `None` accepts any non-empty pair.
    pub v1_credentials: Option<Vec<(String, String)>>,
    /// V1 key pairs whose plan lacks API access (answered 403).
    pub v1_without_api_access: Vec<String>,
    /// Requests allowed per V1 key pair in each rate window (V1: 40 a minute).
    pub v1_requests_per_minute: u32,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            api_keys: None,
            requests_per_minute: 200,
            rate_window_secs: 60,
            v1_credentials: None,
            v1_without_api_access: Vec::new(),
            v1_requests_per_minute: 40,
        }
    }
}

impl SimOptions {
    /// High enough that a local benchmark of 20,000 orders/s is never throttled.
    pub fn relaxed() -> Self {
        Self {
            requests_per_minute: 10_000_000,
            v1_requests_per_minute: 10_000_000,
            ..Self::default()
        }
    }
}

/// The simulator's routes over fresh state.
pub fn router(opts: SimOptions, clock: Arc<dyn Clock>) -> Router {
    router_with_state(Arc::new(SimState::new(opts, clock)))
}

fn router_with_state(state: Arc<SimState>) -> Router {
    let api = Router::new()
        .route("/v2/shipments", post(shipments::create).get(list::list))
        .route(
            "/v2/shipments/{shipment_id}",
            get(shipments::get_by_id).put(shipments::update),
        )
        .route(
            "/v2/shipments/external_shipment_id/{external_shipment_id}",
            get(shipments::get_by_external_id),
        )
        .route("/v2/shipments/{shipment_id}/cancel", put(shipments::cancel))
        .route("/v2/labels", get(labels::list))
        .route("/v2/labels/{label_id}/track", get(labels::track))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::gate,
        ));
    let api = api.merge(v1::routes(state.clone()));
    // Faults first (outermost), then the key and rate checks, as the real edge does.
    with_faults(api, state.clone())
        .route("/_sim/received", get(control::received))
        .route("/_sim/faults", post(set_faults_handler::<SimState>))
        .route("/_sim/reject", post(set_rejects_handler::<SimState>))
        .route(
            "/_sim/hold",
            get(held_handler::<SimState>).post(set_hold_handler::<SimState>),
        )
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/reset", post(control::reset))
        .with_state(state)
}

/// Serves the simulator on an ephemeral loopback port.
pub async fn spawn(opts: SimOptions, clock: Arc<dyn Clock>) -> std::io::Result<SimServer> {
    SimServer::serve(router(opts, clock)).await
}
