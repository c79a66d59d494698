//! A stateful simulator of a WooCommerce store's REST API v3 (feature `sim`), faithful to
//! `shared/api-specs/woocommerce` and WooCommerce's code:
//!
//! - `GET /wp-json/wc/v3/orders` with WordPress's validation (`per_page` > 100 →
//!   400 `rest_invalid_param`), `page`/`offset` paging, `X-WP-Total`, `X-WP-TotalPages` and
//!   `Link` rel `prev`/`next`, an empty list past the last page; `status` defaults to `any`,
//!   which leaves trashed orders out (`query.rs`);
//! - the timezone trap: the store is in Europe/Berlin by default, every date is written twice
//!   (site-local and `_gmt`, neither with an offset), and `after`/`before` (creation) and
//!   `modified_after`/`modified_before` compare with the site-local column unless
//!   `dates_are_gmt=true`, with values read the way WordPress reads them;
//! - `GET /orders/{id}` (404 `woocommerce_rest_shop_order_invalid_id`) and
//!   `GET /orders/{id}/refunds` with per-line refund amounts (negative, `_refunded_item_id`);
//! - auth as `WC_REST_Authentication`: Basic, query keys, OAuth 1.0a HMAC-SHA1/SHA256
//!   (`auth.rs`); wrong keys → 401 JSON;
//! - no rate limit (WooCommerce has none); `/_sim/faults` injects the host's 429, WordPress's
//!   critical error, truncated bodies, timeouts, and in "WAF mode" an HTML 403 block page and
//!   the HTML 503 maintenance page with `Retry-After` (`waf.rs`).
//!
//! Orders carry WooCommerce's money (`build.rs`): inclusive and exclusive stores, per-line or
//! at-subtotal tax rounding, several rates and classes, a compound rate, shipping tax,
//! percent / fixed-cart / fixed-product coupons, free shipping, positive and negative fees,
//! partial, shipping, goodwill and full refunds, every status, JPY and KWD decimals.

mod auth;
mod build;
mod cases;
mod control;
mod mix;
mod money;
mod order;
mod profiles;
mod query;
mod render;
mod routes;
mod store;
mod tax;
mod tracking;
mod tz;
mod waf;
pub mod webhook;
mod wp;

pub use auth::{Keys, base_string, signature};
pub use cases::CASES;
pub use order::{Poison, Status};
pub use query::wall_clock;
pub use store::FIRST_ID;
pub use tz::SiteTz;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{FaultAnswers, SimCore, SimServer, with_faults};
use std::sync::{Arc, Mutex};

/// The demo connection's keys (`Keys::Paired` accepts them, as it accepts any `ck_x`/`cs_x`).
pub const DEMO_CONSUMER_KEY: &str = "ck_ordersync_demo";
pub const DEMO_CONSUMER_SECRET: &str = "cs_ordersync_demo";
pub const DEMO_WEBHOOK_SECRET: &str = "whsec_ordersync_demo";

/// How the simulated store is set up.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The site's timezone (`timezone_string`).
    pub tz: SiteTz,
    /// The API keys it accepts.
    pub keys: Keys,
    /// `Retry-After` of the maintenance page (WordPress sends 600).
    pub maintenance_retry_after: u64,
    /// The host drops the `Authorization` header before PHP sees it (Apache with CGI or
    /// FastCGI): Basic auth then fails as if no key were sent.
    pub strip_authorization: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            tz: SiteTz::Berlin,
            keys: Keys::Paired,
            maintenance_retry_after: 600,
            strip_authorization: false,
        }
    }
}

impl SimOptions {
    /// WooCommerce has no rate limit to lift: the same store.
    pub fn relaxed() -> Self {
        Self::default()
    }
}

/// Shared state of one simulator.
pub struct SimState {
    pub opts: SimOptions,
    pub clock: Arc<dyn Clock>,
    pub core: SimCore,
    store: Mutex<store::Store>,
    nonces: auth::Nonces,
    waf: waf::Waf,
}

impl AsRef<SimCore> for SimState {
    fn as_ref(&self) -> &SimCore {
        &self.core
    }
}

impl FaultAnswers for SimState {
    /// A host's limiter (WooCommerce itself has none): HTML, `Retry-After`.
    fn too_many(&self) -> Response {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1"), ("content-type", "text/html")],
            "<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests</h1></center><hr><center>nginx</center></body></html>",
        )
            .into_response()
    }

    fn server_error(&self) -> Response {
        wp::critical_error()
    }

    fn malformed(&self) -> Response {
        (
            StatusCode::OK,
            [("content-type", "application/json; charset=UTF-8")],
            "[{\"id\":1001,\"parent_id\":0,\"status\":\"proc",
        )
            .into_response()
    }

    fn route_name(&self, method: &Method, route: &str) -> String {
        match route {
            "/wp-json/wc/v3/orders" => "orders".into(),
            "/wp-json/wc/v3/orders/{id}" => "order".into(),
            "/wp-json/wc/v3/orders/{id}/refunds" => "refunds".into(),
            _ => format!("{method} {route}"),
        }
    }
}

impl SimState {
    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }
}

pub fn router(opts: SimOptions, clock: Arc<dyn Clock>) -> Router {
    let state = Arc::new(SimState {
        opts,
        clock,
        core: SimCore::default(),
        store: Mutex::new(store::Store::default()),
        nonces: auth::Nonces::default(),
        waf: waf::Waf::default(),
    });
    let api = Router::new()
        .route("/wp-json/wc/v3/orders", get(routes::list))
        .route("/wp-json/wc/v3/orders/{id}", get(routes::one))
        .route("/wp-json/wc/v3/orders/{id}/refunds", get(routes::refunds))
        .route("/wp-json/{*rest}", get(routes::no_route))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            waf::gate,
        ));
    with_faults(api, state.clone())
        .route("/_sim/seed", post(control::seed))
        .route("/_sim/update", post(control::update))
        .route("/_sim/poison", post(control::poison))
        .route("/_sim/case", post(control::case))
        .route("/_sim/trash", post(control::trash))
        .route("/_sim/touch", post(control::touch))
        .route("/_sim/faults", post(waf::set_faults))
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/expected", get(control::expected))
        .with_state(state)
}

/// Serves the simulator on an ephemeral loopback port.
pub async fn spawn(opts: SimOptions, clock: Arc<dyn Clock>) -> std::io::Result<SimServer> {
    SimServer::serve(router(opts, clock)).await
}

#[cfg(test)]
mod tests;
