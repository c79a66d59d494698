//! `GET /metrics` (Prometheus text): who may read it, which listener serves it, and the
//! database gauges. Those are read at most once per `metrics.cache_secs` (a scrape storm costs
//! one read) and rendered afresh on every scrape, so a deleted connection's series go with it.
//! Counters and histograms come from the process's recorder (`telemetry::metrics`).

use super::ApiState;
use crate::config::Config;
use crate::store::{ConnectionGauges, MetricsSnapshot, Store};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// Connections with series of their own (about seven each); beyond them a connection counts
/// in `ordersync_connections` only, which keeps a scrape's size bounded.
const MAX_CONNECTION_SERIES: i64 = 2000;

/// Access to `/metrics` and the cached gauges, shared by the listeners of one process.
pub struct Metrics {
    /// SHA-256 of the required bearer token: compared in constant time, digest to digest.
    token_sha256: Option<[u8; 32]>,
    /// Whether the API's listener serves `/metrics` (else a listener of its own does, or none).
    on_api_listener: bool,
    off_reason: Option<String>,
    ttl_us: i64,
    cache: tokio::sync::Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    read_at: Option<i64>,
    snapshot: Option<Arc<MetricsSnapshot>>,
    reads: u64,
    read_errors: u64,
}

impl Metrics {
    pub fn from_config(cfg: &Config) -> Self {
        let token_sha256: Option<[u8; 32]> = cfg
            .metrics
            .token
            .as_ref()
            .map(|t| Sha256::digest(t.expose_secret().as_bytes()).into());
        let own_listener = cfg.metrics.listen.is_some();
        // Without a token, only a loopback listener is open to just the host's own processes.
        let on_api_listener = !own_listener && (token_sha256.is_some() || is_loopback(&cfg.listen));
        let off_reason = (!own_listener && !on_api_listener).then(|| {
            format!(
                "GET /metrics is off: the API listens on {}, not a loopback address, and no metrics token is set. \
                 Set ORDERSYNC_METRICS_TOKEN (or ORDERSYNC_METRICS_TOKEN_FILE) to require `Authorization: Bearer <token>`, \
                 or ORDERSYNC_METRICS_LISTEN to serve it on an address of its own.",
                cfg.listen
            )
        });
        Self {
            token_sha256,
            on_api_listener,
            off_reason,
            ttl_us: i64::try_from(cfg.metrics.cache_secs)
                .unwrap_or(i64::MAX / 1_000_000)
                .saturating_mul(1_000_000),
            cache: Default::default(),
        }
    }

    /// Why no listener serves `/metrics`, when none does (for a startup warning).
    pub fn off_reason(&self) -> Option<&str> {
        self.off_reason.as_deref()
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(want) = &self.token_sha256 else {
            return true;
        };
        let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
        else {
            return false;
        };
        let got: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        got.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The scrape's text: the database gauges (read again once they are `ttl` old) and the
    /// recorder's metrics.
    async fn render(&self, store: &dyn Store, now: i64) -> String {
        let (snapshot, reads, read_errors) = {
            // Held across the read: concurrent scrapes wait for it and share its result.
            let mut c = self.cache.lock().await;
            let fresh = c
                .read_at
                .is_some_and(|at| at <= now && now - at < self.ttl_us);
            if !fresh {
                match store.metrics_snapshot(MAX_CONNECTION_SERIES).await {
                    Ok(s) => {
                        c.snapshot = Some(Arc::new(s));
                        c.reads += 1;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "Could not read the metrics gauges; the previous ones are served.");
                        c.read_errors += 1;
                    }
                }
                // A failed read waits its interval too: a down database is not hammered.
                c.read_at = Some(now);
            }
            (c.snapshot.clone(), c.reads, c.read_errors)
        };
        let mut out = String::with_capacity(4096);
        if let Some(s) = snapshot {
            write_gauges(&mut out, &s, now);
        }
        family(
            &mut out,
            "ordersync_metrics_reads_total",
            "counter",
            "Reads of the database gauges by this process.",
        );
        sample(&mut out, "ordersync_metrics_reads_total", &[], reads as f64);
        family(
            &mut out,
            "ordersync_metrics_read_errors_total",
            "counter",
            "Failed reads of the database gauges (the previous ones were served).",
        );
        sample(
            &mut out,
            "ordersync_metrics_read_errors_total",
            &[],
            read_errors as f64,
        );
        out.push_str(&crate::telemetry::metrics().render());
        out
    }
}

