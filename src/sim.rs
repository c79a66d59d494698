//! `ordersync sim`: the platform simulators, served standalone so integration engineers can
//! develop offline. Each prints `<name> http://127.0.0.1:<port>`.

use clap::Args;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{Clock, SystemClock};
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Serve only this simulator (e.g. `shopify`).
    #[arg(long)]
    pub only: Option<String>,
    /// First port (the next simulators take the following ports); default: ephemeral ports.
    #[arg(long)]
    pub port: Option<u16>,
    /// Use benchmark-friendly rate limits instead of the platforms' real ones.
    #[arg(long)]
    pub relaxed: bool,
}

/// Names of the simulators this build has.
pub const NAMES: &[&str] = &["shopify", "shipstation"];

/// Starts one simulator by name on `port` (0 = ephemeral).
pub async fn start(
    name: &str,
    port: u16,
    relaxed: bool,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<SimServer> {
    let router = match name {
        "shopify" => {
            let opts = if relaxed {
                ordersync_shopify::sim::SimOptions::relaxed()
            } else {
                Default::default()
            };
            ordersync_shopify::sim::router(opts, clock)
        }
        "shipstation" => {
            let opts = if relaxed {
                ordersync_shipstation::sim::SimOptions::relaxed()
            } else {
                Default::default()
            };
            ordersync_shipstation::sim::router(opts, clock)
        }
        other => anyhow::bail!("unknown simulator {other:?} (have: {})", NAMES.join(", ")),
    };
    Ok(SimServer::serve_on(router, port).await?)
}

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let names: Vec<&str> = match &args.only {
        Some(n) => vec![n.as_str()],
        None => NAMES.to_vec(),
    };
    let mut servers = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let port = args.port.map_or(0, |p| p.saturating_add(i as u16));
        let s = start(name, port, args.relaxed, clock.clone()).await?;
        println!("{name} {}", s.base_url);
        servers.push(s);
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
