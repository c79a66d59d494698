//! THE one list of connectors: kind name → role and factory. Adding a connector is one line
//! here plus its crate.

use ordersync_sdk::{ConnectorDeps, ConnectorError, Secrets, Sink, Source};
use std::sync::Arc;

pub type SourceFactory =
    fn(&serde_json::Value, &Secrets, &ConnectorDeps) -> Result<Arc<dyn Source>, ConnectorError>;
pub type SinkFactory =
    fn(&serde_json::Value, &Secrets, &ConnectorDeps) -> Result<Arc<dyn Sink>, ConnectorError>;

#[derive(Clone, Copy)]
pub enum Factory {
    Source(SourceFactory),
    Sink(SinkFactory),
}

pub struct Kind {
    pub name: &'static str,
    pub factory: Factory,
}

impl Kind {
    pub fn role(&self) -> &'static str {
        match self.factory {
            Factory::Source(_) => "source",
            Factory::Sink(_) => "sink",
        }
    }
}

pub const KINDS: &[Kind] = &[
    Kind {
        name: ordersync_shopify::KIND,
        factory: Factory::Source(ordersync_shopify::build_source),
    },
    Kind {
        name: ordersync_shipstation::KIND,
        factory: Factory::Sink(ordersync_shipstation::build_sink),
    },
];

pub fn lookup(kind: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == kind)
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
