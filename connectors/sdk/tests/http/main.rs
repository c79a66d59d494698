//! The SDK's HTTP client against hostile or broken endpoints, each test with its own axum
//! server on 127.0.0.1 that counts accepted connections and requests.

mod body;
mod redirect;
mod ssrf;

use axum::Router;
use axum::serve::ListenerExt;
use ordersync_sdk::ConnectorError;
use ordersync_sdk::http::{Endpoint, HttpClient, HttpOptions, RateGate, RetryPolicy, StaticLookup};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A server on 127.0.0.1 and what reached it.
pub struct Server {
    pub addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
}

impl Server {
    pub async fn start(router: Router) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepts = Arc::new(AtomicUsize::new(0));
        let a = accepts.clone();
        let listener = listener.tap_io(move |_| {
            a.fetch_add(1, Ordering::SeqCst);
        });
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Server { addr, accepts }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// TCP connections accepted so far. Connections are accepted in arrival order, so once a
    /// later request has been served, every earlier connection attempt is counted.
    pub fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }
}

/// `shop.example.com` (and `*.example.com` names given) resolve to 127.0.0.1.
pub fn lookup() -> Arc<StaticLookup> {
    let lo = [IpAddr::V4(Ipv4Addr::LOCALHOST)];
    Arc::new(StaticLookup::default().with("shop.example.com", &lo).with(
        "mixed.example.com",
        &[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), lo[0]],
    ))
}

pub fn strict() -> HttpClient {
    HttpClient::new(HttpOptions {
        lookup: lookup(),
        ..HttpOptions::default()
    })
    .unwrap()
}

pub fn permissive() -> HttpClient {
    HttpClient::new(HttpOptions {
        lookup: lookup(),
        ..HttpOptions::for_simulators()
    })
    .unwrap()
}

/// One attempt only: these tests are about what a single request does.
pub fn endpoint(client: HttpClient) -> Endpoint {
    Endpoint::new(client, "test", RateGate::unlimited()).with_retry(RetryPolicy {
        max_attempts: 1,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
    })
}

/// GETs `url` through `Endpoint::call` and reads the body with `success_body`.
pub async fn get(ep: &Endpoint, url: &str) -> Result<bytes::Bytes, ConnectorError> {
    let client = ep.client.clone();
    ep.call(
        "/",
        || client.reqwest().get(url),
        |resp| {
            ordersync_sdk::http::success_body(resp, |s, _, _| {
                ConnectorError::from_status(s, None, "status")
            })
        },
    )
    .await
}
