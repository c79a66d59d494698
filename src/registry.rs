//! THE one list of connectors. Adding a connector is its crate plus one line here; everything
//! else in the service reads the descriptors and names no platform.

use ordersync_sdk::{ConnectorDeps, ConnectorError, Descriptor, Factory, Secrets, Sink, Source};
use std::sync::Arc;

pub const KINDS: &[&Descriptor] = &[
    &ordersync_shopify::DESCRIPTOR,
    &ordersync_shipstation::DESCRIPTOR,
    &ordersync_woocommerce::DESCRIPTOR,
    &ordersync_amazon::DESCRIPTOR,
    &ordersync_ebay::DESCRIPTOR,
    &ordersync_aftership::DESCRIPTOR,
    &ordersync_sage::DESCRIPTOR,
    &ordersync_xero::DESCRIPTOR,
];

pub fn lookup(kind: &str) -> Option<&'static Descriptor> {
    KINDS.iter().copied().find(|k| k.kind == kind)
}

/// The source descriptor of a marketplace (retention policies are per marketplace).
pub fn marketplace(name: &str) -> Option<&'static Descriptor> {
    KINDS.iter().copied().find(|k| k.marketplace == Some(name))
}

pub fn build_source(
    kind: &str,
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Source>, ConnectorError> {
    match lookup(kind).map(|k| k.factory) {
        Some(Factory::Source(f)) => f(config, secrets, deps),
        _ => Err(ConnectorError::permanent(format!(
            "unknown source kind {kind:?}"
        ))),
    }
}

pub fn build_sink(
    kind: &str,
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Sink>, ConnectorError> {
    match lookup(kind).map(|k| k.factory) {
        Some(Factory::Sink(f)) => f(config, secrets, deps),
        _ => Err(ConnectorError::permanent(format!(
            "unknown sink kind {kind:?}"
        ))),
    }
}
