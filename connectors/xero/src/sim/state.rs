//! Simulator state: one book per tenant (contacts, invoices, credit notes, idempotency
//! answers, limit windows), the OAuth token book, and the shared fault/stats core.

use super::SimOptions;
use super::books::Tenant;
use super::books::Window;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{FaultAnswers, Rotation, SimCore, TokenBook, TokenPolicy};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// Xero's access tokens live 30 minutes; a used refresh token 30 more; an unused one 60 days.
pub const ACCESS_TTL: i64 = 1800;
pub const REFRESH_GRACE: i64 = 1800;
pub const REFRESH_TTL: i64 = 60 * 86_400;

pub struct Data {
    pub tenants: HashMap<String, Tenant>,
    pub tokens: TokenBook,
    /// Configured first refresh tokens → when first used.
    pub seeds: HashMap<String, Option<i64>>,
    /// Access tokens that made at least one API call.
    pub used_tokens: HashSet<String>,
    pub refreshes: u64,
    pub app_minute: Window,
    pub next_id: u64,
}

pub struct SimState {
    pub core: SimCore,
    pub opts: SimOptions,
    pub clock: Arc<dyn Clock>,
    data: Mutex<Data>,
}

impl AsRef<SimCore> for SimState {
    fn as_ref(&self) -> &SimCore {
        &self.core
    }
}

/// Xero's own 429 for injected ones (a minute problem, retry in a second).
impl FaultAnswers for SimState {
    fn too_many(&self) -> Response {
        too_many("minute", 1)
    }
}

pub fn too_many(problem: &str, retry_after: u64) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        [("content-type", "application/json")],
        format!(
            r#"{{"Title":"Too Many Requests","Status":429,"Detail":"Rate limit exceeded: {problem}"}}"#
        ),
    )
        .into_response();
    let h = r.headers_mut();
    h.insert("retry-after", HeaderValue::from(retry_after));
    if let Ok(v) = HeaderValue::from_str(problem) {
        h.insert("x-rate-limit-problem", v);
    }
    r
}

impl SimState {
    pub fn new(opts: SimOptions, clock: Arc<dyn Clock>) -> Self {
        let data = Mutex::new(Self::fresh(&opts));
        Self {
            core: SimCore::default(),
            opts,
            clock,
            data,
        }
    }

    fn fresh(opts: &SimOptions) -> Data {
        Data {
            tenants: opts
                .tenants
                .iter()
                .map(|t| (t.clone(), Tenant::new(opts)))
                .collect(),
            tokens: TokenBook::new(TokenPolicy {
                access_prefix: "xat_",
                refresh_prefix: "xrt_",
                access_ttl_secs: ACCESS_TTL,
                refresh_ttl_secs: Some(REFRESH_TTL),
                rotation: Rotation::Grace(REFRESH_GRACE),
            }),
            seeds: opts
                .refresh_tokens
                .iter()
                .map(|t| (t.clone(), None))
                .collect(),
            used_tokens: HashSet::new(),
            refreshes: 0,
            app_minute: Window::new(opts.app_per_minute, 60),
            next_id: 0,
        }
    }

    pub fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn now_secs(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// `/_sim/reset`: empty organisations, fresh tokens and windows, counters at zero.
    pub fn reset(&self) {
        *self.data() = Self::fresh(&self.opts);
        self.core.reset();
    }
}

impl Data {
    /// A fresh id in UUID form (the spec's `format: uuid`), distinct per kind.
    pub fn id(&mut self, kind: u32) -> String {
        self.next_id += 1;
        format!("{kind:08x}-0000-4000-8000-{:012x}", self.next_id)
    }
}
