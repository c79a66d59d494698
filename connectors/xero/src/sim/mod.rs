//! A stateful Xero Accounting simulator (feature `sim`), faithful to
//! `fixtures/xero_accounting.yaml` and `shared/reference/targets.md` §3:
//!
//! - identity: `POST /connect/token` (HTTP Basic client credentials, `refresh_token` grant),
//!   1800 s access tokens on the simulator's clock, refresh tokens that rotate on every use
//!   and stay usable for a 30-minute grace, `invalid_grant` otherwise;
//! - every API call needs `Authorization: Bearer` (401 with `Detail: TokenExpired…` once
//!   expired), `xero-tenant-id` (403 for an unknown tenant) and `Accept: application/json`
//!   (XML otherwise, as Xero answers);
//! - per tenant 60 calls a minute, 5,000 a day and 5 in flight (plus 10,000 a minute per app),
//!   `X-MinLimit-Remaining` / `X-DayLimit-Remaining` / `X-AppMinLimit-Remaining` on every
//!   answer, 429 with `Retry-After` and `X-Rate-Limit-Problem`;
//! - Contacts (unique `Name` among ACTIVE contacts), Invoices (PUT create, POST
//!   update-or-create by `InvoiceID` or ACCREC `InvoiceNumber`, numbers unique, VOIDED /
//!   DELETED rules, no edits once paid or credited), CreditNotes and their Allocations,
//!   TaxRates, Accounts, Currencies; tax type checked against the line's account;
//!   `summarizeErrors=false` answers 200 with per-item `ValidationErrors`, otherwise 400
//!   `ValidationException`;
//! - `Idempotency-Key` on writes: the same key replays the stored (successful) answer;
//! - MS-JSON dates (`/Date(1552262400000+0000)/`) with the `*String` variants.
//!
//! Control routes: `GET /_sim/received`, `GET /_sim/stats`, `POST /_sim/faults`,
//! `POST /_sim/reject`, `POST /_sim/expire_tokens`, `POST /_sim/reset`.

mod api;
mod auth;
mod books;
mod control;
mod gate;
mod render;
mod state;

use crate::wire::{Currency, TaxRate};
use axum::Router;
use axum::routing::{get, post, put};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{SimServer, set_faults_handler, set_rejects_handler, with_faults};
use rust_decimal::Decimal;
use std::sync::Arc;

pub use state::SimState;

/// The demo organisation.
pub const DEMO_TENANT: &str = "7f3b0c1e-5a2d-4e8f-9b6a-0d1c2e3f4a5b";
/// A refresh token the simulator accepts once (then it rotates like any other).
pub const DEMO_REFRESH_TOKEN: &str = "demo-refresh-token";

/// An account of the simulated chart.
#[derive(Debug, Clone, PartialEq)]
pub struct SimAccount {
    pub code: &'static str,
    pub name: &'static str,
    /// `REVENUE`, `LIABILITY`, ...
    pub class: &'static str,
    /// `REVENUE`, `OTHERINCOME`, `CURRLIAB`, ...
    pub kind: &'static str,
}

/// The organisations, chart and limits of a simulated Xero.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub tenants: Vec<String>,
    /// Refresh tokens accepted without having been issued here (a connection's first).
    pub refresh_tokens: Vec<String>,
    pub currencies: Vec<String>,
    pub tax_rates: Vec<TaxRate>,
    pub accounts: Vec<SimAccount>,
    pub per_minute: u32,
    pub per_day: u32,
    pub concurrent: u32,
    pub app_per_minute: u32,
    /// Documents dated before this (`YYYY-MM-DD`) are refused.
    pub period_lock: Option<String>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            tenants: vec![DEMO_TENANT.to_string()],
            refresh_tokens: vec![DEMO_REFRESH_TOKEN.to_string()],
            currencies: ["GBP", "USD", "EUR", "JPY", "KWD", "CHF", "CAD", "AUD"]
                .map(String::from)
                .to_vec(),
            tax_rates: default_tax_rates(),
            accounts: default_accounts(),
            per_minute: 60,
            per_day: 5_000,
            concurrent: 5,
            app_per_minute: 10_000,
            period_lock: None,
        }
    }
}

impl SimOptions {
    /// Limits high enough for the demo and benchmarks; everything else as Xero.
    pub fn relaxed() -> Self {
        Self {
            per_minute: 10_000_000,
            per_day: 100_000_000,
            concurrent: 10_000,
            app_per_minute: 10_000_000,
            ..Self::default()
        }
    }
}

fn rate(name: &str, tax_type: &str, pct: Decimal, revenue: bool, liabilities: bool) -> TaxRate {
    TaxRate {
        name: name.into(),
        tax_type: tax_type.into(),
        status: "ACTIVE".into(),
        can_apply_to_revenue: revenue,
        can_apply_to_liabilities: liabilities,
        effective_rate: Some(pct),
        display_tax_rate: Some(pct),
    }
}

