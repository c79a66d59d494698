//! Rate budgets shared by every process of the fleet.
//!
//! A platform's limit holds for all our workers together (ShipStation's 200 requests a minute
//! per API key, Xero's 10,000 a minute per app), so a limit is a token bucket in a
//! [`FleetBudget`] that every process takes from: the service's is a database row per key, the
//! in-process [`LocalBudget`] serves tools, connector tests and a single process.
//!
//! A connection's gate ([`crate::http::RateGate::shared`]) holds one [`FleetLimit`] per limit.
//! It takes tokens in small chunks (about as many as callers are waiting, never more than a
//! quarter of the burst), so a killed worker wastes few and the others are not starved, and it
//! drops what it could not spend within [`LOCAL_HOLD`].
//!
//! Keys never hold a secret: [`budget_key`] hashes the API key, tenant or app id.

use crate::clock::Clock;
use crate::error::ConnectorError;
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// What one [`FleetBudget::take`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Tokens granted (at most the `want` asked for).
    pub granted: u32,
    /// With nothing granted: how long until a token is there.
    pub retry_in: Duration,
}

/// Token buckets shared by every process; a bucket is created full on first use of its key.
#[async_trait]
pub trait FleetBudget: Send + Sync + 'static {
    /// Takes up to `want` whole tokens of bucket `key` (refilled at `rate_per_sec`, holding at
    /// most `burst`).
    async fn take(
        &self,
        key: &str,
        rate_per_sec: f64,
        burst: f64,
        want: u32,
    ) -> Result<Grant, ConnectorError>;
}

/// A bucket after one take ([`spend`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spent {
    pub granted: u32,
    /// Tokens left (never negative: only whole tokens that are there are granted).
    pub tokens: f64,
    pub retry_in: Duration,
}

fn sane_rate(rate: f64) -> f64 {
    if rate.is_finite() && rate > 0.0 {
        rate.clamp(crate::bucket::MIN_RATE, crate::bucket::MAX_RATE)
    } else {
        crate::bucket::MIN_RATE
    }
}

fn sane_burst(burst: f64) -> f64 {
    if burst.is_finite() {
        burst.max(1.0)
    } else {
        1.0
    }
}

/// The bucket arithmetic every [`FleetBudget`] shares: refill `tokens` by `elapsed_secs` ×
/// rate (a clock that went back refills nothing), cap at the burst, grant
/// min(want, whole tokens).
pub fn spend(tokens: f64, elapsed_secs: f64, rate_per_sec: f64, burst: f64, want: u32) -> Spent {
    let (rate, burst) = (sane_rate(rate_per_sec), sane_burst(burst));
    let dt = if elapsed_secs.is_finite() {
        elapsed_secs.max(0.0)
    } else {
        0.0
    };
    let tokens = if tokens.is_finite() { tokens } else { 0.0 };
    let tokens = (tokens + dt * rate).min(burst);
    let granted = f64::from(want).min(tokens.floor()).max(0.0) as u32;
    let left = tokens - f64::from(granted);
    let retry_in = if granted == 0 && want > 0 {
        Duration::from_secs_f64(((1.0 - left) / rate).clamp(0.001, 86_400.0))
    } else {
        Duration::ZERO
    };
    Spent {
        granted,
        tokens: left,
        retry_in,
    }
}

/// `<kind>:<scope>:<16 hex chars of sha256>` of an id that may be secret (an API key) or
/// identifying (a tenant id): the key can be stored and logged, the id cannot be read back.
pub fn budget_key(kind: &str, scope: &str, id: &str) -> String {
    let digest = Sha256::digest(format!("{kind}\n{scope}\n{id}").as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{kind}:{scope}:{hex}")
}

/// Buckets in this process only, on the injected clock: the default of
/// [`ConnectorDeps`](crate::ConnectorDeps) (one process is the whole fleet).
pub struct LocalBudget {
    clock: Arc<dyn Clock>,
    buckets: Mutex<HashMap<String, (f64, OffsetDateTime)>>,
}

impl LocalBudget {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            buckets: Mutex::default(),
        }
    }

    /// Tokens bucket `key` holds as of its last take (`None`: never taken from).
    pub fn tokens(&self, key: &str) -> Option<f64> {
        let b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        b.get(key).map(|(t, _)| *t)
    }

    /// [`FleetBudget::take`] without the `async`.
    pub fn take_now(&self, key: &str, rate_per_sec: f64, burst: f64, want: u32) -> Grant {
        let now = self.clock.now();
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, at) = b
            .entry(key.to_string())
            .or_insert_with(|| (sane_burst(burst), now));
        let s = spend(
            *tokens,
            (now - *at).as_seconds_f64(),
            rate_per_sec,
            burst,
            want,
        );
        *tokens = s.tokens;
        *at = (*at).max(now);
        Grant {
            granted: s.granted,
            retry_in: s.retry_in,
        }
    }
}