/// Whether `host:port` names a loopback address (127.0.0.0/8, ::1, `localhost`).
pub(crate) fn is_loopback(listen: &str) -> bool {
    let host = listen.rsplit_once(':').map_or(listen, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// `/metrics` on the API's listener.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/metrics", get(on_api_listener))
}

/// `/metrics` alone, for a listener of its own (`metrics.listen`).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/metrics", get(on_own_listener))
        .fallback(super::extract::not_found)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(30),
        ))
        .with_state(state)
}

async fn on_api_listener(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    if !s.metrics.on_api_listener {
        return super::extract::not_found().await.into_response();
    }
    scrape(&s, &headers).await
}

async fn on_own_listener(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    scrape(&s, &headers).await
}

async fn scrape(s: &ApiState, headers: &HeaderMap) -> Response {
    if !s.metrics.authorized(headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    let body = s.metrics.render(&*s.store, s.engine.now_us()).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

fn write_gauges(o: &mut String, s: &MetricsSnapshot, now: i64) {
    family(o, "ordersync_orders", "gauge", "Orders stored.");
    sample(o, "ordersync_orders", &[], s.orders as f64);
    family(
        o,
        "ordersync_orders_pii_purged",
        "gauge",
        "Stored orders whose PII is purged.",
    );
    sample(
        o,
        "ordersync_orders_pii_purged",
        &[],
        s.orders_pii_purged as f64,
    );
    family(o, "ordersync_deliveries", "gauge", "Deliveries by status.");
    for (status, n) in [
        ("pending", s.deliveries_pending),
        ("in_flight", s.deliveries_in_flight),
        ("done", s.deliveries_done),
        ("dead", s.deliveries_dead),
    ] {
        sample(o, "ordersync_deliveries", &[("status", status)], n as f64);
    }
    family(
        o,
        "ordersync_connections",
        "gauge",
        "Live connections by state.",
    );
    let mut by_state = BTreeMap::new();
    for (state, n) in &s.connections_by_state {
        *by_state.entry(state_label(state)).or_insert(0) += n;
    }
    for (state, n) in by_state {
        sample(o, "ordersync_connections", &[("state", state)], n as f64);
    }

    let conns = &s.connections;
    let sources = || conns.iter().filter(|c| c.role == "source");
    family(
        o,
        "ordersync_connection_state",
        "gauge",
        "1 for a connection's current state.",
    );
    for c in conns {
        let state = state_label(&c.state);
        sample(
            o,
            "ordersync_connection_state",
            &labels(c, ("state", state)),
            1.0,
        );
    }
    family(
        o,
        "ordersync_pull_lag_seconds",
        "gauge",
        "Seconds since a source's last successful pull (-1: none yet).",
    );
    for c in sources() {
        let lag = c
            .last_pull_at
            .map_or(-1.0, |t| (now - t).max(0) as f64 / 1e6);
        sample(o, "ordersync_pull_lag_seconds", &id_labels(c), lag);
    }
    family(
        o,
        "ordersync_connection_rejected_orders",
        "gauge",
        "A source's orders that could not be mapped.",
    );
    for c in sources() {
        let n = c.rejected_orders as f64;
        sample(o, "ordersync_connection_rejected_orders", &id_labels(c), n);
    }
    family(
        o,
        "ordersync_connection_deliveries",
        "gauge",
        "A sink's queued and dead deliveries.",
    );
    for c in conns.iter().filter(|c| c.role == "sink") {
        for (status, n) in [
            ("pending", c.deliveries_pending),
            ("in_flight", c.deliveries_in_flight),
            ("dead", c.deliveries_dead),
        ] {
            let l = labels(c, ("status", status));
            sample(o, "ordersync_connection_deliveries", &l, n as f64);
        }
    }
    family(
        o,
        "ordersync_connection_last_error",
        "gauge",
        "1 for the class of a connection's last recorded error.",
    );
    for c in conns {
        if let Some(class) = error_class(c) {
            let l = labels(c, ("class", class));
            sample(o, "ordersync_connection_last_error", &l, 1.0);
        }
    }
}

/// States as labels: the known ones, anything else as `other` (bounded label values).
fn state_label(state: &str) -> &'static str {
    match state {
        "active" => "active",
        "paused" => "paused",
        "needs_reauth" => "needs_reauth",
        _ => "other",
    }
}

/// The class of a stored `last_error` (its text starts with the class, or the error's
/// display does); a rejection summary is `rejected`. Never the text: it may name an order.
fn error_class(c: &ConnectionGauges) -> Option<&'static str> {
    let e = c.last_error.as_deref().filter(|e| !e.is_empty())?;
    const CLASSES: [(&str, &str); 9] = [
        ("retriable", "retriable"),
        ("rate_limited", "rate_limited"),
        ("rate limited", "rate_limited"),
        ("authentication failed", "auth"),
        ("auth", "auth"),
        ("permanent", "permanent"),
        ("not_found", "not_found"),
        ("not found", "not_found"),
        ("internal", "internal"),
    ];
    Some(
        CLASSES
            .iter()
            .find(|(prefix, _)| e.starts_with(prefix))
            .map(|(_, class)| *class)
            .unwrap_or(if c.rejected_orders > 0 {
                "rejected"
            } else {
                "other"
            }),
    )
}

