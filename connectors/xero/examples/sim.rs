//! Serves the Xero simulator alone on a loopback port (prints `xero <url>`), for trying the
//! official client (`tests/clients/xero_client.py`) without building the whole service.

use std::sync::Arc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let clock = Arc::new(ordersync_sdk::SystemClock);
    let server =
        ordersync_xero::sim::spawn(ordersync_xero::sim::SimOptions::relaxed(), clock).await?;
    println!("xero {}", server.base_url);
    tokio::signal::ctrl_c().await
}
