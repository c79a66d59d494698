//! The shared outbound HTTP client.
//!
//! One [`HttpClient`] per process (connection pool, rustls, timeouts). Each connection gets an
//! [`Endpoint`]: the client plus its own [`RateGate`] (governor quota + pauses learned from the
//! platform's rate headers) and a backon retry policy for retriable error classes that honours
//! `Retry-After`. Logs carry connector, method, host, route template, status and duration —
//! never bodies, query values or auth headers.
//!
//! Merchant-supplied URLs are attacker input: the client applies the SSRF policy ([`crate::net`])
//! to resolved addresses (see [`crate::dns`]) and to IP literals, follows no redirects and caps
//! every body it reads.

use crate::budget::{FleetBudget, FleetLimit};
use crate::dns::PolicyResolver;
pub use crate::dns::{Lookup, StaticLookup, SystemLookup};
use crate::error::ConnectorError;
use crate::net;
use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default cap on a response body. Platform pages are a few MiB at most; bigger downloads
/// (Shopify bulk-operation results) read with an explicit limit ([`read_body_limited`]).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Error bodies are only read for classification; the rest is dropped unread.
const MAX_ERROR_BODY_BYTES: u64 = 1024 * 1024;

/// How the process talks to platforms. [`Default`] is the production setting: strict.
#[derive(Clone)]
pub struct HttpOptions {
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Allow `http://` and loopback/private/link-local addresses (tests, the demo's
    /// simulators). Never in production: merchant-supplied URLs would reach internal services.
    pub allow_private_endpoints: bool,
    /// Cap on a response body read through this SDK ([`success_body`], [`read_json`]).
    pub max_body_bytes: u64,
    pub lookup: Arc<dyn Lookup>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            allow_private_endpoints: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            lookup: Arc::new(SystemLookup),
        }
    }
}

