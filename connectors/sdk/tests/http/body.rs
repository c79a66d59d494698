//! Response bodies are capped while streaming, and up front from `Content-Length`.

use crate::{Server, endpoint, get, lookup};
use axum::Router;
use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use axum::routing::get as route_get;
use bytes::Bytes;
use futures::StreamExt;
use ordersync_sdk::ErrorClass;
use ordersync_sdk::http::{HttpClient, HttpOptions, read_body_limited};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
/// What the kernel may buffer beyond what the client read: loopback sockets autotune up to
/// `tcp_rmem` max (32 MiB on the dev box; up to ~14 MiB was seen in use) plus `tcp_wmem` on the
/// sending side. A client that drained the body would show the whole GiB.
const KERNEL_SLACK: u64 = 64 * MIB;

/// Reports how many bytes the server handed to hyper once the body stream is dropped (the
/// client hung up, or the body ended).
struct Written {
    n: Arc<AtomicU64>,
    done: Option<oneshot::Sender<u64>>,
}

impl Drop for Written {
    fn drop(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(self.n.load(Ordering::SeqCst));
        }
    }
}

/// A lazily generated body of `total` zero bytes; nothing of it is allocated up front.
fn zeros(total: u64, done: oneshot::Sender<u64>) -> Body {
    let w = Written {
        n: Arc::new(AtomicU64::new(0)),
        done: Some(done),
    };
    let stream = futures::stream::unfold(w, move |w| async move {
        let sent = w.n.load(Ordering::SeqCst);
        if sent >= total {
            return None;
        }
        let len = (total - sent).min(ZEROS.len() as u64);
        w.n.fetch_add(len, Ordering::SeqCst);
        Some((
            Ok::<_, Infallible>(Bytes::from_static(&ZEROS[..len as usize])),
            w,
        ))
    });
    Body::from_stream(stream)
}

fn client(max_body_bytes: u64, timeout: Duration) -> HttpClient {
    HttpClient::new(HttpOptions {
        lookup: lookup(),
        max_body_bytes,
        timeout,
        ..HttpOptions::for_simulators()
    })
    .unwrap()
}

/// Serves one body made by `make` and returns the server plus the "bytes written" report.
async fn serve_once(
    make: impl FnOnce(oneshot::Sender<u64>) -> Response + Send + 'static,
) -> (Server, oneshot::Receiver<u64>) {
    let (tx, rx) = oneshot::channel();
    let slot = Arc::new(std::sync::Mutex::new(Some((make, tx))));
    let router = Router::new().route(
        "/",
        route_get(move || {
            let taken = slot.lock().unwrap().take();
            async move {
                let (make, tx) = taken.expect("one request only");
                make(tx)
            }
        }),
    );
    (Server::start(router).await, rx)
}

async fn written(rx: oneshot::Receiver<u64>) -> u64 {
    // A hang guard, not a timing assertion: the server drops the stream once the client closes.
    tokio::time::timeout(Duration::from_secs(60), rx)
        .await
        .expect("server stream dropped")
        .expect("count reported")
}

#[tokio::test]
async fn a_1_gib_streamed_body_is_cut_off_at_the_cap() {
    let cap = 4 * MIB;
    let (s, rx) = serve_once(|tx| Response::new(zeros(GIB, tx))).await;
    let ep = endpoint(client(cap, Duration::from_secs(300)));
    let err = get(&ep, &format!("http://shop.example.com:{}/", s.port()))
        .await
        .expect_err("over the cap");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(
        err.to_string(),
        "permanent: response body exceeds the size limit"
    );
    drop(ep);
    let n = written(rx).await;
    assert!(n > cap, "the body was streamed past the cap ({n})");
    assert!(
        n < cap + KERNEL_SLACK,
        "the client stopped reading: {n} bytes written"
    );
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let cap = 4 * MIB;
    // Declares 1 GiB, sends 64 KiB, then stalls: only the up-front check can answer quickly;
    // reading on would end in the timeout instead.
    let (s, rx) = serve_once(|tx| {
        let first = futures::stream::once(async move {
            let _report = Written {
                n: Arc::new(AtomicU64::new(ZEROS.len() as u64)),
                done: Some(tx),
            };
            Ok::<_, Infallible>(Bytes::from_static(&ZEROS))
        });
        let body = Body::from_stream(first.chain(futures::stream::pending()));
        Response::builder()
            .header(header::CONTENT_LENGTH, GIB.to_string())
            .body(body)
            .unwrap()
    })
    .await;
    let ep = endpoint(client(cap, Duration::from_secs(20)));
    let err = get(&ep, &format!("http://shop.example.com:{}/", s.port()))
        .await
        .expect_err("over the cap");
    assert_eq!(
        err.to_string(),
        "permanent: response body exceeds the size limit"
    );
    drop(rx);
}

#[tokio::test]
async fn an_explicit_limit_is_exact() {
    let router = Router::new().route("/", route_get(|| async { "0123456789" }));
    let s = Server::start(router).await;
    let c = client(MIB, Duration::from_secs(30));
    let url = format!("http://shop.example.com:{}/", s.port());
    let resp = c.reqwest().get(&url).send().await.unwrap();
    assert_eq!(
        &read_body_limited(resp, 10).await.unwrap()[..],
        b"0123456789"
    );
    let resp = c.reqwest().get(&url).send().await.unwrap();
    let err = read_body_limited(resp, 9).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn an_error_body_is_read_only_in_part() {
    let (s, rx) = serve_once(|tx| {
        Response::builder()
            .status(500)
            .body(zeros(GIB, tx))
            .unwrap()
    })
    .await;
    let ep = endpoint(client(64 * MIB, Duration::from_secs(300)));
    let err = get(&ep, &format!("http://shop.example.com:{}/", s.port()))
        .await
        .expect_err("500");
    // Classified by status, from the first MiB only.
    assert_eq!(err.class(), ErrorClass::Retriable);
    drop(ep);
    let n = written(rx).await;
    assert!(
        n < MIB + KERNEL_SLACK,
        "the rest of the error body was not read: {n}"
    );
}
