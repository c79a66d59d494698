//! The `ordersync` command line (ARCHITECTURE §8).

use clap::{Parser, Subcommand};
use ordersync::app::{App, KeyPolicy, load_master_key};
use ordersync::config::Config;
use ordersync::{api, demo, sim, telemetry};
use std::path::PathBuf;
use std::process::ExitCode;

// glibc malloc showed ~15% of the demo's CPU (arena contention between runtime threads).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "ordersync",
    version,
    about = "Marketplace order sync as a GDPR data processor"
)]
struct Cli {
    /// TOML configuration file (environment variables override it).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every simulator in-process and sync seeded orders end to end.
    Demo(demo::DemoArgs),
    /// API and worker in one process.
    Serve {
        /// Generate a development master key into the data dir if none is set.
        #[arg(long)]
        dev: bool,
        /// Allow connector endpoints on loopback/private addresses and `http://` (tests, demo);
        /// same as `allow_private_endpoints = true` in the config.
        #[arg(long)]
        allow_private_endpoints: bool,
    },
    /// Worker only.
    Worker,
    /// API only.
    Api {
        #[arg(long)]
        dev: bool,
        #[arg(long)]
        allow_private_endpoints: bool,
    },
    /// Apply migrations and exit.
    Migrate,
    /// Serve the platform simulators standalone.
    Sim(sim::SimArgs),
    /// Delete PII of orders past their retention window.
    Purge {
        #[arg(long)]
        dry_run: bool,
    },
    /// Data-subject requests: export or erase a buyer's PII by email (prints JSON).
    Dsr {
        #[command(subcommand)]
        action: ordersync::dsr::DsrCommand,
    },
    /// A merchant's delivery queue: list it, replay dead letters (prints JSON).
    Deliveries {
        #[command(subcommand)]
        action: ordersync::deliveries::DeliveriesCommand,
    },
    /// Keystore status and master key rotation (docs/keys.md).
    Keys {
        #[command(subcommand)]
        action: ordersync::keys::KeysAction,
    },
    /// Exit 0 if `GET /healthz` on the listen address answers 2xx, else 1 (container health).
    ///
    /// The image's HEALTHCHECK: its runtime stage has no curl.
    Healthcheck,
}

fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let cfg = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let quiet_default =
        matches!(cli.command, Command::Demo(_)) && std::env::var_os("ORDERSYNC_LOG").is_none();
    telemetry::init_logs(
        if quiet_default { "warn" } else { &cfg.log },
        &cfg.log_format,
    );
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, cfg)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn data_dir(cfg: &Config) -> PathBuf {
    cfg.sqlite_dir().unwrap_or_else(|| PathBuf::from("./data"))
}

async fn open(cfg: Config, policy: KeyPolicy) -> anyhow::Result<App> {
    // Before a development key is written into a data dir the configuration cannot use.
    ordersync::keystore_identity::keystore_url(&cfg)?;
    let kek = load_master_key(policy, &data_dir(&cfg))?;
    let mut app = App::open(cfg, kek, ordersync::clock::from_env()).await?;
    // Every process of the fleet tells time (leases, schedules) by the database's clock.
    app.clock = ordersync::clock::DbClock::start(app.clock.clone(), app.store.clone()).await?;
    Ok(app)
}

fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("Shutting down: no new claims, finishing in-flight work.");
        t.cancel();
    });
    token
}

