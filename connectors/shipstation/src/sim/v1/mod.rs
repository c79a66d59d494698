//! The V1 API under the same server: `POST /orders/createorder` (upsert by `orderKey`, with
//! the shipped/cancelled lock), `POST /orders/createorders` (≤ 100, per-order results),
//! `GET /orders` (`orderNumber`, `orderStatus`, `page`, `pageSize`), `GET /orders/{orderId}`
//! and `GET /shipments?orderId=`. Basic auth with a key + secret pair, a fixed window of 40
//! requests a minute per pair with `X-Rate-Limit-Limit` / `-Remaining` / `-Reset` on every
//! answer and `429` at the limit, ASP.NET-style error bodies. An open order ships a day after
//! it was created (its status becomes `shipped` and a shipment appears).

mod gate;
mod orders;
mod validate;
mod view;

use super::SimState;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

pub use view::{effective_status, order_id};

pub fn routes(state: Arc<SimState>) -> Router<Arc<SimState>> {
    Router::new()
        .route("/orders/createorder", post(orders::create_one))
        .route("/orders/createorders", post(orders::create_many))
        .route("/orders", get(orders::list))
        .route("/orders/{order_id}", get(orders::get_one))
        .route("/shipments", get(orders::shipments))
        .route_layer(axum::middleware::from_fn_with_state(state, gate::gate))
}