impl HttpOptions {
    /// Permissive: for tests and the demo, whose simulators listen on 127.0.0.1.
    pub fn for_simulators() -> Self {
        Self {
            allow_private_endpoints: true,
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("allow_private_endpoints", &self.allow_private_endpoints)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// Process-wide HTTP client. Cheap to clone.
///
/// Never follows redirects (a redirect could lead to an internal address and would carry the
/// platform's auth headers along); resolves hostnames through the SSRF policy unless
/// `allow_private_endpoints`. IP-literal URLs skip resolvers, so [`Endpoint::call`] checks those
/// before sending: go through it rather than `reqwest().send()`.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    allow_private: bool,
    max_body_bytes: u64,
}

impl HttpClient {
    pub fn new(opts: HttpOptions) -> Result<Self, ConnectorError> {
        let resolver = PolicyResolver::new(opts.lookup.clone(), opts.allow_private_endpoints);
        let inner = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout)
            .pool_max_idle_per_host(32)
            .user_agent(concat!("ordersync/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself and hide the real destination from the
            // policy; egress proxies are a deployment choice the policy cannot see through.
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .build()
            .map_err(|_| ConnectorError::permanent("cannot build HTTP client"))?;
        Ok(Self {
            inner,
            allow_private: opts.allow_private_endpoints,
            max_body_bytes: opts.max_body_bytes,
        })
    }

    /// The permissive client of tests against loopback simulators.
    pub fn for_simulators() -> Self {
        Self::new(HttpOptions::for_simulators()).expect("simulator HTTP client")
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    pub fn allows_private_endpoints(&self) -> bool {
        self.allow_private
    }

    pub fn max_body_bytes(&self) -> u64 {
        self.max_body_bytes
    }
}

impl Default for HttpClient {
    /// Strict (production) settings.
    fn default() -> Self {
        Self::new(HttpOptions::default()).expect("default HTTP client")
    }
}

/// The body cap [`Endpoint::call`] attaches to each response it hands out.
#[derive(Debug, Clone, Copy)]
struct BodyLimit(u64);

/// Proactive limit (governor, or budgets shared by the fleet) plus reactive pauses from the
/// platform's own signals.
#[derive(Debug)]
pub struct RateGate {
    limiter: Option<DefaultDirectRateLimiter>,
    /// Limits every process counts against together ([`crate::budget`]).
    fleet: Vec<Arc<FleetLimit>>,
    paused_until: Mutex<Option<Instant>>,
}

impl RateGate {
    pub fn unlimited() -> Self {
        Self {
            limiter: None,
            fleet: Vec::new(),
            paused_until: Mutex::new(None),
        }
    }

    /// A limit the whole fleet shares: bucket `key` ([`crate::budget::budget_key`]) of the
    /// budgets, refilled at `rate_per_sec`, holding `burst`.
    pub fn shared(
        budgets: &Arc<dyn FleetBudget>,
        key: String,
        rate_per_sec: f64,
        burst: u32,
    ) -> Self {
        Self::fleet(vec![Arc::new(FleetLimit::new(
            budgets.clone(),
            key,
            rate_per_sec,
            burst,
        ))])
    }

    /// Every request takes a token of each limit, in order (put the scarcest first: its
    /// wait is the long one, and the others' tokens are then spent at once).
    pub fn fleet(limits: Vec<Arc<FleetLimit>>) -> Self {
        Self {
            limiter: None,
            fleet: limits,
            paused_until: Mutex::new(None),
        }
    }

    /// `per_minute` requests a minute, bursts of up to `burst`.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        let q = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Some(RateLimiter::direct(q)),
            fleet: Vec::new(),
            paused_until: Mutex::new(None),
        }
    }

    pub fn per_second(per_second: u32, burst: u32) -> Self {
        let q = Quota::per_second(NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Some(RateLimiter::direct(q)),
            fleet: Vec::new(),
            paused_until: Mutex::new(None),
        }
    }

    /// Waits until a request may go out.
    pub async fn ready(&self) {
        self.wait_pause().await;
        if let Some(l) = &self.limiter {
            l.until_ready().await;
        }
        for l in &self.fleet {
            l.acquire().await;
        }
        if !self.fleet.is_empty() {
            // A 429 seen while this request waited for its tokens holds it too.
            self.wait_pause().await;
        }
    }

    async fn wait_pause(&self) {
        loop {
            let wait = {
                let p = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
                p.and_then(|t| t.checked_duration_since(Instant::now()))
            };
            match wait {
                Some(d) if !d.is_zero() => tokio::time::sleep(d).await,
                _ => break,
            }
        }
    }

    /// The platform said "slow down" (`Retry-After`, remaining quota 0, cost bucket low):
    /// every request of this connection waits at least `d`.
    pub fn pause_for(&self, d: Duration) {
        let until = Instant::now() + d.min(Duration::from_secs(600));
        let mut p = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if p.is_none_or(|cur| cur < until) {
            *p = Some(until);
        }
    }
}

/// How retriable errors are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// One connection's view of a platform API.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub client: HttpClient,
    pub gate: Arc<RateGate>,
    pub connector: &'static str,
    pub retry: RetryPolicy,
}

impl Endpoint {
    pub fn new(client: HttpClient, connector: &'static str, gate: RateGate) -> Self {
        Self {
            client,
            gate: Arc::new(gate),
            connector,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sends a request built by `build` (called again on each attempt), and hands the response
    /// to `handle`, which classifies it. Retriable classes are retried with jittered
    /// exponential backoff, waiting at least as long as the platform's `Retry-After`.
    /// `route` is a template (`/admin/api/{version}/graphql.json`) used for logs and metrics.
    pub async fn call<T, B, H, Fut>(
        &self,
        route: &'static str,
        build: B,
        handle: H,
    ) -> Result<T, ConnectorError>
    where
        B: Fn() -> reqwest::RequestBuilder,
        H: Fn(reqwest::Response) -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let attempt = || async {
            self.gate.ready().await;
            let req = build()
                .build()
                .map_err(|_| ConnectorError::permanent("cannot build request"))?;
            // Hostnames are checked again on their resolved addresses; IP literals and the
            // scheme only here, because hyper does not resolve literals.
            net::check_parsed(req.url(), self.client.allow_private)
                .map_err(|_| ConnectorError::permanent("endpoint refused by network policy"))?;
            let method = req.method().clone();
            let host = req.url().host_str().unwrap_or("").to_string();
            let started = Instant::now();
            let res = self.client.inner.execute(req).await;
            let elapsed_ms = started.elapsed().as_millis() as u64;
            match res {
                Err(e) => {
                    let err = ConnectorError::from_transport(&e);
                    tracing::debug!(connector = self.connector, %method, host, route, elapsed_ms, error = %err, "HTTP request failed.");
                    metrics::counter!("ordersync_http_requests_total", "connector" => self.connector, "status" => "error").increment(1);
                    Err(err)
                }
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    tracing::debug!(connector = self.connector, %method, host, route, status, elapsed_ms, "HTTP request.");
                    metrics::counter!("ordersync_http_requests_total", "connector" => self.connector, "status" => status_class(status)).increment(1);
                    if status == 429 {
                        metrics::counter!("ordersync_http_429_total", "connector" => self.connector).increment(1);
                    }
                    if is_redirect(status) {
                        // Permanent: the URL the merchant gave is not where the API answers;
                        // retrying would only repeat the same answer.
                        return Err(ConnectorError::permanent(REDIRECT));
                    }
                    resp.extensions_mut()
                        .insert(BodyLimit(self.client.max_body_bytes));
                    let out = handle(resp).await;
                    if let Err(e) = &out
                        && let Some(d) = e.retry_after()
                    {
                        self.gate.pause_for(d);
                    }
                    out
                }
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.max_attempts.saturating_sub(1))
            .with_jitter();
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &ConnectorError| e.is_retriable())
            .adjust(|e: &ConnectorError, d| d.map(|d| e.retry_after().map_or(d, |ra| ra.max(d))))
            .notify(|e: &ConnectorError, d| {
                tracing::debug!(
                    connector = self.connector,
                    route,
                    class = e.class().as_str(),
                    delay_ms = d.as_millis() as u64,
                    "Retrying."
                );
            })
            .await
    }
}

fn status_class(s: u16) -> &'static str {
    match s {
        200..=299 => "2xx",
        300..=399 => "3xx",
        429 => "429",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

const REDIRECT: &str = "endpoint answered a redirect, which is not followed";

/// 3xx except 304 (a conditional request's "unchanged", not a move).
fn is_redirect(status: u16) -> bool {
    (300..400).contains(&status) && status != 304
}

fn limit_of(resp: &reqwest::Response) -> u64 {
    resp.extensions()
        .get::<BodyLimit>()
        .map_or(DEFAULT_MAX_BODY_BYTES, |l| l.0)
}

/// The body of a 2xx answer; any other status goes through the connector's own
/// `parse_error(status, headers, body)`, the one place it classifies platform errors. The body
/// is capped at the client's `max_body_bytes`; a redirect is a permanent error.
pub async fn success_body(
    resp: reqwest::Response,
    parse_error: impl FnOnce(u16, &http::HeaderMap, &[u8]) -> ConnectorError,
) -> Result<bytes::Bytes, ConnectorError> {
    let limit = limit_of(&resp);
    success_body_limited(resp, limit, parse_error).await
}

/// [`success_body`] with an explicit cap (large downloads).
pub async fn success_body_limited(
    resp: reqwest::Response,
    limit: u64,
    parse_error: impl FnOnce(u16, &http::HeaderMap, &[u8]) -> ConnectorError,
) -> Result<bytes::Bytes, ConnectorError> {
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return read_body_limited(resp, limit).await;
    }
    if is_redirect(status) {
        return Err(ConnectorError::permanent(REDIRECT));
    }
    let headers = resp.headers().clone();
    let body = read_prefix(resp, limit.min(MAX_ERROR_BODY_BYTES)).await?;
    Err(parse_error(status, &headers, &body))
}

/// Reads a whole body, refusing it (permanent error) as soon as it would exceed `limit` bytes:
/// up front from `Content-Length`, else while streaming, so an endless body costs at most
/// `limit` bytes of memory. Dropping the response closes the connection.
pub async fn read_body_limited(
    mut resp: reqwest::Response,
    limit: u64,
) -> Result<bytes::Bytes, ConnectorError> {
    let too_big = || ConnectorError::permanent("response body exceeds the size limit");
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_big());
    }
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut buf = bytes::BytesMut::with_capacity(
        resp.content_length()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
            .min(cap),
    );
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ConnectorError::from_transport(&e))?
    {
        if buf.len().checked_add(chunk.len()).is_none_or(|n| n > cap) {
            return Err(too_big());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The first `limit` bytes of a body (error bodies: enough to classify, the rest unread).
async fn read_prefix(mut resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, ConnectorError> {
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut buf = Vec::new();
    while buf.len() < cap {
        let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| ConnectorError::from_transport(&e))?
        else {
            break;
        };
        let take = chunk.len().min(cap - buf.len());
        buf.extend_from_slice(&chunk[..take]);
    }
    Ok(buf)
}

/// Reads a JSON body (capped like [`success_body`]), mapping an unreadable or malformed body to
/// a classified error (never a panic). The message names the type, not the content.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
) -> Result<T, ConnectorError> {
    let limit = limit_of(&resp);
    let bytes = read_body_limited(resp, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ConnectorError::permanent(format!(
            "malformed response body ({} at line {} column {})",
            classify_json_error(&e),
            e.line(),
            e.column()
        ))
    })
}

fn classify_json_error(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "unexpected shape",
        serde_json::error::Category::Eof => "truncated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pause_delays_the_next_request() {
        let g = RateGate::unlimited();
        g.pause_for(Duration::from_millis(50));
        let t = Instant::now();
        g.ready().await;
        assert!(t.elapsed() >= Duration::from_millis(45));
    }

    #[test]
    fn json_errors_do_not_echo_the_body() {
        let e: serde_json::Error =
            serde_json::from_str::<serde_json::Value>("{\"email\":\"canary@customer.test\"")
                .unwrap_err();
        assert_eq!(classify_json_error(&e), "truncated");
    }
}