/// A multi-region demo organisation: UK VAT types (`OUTPUT2`, `RROUTPUT`,
/// `ZERORATEDOUTPUT`, `NONE`) plus every rate the demo marketplaces charge
/// ([`ordersync_sdk::sim::DEMO_TAX_RATES`], the Sage simulator's list too) as `TAX001`… by
/// position, and one archived rate. An order at a rate not listed is refused by the sink
/// ("no Xero tax rate of …"), as with a real organisation: add it to that list (or map it in
/// the connection's `tax_types`).
pub fn default_tax_rates() -> Vec<TaxRate> {
    let d = |n: i64, s: u32| Decimal::new(n, s);
    let mut v = vec![
        rate("No VAT", "NONE", Decimal::ZERO, true, true),
        rate(
            "Zero Rated Income",
            "ZERORATEDOUTPUT",
            Decimal::ZERO,
            true,
            false,
        ),
        rate("20% (VAT on Income)", "OUTPUT2", d(20, 0), true, false),
        rate("5% (VAT on Income)", "RROUTPUT", d(5, 0), true, false),
        rate("20% (VAT on Expenses)", "INPUT2", d(20, 0), false, false),
    ];
    for (i, r) in ordersync_sdk::sim::DEMO_TAX_RATES.iter().enumerate() {
        v.push(rate(
            r.name,
            &format!("TAX{:03}", i + 1),
            r.percent(),
            true,
            false,
        ));
    }
    // Swiss VAT before 2011: kept by the organisation, no longer usable.
    let mut retired = rate("MWST 7.6% (retired)", "TAX900", d(76, 1), true, false);
    retired.status = "ARCHIVED".into();
    v.push(retired);
    v
}

/// Xero's standard chart (the codes the sink defaults to) plus the two liabilities it needs.
pub fn default_accounts() -> Vec<SimAccount> {
    vec![
        SimAccount {
            code: "200",
            name: "Sales",
            class: "REVENUE",
            kind: "REVENUE",
        },
        SimAccount {
            code: "260",
            name: "Other Revenue",
            class: "REVENUE",
            kind: "REVENUE",
        },
        SimAccount {
            code: "270",
            name: "Interest Income",
            class: "REVENUE",
            kind: "OTHERINCOME",
        },
        SimAccount {
            code: "835",
            name: "Gift Cards Outstanding",
            class: "LIABILITY",
            kind: "CURRLIAB",
        },
        SimAccount {
            code: "845",
            name: "Marketplace Tax Clearing",
            class: "LIABILITY",
            kind: "CURRLIAB",
        },
        SimAccount {
            code: "860",
            name: "Rounding",
            class: "REVENUE",
            kind: "OTHERINCOME",
        },
        SimAccount {
            code: "820",
            name: "VAT",
            class: "LIABILITY",
            kind: "CURRLIAB",
        },
    ]
}

/// The simulator's routes over fresh state.
pub fn router(opts: SimOptions, clock: Arc<dyn Clock>) -> Router {
    router_with_state(Arc::new(SimState::new(opts, clock)))
}

fn router_with_state(state: Arc<SimState>) -> Router {
    let api = Router::new()
        .route(
            "/api.xro/2.0/Contacts",
            get(api::list_contacts)
                .put(api::create_contacts)
                .post(api::update_contacts),
        )
        .route("/api.xro/2.0/Contacts/{id}", get(api::get_contact))
        .route(
            "/api.xro/2.0/Invoices",
            get(api::list_invoices)
                .put(api::create_invoices)
                .post(api::update_invoices),
        )
        .route(
            "/api.xro/2.0/Invoices/{id}",
            get(api::get_invoice).post(api::update_invoice),
        )
        .route(
            "/api.xro/2.0/CreditNotes",
            get(api::list_credit_notes).put(api::create_credit_notes),
        )
        .route(
            "/api.xro/2.0/CreditNotes/{id}/Allocations",
            put(api::allocate),
        )
        .route("/api.xro/2.0/TaxRates", get(api::tax_rates))
        .route("/api.xro/2.0/Accounts", get(api::accounts))
        .route("/api.xro/2.0/Currencies", get(api::currencies))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::gate,
        ));
    let identity = Router::new().route("/connect/token", post(auth::token));
    // Faults first (outermost), then auth, tenant and limits, as the real edge does.
    with_faults(api.merge(identity), state.clone())
        .route("/_sim/received", get(control::received))
        .route("/_sim/stats", get(control::stats))
        .route("/_sim/faults", post(set_faults_handler::<SimState>))
        .route("/_sim/reject", post(set_rejects_handler::<SimState>))
        .route("/_sim/expire_tokens", post(control::expire_tokens))
        .route("/_sim/reset", post(control::reset))
        .with_state(state)
}

/// Serves the simulator on an ephemeral loopback port.
pub async fn spawn(opts: SimOptions, clock: Arc<dyn Clock>) -> std::io::Result<SimServer> {
    SimServer::serve(router(opts, clock)).await
}

/// The currencies of the default organisation, as `GET /Currencies` lists them.
pub fn currency(code: &str) -> Currency {
    Currency {
        code: code.into(),
        description: code.into(),
    }
}