#[async_trait]
impl FleetBudget for LocalBudget {
    async fn take(
        &self,
        key: &str,
        rate_per_sec: f64,
        burst: f64,
        want: u32,
    ) -> Result<Grant, ConnectorError> {
        Ok(self.take_now(key, rate_per_sec, burst, want))
    }
}

/// How long tokens taken from the fleet may wait here to be spent: a token spent much later
/// than it was granted would count against a later window of the platform's.
pub const LOCAL_HOLD: Duration = Duration::from_secs(1);
/// Longest single wait for the fleet's tokens: a clock that jumps ahead (tests, the demo) is
/// noticed this soon.
const MAX_STEP: Duration = Duration::from_millis(250);
/// With the budget unreachable, each process assumes it is one of this many.
pub const ASSUMED_FLEET: f64 = 4.0;
/// A chunk covers about this much of the rate, so a fast limit costs one take per chunk
/// rather than per request.
const CHUNK_SPAN_SECS: f64 = 0.05;
/// Most tokens one take asks for.
const MAX_CHUNK: u32 = 100;

#[derive(Debug, Default)]
struct Local {
    tokens: u32,
    until: Option<tokio::time::Instant>,
}

/// One platform limit as a gate spends it: a key in a [`FleetBudget`], tokens taken from it a
/// few at a time. Share one `Arc` between every gate of the process that counts against the
/// same limit (Xero's app-wide minute), so their chunks are pooled.
pub struct FleetLimit {
    budgets: Arc<dyn FleetBudget>,
    key: String,
    rate: f64,
    burst: f64,
    chunk: u32,
    local: Mutex<Local>,
    waiting: AtomicU32,
    /// One take at a time per limit and process: waiters queue here (fairly) instead of
    /// all asking the budget.
    fetch: tokio::sync::Mutex<()>,
    warned: AtomicBool,
}

impl std::fmt::Debug for FleetLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetLimit")
            .field("key", &self.key)
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

/// Counts a caller as waiting until it leaves, also when its future is dropped.
struct Waiting<'a>(&'a AtomicU32);

