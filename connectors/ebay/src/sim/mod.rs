//! A stateful simulator of eBay's Sell Fulfillment API (feature `sim`), faithful to
//! `sell_fulfillment_v1_oas3.json` (v1.20.7) and the research notes:
//!
//! - `GET /sell/fulfillment/v1/order` with eBay's filter rules (`filter.rs`): `creationdate`
//!   silently wins over `lastmodifieddate`; no filter means orders created in the last 90
//!   days; ranges reach back at most two years; unencoded brackets, `limit` > 200 and bad
//!   dates are 400s with eBay's error ids; results sorted by creation date and paged by
//!   `offset` with `total`, `next`, `prev`, `href` (a total that is a multiple of the limit ends
//!   on an empty page); `orderIds` overrides everything; `fieldGroups=TAX_BREAKDOWN` decides
//!   whether the collected tax is in the totals;
//! - `GET /sell/fulfillment/v1/order/{orderId}` with the real `cancelStatus` (getOrders always
//!   sends it empty), 404 `32100` for an unknown id;
//! - `POST /identity/v1/oauth2/token` (`auth.rs`): 2 h user tokens, reusable refresh tokens,
//!   `invalid_grant` after `/_sim/revoke`;
//! - `GET /commerce/notification/v1/public_key/{id}` (`notification.rs`), the key of
//!   eBay's signed account-deletion test notice;
//! - a daily call quota per app (100,000 by default) answered with 429 errorId 2001;
//! - PII that ages away on the simulator's clock and eBay's money, built bottom-up
//!   (`model.rs`, `mix.rs`, `render.rs`).

mod api;
mod auth;
mod control;
mod filter;
mod mix;
mod model;
mod notification;
mod profiles;
mod render;
mod store;

pub use filter::{DateFilter, Filter, Range, parse as parse_filter};
pub use model::{Poison, order_id, parse_order_id};
pub use notification::{TEST_KEY_ID, TEST_KEY_PEM};
pub use render::{CONTACT_DAYS, EMAIL_DAYS, format_minor};
pub use store::FIRST_ID;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{
    FaultAnswers, FixedWindow, PerKey, SimCore, SimServer, set_faults_handler, with_faults,
};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Limits and credentials of a simulated eBay app.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Sell Fulfillment calls per app and day (eBay's default: 100,000); `None`: unlimited.
    pub daily_quota: Option<u32>,
    /// Lifetime of user access tokens in sim-clock seconds (eBay: 7200).
    pub token_ttl_secs: i64,
    /// If set, the only refresh tokens accepted besides those the simulator issues.
    pub accepted_refresh_tokens: Option<Vec<String>>,
    /// If set, the only `(client_id, client_secret)` pairs accepted.
    pub accepted_clients: Option<Vec<(String, String)>>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            daily_quota: Some(100_000),
            token_ttl_secs: 7200,
            accepted_refresh_tokens: None,
            accepted_clients: None,
        }
    }
}

impl SimOptions {
    /// No daily quota (the demo and benchmarks); every other behaviour stays.
    pub fn relaxed() -> Self {
        Self {
            daily_quota: None,
            ..Self::default()
        }
    }
}

/// Whether the API answers with an HTML page instead of JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maintenance {
    Off,
    /// 503 with eBay's maintenance page.
    Unavailable,
    /// The page with status 200 (a proxy or firewall in between).
    PageWithOk,
}

/// Shared state of one simulator.
pub struct SimState {
    pub opts: SimOptions,
    pub clock: Arc<dyn Clock>,
    pub core: SimCore,
    store: Mutex<store::Store>,
    auth: Mutex<auth::AuthState>,
    /// Calls per app (client id) and day.
    quota: PerKey<FixedWindow>,
    maintenance: AtomicU8,
    /// getPublicKey answers 500 (`/_sim/public_key_outage`).
    key_outage: AtomicBool,
}

impl AsRef<SimCore> for SimState {
    fn as_ref(&self) -> &SimCore {
        &self.core
    }
}

impl FaultAnswers for SimState {
    fn too_many(&self) -> Response {
        api::too_many()
    }

    fn server_error(&self) -> Response {
        api::ebay_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            30500,
            "API_FULFILLMENT",
            "APPLICATION",
            "System error",
            None,
        )
    }

    fn malformed(&self) -> Response {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"href\":\"https://api.ebay.com/sell/fulfillment/v1/order\",\"total\":3,\"orders\":[{\"orderId\":",
        )
            .into_response()
    }

    fn route_name(&self, method: &Method, route: &str) -> String {
        match route {
            "/sell/fulfillment/v1/order" => "getOrders".into(),
            "/sell/fulfillment/v1/order/{order_id}" => "getOrder".into(),
            "/identity/v1/oauth2/token" => "token".into(),
            "/commerce/notification/v1/public_key/{public_key_id}" => "getPublicKey".into(),
            _ => format!("{method} {route}"),
        }
    }
}

impl SimState {
    fn now_ms(&self) -> i64 {
        crate::client::millis(self.clock.now())
    }

    fn now_secs(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    fn store(&self) -> MutexGuard<'_, store::Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn maintenance(&self) -> Maintenance {
        match self.maintenance.load(Ordering::Relaxed) {
            1 => Maintenance::Unavailable,
            2 => Maintenance::PageWithOk,
            _ => Maintenance::Off,
        }
    }

    fn set_maintenance(&self, m: Maintenance) {
        let v = match m {
            Maintenance::Off => 0,
            Maintenance::Unavailable => 1,
            Maintenance::PageWithOk => 2,
        };
        self.maintenance.store(v, Ordering::Relaxed);
    }
}

pub fn router(opts: SimOptions, clock: Arc<dyn Clock>) -> Router {
    let state = Arc::new(SimState {
        auth: Mutex::new(auth::AuthState::new(opts.token_ttl_secs)),
        opts,
        clock,
        core: SimCore::default(),
        store: Mutex::new(store::Store::default()),
        quota: PerKey::default(),
        maintenance: AtomicU8::new(0),
        key_outage: AtomicBool::new(false),
    });
    let api = Router::new()
        .route("/sell/fulfillment/v1/order", get(api::orders))
        .route("/sell/fulfillment/v1/order/{order_id}", get(api::order))
        .route("/identity/v1/oauth2/token", post(auth::token))
        .route(
            "/commerce/notification/v1/public_key/{public_key_id}",
            get(notification::public_key),
        );
    with_faults(api, state.clone())
        .route("/_sim/seed", post(control::seed))
        .route("/_sim/update", post(control::update))
        .route("/_sim/cancel", post(control::cancel))
        .route("/_sim/poison", post(control::poison))
        .route("/_sim/expire_tokens", post(control::expire_tokens))
        .route("/_sim/revoke", post(control::revoke))
        .route("/_sim/maintenance", post(control::maintenance))
        .route("/_sim/public_key_outage", post(notification::outage))
        .route("/_sim/buyer", post(notification::buyer))
        .route("/_sim/faults", post(set_faults_handler::<SimState>))
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/expected", get(control::expected))
        .with_state(state)
}

/// Serves the simulator on an ephemeral loopback port.
pub async fn spawn(opts: SimOptions, clock: Arc<dyn Clock>) -> std::io::Result<SimServer> {
    SimServer::serve(router(opts, clock)).await
}
