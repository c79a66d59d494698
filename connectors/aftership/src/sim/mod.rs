//! A stateful AfterShip Tracking simulator (feature `sim`), faithful to the 2026-07 examples
//! and the research notes (targets.md §2): base path `/tracking/2026-07/` (other versions get
//! the platform's 404), the `as-api-key` header (401 meta envelope), create 201 with 4003 on a
//! duplicate `(slug, tracking_number)`, get / update / delete by id, the list with
//! `tracking_numbers`, `slug`, `tag`, `updated_at_min`/`max` filters sorted by `updated_at` with
//! keyset cursors, per-endpoint per-second buckets with `X-RateLimit-*` on every answer and
//! 429 `TOO_MANY_REQUEST`, and a tag progression driven by the clock: InfoReceived at create,
//! InTransit a day later, OutForDelivery, then Delivered about three days after creation with
//! a Delivered checkpoint in the destination's offset and a naive local
//! `shipment_delivery_date`.
//!
//! Control routes: `GET /_sim/received` (status = tag), `GET /_sim/stats`,
//! `POST /_sim/faults`, `POST /_sim/reject` (next writes → 400 meta 4008), `POST /_sim/reset`.

mod control;
mod errors;
mod gate;
mod progress;
mod state;
mod trackings;
mod view;

use axum::Router;
use axum::routing::{get, post};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{SimServer, set_faults_handler, set_rejects_handler, with_faults};
use std::sync::Arc;

pub use progress::{DELIVERED_AFTER_HOURS, Stage};
pub use state::SimState;

/// The one API version simulated.
pub const VERSION: &str = "2026-07";

/// Credentials and limits of a simulated account.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Accepted `as-api-key` values; `None` accepts any non-empty key.
    pub api_keys: Option<Vec<String>>,
    /// `POST /trackings` per second (20 on the real API).
    pub create_per_second: u32,
    /// `GET /trackings` per second (6).
    pub list_per_second: u32,
    /// `GET/PUT/DELETE /trackings/{id}` per second (5).
    pub by_id_per_second: u32,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            api_keys: None,
            create_per_second: 20,
            list_per_second: 6,
            by_id_per_second: 5,
        }
    }
}

impl SimOptions {
    /// Limits lifted (demo, benchmarks); everything else as on the real API.
    pub fn relaxed() -> Self {
        Self {
            create_per_second: 1_000_000,
            list_per_second: 1_000_000,
            by_id_per_second: 1_000_000,
            ..Self::default()
        }
    }
}

/// The simulator's routes over fresh state.
pub fn router(opts: SimOptions, clock: Arc<dyn Clock>) -> Router {
    let state = Arc::new(SimState::new(opts, clock));
    let api = Router::new()
        .route(
            "/tracking/{version}/trackings",
            post(trackings::create).get(trackings::list),
        )
        .route(
            "/tracking/{version}/trackings/{id}",
            get(trackings::get_one)
                .put(trackings::update)
                .delete(trackings::delete),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::gate,
        ));
    // Faults first (outermost), then the key, version and rate checks, as the real edge does.
    with_faults(api, state.clone())
        .route("/_sim/received", get(control::received))
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/faults", post(set_faults_handler::<SimState>))
        .route("/_sim/reject", post(set_rejects_handler::<SimState>))
        .route("/_sim/reset", post(control::reset))
        .with_state(state)
}

/// Serves the simulator on an ephemeral loopback port.
pub async fn spawn(opts: SimOptions, clock: Arc<dyn Clock>) -> std::io::Result<SimServer> {
    SimServer::serve(router(opts, clock)).await
}
