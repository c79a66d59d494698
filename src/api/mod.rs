//! HTTP surface (ARCHITECTURE §7): health, metrics, webhooks and the admin API v1.

pub mod admin;
mod dsr;
mod error;
mod extract;
mod health;
pub mod metrics;
mod record;
pub(crate) mod ssrf;
mod tokens;
mod webhooks;

pub use error::ApiError;

use crate::app::App;
use crate::config::RetentionDefaults;
use crate::crypto::Crypto;
use crate::engine::Engine;
use crate::store::Store;
use axum::Router;
use ordersync_sdk::Clock;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;

#[derive(Clone)]
pub struct ApiState {
    pub store: Arc<dyn Store>,
    pub crypto: Arc<Crypto>,
    pub clock: Arc<dyn Clock>,
    pub engine: Engine,
    pub admin_token_hash: Option<String>,
    pub allow_private_endpoints: bool,
    pub retention: RetentionDefaults,
    /// App secrets for app-level webhooks, by kind (from each descriptor's `secret_env`).
    pub app_secrets: std::collections::BTreeMap<&'static str, secrecy::SecretString>,
    /// Verification tokens of app-level notification endpoints, by kind (each descriptor's
    /// `notification.token_env`).
    pub notification_tokens: std::collections::BTreeMap<&'static str, secrecy::SecretString>,
    /// Externally visible base URL: the endpoint a platform's challenge hashes.
    pub public_url: Option<String>,
    /// `/metrics` access and its cached database gauges (`metrics.rs`).
    pub metrics: Arc<self::metrics::Metrics>,
}

impl ApiState {
    pub fn new(app: &App, engine: Engine, allow_private_endpoints: bool) -> Self {
        let admin_token_hash = std::env::var("ORDERSYNC_ADMIN_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .map(|t| admin::hash_token(&t));
        Self {
            store: app.store.clone(),
            crypto: app.crypto.clone(),
            clock: app.clock.clone(),
            engine,
            admin_token_hash,
            allow_private_endpoints,
            retention: app.cfg.retention.clone(),
            app_secrets: crate::registry::KINDS
                .iter()
                .filter_map(|k| {
                    let env = k.app_webhook?.secret_env;
                    let v = std::env::var(env).ok().filter(|v| !v.is_empty())?;
                    Some((k.kind, v.into()))
                })
                .collect(),
            notification_tokens: crate::registry::KINDS
                .iter()
                .filter_map(|k| {
                    let env = k.notification?.token_env;
                    let v = std::env::var(env).ok().filter(|v| !v.is_empty())?;
                    Some((k.kind, v.into()))
                })
                .collect(),
            public_url: app.cfg.public_url.clone(),
            metrics: Arc::new(self::metrics::Metrics::from_config(&app.cfg)),
        }
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "ordersync admin API", description = "Merchants, connections, routes, orders (never PII), deliveries, status, retention and audit."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `Authorization` plus every header a connector declares sensitive (webhook signatures).
fn sensitive_headers() -> Vec<axum::http::HeaderName> {
    let mut v = vec![axum::http::header::AUTHORIZATION];
    v.extend(
        crate::registry::KINDS
            .iter()
            .flat_map(|k| k.sensitive_headers)
            .filter_map(|h| axum::http::HeaderName::from_bytes(h.as_bytes()).ok()),
    );
    v
}

/// `/metrics` alone, for its own listener (`metrics.listen`); `router` then does not serve it.
pub fn metrics_router(state: ApiState) -> Router {
    self::metrics::router(state)
}

/// What `ordersync worker` serves on its listen address: its loops' health, readiness and
/// `/metrics` (same access rules as on the API), nothing else — so orchestrators can probe a
/// worker that runs no API.
pub fn worker_router(state: ApiState) -> Router {
    let _ = crate::telemetry::metrics();
    Router::new()
        .merge(health::routes())
        .merge(self::metrics::routes())
        .fallback(extract::not_found)
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(state)
}

pub fn router(state: ApiState) -> Router {
    use utoipa::OpenApi as _;
    // Make sure the recorder exists before the first request renders it.
    let _ = crate::telemetry::metrics();
    let (admin, mut spec) = utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            admin::routes()
                .merge(record::routes())
                .merge(tokens::routes())
                .merge(dsr::routes()),
        )
        .split_for_parts();
    utoipa::Modify::modify(&extract::CommonResponses, &mut spec);
    let spec = std::sync::Arc::new(spec);
    Router::new()
        .merge(health::routes())
        .merge(self::metrics::routes())
        .merge(webhooks::routes())
        .merge(admin)
        .fallback(extract::not_found)
        .method_not_allowed_fallback(extract::method_not_allowed)
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let s = spec.clone();
                async move { axum::Json((*s).clone()) }
            }),
        )
        .layer(SetSensitiveRequestHeadersLayer::new(sensitive_headers()))
        .layer(RequestBodyLimitLayer::new(2 * 1024 * 1024))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal().into_response_plain()
        }))
        .with_state(state)
}
