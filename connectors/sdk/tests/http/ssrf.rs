//! The SSRF policy at request time: resolved addresses, IP literals, scheme, and errors that
//! do not tell a refused endpoint's reason.

use crate::{Server, endpoint, get, permissive, strict};
use axum::Router;
use axum::routing::get as route_get;
use ordersync_sdk::ErrorClass;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

async fn counting_server() -> (Server, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let router = Router::new().route(
        "/",
        route_get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async { "ok" }
        }),
    );
    (Server::start(router).await, hits)
}

/// A permissive request that must get through; afterwards `accepts()` counts every earlier
/// connection attempt too.
async fn probe(s: &Server) {
    let url = format!("http://shop.example.com:{}/", s.port());
    let body = get(&endpoint(permissive()), &url).await.expect("probe");
    assert_eq!(&body[..], b"ok");
}

#[tokio::test]
async fn public_name_resolving_to_loopback_is_refused_at_connect_time() {
    let (s, hits) = counting_server().await;
    for host in ["shop.example.com", "mixed.example.com"] {
        let err = get(
            &endpoint(strict()),
            &format!("https://{host}:{}/", s.port()),
        )
        .await
        .expect_err("strict client must refuse");
        assert_eq!(err.class(), ErrorClass::Retriable, "{host}");
    }
    // The same name through the permissive client reaches the server: the lookup is the one
    // used, and the strict client's refusal came from the policy.
    probe(&s).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(s.accepts(), 1, "the strict client must not even connect");
}

#[tokio::test]
async fn literal_private_addresses_are_refused_without_connecting() {
    let (s, hits) = counting_server().await;
    let p = s.port();
    for url in [
        format!("https://127.0.0.1:{p}/"),
        format!("https://[::ffff:127.0.0.1]:{p}/"),
        format!("https://[::ffff:7f00:1]:{p}/"),
        format!("https://[::1]:{p}/"),
        format!("https://2130706433:{p}/"),
        format!("https://localhost:{p}/"),
        format!("https://localhost.:{p}/"),
    ] {
        let err = get(&endpoint(strict()), &url)
            .await
            .expect_err("strict client must refuse");
        assert_eq!(err.class(), ErrorClass::Permanent, "{url}");
        assert_eq!(
            err.to_string(),
            "permanent: endpoint refused by network policy",
            "{url}"
        );
    }
    probe(&s).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(s.accepts(), 1);
}

#[tokio::test]
async fn plain_http_is_refused_by_the_strict_client() {
    let (s, hits) = counting_server().await;
    let url = format!("http://shop.example.com:{}/", s.port());
    let err = get(&endpoint(strict()), &url)
        .await
        .expect_err("http refused");
    // Permanent (the scheme check), not the resolver's retriable refusal.
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(
        err.to_string(),
        "permanent: endpoint refused by network policy"
    );
    probe(&s).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(s.accepts(), 1);
}

#[tokio::test]
async fn refused_endpoints_read_the_same_whatever_the_reason() {
    // A port that is certainly closed: bound, then released.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let private = get(
        &endpoint(strict()),
        &format!("https://shop.example.com:{closed}/"),
    )
    .await
    .expect_err("private address");
    let no_answer = get(
        &endpoint(strict()),
        &format!("https://nowhere.example.com:{closed}/"),
    )
    .await
    .expect_err("no DNS answer");
    let refused = get(
        &endpoint(permissive()),
        &format!("http://shop.example.com:{closed}/"),
    )
    .await
    .expect_err("connection refused");
    let expected = "retriable: endpoint unreachable or refused by network policy";
    for e in [&private, &no_answer, &refused] {
        assert_eq!(e.to_string(), expected);
        assert_eq!(e.class(), ErrorClass::Retriable);
        let debug = format!("{e:?}");
        assert!(
            !debug.contains("127.0") && !debug.contains(&closed.to_string()),
            "no address or port: {debug}"
        );
    }
}
