//! The service's one integration-test binary. Every test runs on SQLite; with
//! `ORDERSYNC_TEST_POSTGRES_URL` set, the store suite and the pipeline run on PostgreSQL too,
//! each in a database of its own.

mod account_deletion;
mod api;
mod budgets;
mod canary;
mod coordination;
mod deploy;
mod dsr;
mod fencing;
mod fleet_state;
mod golden;
mod healthcheck;
mod helpers;
mod keys;
mod keystore_identity;
mod metrics;
mod pipeline;
mod platform;
mod privacy;
mod reconcile;
mod replay;
mod robust;
mod routes;
mod shredding;
mod sources;
mod store_suite;
mod tracking;
