//! Redirects are never followed: they could lead to an internal address and would carry the
//! platform's auth headers along.

use crate::{Server, endpoint, get, permissive};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get as route_get;
use ordersync_sdk::ErrorClass;
use ordersync_sdk::http::Endpoint;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn counting(
    hits: &Arc<AtomicUsize>,
    answer: (StatusCode, [(header::HeaderName, String); 1]),
) -> Router {
    let h = hits.clone();
    Router::new().route(
        "/",
        route_get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            let a = answer.clone();
            async move { a }
        }),
    )
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_is_a_permanent_error() {
    let inner_hits = Arc::new(AtomicUsize::new(0));
    let inner = Server::start(counting(
        &inner_hits,
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain".into())],
        ),
    ))
    .await;
    let outer_hits = Arc::new(AtomicUsize::new(0));
    let outer = Server::start(counting(
        &outer_hits,
        (
            StatusCode::FOUND,
            [(
                header::LOCATION,
                format!("http://127.0.0.1:{}/", inner.port()),
            )],
        ),
    ))
    .await;

    // Default retry policy: a permanent error must not be retried.
    let ep = Endpoint::new(
        permissive(),
        "test",
        ordersync_sdk::http::RateGate::unlimited(),
    );
    let err = get(&ep, &format!("http://127.0.0.1:{}/", outer.port()))
        .await
        .expect_err("redirect is an error");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(
        err.to_string(),
        "permanent: endpoint answered a redirect, which is not followed"
    );
    assert_eq!(outer_hits.load(Ordering::SeqCst), 1, "not retried");

    // Outside `Endpoint::call` the client itself does not follow either.
    let resp = endpoint(permissive())
        .client
        .reqwest()
        .get(format!("http://127.0.0.1:{}/", outer.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(
        inner_hits.load(Ordering::SeqCst),
        0,
        "redirect target never reached"
    );
}
