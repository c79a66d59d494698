//! Shared pieces of the platform simulators (feature `sim`): fault injection, request stats,
//! deterministic fake buyers whose PII is recognisable in leak tests (emails end in
//! `@customer.test`, names start with `Canary`), and serving a router on loopback.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// What `/_sim/faults` injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    #[serde(rename = "429")]
    TooMany,
    #[serde(rename = "500")]
    ServerError,
    #[serde(rename = "timeout")]
    Timeout,
    #[serde(rename = "malformed")]
    Malformed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultConfig {
    pub rate: f64,
    #[serde(default = "all_kinds")]
    pub kinds: Vec<FaultKind>,
}

fn all_kinds() -> Vec<FaultKind> {
    vec![
        FaultKind::TooMany,
        FaultKind::ServerError,
        FaultKind::Timeout,
        FaultKind::Malformed,
    ]
}

/// Fault injection and counters shared by every simulator.
pub struct SimCore {
    faults: Mutex<(FaultConfig, rand::rngs::StdRng)>,
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub faults_injected: AtomicU64,
    pub counters: Mutex<BTreeMap<String, u64>>,
}

impl Default for SimCore {
    fn default() -> Self {
        Self {
            faults: Mutex::new((
                FaultConfig {
                    rate: 0.0,
                    kinds: all_kinds(),
                },
                rand::rngs::StdRng::seed_from_u64(7),
            )),
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            faults_injected: AtomicU64::new(0),
            counters: Mutex::new(BTreeMap::new()),
        }
    }
}

impl SimCore {
    pub fn set_faults(&self, cfg: FaultConfig) {
        self.faults.lock().unwrap_or_else(|e| e.into_inner()).0 = cfg;
    }

    /// Counts a request on `route` and decides whether to inject a fault into it.
    pub fn on_request(&self, route: &str) -> Option<FaultKind> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        *self
            .counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(route.to_string())
            .or_default() += 1;
        let mut g = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let (cfg, rng) = &mut *g;
        if cfg.rate <= 0.0 || cfg.kinds.is_empty() || !rng.random_bool(cfg.rate.clamp(0.0, 1.0)) {
            return None;
        }
        let k = cfg.kinds[rng.random_range(0..cfg.kinds.len())];
        self.faults_injected.fetch_add(1, Ordering::Relaxed);
        if k == FaultKind::TooMany {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
        Some(k)
    }

    pub fn stats(&self) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "throttled": self.throttled.load(Ordering::Relaxed),
            "faults_injected": self.faults_injected.load(Ordering::Relaxed),
            "by_route": *self.counters.lock().unwrap_or_else(|e| e.into_inner()),
        })
    }
}

/// The generic response for an injected fault. `Timeout` sleeps past any sane client timeout
/// budget for a short while, then answers 504, so clients see a slow failure.
pub async fn fault_response(kind: FaultKind) -> Response {
    match kind {
        FaultKind::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "Too Many Requests",
        )
            .into_response(),
        FaultKind::ServerError => {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
        FaultKind::Timeout => {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            (StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout").into_response()
        }
        FaultKind::Malformed => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"data\": {\"orders\": [",
        )
            .into_response(),
    }
}

/// `POST /_sim/faults` handler for any state that exposes its [`SimCore`].
pub async fn set_faults_handler<S: AsRef<SimCore>>(
    State(s): State<Arc<S>>,
    Json(cfg): Json<FaultConfig>,
) -> StatusCode {
    (*s).as_ref().set_faults(cfg);
    StatusCode::NO_CONTENT
}

/// A deterministic fake buyer. Every field is a canary.
#[derive(Debug, Clone)]
pub struct FakeBuyer {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub address1: String,
    pub city: String,
    pub zip: String,
    pub province_code: String,
    pub country_code: String,
}

pub fn fake_buyer(seed: u64, i: u64) -> FakeBuyer {
    const FIRST: [&str; 8] = ["Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"];
    const LAST: [&str; 6] = ["Lark", "Wren", "Finch", "Robin", "Swift", "Tern"];
    let mut r = rand::rngs::StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(i));
    let first = format!("Canary{}", FIRST[r.random_range(0..FIRST.len())]);
    let last = format!("Canary{}", LAST[r.random_range(0..LAST.len())]);
    FakeBuyer {
        email: format!(
            "{}.{}.{i}@customer.test",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        phone: format!("+1555{:07}", r.random_range(0..10_000_000u32)),
        address1: format!("{} Canary Street", r.random_range(1..999u32)),
        city: "Canaryville".into(),
        zip: format!("{:05}", r.random_range(10000..99999u32)),
        province_code: "CA".into(),
        country_code: "US".into(),
        first_name: first,
        last_name: last,
    }
}

/// A simulator served on an ephemeral loopback port. Dropping it stops the server.
pub struct SimServer {
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl SimServer {
    pub async fn serve(router: axum::Router) -> std::io::Result<Self> {
        Self::serve_on(router, 0).await
    }

    pub async fn serve_on(router: axum::Router, port: u16) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            base_url: format!("http://{addr}"),
            task,
        })
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_buyers_are_deterministic_canaries() {
        let a = fake_buyer(1, 5);
        assert_eq!(a.email, fake_buyer(1, 5).email);
        assert!(a.email.ends_with("@customer.test") && a.first_name.starts_with("Canary"));
        assert_ne!(a.email, fake_buyer(1, 6).email);
    }

    #[test]
    fn fault_rate_is_roughly_honoured() {
        let core = SimCore::default();
        core.set_faults(FaultConfig {
            rate: 0.2,
            kinds: vec![FaultKind::ServerError],
        });
        let n = (0..10_000)
            .filter(|_| core.on_request("x").is_some())
            .count();
        assert!((1500..2500).contains(&n), "{n}");
        assert_eq!(core.requests.load(Ordering::Relaxed), 10_000);
    }
}
