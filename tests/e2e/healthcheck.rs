//! `ordersync healthcheck`, the image's HEALTHCHECK: exit 0 only when `GET /healthz` on the
//! listen address answers 2xx.

use crate::helpers::{Backend, TestApp};
use ordersync::api::{self, ApiState};

const BIN: &str = env!("CARGO_BIN_EXE_ordersync");

async fn healthcheck(listen: &str) -> std::process::Output {
    tokio::process::Command::new(BIN)
        .arg("healthcheck")
        .env("ORDERSYNC_LISTEN", listen)
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn healthcheck_exits_0_only_when_healthz_answers_2xx() {
    // A healthy API, reached through the unspecified address the image listens on.
    let t = TestApp::new(Backend::Sqlite).await;
    let state = ApiState::new(&t.app, t.app.engine(), false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, api::router(state)).await.unwrap() });
    let out = healthcheck(&format!("0.0.0.0:{port}")).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");

    // /healthz answering 503 (a stale loop) is unhealthy.
    let sick = axum::Router::new().route(
        "/healthz",
        axum::routing::get(|| async {
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "stale: deliver 75s",
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sick_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, sick).await.unwrap() });
    let out = healthcheck(&sick_addr.to_string()).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("503") && err.contains("stale: deliver"),
        "{err}"
    );

    // Nothing listening is unhealthy.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let out = healthcheck(&closed.to_string()).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
