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
    /// Keystore status and master key rotation (docs/keys.md).
    Keys {
        #[command(subcommand)]
        action: ordersync::keys::KeysAction,
    },
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
    let kek = load_master_key(policy, &data_dir(&cfg))?;
    App::open(cfg, kek, ordersync::clock::from_env()).await
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
            let app = open(cfg, KeyPolicy::Required).await?;
            let cancel = shutdown_token();
            tracing::info!("Worker started.");
            app.engine().run(cancel).await;
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
        Command::Keys { action } => {
            let app = open(cfg, KeyPolicy::Required).await?;
            print!("{}", ordersync::keys::run(&app, action).await?);
            Ok(ExitCode::SUCCESS)
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
    let state = api::ApiState::new(&app, engine, app.cfg.allow_private_endpoints);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!(addr = %listener.local_addr()?, "API listening.");
    let c = cancel.clone();
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(async move { c.cancelled().await })
        .await?;
    if let Some(w) = worker {
        let _ = w.await;
    }
    Ok(ExitCode::SUCCESS)
}
