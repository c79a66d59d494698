//! A stateful simulator of the Shopify Admin API (feature `sim`), faithful to
//! `shared/api-specs/shopify` and the research notes: GraphQL `orders`/`order` with cost-bucket
//! throttling (`THROTTLED` on HTTP 200, or 429 if configured), the legacy REST order surface
//! with its traps (`status` defaults to `open`, `page_info` refuses filters, call-limit bucket
//! 40 leaking 2/s), and the OAuth token endpoint with 1-hour tokens and rotating refresh tokens.
//!
//! Every shop domain is served from one base URL; buckets are kept per `Host` header. The
//! GraphQL endpoint parses the query (`gql_doc.rs`) and charges Shopify's documented cost
//! model computed from it (`cost.rs`: object 1, connection 2 + `first` × one child, nested
//! connections multiply, mutation 10), refusing a query above the single-query maximum with
//! `MAX_COST_EXCEEDED` and refunding what a page did not return. It serves `orders` (with
//! nested `lineItems(first, after)` paging), `order`, `ordersCount`, bulk operations
//! (`bulk.rs`: JSONL results on pre-signed URLs) and, on the REST side, `events.json`
//! (`events.rs`).
//!
//! Orders carry real money (`order.rs`): several shop currencies and tax regimes (tax on top
//! or included, NYC's three tax lines, CHF cash rounding, JPY and KWD decimals, a buyer's
//! presentment currency), discounts, several shipping lines, tips, gift cards, duties, fees,
//! refunds, edits and cancellations, built bottom-up as Shopify builds them (`build.rs`) from
//! a seeded mix (`mix.rs`) or one named case (`POST /_sim/case`, names in [`CASES`]).

mod auth;
mod build;
mod bulk;
mod cases;
mod control;
mod cost;
mod events;
mod gql_doc;
mod gql_render;
mod graphql;
mod mix;
mod money;
mod order;
mod parcels;
mod profiles;
mod render;
mod rest;
mod scenario;
mod search;
mod store;
#[cfg(test)]
mod tests;

pub use cases::CASES;
pub use gql_render::{GqlNode, graphql_node};
pub use render::rest_order;
pub use store::{FAR_DATE, FIRST_ID, HUGE_PRICE, Poison, SimOrder};

use axum::Router;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{
    FaultAnswers, LeakyBucket, PerKey, SimCore, SimServer, set_faults_handler, with_faults,
};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// Limits and credentials of a simulated shop.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// GraphQL cost bucket size in points (Shopify Standard: 2000; older docs say 1000).
    pub bucket_size: f64,
    /// GraphQL points restored per second (Standard: 100).
    pub restore_rate: f64,
    /// Answer a throttled GraphQL query with HTTP 429 instead of Shopify's usual HTTP 200.
    pub throttle_status_429: bool,
    /// REST leaky bucket size in calls (Standard: 40).
    pub rest_bucket_size: f64,
    /// REST calls leaked per second (Standard: 2).
    pub rest_leak_rate: f64,
    /// If set, only these static access tokens are accepted (otherwise any `shpat_…`).
    pub accepted_static_tokens: Option<Vec<String>>,
    /// Lifetime of OAuth-issued access tokens in sim-clock seconds (Shopify: 3600).
    pub token_ttl_secs: i64,
    /// Most points one query may request (Shopify: 1,000).
    pub max_query_cost: f64,
    /// A bulk operation completes at this status read (the first read makes it RUNNING) ...
    pub bulk_polls_to_complete: u32,
    /// ... or this many sim-clock seconds after it was created, whichever comes first.
    pub bulk_seconds: i64,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            bucket_size: 2000.0,
            restore_rate: 100.0,
            throttle_status_429: false,
            rest_bucket_size: 40.0,
            rest_leak_rate: 2.0,
            accepted_static_tokens: None,
            token_ttl_secs: 3600,
            max_query_cost: 1000.0,
            bulk_polls_to_complete: 2,
            bulk_seconds: 30,
        }
    }
}

