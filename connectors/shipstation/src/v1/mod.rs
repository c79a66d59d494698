//! ShipStation V1 (`ssapi.shipstation.com`, `api_version: "v1"`): Basic auth with the key +
//! secret pair, `createorder` / `createorders` upserts by `orderKey`, 40 requests a minute.
//! V1 reports no delivery date, so this sink does not track deliveries.

mod client;
pub mod errors;
pub mod mapping;
mod sink;
pub mod wire;

pub(crate) use client::Client;
pub use sink::ShipStationV1Sink;