impl<'a> Waiting<'a> {
    fn enter(n: &'a AtomicU32) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Self(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FleetLimit {
    /// `key` from [`budget_key`]; `rate_per_sec` and `burst` describe the whole fleet's bucket.
    pub fn new(budgets: Arc<dyn FleetBudget>, key: String, rate_per_sec: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            budgets,
            key,
            rate: sane_rate(rate_per_sec),
            burst,
            chunk: ((burst / 4.0).floor() as u32).clamp(1, MAX_CHUNK),
            local: Mutex::default(),
            waiting: AtomicU32::new(0),
            fetch: tokio::sync::Mutex::new(()),
            warned: AtomicBool::new(false),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Requests per second of the whole fleet.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn try_local(&self) -> bool {
        let mut l = self.local.lock().unwrap_or_else(|e| e.into_inner());
        if l.until.is_some_and(|u| u <= tokio::time::Instant::now()) {
            *l = Local::default();
        }
        if l.tokens > 0 {
            l.tokens -= 1;
            true
        } else {
            false
        }
    }

    fn keep(&self, n: u32) {
        let mut l = self.local.lock().unwrap_or_else(|e| e.into_inner());
        l.tokens = l.tokens.saturating_add(n);
        l.until = Some(tokio::time::Instant::now() + LOCAL_HOLD);
    }

    /// What one take asks for: the callers waiting, or what the rate spends in a moment,
    /// within the chunk.
    fn want(&self) -> u32 {
        let waiting = self.waiting.load(Ordering::SeqCst);
        let span = (self.rate * CHUNK_SPAN_SECS).ceil() as u32;
        waiting.max(span).clamp(1, self.chunk)
    }

    /// Waits until one request may go out and takes its token. Never waits forever: with the
    /// budget failing, it paces this process at 1/[`ASSUMED_FLEET`] of the rate.
    pub async fn acquire(&self) {
        let _waiting = Waiting::enter(&self.waiting);
        loop {
            if self.try_local() {
                return;
            }
            let _turn = self.fetch.lock().await;
            if self.try_local() {
                return;
            }
            match self
                .budgets
                .take(&self.key, self.rate, self.burst, self.want())
                .await
            {
                Ok(g) if g.granted > 0 => {
                    self.warned.store(false, Ordering::Relaxed);
                    self.keep(g.granted - 1);
                    return;
                }
                // Holding the turn: the others of this process wait behind, not at the budget.
                Ok(g) => {
                    tokio::time::sleep(g.retry_in.clamp(Duration::from_millis(1), MAX_STEP)).await
                }
                Err(e) => {
                    if !self.warned.swap(true, Ordering::Relaxed) {
                        tracing::warn!(budget = %self.key, error = %e, "Fleet rate budget unavailable; pacing this process at a fraction of the limit.");
                    }
                    let pace = (ASSUMED_FLEET / self.rate).min(60.0);
                    tokio::time::sleep(Duration::from_secs_f64(pace)).await;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn spend_refills_caps_and_grants_whole_tokens() {
        let s = spend(0.5, 1.0, 2.0, 10.0, 5);
        assert_eq!(s.granted, 2);
        assert!((s.tokens - 0.5).abs() < 1e-9);
        let capped = spend(9.0, 3600.0, 2.0, 10.0, 20);
        assert_eq!(capped.granted, 10, "never more than the burst");
        assert_eq!(capped.tokens, 0.0);
        let none = spend(0.25, 0.0, 0.5, 10.0, 1);
        assert_eq!(none.granted, 0);
        assert_eq!(none.retry_in, Duration::from_millis(1500));
        let back = spend(0.0, -30.0, 1.0, 10.0, 1);
        assert_eq!(back.granted, 0, "a clock that went back refills nothing");
        for bad in [f64::NAN, -1.0, 0.0, f64::INFINITY] {
            let s = spend(1.0, 1.0, bad, bad, 1);
            assert!(s.tokens >= 0.0 && s.granted <= 1, "{bad}: {s:?}");
        }
    }

    #[test]
    fn keys_name_the_limit_not_the_secret() {
        let k = budget_key("shipstation", "v2", "TEST_secret_api_key");
        assert!(k.starts_with("shipstation:v2:"), "{k}");
        assert_eq!(k.len(), "shipstation:v2:".len() + 16);
        assert!(!k.contains("secret"));
        assert_eq!(k, budget_key("shipstation", "v2", "TEST_secret_api_key"));
        assert_ne!(k, budget_key("shipstation", "v1", "TEST_secret_api_key"));
    }

    #[test]
    fn local_budget_starts_full_and_refills_on_its_clock() {
        let clock = Arc::new(ManualClock::new());
        let b = LocalBudget::new(clock.clone());
        assert_eq!(b.take_now("k", 1.0, 5.0, 3).granted, 3);
        assert_eq!(b.take_now("k", 1.0, 5.0, 3).granted, 2);
        let g = b.take_now("k", 1.0, 5.0, 3);
        assert_eq!(g.granted, 0);
        assert!(g.retry_in <= Duration::from_secs(1), "{g:?}");
        clock.advance(time::Duration::seconds(2));
        assert_eq!(b.take_now("k", 1.0, 5.0, 3).granted, 2);
        assert_eq!(b.take_now("other", 1.0, 5.0, 9).granted, 5, "keys apart");
        assert!(b.tokens("k").unwrap() >= 0.0);
    }

    /// Time of a paused tokio runtime, so budget refills and gate sleeps share one clock.
    struct TokioClock(tokio::time::Instant);

    impl Clock for TokioClock {
        fn now(&self) -> OffsetDateTime {
            OffsetDateTime::UNIX_EPOCH
                + time::Duration::try_from(self.0.elapsed()).unwrap_or(time::Duration::ZERO)
        }
    }

    /// A budget that counts takes and the tokens it handed out (or fails every take).
    struct Counting {
        inner: LocalBudget,
        takes: AtomicU32,
        granted: AtomicU32,
        biggest: AtomicU32,
        fail: bool,
    }

    impl Counting {
        fn new(fail: bool) -> Arc<Self> {
            Arc::new(Self {
                inner: LocalBudget::new(Arc::new(TokioClock(tokio::time::Instant::now()))),
                takes: AtomicU32::new(0),
                granted: AtomicU32::new(0),
                biggest: AtomicU32::new(0),
                fail,
            })
        }
    }

    #[async_trait]
    impl FleetBudget for Counting {
        async fn take(
            &self,
            key: &str,
            rate_per_sec: f64,
            burst: f64,
            want: u32,
        ) -> Result<Grant, ConnectorError> {
            self.takes.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err(ConnectorError::retriable("database unavailable"));
            }
            self.biggest.fetch_max(want, Ordering::SeqCst);
            let g = self.inner.take_now(key, rate_per_sec, burst, want);
            self.granted.fetch_add(g.granted, Ordering::SeqCst);
            Ok(g)
        }
    }

    /// Two workers' gates on one budget: `calls` requests each, `tasks` at a time; returns
    /// when each worker's last request went out (seconds since the start).
    async fn two_workers(
        budget: Arc<Counting>,
        rate: f64,
        burst: u32,
        tasks: usize,
        calls: usize,
    ) -> [f64; 2] {
        use crate::http::RateGate;
        let dyn_budget: Arc<dyn FleetBudget> = budget;
        let start = tokio::time::Instant::now();
        let worker = |gate: Arc<RateGate>| async move {
            let per_task = calls / tasks;
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..tasks {
                let g = gate.clone();
                set.spawn(async move {
                    for _ in 0..per_task {
                        g.ready().await;
                    }
                });
            }
            set.join_all().await;
            start.elapsed().as_secs_f64()
        };
        let key = budget_key("test", "limit", "api-key");
        let a = Arc::new(RateGate::shared(&dyn_budget, key.clone(), rate, burst));
        let b = Arc::new(RateGate::shared(&dyn_budget, key, rate, burst));
        let (ta, tb) = tokio::join!(worker(a), worker(b));
        [ta, tb]
    }

    #[tokio::test(start_paused = true)]
    async fn two_gates_share_one_limit_in_small_chunks() {
        let budget = Counting::new(false);
        // 200 requests at 10/s with a burst of 20: the fleet needs (200 - 20) / 10 = 18 s.
        let done = two_workers(budget.clone(), 10.0, 20, 4, 100).await;
        let slowest = done[0].max(done[1]);
        assert!(slowest >= 17.9, "together within the limit: {done:?}");
        assert!(slowest < 19.5, "and not much slower: {done:?}");
        // Neither worker starves the other: the first done needed most of the time too.
        assert!(done[0].min(done[1]) > slowest * 0.66, "{done:?}");
        let (takes, granted) = (
            budget.takes.load(Ordering::SeqCst),
            budget.granted.load(Ordering::SeqCst),
        );
        assert!((200..=200 + 2 * 5).contains(&granted), "{granted}");
        assert!(
            budget.biggest.load(Ordering::SeqCst) <= 5,
            "a take asks for a quarter of the burst at most"
        );
        // No busy polling: while starved, each worker asks about once per token interval
        // (18 s × 10/s × 2 workers), plus the takes that got tokens.
        assert!(takes <= 600, "{takes} takes for 200 requests");
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_limit_takes_chunks_not_a_token_per_request() {
        let budget = Counting::new(false);
        let done = two_workers(budget.clone(), 10_000.0, 10_000, 2, 2000).await;
        let takes = budget.takes.load(Ordering::SeqCst);
        assert!(takes <= 4000 / 100 + 10, "{takes} takes for 4000 requests");
        assert!(done[0] < 1.0 && done[1] < 1.0, "{done:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_not_spent_soon_are_dropped() {
        let budget = Counting::new(false);
        let dyn_budget: Arc<dyn FleetBudget> = budget.clone();
        let limit = FleetLimit::new(dyn_budget, "k".into(), 10_000.0, 1000);
        limit.acquire().await;
        assert_eq!(budget.takes.load(Ordering::SeqCst), 1);
        limit.acquire().await;
        assert_eq!(
            budget.takes.load(Ordering::SeqCst),
            1,
            "spent from the chunk"
        );
        tokio::time::sleep(LOCAL_HOLD + Duration::from_millis(1)).await;
        limit.acquire().await;
        assert_eq!(
            budget.takes.load(Ordering::SeqCst),
            2,
            "the held rest expired"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_budget_paces_at_a_fraction_and_never_blocks() {
        let budget = Counting::new(true);
        let done = two_workers(budget.clone(), 2.0, 10, 1, 10).await;
        // 10 requests per worker at 2/s ÷ 4 = 0.5/s each: 20 s, not forever.
        for d in done {
            assert!((19.9..21.0).contains(&d), "{done:?}");
        }
    }
}