impl SimOptions {
    /// Limits high enough that a local benchmark of 20,000 orders/s is never throttled.
    pub fn relaxed() -> Self {
        Self {
            bucket_size: 1e12,
            restore_rate: 1e12,
            rest_bucket_size: 1e9,
            rest_leak_rate: 1e9,
            ..Self::default()
        }
    }
}

/// Shared state of one simulator.
pub struct SimState {
    pub opts: SimOptions,
    pub clock: Arc<dyn Clock>,
    pub core: SimCore,
    store: Mutex<store::Store>,
    auth: Mutex<auth::AuthState>,
    /// GraphQL cost points per shop.
    cost_buckets: PerKey<LeakyBucket>,
    /// REST calls per shop.
    call_buckets: PerKey<LeakyBucket>,
    bulk: Mutex<bulk::BulkBook>,
}

impl AsRef<SimCore> for SimState {
    fn as_ref(&self) -> &SimCore {
        &self.core
    }
}

impl FaultAnswers for SimState {
    fn too_many(&self) -> Response {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1.0"), ("content-type", "application/json")],
            r#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#,
        )
            .into_response()
    }

    fn route_name(&self, method: &Method, route: &str) -> String {
        let name = match route {
            "/admin/api/{version}/graphql.json" => "graphql",
            "/admin/api/{version}/orders.json" => "rest_orders",
            "/admin/api/{version}/orders/{file}" => "rest_order",
            "/admin/api/{version}/shop.json" => "rest_shop",
            "/admin/oauth/access_scopes.json" => "rest_access_scopes",
            "/admin/oauth/access_token" => "oauth_access_token",
            _ => return format!("{method} {route}"),
        };
        name.to_string()
    }
}

impl SimState {
    fn now_dt(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Sim-clock unix seconds.
    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }
}

/// The shop a request is for: buckets are per shop, and every shop shares this base URL.
fn shop_key(h: &HeaderMap) -> String {
    h.get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("shop")
        .to_string()
}

pub fn router(opts: SimOptions, clock: Arc<dyn Clock>) -> Router {
    let state = Arc::new(SimState {
        auth: Mutex::new(auth::AuthState::new(opts.token_ttl_secs)),
        opts,
        clock,
        core: SimCore::default(),
        store: Mutex::new(store::Store::default()),
        cost_buckets: PerKey::default(),
        call_buckets: PerKey::default(),
        bulk: Mutex::new(bulk::BulkBook::default()),
    });
    let api = Router::new()
        .route("/admin/api/{version}/graphql.json", post(graphql::handle))
        .route("/admin/api/{version}/orders.json", get(rest::orders))
        .route(
            "/admin/api/{version}/orders/{file}",
            get(rest::order_or_count),
        )
        .route("/admin/api/{version}/shop.json", get(rest::shop))
        .route("/admin/api/{version}/events.json", get(events::events))
        .route("/bulk-results/{file}", get(bulk::download))
        .route("/admin/oauth/access_scopes.json", get(rest::access_scopes))
        .route("/admin/oauth/access_token", post(auth::access_token));
    with_faults(api, state.clone())
        .route("/_sim/seed", post(control::seed))
        .route("/_sim/update", post(control::update))
        .route("/_sim/poison", post(control::poison))
        .route("/_sim/hide", post(control::hide))
        .route("/_sim/expire_tokens", post(control::expire_tokens))
        .route("/_sim/faults", post(set_faults_handler::<SimState>))
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/expected", get(control::expected))
        .route("/_sim/order", post(scenario::add_order))
        .route("/_sim/case", post(scenario::add_case))
        .route("/_sim/delete", post(scenario::delete))
        .route("/_sim/bulk", get(bulk::list))
        .route("/_sim/bulk/fail_next", post(bulk::fail_next))
        .with_state(state)
}

/// Serves the simulator on an ephemeral loopback port.
pub async fn spawn(opts: SimOptions, clock: Arc<dyn Clock>) -> std::io::Result<SimServer> {
    SimServer::serve(router(opts, clock)).await
}
