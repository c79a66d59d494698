//! What the service knows about a connector kind, without naming it.
//!
//! Each connector crate exports one [`Descriptor`]; the service's `src/registry.rs` is a list
//! of them. Everything in the service that depends on a kind — building instances, SSRF
//! checks of URL-valued config, redacted headers, webhook routes, retention caps,
//! `GET /api/v1/kinds`, `ordersync sim` and the demo — reads these fields.

use crate::error::ConnectorError;
use crate::traits::{ConnectorDeps, Sink, Source, WebhookError, WebhookHint};
use crate::{Clock, Secrets};
use std::sync::Arc;

pub type SourceFactory =
    fn(&serde_json::Value, &Secrets, &ConnectorDeps) -> Result<Arc<dyn Source>, ConnectorError>;
pub type SinkFactory =
    fn(&serde_json::Value, &Secrets, &ConnectorDeps) -> Result<Arc<dyn Sink>, ConnectorError>;

/// How instances are built; also says the role.
#[derive(Clone, Copy)]
pub enum Factory {
    Source(SourceFactory),
    Sink(SinkFactory),
}

/// A secret a connection of this kind takes (write-only in the API).
#[derive(Debug, Clone, Copy)]
pub struct SecretSpec {
    pub name: &'static str,
    /// Needed in every configuration (alternatives such as "access token or refresh token"
    /// are `false` and checked by the factory).
    pub required: bool,
    pub doc: &'static str,
}

/// Verifies a webhook over its raw body with a secret, and reduces it to a hint. Pure: no
/// I/O, so the service can verify before building anything.
pub type WebhookVerifier = fn(&http::HeaderMap, &[u8], &[u8]) -> Result<WebhookHint, WebhookError>;

/// A connection's own webhooks (`POST /webhooks/{kind}/{connection_id}`).
#[derive(Clone, Copy)]
pub struct WebhookSpec {
    /// The connection secret that signs them (an empty or absent secret is refused).
    pub secret: &'static str,
    pub verify: WebhookVerifier,
}

/// App-level webhooks (`POST /webhooks/{kind}`), signed with the app's secret from the
/// environment; the connection is found by a header matched against a config field.
#[derive(Clone, Copy)]
pub struct AppWebhookSpec {
    /// Environment variable holding the app secret.
    pub secret_env: &'static str,
    /// Header naming the account (e.g. the shop domain).
    pub account_header: &'static str,
    /// Config field of a connection that the header's value must equal.
    pub account_config_field: &'static str,
    pub verify: WebhookVerifier,
}

/// A platform's app-level privacy notification endpoint, `GET|POST /webhooks/{kind}/{path}`
/// (eBay Marketplace Account Deletion): the platform validates the endpoint with a challenge,
/// then posts signed notices that `Source::verify_notification` checks.
#[derive(Clone, Copy)]
pub struct NotificationSpec {
    /// The path segment after the kind (`account-deletion`).
    pub path: &'static str,
    /// Environment variable holding the verification token given to the platform.
    pub token_env: &'static str,
    /// Query parameter of the endpoint-validation `GET`.
    pub challenge_param: &'static str,
    /// The challenge's JSON answer, from the code, the token and the endpoint's URL exactly
    /// as registered with the platform.
    pub challenge: fn(code: &str, token: &str, endpoint: &str) -> serde_json::Value,
    /// A pure look at the signature header, before anything is fetched: `false` is refused
    /// at once (also when no connection exists that could fetch the platform's key).
    pub signature_well_formed: fn(&http::HeaderMap) -> bool,
    /// The status of an accepted notice (eBay: 204).
    pub accepted_status: u16,
    /// The status of a notice whose signature does not verify (eBay: 412).
    pub rejected_status: u16,
}

/// The router type of a simulator: `axum::Router` when the SDK's `sim` feature is on.
#[cfg(feature = "sim")]
pub type SimRouter = axum::Router;
/// Without the `sim` feature there are no simulators to build.
#[cfg(not(feature = "sim"))]
pub enum SimRouter {}

