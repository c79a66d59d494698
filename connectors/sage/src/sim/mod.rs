//! A stateful Sage Business Cloud Accounting v3.1 simulator (feature `sim`), faithful to
//! `swagger-v3.1.json` and the research notes (targets.md §4):
//!
//! - OAuth: `POST /token` (`refresh_token` and `authorization_code` grants), 300 s access
//!   tokens, refresh tokens that rotate and are single-use (31 days);
//! - `Authorization: Bearer` on every API route; `X-Business` selects the books (absent → the
//!   lead business, as real Sage does; unknown → 403);
//! - 200 calls per 60 s per business, then `429` with `Retry-After`;
//! - `$`-envelope lists (`$total`, `$page`, `$next`, `$back`, `$itemsPerPage`, `$items`;
//!   `items_per_page` ≤ 200; only `id`, `displayed_as`, `$path` unless `attributes`);
//! - `422` `$`-error arrays; `idempotency_id` inside the resource replays the stored answer;
//! - contacts (unique `reference`, `search`), sales invoices (create, update while unpaid,
//!   void via `DELETE ?void_reason=`, `search`, `updated_or_created_since`,
//!   `deleted_since`), sales credit notes, tax rates, ledger accounts, currencies; v3.1's
//!   rule that a line's `tax_amount` is required unless its rate is zero / exempt / no tax.
//!
//! Control routes: `GET /_sim/received`, `GET /_sim/stats`, `POST /_sim/faults`,
//! `POST /_sim/reject`, `POST /_sim/expire_tokens`, `POST /_sim/pay {"id"}` (a payment
//! recorded in Sage), `POST /_sim/reset`.

mod artefacts;
mod auth;
mod contacts;
mod control;
mod errors;
mod lists;
mod reference;
mod state;

use axum::Router;
use axum::routing::{get, post};
use ordersync_sdk::sim::{SimServer, set_faults_handler, set_rejects_handler, with_faults};
use ordersync_sdk::{Clock, Decimal};
use std::sync::Arc;

pub use state::{SimState, ledger_id};

/// The business used when a request has no `X-Business` (and the demo's).
pub const LEAD_BUSINESS: &str = "lead";

/// A sales tax rate the simulated business has.
#[derive(Debug, Clone)]
pub struct SimRate {
    pub id: String,
    pub name: String,
    /// Percent.
    pub percentage: Decimal,
}

impl SimRate {
    pub fn new(id: &str, name: &str, percentage: Decimal) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            percentage,
        }
    }
}

/// Limits, credentials and chart of a simulated account.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Refresh tokens accepted before any were issued (the ones a user authorised);
    /// `None` accepts any non-empty one, once (it is single-use like every Sage token).
    pub refresh_tokens: Option<Vec<String>>,
    /// Businesses of the user, lead first; `None` accepts any id.
    pub businesses: Option<Vec<String>>,
    /// Calls per business in each window (Sage: 200 per 60 s).
    pub requests_per_window: u32,
    pub window_secs: u64,
    pub access_ttl_secs: i64,
    /// The business's sales tax rates: Sage's GB set, plus the rates of the other sample
    /// regions so that every sample order maps (a real business has only its region's).
    pub tax_rates: Vec<SimRate>,
    pub currencies: Vec<String>,
}

fn pct(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

pub fn default_rates() -> Vec<SimRate> {
    let mut v = vec![
        SimRate::new("GB_STANDARD", "Standard 20.00%", pct(20, 0)),
        SimRate::new("GB_REDUCED", "Reduced 5.00%", pct(5, 0)),
        SimRate::new("GB_ZERO", "Zero 0.00%", pct(0, 0)),
        SimRate::new("GB_EXEMPT", "Exempt 0.00%", pct(0, 0)),
        SimRate::new("GB_NO_TAX", "No VAT", pct(0, 0)),
    ];
    // The other regions' rates: one list with the Xero simulator's (`DEMO_TAX_RATES`).
    for r in ordersync_sdk::sim::DEMO_TAX_RATES {
        let p = r.percent();
        let id = format!("SIM_{}", p.to_string().replace('.', "_"));
        v.push(SimRate::new(&id, &format!("Sales {p}%"), p));
    }
    v
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            refresh_tokens: None,
            businesses: None,
            requests_per_window: 200,
            window_secs: 60,
            access_ttl_secs: 300,
            tax_rates: default_rates(),
            currencies: [
                "GBP", "EUR", "USD", "JPY", "KWD", "CHF", "CAD", "AUD", "SEK", "DKK", "NOK", "PLN",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl SimOptions {
    /// Limits high enough for the demo and benchmarks; everything else as real.
    pub fn relaxed() -> Self {
        Self {
            requests_per_window: 10_000_000,
            ..Self::default()
        }
    }
}

/// The simulator's routes over fresh state.
pub fn router(opts: SimOptions, clock: Arc<dyn Clock>) -> Router {
    let state = Arc::new(SimState::new(opts, clock));
    let api = Router::new()
        .route("/v3.1/tax_rates", get(reference::tax_rates))
        .route("/v3.1/ledger_accounts", get(reference::ledger_accounts))
        .route("/v3.1/currencies", get(reference::currencies))
        .route("/v3.1/contacts", get(contacts::list).post(contacts::create))
        .route("/v3.1/contacts/{key}", get(contacts::get_one))
        .route(
            "/v3.1/sales_invoices",
            get(artefacts::list_invoices).post(artefacts::create_invoice),
        )
        .route(
            "/v3.1/sales_invoices/{key}",
            get(artefacts::get_invoice)
                .put(artefacts::update_invoice)
                .delete(artefacts::void_invoice),
        )
        .route(
            "/v3.1/sales_credit_notes",
            get(artefacts::list_credit_notes).post(artefacts::create_credit_note),
        )
        .route(
            "/v3.1/sales_credit_notes/{key}",
            get(artefacts::get_credit_note),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::gate,
        ))
        .route("/token", post(auth::token));
    // Faults first (outermost, the token endpoint included), then auth and limits.
    with_faults(api, state.clone())
        .route("/_sim/received", get(control::received))
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/faults", post(set_faults_handler::<SimState>))
        .route("/_sim/reject", post(set_rejects_handler::<SimState>))
        .route("/_sim/expire_tokens", post(control::expire_tokens))
        .route("/_sim/authorize", post(control::authorize))
        .route("/_sim/pay", post(control::pay))
        .route("/_sim/reset", post(control::reset))
        .with_state(state)
}

/// Serves the simulator on an ephemeral loopback port.
pub async fn spawn(opts: SimOptions, clock: Arc<dyn Clock>) -> std::io::Result<SimServer> {
    SimServer::serve(router(opts, clock)).await
}
