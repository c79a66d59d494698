//! The service's one integration-test binary. Every test runs on SQLite; with
//! `ORDERSYNC_TEST_POSTGRES_URL` set, the store suite and the pipeline run on PostgreSQL too,
//! each in a database of its own.

mod account_deletion;
mod api;
mod canary;
mod dsr;
mod golden;
mod helpers;
mod keys;
mod pipeline;
mod platform;
mod privacy;
mod robust;
mod routes;
mod shredding;
mod sources;
mod store_suite;
mod tracking;
