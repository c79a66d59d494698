//! `ordersync sim`: the platform simulators, served standalone so integration engineers can
//! develop offline. Each prints `<name> http://127.0.0.1:<port>`.

use clap::Args;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{Clock, SystemClock};
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Serve only this simulator (a connection kind).
    #[arg(long)]
    pub only: Option<String>,
    /// First port (the next simulators take the following ports); default: ephemeral ports.
    #[arg(long)]
    pub port: Option<u16>,
    /// Use benchmark-friendly rate limits instead of the platforms' real ones.
    #[arg(long)]
    pub relaxed: bool,
}

/// Names of the simulators this build has (every registered kind with one).
pub fn names() -> Vec<&'static str> {
    crate::registry::KINDS
        .iter()
        .filter(|k| k.sim.is_some())
        .map(|k| k.kind)
        .collect()
}

/// Starts one simulator by name on `port` (0 = ephemeral).
pub async fn start(
    name: &str,
    port: u16,
    relaxed: bool,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<SimServer> {
    let Some(spec) = crate::registry::lookup(name).and_then(|k| k.sim) else {
        anyhow::bail!("unknown simulator {name:?} (have: {})", names().join(", "));
    };
    Ok(SimServer::serve_on((spec.router)(relaxed, clock), port).await?)
}

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let names: Vec<&str> = match &args.only {
        Some(n) => vec![n.as_str()],
        None => names(),
    };
    let mut servers = Vec::new();
    for (i, name) in names.iter().enumerate() {
        // `--port 0` means ephemeral ports for all, not 0, 1, 2 ...
        let port = args
            .port
            .filter(|p| *p != 0)
            .map_or(0, |p| p.saturating_add(i as u16));
        let s = start(name, port, args.relaxed, clock.clone()).await?;
        println!("{name} {}", s.base_url);
        servers.push(s);
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