async fn run(cmd: Command, cfg: Config) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Demo(args) => {
            // The demo's simulators listen on 127.0.0.1.
            let cfg = Config {
                allow_private_endpoints: true,
                ..cfg
            };
            demo::run(args, cfg).await
        }
        Command::Sim(args) => sim::run(args).await.map(|_| ExitCode::SUCCESS),
        Command::Migrate => {
            open(cfg, KeyPolicy::Required).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker => {
            let listen = cfg.listen.clone();
            let app = open(cfg, KeyPolicy::Required).await?;
            let cancel = shutdown_token();
            let engine = app.engine();
            // Probes need a listener: /healthz names a stuck loop of this worker.
            let state = api::ApiState::new(&app, engine.clone(), app.cfg.allow_private_endpoints);
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
            tracing::info!(addr = %listener.local_addr()?, "Worker started; health on this address.");
            let c = cancel.clone();
            let health = tokio::spawn(async move {
                axum::serve(listener, api::worker_router(state))
                    .with_graceful_shutdown(async move { c.cancelled().await })
                    .await
            });
            let line = ordersync::progress::spawn_backfill_line(
                app.store.clone(),
                &app.cfg.log_format,
                cancel.clone(),
            );
            engine.run(cancel).await;
            health.await??;
            if let Some(l) = line {
                let _ = l.await;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve {
            dev,
            allow_private_endpoints,
        } => serve(cfg, dev, allow_private_endpoints, true).await,
        Command::Api {
            dev,
            allow_private_endpoints,
        } => serve(cfg, dev, allow_private_endpoints, false).await,
        Command::Purge { dry_run } => {
            let app = open(cfg, KeyPolicy::Required).await?;
            let engine = app.engine();
            if dry_run {
                let n = app.store.count_purge_due(engine.now_us()).await?;
                println!("{n} orders are past their retention window and would be purged");
            } else {
                let mut total = ordersync::engine::PurgeStep::default();
                loop {
                    let p = engine.purge_step().await?;
                    total.purged += p.purged;
                    total.rewrapped += p.rewrapped;
                    total.epochs_destroyed += p.epochs_destroyed;
                    if p.purged == 0 && p.rewrapped == 0 {
                        break;
                    }
                }
                println!(
                    "purged PII of {} orders; moved {} DEKs to the epochs of their purge dates; destroyed {} epoch keys",
                    total.purged, total.rewrapped, total.epochs_destroyed
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Dsr { action } => {
            let app = open(cfg, KeyPolicy::Required).await?;
            let out = ordersync::dsr::run_cli(&app, action).await?;
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Deliveries { action } => {
            let app = open(cfg, KeyPolicy::Required).await?;
            let out = ordersync::deliveries::run(&app, action).await?;
            println!("{}", serde_json::to_string_pretty(&out.json)?);
            Ok(if out.complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Keys { action } => {
            let app = open(cfg, KeyPolicy::Required).await?;
            print!("{}", ordersync::keys::run(&app, action).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck => healthcheck(&cfg.listen).await,
    }
}

/// `http://<listen>/healthz`; an unspecified address (`0.0.0.0`, `[::]`) is reached on loopback.
fn healthz_url(listen: &str) -> String {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    let host = match listen.parse::<SocketAddr>() {
        Ok(a) if a.ip().is_unspecified() => {
            let ip: IpAddr = if a.is_ipv4() {
                Ipv4Addr::LOCALHOST.into()
            } else {
                Ipv6Addr::LOCALHOST.into()
            };
            SocketAddr::new(ip, a.port()).to_string()
        }
        Ok(a) => a.to_string(),
        Err(_) => listen.to_string(),
    };
    format!("http://{host}/healthz")
}

async fn healthcheck(listen: &str) -> anyhow::Result<ExitCode> {
    let url = healthz_url(listen);
    // No proxy: an HTTP(S)_PROXY in the container's environment must not answer for this host.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(5))
        .build()?;
    match http.get(&url).send().await {
        Ok(r) if r.status().is_success() => {
            println!("ok");
            Ok(ExitCode::SUCCESS)
        }
        Ok(r) => {
            let status = r.status();
            eprintln!(
                "unhealthy: {url} answered {status}: {}",
                r.text().await.unwrap_or_default()
            );
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("unhealthy: {url}: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn serve(
    mut cfg: Config,
    dev: bool,
    allow_private: bool,
    with_worker: bool,
) -> anyhow::Result<ExitCode> {
    let policy = if dev {
        KeyPolicy::DevFile
    } else {
        KeyPolicy::Required
    };
    // The flag widens the config (`allow_private_endpoints`), never narrows it.
    cfg.allow_private_endpoints |= allow_private;
    let listen = cfg.listen.clone();
    let app = open(cfg, policy).await?;
    let cancel = shutdown_token();
    let engine = app.engine();
    let worker = with_worker.then(|| {
        let e = engine.clone();
        let c = cancel.clone();
        tokio::spawn(async move { e.run(c).await })
    });
    // The history imports' progress, on a terminal, where this process imports.
    let line = with_worker
        .then(|| {
            ordersync::progress::spawn_backfill_line(
                app.store.clone(),
                &app.cfg.log_format,
                cancel.clone(),
            )
        })
        .flatten();
    let state = api::ApiState::new(&app, engine, app.cfg.allow_private_endpoints);
    if let Some(why) = state.metrics.off_reason() {
        tracing::warn!("{why}");
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!(addr = %listener.local_addr()?, "API listening.");
    let metrics = match app.cfg.metrics.listen.as_deref() {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (metrics): {e}"))?;
            tracing::info!(addr = %l.local_addr()?, "Metrics listening.");
            let (c, router) = (cancel.clone(), api::metrics_router(state.clone()));
            Some(tokio::spawn(async move {
                axum::serve(l, router)
                    .with_graceful_shutdown(async move { c.cancelled().await })
                    .await
            }))
        }
        None => None,
    };
    let c = cancel.clone();
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(async move { c.cancelled().await })
        .await?;
    if let Some(m) = metrics {
        m.await??;
    }
    if let Some(w) = worker {
        let _ = w.await;
    }
    if let Some(l) = line {
        let _ = l.await;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::healthz_url;

    #[test]
    fn healthcheck_reaches_an_unspecified_listen_address_on_loopback() {
        assert_eq!(healthz_url("0.0.0.0:8080"), "http://127.0.0.1:8080/healthz");
        assert_eq!(healthz_url("[::]:9000"), "http://[::1]:9000/healthz");
        assert_eq!(healthz_url("10.1.2.3:8080"), "http://10.1.2.3:8080/healthz");
        assert_eq!(
            healthz_url("localhost:8080"),
            "http://localhost:8080/healthz"
        );
    }
}