fn id_labels(c: &ConnectionGauges) -> [(&'static str, &str); 2] {
    [("connection_id", &c.id), ("kind", &c.kind)]
}

fn labels<'a>(
    c: &'a ConnectionGauges,
    extra: (&'static str, &'a str),
) -> [(&'static str, &'a str); 3] {
    [("connection_id", &c.id), ("kind", &c.kind), extra]
}

fn family(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(o: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    o.push_str(name);
    if !labels.is_empty() {
        o.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            let _ = write!(o, "{k}=\"");
            // The text format's escapes; ids and kinds need none, but a value is never trusted.
            for ch in v.chars() {
                match ch {
                    '\\' => o.push_str("\\\\"),
                    '"' => o.push_str("\\\""),
                    '\n' => o.push_str("\\n"),
                    c => o.push(c),
                }
            }
            o.push('"');
        }
        o.push('}');
    }
    let _ = writeln!(o, " {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses() {
        for a in [
            "127.0.0.1:8080",
            "127.3.4.5:1",
            "[::1]:80",
            "localhost:8080",
            "[::ffff:127.0.0.1]:9",
        ] {
            assert!(is_loopback(a), "{a}");
        }
        for a in [
            "0.0.0.0:8080",
            "[::]:8080",
            "10.0.0.5:80",
            "example.com:80",
            "garbage",
        ] {
            assert!(!is_loopback(a), "{a}");
        }
    }

    #[test]
    fn error_classes_are_a_fixed_set() {
        let c = |e: &str, rejected| ConnectionGauges {
            id: "c".into(),
            kind: "k".into(),
            role: "source".into(),
            state: "active".into(),
            last_pull_at: None,
            last_error: Some(e.into()),
            rejected_orders: rejected,
            deliveries_pending: 0,
            deliveries_in_flight: 0,
            deliveries_dead: 0,
        };
        assert_eq!(error_class(&c("retriable: HTTP 503", 0)), Some("retriable"));
        assert_eq!(error_class(&c("rate limited", 0)), Some("rate_limited"));
        assert_eq!(
            error_class(&c("authentication failed: 401", 0)),
            Some("auth")
        );
        assert_eq!(
            error_class(&c("internal: the pull panicked", 0)),
            Some("internal")
        );
        assert_eq!(
            error_class(&c("3 order(s) rejected (e.g. order 7): …", 3)),
            Some("rejected")
        );
        assert_eq!(error_class(&c("Canary Buyer said hi", 0)), Some("other"));
        assert_eq!(error_class(&c("", 0)), None);
    }

    #[test]
    fn label_values_are_escaped() {
        let mut o = String::new();
        sample(&mut o, "m", &[("a", "x\"y\\z\nw")], 1.0);
        assert_eq!(o, "m{a=\"x\\\"y\\\\z\\nw\"} 1\n");
    }
}
