//! ordersync: pulls marketplace orders, keeps buyer PII encrypted and only as long as allowed,
//! and forwards orders exactly once to fulfillment and accounting targets.

pub mod api;
pub mod app;
pub mod clock;
pub mod config;
pub mod connections;
pub mod crypto;
pub mod deliveries;
pub mod demo;
mod demo_rates;
mod demo_workers;
pub mod dsr;
pub mod engine;
pub mod keys;
pub mod keystore_identity;
pub mod progress;
pub mod registry;
pub mod sim;
pub mod store;
pub mod telemetry;