/// A connector's simulator, for `ordersync sim`, the demo and tests.
#[derive(Clone, Copy)]
pub struct SimSpec {
    /// The simulator over fresh state; `relaxed` lifts the platform's rate limits (demo,
    /// benchmarks) but keeps every other behaviour.
    pub router: fn(relaxed: bool, clock: Arc<dyn Clock>) -> SimRouter,
    /// The demo connection's config for a simulator at `base_url`.
    pub demo_config: fn(base_url: &str) -> serde_json::Value,
    /// The demo connection's secrets.
    pub demo_secrets: &'static [(&'static str, &'static str)],
    /// Fields of `demo_config` that lift the platform's limits in the client to match a relaxed
    /// simulator; `demo --real-limits` drops them so the connector paces at its defaults.
    pub limit_fields: &'static [&'static str],
}

/// Everything the service needs to know about one connector kind.
#[derive(Clone, Copy)]
pub struct Descriptor {
    /// Connection kind name (`config.kind`), lowercase.
    pub kind: &'static str,
    /// Marketplace name of a source (the retention policy's key); `None` for sinks.
    pub marketplace: Option<&'static str>,
    /// One line for `GET /api/v1/kinds`.
    pub summary: &'static str,
    pub factory: Factory,
    pub secrets: &'static [SecretSpec],
    /// Config fields holding URLs; each one is SSRF-checked when a connection is written,
    /// and changing one requires the secrets to be sent again.
    pub url_fields: &'static [&'static str],
    /// Request headers to redact from the service's own logs (webhook signatures).
    pub sensitive_headers: &'static [&'static str],
    pub webhook: Option<WebhookSpec>,
    pub app_webhook: Option<AppWebhookSpec>,
    /// An app-level privacy notification endpoint the platform requires.
    pub notification: Option<NotificationSpec>,
    /// Longest PII retention after delivery the platform allows (Amazon: 30 days).
    pub retention_cap_days: Option<i64>,
    /// JSON schema of `config`.
    pub config_schema: fn() -> serde_json::Value,
    /// The simulator (`None` when built without the `sim` feature).
    pub sim: Option<SimSpec>,
}

impl Descriptor {
    pub fn role(&self) -> &'static str {
        match self.factory {
            Factory::Source(_) => "source",
            Factory::Sink(_) => "sink",
        }
    }

    pub fn is_source(&self) -> bool {
        matches!(self.factory, Factory::Source(_))
    }

    /// The names of this kind's secrets.
    pub fn secret_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.secrets.iter().map(|s| s.name)
    }
}

/// The JSON schema of a config type (for [`Descriptor::config_schema`]).
pub fn schema_of<T: schemars::JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or(serde_json::Value::Null)
}

/// A connector's [`SimSpec`] constant, for simulator modules that follow the convention
/// `sim::router(opts, clock)` with `sim::SimOptions: Default` and `SimOptions::relaxed()`:
///
/// ```ignore
/// #[cfg(feature = "sim")]
/// const SIM: Option<SimSpec> = ordersync_sdk::sim_spec!(
///     sim,
///     |url| serde_json::json!({ "api_base_url": url }),
///     &[("api_key", "demo-key")]
/// );
/// ```
#[macro_export]
macro_rules! sim_spec {
    ($sim:ident, $demo_config:expr, $demo_secrets:expr) => {
        $crate::sim_spec!($sim, $demo_config, $demo_secrets, &[])
    };
    ($sim:ident, $demo_config:expr, $demo_secrets:expr, $limit_fields:expr) => {
        Some($crate::SimSpec {
            router: |relaxed, clock| {
                let opts = if relaxed {
                    $sim::SimOptions::relaxed()
                } else {
                    $sim::SimOptions::default()
                };
                $sim::router(opts, clock)
            },
            demo_config: $demo_config,
            demo_secrets: $demo_secrets,
            limit_fields: $limit_fields,
        })
    };
}
