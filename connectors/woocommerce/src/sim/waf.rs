//! "WAF mode": the pages hosts answer instead of WordPress, injected into a share of API
//! requests like the SDK's faults (`/_sim/faults` takes `"waf403"` and `"maintenance503"`
//! beside the SDK's kinds). Runs inside the SDK's fault layer, so every request is counted
//! once and a WAF page counts as an injected fault.

use super::{SimState, wp};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use ordersync_sdk::sim::{FaultConfig, FaultKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Blocked,
    Maintenance,
}

pub struct Waf(Mutex<(f64, Vec<Page>, StdRng)>);

impl Default for Waf {
    fn default() -> Self {
        Waf(Mutex::new((0.0, vec![], StdRng::seed_from_u64(11))))
    }
}

impl Waf {
    fn draw(&self) -> Option<Page> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (rate, pages, rng) = &mut *g;
        if pages.is_empty() || rate.is_nan() || *rate <= 0.0 || !rng.random_bool(rate.min(1.0)) {
            return None;
        }
        Some(pages[rng.random_range(0..pages.len())])
    }
}

pub async fn gate(State(s): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    match s.waf.draw() {
        None => next.run(req).await,
        Some(p) => {
            s.core.faults_injected.fetch_add(1, Ordering::Relaxed);
            match p {
                Page::Blocked => wp::waf_page(),
                Page::Maintenance => wp::maintenance_page(s.opts.maintenance_retry_after),
            }
        }
    }
}

/// `POST /_sim/faults {"rate", "kinds"}`: the SDK's kinds go to the SDK's layer, the WAF's
/// pages here; without `kinds`, every SDK kind and no page.
pub async fn set_faults(State(s): State<Arc<SimState>>, Json(v): Json<Value>) -> StatusCode {
    let rate = v.get("rate").and_then(Value::as_f64).unwrap_or(0.0);
    let mut sdk = Vec::new();
    let mut pages = Vec::new();
    let kinds = v.get("kinds").and_then(Value::as_array);
    for k in kinds.into_iter().flatten().filter_map(Value::as_str) {
        match k {
            "waf403" => pages.push(Page::Blocked),
            "maintenance503" => pages.push(Page::Maintenance),
            other => match serde_json::from_value::<FaultKind>(Value::String(other.into())) {
                Ok(f) => sdk.push(f),
                Err(_) => return StatusCode::UNPROCESSABLE_ENTITY,
            },
        }
    }
    let cfg = match kinds {
        None => FaultConfig {
            rate,
            ..FaultConfig::off()
        },
        Some(_) => FaultConfig { rate, kinds: sdk },
    };
    s.core.set_faults(cfg);
    let mut g = s.waf.0.lock().unwrap_or_else(|e| e.into_inner());
    g.0 = rate;
    g.1 = pages;
    StatusCode::NO_CONTENT
}
