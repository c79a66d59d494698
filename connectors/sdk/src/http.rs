//! The shared outbound HTTP client.
//!
//! One [`HttpClient`] per process (connection pool, rustls, timeouts). Each connection gets an
//! [`Endpoint`]: the client plus its own [`RateGate`] (governor quota + pauses learned from the
//! platform's rate headers) and a backon retry policy for retriable error classes that honours
//! `Retry-After`. Logs carry connector, method, host, route template, status and duration —
//! never bodies, query values or auth headers.

use crate::error::ConnectorError;
use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Process-wide HTTP client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> Result<Self, ConnectorError> {
        let inner = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(32)
            .user_agent(concat!("ordersync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| ConnectorError::permanent("cannot build HTTP client"))?;
        Ok(Self { inner })
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new(Duration::from_secs(30)).expect("default HTTP client")
    }
}

/// Proactive limit (governor) plus reactive pauses from the platform's own signals.
#[derive(Debug)]
pub struct RateGate {
    limiter: Option<DefaultDirectRateLimiter>,
    paused_until: Mutex<Option<Instant>>,
}

impl RateGate {
    pub fn unlimited() -> Self {
        Self {
            limiter: None,
            paused_until: Mutex::new(None),
        }
    }

    /// `per_minute` requests a minute, bursts of up to `burst`.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        let q = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Some(RateLimiter::direct(q)),
            paused_until: Mutex::new(None),
        }
    }

    pub fn per_second(per_second: u32, burst: u32) -> Self {
        let q = Quota::per_second(NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Some(RateLimiter::direct(q)),
            paused_until: Mutex::new(None),
        }
    }

    /// Waits until a request may go out.
    pub async fn ready(&self) {
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
        if let Some(l) = &self.limiter {
            l.until_ready().await;
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
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    tracing::debug!(connector = self.connector, %method, host, route, status, elapsed_ms, "HTTP request.");
                    metrics::counter!("ordersync_http_requests_total", "connector" => self.connector, "status" => status_class(status)).increment(1);
                    if status == 429 {
                        metrics::counter!("ordersync_http_429_total", "connector" => self.connector).increment(1);
                    }
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

/// The body of a 2xx answer; any other status goes through the connector's own
/// `parse_error(status, headers, body)`, the one place it classifies platform errors.
pub async fn success_body(
    resp: reqwest::Response,
    parse_error: impl FnOnce(u16, &http::HeaderMap, &[u8]) -> ConnectorError,
) -> Result<bytes::Bytes, ConnectorError> {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .map_err(|e| ConnectorError::from_transport(&e))?;
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(parse_error(status, &headers, &body))
    }
}

/// Reads a JSON body, mapping an unreadable or malformed body to a classified error (never a
/// panic). The message names the type, not the content.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
) -> Result<T, ConnectorError> {
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| ConnectorError::from_transport(&e))?;
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
