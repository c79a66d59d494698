//! Fault injection as a layer over a simulator's API routes: every request is counted, and a
//! configured share of them is answered with a fault shaped like the platform's own (its 429
//! body and `Retry-After`, its 500) instead of reaching the handler. `/_sim/*` routes are added
//! after the layer, so control calls are never faulted nor counted.

use super::SimCore;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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

/// `POST /_sim/faults {"rate": 0.2, "kinds": ["429", "500", "timeout", "malformed"]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultConfig {
    pub rate: f64,
    #[serde(default = "all_kinds")]
    pub kinds: Vec<FaultKind>,
}

impl FaultConfig {
    pub fn off() -> Self {
        Self {
            rate: 0.0,
            kinds: all_kinds(),
        }
    }
}

fn all_kinds() -> Vec<FaultKind> {
    vec![
        FaultKind::TooMany,
        FaultKind::ServerError,
        FaultKind::Timeout,
        FaultKind::Malformed,
    ]
}

/// How a platform answers an injected fault, and how it names its routes in `/_sim/stats`.
/// Only the 429 has no default: every platform shapes its own.
pub trait FaultAnswers {
    /// The platform's own 429 (body and headers such as `Retry-After`).
    fn too_many(&self) -> Response;

    /// The platform's own 500.
    fn server_error(&self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
    }

    /// A 200 whose JSON body is cut off.
    fn malformed(&self) -> Response {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"data\": {\"orders\": [",
        )
            .into_response()
    }

    /// The `by_route` name of a request; `route` is the matched pattern
    /// (`/v2/shipments/{shipment_id}`), never the raw path, so stats stay small.
    fn route_name(&self, method: &Method, route: &str) -> String {
        format!("{method} {route}")
    }
}

/// The generic answer for an injected fault. `Timeout` waits past a sane client timeout
/// budget for a short while, then answers 504, so clients see a slow failure.
pub async fn fault_response(kind: FaultKind) -> Response {
    answer(&Generic, kind).await
}

/// A platform with no shapes of its own.
struct Generic;

impl FaultAnswers for Generic {
    fn too_many(&self) -> Response {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            "Too Many Requests",
        )
            .into_response()
    }
}

async fn answer<A: FaultAnswers + ?Sized>(a: &A, kind: FaultKind) -> Response {
    match kind {
        FaultKind::TooMany => a.too_many(),
        FaultKind::ServerError => a.server_error(),
        FaultKind::Malformed => a.malformed(),
        FaultKind::Timeout => {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            (StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout").into_response()
        }
    }
}

/// The middleware behind [`with_faults`].
pub async fn fault_gate<S>(State(s): State<Arc<S>>, req: Request, next: Next) -> Response
where
    S: AsRef<SimCore> + FaultAnswers + Send + Sync + 'static,
{
    let route = match req.extensions().get::<MatchedPath>() {
        Some(p) => s.route_name(req.method(), p.as_str()),
        None => s.route_name(req.method(), "(unmatched)"),
    };
    (*s).as_ref().maybe_hold().await;
    match (*s).as_ref().on_request(&route) {
        None => next.run(req).await,
        Some(kind) => answer(&*s, kind).await,
    }
}

/// Puts fault injection and request counting in front of every route of `api` (call it after
/// adding the API routes and before merging the `/_sim/*` ones). Other per-route middleware
/// (auth, rate limits) added before it runs after it, as on a real platform's edge.
pub fn with_faults<S>(api: Router<Arc<S>>, state: Arc<S>) -> Router<Arc<S>>
where
    S: AsRef<SimCore> + FaultAnswers + Send + Sync + 'static,
{
    api.route_layer(axum::middleware::from_fn_with_state(state, fault_gate::<S>))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{FaultConfig, SimServer};
    use axum::routing::{get, post};

    struct Plat(SimCore);
    impl AsRef<SimCore> for Plat {
        fn as_ref(&self) -> &SimCore {
            &self.0
        }
    }
    impl FaultAnswers for Plat {
        fn too_many(&self) -> Response {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "9")],
                "mine",
            )
                .into_response()
        }
        fn route_name(&self, _: &Method, route: &str) -> String {
            route.trim_start_matches('/').to_string()
        }
    }

    async fn serve(kinds: Vec<FaultKind>) -> (SimServer, Arc<Plat>) {
        let st = Arc::new(Plat(SimCore::default()));
        st.0.set_faults(FaultConfig { rate: 1.0, kinds });
        let api = Router::new().route("/api/{id}", get(|| async { "ok" }));
        let app = with_faults(api, st.clone())
            .route("/_sim/faults", post(crate::sim::set_faults_handler::<Plat>))
            .route("/_sim/ping", get(|| async { "pong" }))
            .with_state(st.clone());
        (SimServer::serve(app).await.unwrap(), st)
    }

    #[tokio::test]
    async fn api_routes_get_the_platform_429_and_control_routes_are_untouched() {
        let (sim, st) = serve(vec![FaultKind::TooMany]).await;
        let r = reqwest::get(format!("{}/api/7", sim.base_url))
            .await
            .unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "9");
        assert_eq!(r.text().await.unwrap(), "mine");
        let r = reqwest::get(format!("{}/_sim/ping", sim.base_url))
            .await
            .unwrap();
        assert_eq!(r.text().await.unwrap(), "pong");
        let s = st.0.stats();
        assert_eq!((s.requests, s.throttled, s.faults_injected), (1, 1, 1));
        assert_eq!(s.by_route["api/{id}"], 1, "named by pattern, not raw path");
    }

    #[tokio::test]
    async fn defaults_answer_500_and_malformed_and_faults_can_be_turned_off() {
        let (sim, st) = serve(vec![FaultKind::ServerError]).await;
        let url = format!("{}/api/1", sim.base_url);
        assert_eq!(reqwest::get(&url).await.unwrap().status(), 500);
        st.0.set_faults(FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::Malformed],
        });
        let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_err());
        reqwest::Client::new()
            .post(format!("{}/_sim/faults", sim.base_url))
            .json(&serde_json::json!({ "rate": 0.0 }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            reqwest::get(&url).await.unwrap().text().await.unwrap(),
            "ok"
        );
        assert_eq!(st.0.stats().throttled, 0);
    }
}
