//! The contract between ordersync and its connectors.
//!
//! A connector crate depends on this crate only: it maps a platform's API into the canonical
//! [`Order`] model ([`model`]), implements [`Source`] or [`Sink`] ([`traits`]), classifies its
//! errors once into [`ConnectorError`] ([`error`]) and talks HTTP through the shared
//! [`http::HttpClient`], which rate-limits, retries and logs without leaking bodies or secrets.

pub mod auth;
pub mod balance;
pub mod bucket;
pub mod budget;
pub mod clock;
pub mod decimal_number;
pub mod descriptor;
pub mod dns;
pub mod error;
pub mod http;
pub mod mapping;
pub mod model;
pub mod money;
pub mod net;
pub mod pii;
#[cfg(feature = "sim")]
pub mod sim;
pub mod tax_rate;
pub mod traits;
mod webhook_ack;
pub mod webhooks;

pub use auth::{
    DiscardSecrets, RefreshFn, RefreshGuard, RefreshHold, RefreshingToken, SecretsPersister,
    StaticToken, TokenProvider, TokenSet,
};
pub use balance::TotalsError;
pub use budget::{FleetBudget, FleetLimit, Grant, LocalBudget, budget_key};
pub use clock::{Clock, ManualClock, SystemClock};
pub use descriptor::{
    AppWebhookSpec, Descriptor, Factory, NotificationSpec, SecretSpec, SimSpec, WebhookSpec,
    schema_of,
};
pub use error::{ConnectorError, ErrorClass};
pub use model::{
    FinancialStatus, Fulfillment, FulfillmentStatus, LineItem, LineKind, Order, OrderStatus,
};
pub use money::{
    AllocationMethod, Basis, CashRounding, Collector, CurrentTotals, DiscountAllocation,
    DiscountApplication, DiscountKind, DiscountTarget, DiscountValue, Fee, FeeKind, Presentment,
    Refund, RefundAdjustment, RefundLine, ShippingLine, TaxLine, Tolerance, Totals,
};
pub use pii::{Address, Pii, Redacted};
pub use traits::{
    ConnectorDeps, Delivered, DeliveryOutcome, DeliveryReport, DeliveryRequest, FeedCursor,
    FeedPage, OutcomeKind, Page, PrivacyAction, PullCursor, Rejected, Sink, SinkCaps, SinkRole,
    Source, SourceCaps, WebhookError, WebhookHint,
};

/// Secrets of one connection (decrypted only in memory, never logged).
pub type Secrets = std::collections::BTreeMap<String, secrecy::SecretString>;

pub use rust_decimal::Decimal;
/// Re-exported so connector configs derive `JsonSchema` without their own dependency
/// (`#[schemars(crate = "ordersync_sdk::schemars")]`).
pub use schemars;
pub use time::OffsetDateTime;

/// Parses a connection's `config` JSON into a connector's config type; errors name the field,
/// never a secret value (secrets are not in `config`).
pub fn parse_config<T: serde::de::DeserializeOwned>(
    config: &serde_json::Value,
) -> Result<T, ConnectorError> {
    T::deserialize(config).map_err(|e| ConnectorError::permanent(format!("invalid config: {e}")))
}

/// A required secret of a connection, or a permanent error naming the missing field.
pub fn require_secret(
    secrets: &Secrets,
    name: &str,
) -> Result<secrecy::SecretString, ConnectorError> {
    secrets
        .get(name)
        .filter(|s| !secrecy::ExposeSecret::expose_secret(*s).is_empty())
        .cloned()
        .ok_or_else(|| ConnectorError::permanent(format!("missing secret {name:?}")))
}
