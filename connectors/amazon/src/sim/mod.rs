//! A stateful simulator of Login with Amazon and the SP-API Orders API v2026-01-01 (feature
//! `sim`), faithful to `shared/api-specs/amazon-sp-api` and the research notes (§3): both
//! hosts in one router (`POST /auth/o2/token`, `GET /orders/2026-01-01/orders[/{orderId}]`),
//! the two-minute rule on `lastUpdatedBefore`, 24-hour pagination tokens tied to their
//! filters, per-operation token buckets with `x-amzn-RateLimit-Limit` on most answers and
//! 429 `QuotaExceeded`, 403s for expired tokens and for buyer data without the restricted
//! role, and outages answered with HTML. All time is the given clock's.
//!
//! Orders carry Amazon's money (`order.rs`, built per unit), in the mix of `mix.rs`; how they
//! are shown, with Amazon's rules on personal data, is `render.rs`.

mod api;
mod auth;
mod cases;
mod control;
mod errors;
mod mix;
mod order;
mod query;
mod render;
mod store;

pub use cases::CASES;
pub use errors::Outage;
pub use order::{Poison, SimOrder, Status};
pub use render::{DATASETS, Included};

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{
    FaultAnswers, LeakyBucket, SimCore, SimServer, set_faults_handler, with_faults,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

/// Limits and behaviour of a simulated seller account.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// `searchOrders` usage plan: requests per second and burst (spec: 0.0056, 20).
    pub search_rate: f64,
    pub search_burst: u32,
    /// `getOrder` usage plan (spec: 0.5, 30).
    pub get_rate: f64,
    pub get_burst: u32,
    /// Every n-th answer leaves `x-amzn-RateLimit-Limit` out (0: never).
    pub rate_header_gap: u64,
    /// Lifetime of LWA access tokens in sim-clock seconds (3600).
    pub token_ttl_secs: i64,
    /// Lifetime of a `nextToken` (24 hours).
    pub page_token_ttl_secs: i64,
    /// If set, the only LWA client (id, secret) accepted; otherwise any non-empty pair.
    pub accepted_client: Option<(String, String)>,
    /// `buyerEmail` only for merchant-fulfilled orders, as the spec notes. Off shows it for
    /// FBA orders too (the shared conformance kit expects every order's email).
    pub fbm_only_email: bool,
    /// LWA answers the same refresh token again; on, a new one each time (and the old one
    /// dies), to check that a connector persists a rotated token before using it.
    pub rotate_refresh_tokens: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            search_rate: 0.0056,
            search_burst: 20,
            get_rate: 0.5,
            get_burst: 30,
            rate_header_gap: 4,
            token_ttl_secs: 3600,
            page_token_ttl_secs: 86_400,
            accepted_client: None,
            fbm_only_email: true,
            rotate_refresh_tokens: false,
        }
    }
}

impl SimOptions {
    /// A usage plan no local benchmark reaches, announced as such in the rate header.
    pub fn relaxed() -> Self {
        Self {
            search_rate: 100_000.0,
            search_burst: 100_000,
            get_rate: 100_000.0,
            get_burst: 100_000,
            ..Self::default()
        }
    }
}

struct Limits {
    search: LeakyBucket,
    get: LeakyBucket,
}

/// Shared state of one simulator.
pub struct SimState {
    pub opts: SimOptions,
    pub clock: Arc<dyn Clock>,
    pub core: SimCore,
    store: Mutex<store::Store>,
    auth: Mutex<auth::Auth>,
    limits: Mutex<Limits>,
    /// Filters of issued pagination tokens, by fingerprint.
    tokens: Mutex<HashMap<u64, query::Filter>>,
    /// API answers sent (which ones lack the rate header).
    answers: AtomicU64,
    pii_role: AtomicBool,
    outage: Mutex<Option<Outage>>,
}

impl SimState {
    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    fn store(&self) -> std::sync::MutexGuard<'_, store::Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AsRef<SimCore> for SimState {
    fn as_ref(&self) -> &SimCore {
        &self.core
    }
}

impl FaultAnswers for SimState {
    fn too_many(&self) -> Response {
        errors::quota_exceeded()
    }

    fn server_error(&self) -> Response {
        errors::internal_failure()
    }

    fn malformed(&self) -> Response {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"orders\":[{\"orderId\":\"114-",
        )
            .into_response()
    }

    fn route_name(&self, method: &Method, route: &str) -> String {
        match route {
            "/orders/2026-01-01/orders" => "searchOrders".into(),
            "/orders/2026-01-01/orders/{orderId}" => "getOrder".into(),
            "/auth/o2/token" => "lwa_token".into(),
            _ => format!("{method} {route}"),
        }
    }
}

pub fn router(opts: SimOptions, clock: Arc<dyn Clock>) -> Router {
    let now = clock.now();
    let state = Arc::new(SimState {
        auth: Mutex::new(auth::Auth::new(
            opts.token_ttl_secs,
            opts.rotate_refresh_tokens,
        )),
        limits: Mutex::new(Limits {
            search: LeakyBucket::new(f64::from(opts.search_burst), opts.search_rate, now),
            get: LeakyBucket::new(f64::from(opts.get_burst), opts.get_rate, now),
        }),
        opts,
        clock,
        core: SimCore::default(),
        store: Mutex::new(store::Store::default()),
        tokens: Mutex::new(HashMap::new()),
        answers: AtomicU64::new(0),
        pii_role: AtomicBool::new(true),
        outage: Mutex::new(None),
    });
    let api = Router::new()
        .route("/orders/2026-01-01/orders", get(api::search_orders))
        .route("/orders/2026-01-01/orders/{orderId}", get(api::get_order))
        .route("/auth/o2/token", post(auth::token));
    with_faults(api, state.clone())
        .route("/_sim/seed", post(control::seed))
        .route("/_sim/update", post(control::update))
        .route("/_sim/poison", post(control::poison))
        .route("/_sim/expire_tokens", post(control::expire_tokens))
        .route("/_sim/faults", post(set_faults_handler::<SimState>))
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/expected", get(control::expected))
        .route("/_sim/roles", post(control::roles))
        .route("/_sim/outage", post(control::outage))
        .route("/_sim/revoke", post(control::revoke))
        .route("/_sim/case", post(control::case))
        .route("/_sim/ship", post(control::ship))
        .with_state(state)
}

/// Serves the simulator on an ephemeral loopback port.
pub async fn spawn(opts: SimOptions, clock: Arc<dyn Clock>) -> std::io::Result<SimServer> {
    SimServer::serve(router(opts, clock)).await
}
