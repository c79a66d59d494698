//! `ordersync demo` (ARCHITECTURE §8): every simulator in-process on loopback, a demo merchant
//! with one connection per marketplace and per target and routes from every source to every
//! target, N seeded orders, the worker run until each order reached each target, then the
//! clock fast-forwarded through delivery → retention → purge. Delivery counts in the summary
//! come from what the target simulators received, not from our own ledger.

use crate::api::admin::{hash_token, new_token};
use crate::app::{App, KeyPolicy, load_master_key};
use crate::config::Config;
use crate::connections::{Actor, Lifecycle, NewConnection};
use crate::store::RouteRow;
use anyhow::Context;
use clap::Args;
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::sim::{Expected, Received, SimServer, SimStats};
use ordersync_sdk::{Clock, Descriptor, ManualClock, Secrets, SimSpec, SinkRole};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Orders to seed, spread over the marketplaces.
    #[arg(long, default_value_t = 2000)]
    pub orders: u64,
    /// Keep the databases here for inspection (default: a temporary directory, removed after).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Make the last stdout line a JSON summary.
    #[arg(long)]
    pub json: bool,
    /// Run N worker child processes instead of the in-process worker.
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Make every simulator inject errors at this rate (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub faults: f64,
    /// SIGKILL a random worker child at this interval (seconds), then start a new one.
    #[arg(long)]
    pub kill_every: Option<f64>,
    /// Run the targets' simulators at the platforms' real limits and the connectors at their
    /// default pacing, and report each target's requests a minute (`target_rates`).
    #[arg(long)]
    pub real_limits: bool,
}

/// The demo connection's config; at real limits without the fields that lift them.
fn demo_config(sim: &SimSpec, base_url: &str, real_limits: bool) -> serde_json::Value {
    let mut c = (sim.demo_config)(base_url);
    if real_limits && let Some(o) = c.as_object_mut() {
        for f in sim.limit_fields {
            o.remove(*f);
        }
    }
    c
}

/// The connector kinds the demo runs: every registered one that has a simulator.
fn demo_kinds() -> Vec<(&'static Descriptor, SimSpec)> {
    crate::registry::KINDS
        .iter()
        .filter_map(|d| d.sim.map(|s| (*d, s)))
        .collect()
}

pub async fn run(args: DemoArgs, mut cfg: Config) -> anyhow::Result<ExitCode> {
    if args.kill_every.is_some() && args.workers == 0 {
        anyhow::bail!("--kill-every needs --workers N (it kills worker child processes)");
    }
    if !(0.0..=1.0).contains(&args.faults) {
        anyhow::bail!("--faults must be between 0 and 1");
    }
    let (data_dir, temporary) = match &args.data_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("ordersync-demo-{}", uuid::Uuid::new_v4().simple())),
            true,
        ),
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let result = run_in(&args, &mut cfg, &data_dir).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    result
}

/// The pause between two progress polls: at least 50 ms, and four times what the poll took, so
/// the counts (which read the deliveries table) never take more than a fifth of the database
/// from the run being measured; at most a second.
fn poll_pause(took: Duration) -> Duration {
    took.saturating_mul(4)
        .clamp(Duration::from_millis(50), Duration::from_secs(1))
}

async fn run_in(
    args: &DemoArgs,
    cfg: &mut Config,
    data_dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    if std::env::var_os("ORDERSYNC_DATABASE_URL").is_none() {
        cfg.database_url = format!("sqlite://{}", data_dir.join("ordersync.db").display());
    }
    // The demo's own keystore, in its data dir, also with PostgreSQL (where a keystore URL is
    // required): its worker processes run on this host and are given this URL.
    if std::env::var_os("ORDERSYNC_KEYSTORE_URL").is_none() {
        cfg.keystore_url = Some(format!(
            "sqlite://{}",
            data_dir.join("keystore.db").display()
        ));
    }
    cfg.engine.poll_interval_secs = 1;
    cfg.engine.idle_ms = 20;
    cfg.engine.track_interval_secs = 3600;
    cfg.engine.track_retry_secs = 1;
    cfg.engine.purge_interval_secs = 1;
    // Short leases so work of a SIGKILLed worker comes back within seconds.
    cfg.engine.lease_secs = 5;
    let clock = Arc::new(ManualClock::new());
    let kek = load_master_key(KeyPolicy::DevFile, data_dir)?;
    let app = App::open(cfg.clone(), kek, clock.clone()).await?;
    // Never with --json: its output is for programs.
    let progress = Progress::new(!args.json);

    // Simulators, with benchmark-friendly limits (the real ones would cap a 2-core benchmark).
    let mut servers: Vec<(&Descriptor, SimServer)> = Vec::new();
    for (d, _) in demo_kinds() {
        let relaxed = !args.real_limits || d.is_source();
        servers.push((
            d,
            crate::sim::start(d.kind, 0, relaxed, clock.clone()).await?,
        ));
    }
    let http = reqwest::Client::new();
    if args.faults > 0.0 {
        for (_, s) in &servers {
            http.post(format!("{}/_sim/faults", s.base_url))
                .json(&json!({ "rate": args.faults }))
                .send()
                .await?
                .error_for_status()?;
        }
    }

    // The demo merchant, its connections and routes.
    let now = to_micros(clock.now());
    let merchant = uuid::Uuid::now_v7().to_string();
    app.store
        .create_merchant(&merchant, "Demo merchant", &hash_token(&new_token()), now)
        .await?;
    let mut sources = Vec::new();
    let mut sinks = Vec::new();
    // The same lifecycle as the admin API: validated, SSRF-checked (loopback allowed: the
    // simulators run here), sealed and audited.
    let lifecycle = Lifecycle {
        store: &app.store,
        crypto: &app.crypto,
        clock: &*clock,
        allow_private_endpoints: true,
        cache: None,
    };
    for (spec, server) in &servers {
        let sim = spec.sim.context("demo kinds have a simulator")?;
        let secrets: Secrets = sim
            .demo_secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string().into()))
            .collect();
        let row = lifecycle
            .create(
                &merchant,
                Actor("demo"),
                NewConnection {
                    kind: spec.kind.into(),
                    name: Some(format!("Demo {}", spec.kind)),
                    config: demo_config(&sim, &server.base_url, args.real_limits),
                    secrets,
                },
            )
            .await
            .with_context(|| format!("creating the demo {} connection", spec.kind))?;
        let id = row.id;
        if spec.is_source() {
            sources.push((spec.kind, id))
        } else {
            // What the target does decides what it should hold at the end.
            let role = crate::registry::build_sink(
                spec.kind,
                &demo_config(&sim, &server.base_url, args.real_limits),
                &sim.demo_secrets
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string().into()))
                    .collect(),
                &ordersync_sdk::ConnectorDeps::for_simulators(),
            )
            .with_context(|| format!("building the demo {} sink", spec.kind))?
            .capabilities()
            .role;
            sinks.push((spec.kind, id, server.base_url.clone(), role))
        }
    }
    for (_, src) in &sources {
        for (_, sink, _, _) in &sinks {
            let r = RouteRow {
                id: uuid::Uuid::now_v7().to_string(),
                merchant_id: merchant.clone(),
                source_connection_id: src.clone(),
                sink_connection_id: sink.clone(),
                created_at: now,
                // The seeded history goes everywhere, cancelled orders included, so every
                // target's own rules (skip, void, cancel) are shown.
                statuses: Some(serde_json::to_string(crate::engine::ALL_STATUSES)?),
                start_at: None,
            };
            app.store.insert_route(&r).await?;
        }
    }

    // Seed the marketplaces: N orders spread evenly.
    let n_sources = servers.iter().filter(|(s, _)| s.is_source()).count() as u64;
    let mut seeded = 0;
    for (i, (spec, server)) in servers.iter().filter(|(s, _)| s.is_source()).enumerate() {
        let share = args.orders / n_sources + u64::from((i as u64) < args.orders % n_sources);
        http.post(format!("{}/_sim/seed", server.base_url))
            .json(&json!({ "count": share, "seed": 42 + i }))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("seeding {}", spec.kind))?;
        seeded += share;
    }
    let expected_deliveries = seeded as i64 * sinks.len() as i64;

    // Run the worker (in-process, or N child processes) until every order reached every target.
    let clock_file = data_dir.join("clock.offset");
    crate::clock::publish_offset(&clock, &clock_file)?;
    let cancel = CancellationToken::new();
    let (worker, children) = if args.workers == 0 {
        let (e, c) = (app.engine(), cancel.clone());
        (Some(tokio::spawn(async move { e.run(c).await })), None)
    } else {
        (
            None,
            Some(start_children(args, cfg, data_dir, &clock_file)?),
        )
    };
    let started = Instant::now();
    let sampler = args.real_limits.then(|| {
        let targets = sinks.iter().map(|(k, _, u, _)| (*k, u.clone())).collect();
        crate::demo_rates::RateSampler::start(http.clone(), targets)
    });
    // At real limits the targets take their time (Xero: 60 calls a minute per tenant).
    let deadline = Duration::from_secs(if args.real_limits { 3600 } else { 600 });
    let mut reauthorised = 0u64;
    loop {
        let polled = Instant::now();
        let t = app.store.totals().await?;
        progress.show(
            "syncing",
            t.orders,
            seeded as i64,
            t.deliveries_done,
            expected_deliveries,
        );
        let settled = t.deliveries_pending + t.deliveries_in_flight == 0;
        // A rejected order is accounted for (held for review, reported below), not awaited.
        let rejected: i64 = app
            .store
            .connection_status(Some(&merchant))
            .await?
            .iter()
            .map(|c| c.rejected_orders)
            .sum();
        // Rejected orders get no deliveries.
        let due = (seeded as i64 - rejected).max(0) * sinks.len() as i64;
        if t.orders + rejected >= seeded as i64
            && settled
            && t.deliveries_done + t.deliveries_dead >= due
        {
            break;
        }
        if started.elapsed() > deadline {
            progress.note("timed out waiting for deliveries");
            break;
        }
        reauthorised += reauthorise(&app, &lifecycle, &merchant, &sinks, &http).await?;
        tokio::time::sleep(poll_pause(polled.elapsed())).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let target_rates = match sampler {
        Some(s) => Some(s.finish().await),
        None => None,
    };

    // Fast-forward: parcels arrive, then the retention window closes and PII is purged.
    let before_tracking = sink_requests(&http, &sinks).await?;
    let tracking_started = Instant::now();
    clock.advance(time::Duration::days(5));
    crate::clock::publish_offset(&clock, &clock_file)?;
    let tracked_until = Instant::now() + Duration::from_secs(300);
    loop {
        let polled = Instant::now();
        let t = app.store.totals().await?;
        progress.show(
            "tracking",
            t.delivered_orders,
            t.orders,
            t.delivered_orders,
            t.orders,
        );
        // Orders with nothing to ship (refunded, cancelled) have no parcel to track.
        if t.awaiting_tracking == 0 || Instant::now() > tracked_until {
            break;
        }
        tokio::time::sleep(poll_pause(polled.elapsed())).await;
    }
    let tracking_s = tracking_started.elapsed().as_secs_f64();
    // What learning the delivery times cost each target (its simulator's own count).
    let after_tracking = sink_requests(&http, &sinks).await?;
    let tracking_requests: BTreeMap<&str, u64> = after_tracking
        .iter()
        .map(|(k, n)| {
            (
                *k,
                n.saturating_sub(before_tracking.get(k).copied().unwrap_or(0)),
            )
        })
        .collect();
    clock.advance(time::Duration::days(35));
    crate::clock::publish_offset(&clock, &clock_file)?;
    let purge_until = Instant::now() + Duration::from_secs(300);
    loop {
        let polled = Instant::now();
        let t = app.store.totals().await?;
        progress.show(
            "purging",
            t.pii_purged,
            t.delivered_orders,
            t.pii_purged,
            t.delivered_orders,
        );
        if t.pii_purged >= t.delivered_orders || Instant::now() > purge_until {
            break;
        }
        tokio::time::sleep(poll_pause(polled.elapsed())).await;
    }
    cancel.cancel();
    if let Some(w) = worker {
        let _ = w.await;
    }
    let workers_killed = match children {
        Some(c) => {
            let k = c.killed.load(std::sync::atomic::Ordering::SeqCst);
            c.stop().await;
            k
        }
        None => 0,
    };
    progress.done();

    // What the targets actually hold.
    let t = app.store.totals().await?;
    let mut deliveries = BTreeMap::new();
    let (mut duplicates, mut missing) = (0i64, 0i64);
    let expected = expected_of_sources(&http, &servers).await?;
    // Orders held back as unmappable are reported (`rejected_orders`), not awaited anywhere.
    let mut shippable = expected.shippable.clone();
    for (_, src) in &sources {
        for id in app.store.rejected_external_ids(src).await? {
            shippable.remove(&id);
        }
    }
    let shippable = &shippable;
    let mut shipment_mismatches = 0i64;
    let mut untracked = 0i64;
    for (name, sink_id, url, role) in &sinks {
        let received: Received = http
            .get(format!("{url}/_sim/received"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .with_context(|| format!("reading {name}'s /_sim/received"))?;
        let per_order = received.per_order();
        duplicates += per_order.values().map(|c| *c as i64 - 1).sum::<i64>();
        if *role == SinkRole::Fulfillment {
            // A fulfillment target: it must hold exactly the units left to ship of every
            // order that has some, and nothing else (no tips, gift cards, refunded units).
            let check = check_shipments(&received, shippable);
            missing += check.missing;
            shipment_mismatches += check.mismatched;
            deliveries.insert(name.to_string(), check.holding);
        } else {
            // Every ingested order the target did not decline (a tracking target and an
            // order without a tracking number, an invoice never made for an order
            // cancelled before payment) must be there once.
            let skipped: std::collections::BTreeSet<String> = app
                .store
                .skipped_orders(sink_id)
                .await?
                .into_iter()
                .collect();
            let held: std::collections::BTreeSet<&str> = per_order.keys().copied().collect();
            let should = (t.orders - skipped.len() as i64).max(0);
            missing += (should - held.len() as i64).max(0);
            if *role == SinkRole::Tracking {
                // Parcels the marketplaces report sent that the target does not follow.
                untracked += expected
                    .tracked
                    .keys()
                    .filter(|k| !held.contains(k.as_str()))
                    .count() as i64;
            }
            deliveries.insert(name.to_string(), per_order.len());
        }
    }
    let mut faults = 0;
    for (d, s) in &servers {
        let st: SimStats = http
            .get(format!("{}/_sim/stats", s.base_url))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .with_context(|| format!("reading {}'s /_sim/stats", d.kind))?;
        faults += st.faults_injected;
    }
    let status = app.store.connection_status(Some(&merchant)).await?;
    let ingested: BTreeMap<String, i64> = status
        .iter()
        .filter(|c| c.role == "source")
        .map(|c| (c.kind.clone(), c.orders))
        .collect();
    let rejected: i64 = status
        .iter()
        .filter(|c| c.role == "source")
        .map(|c| c.rejected_orders)
        .sum();
    let summary = json!({
        "orders_seeded": seeded,
        "orders_ingested": t.orders,
        "ingested": ingested,
        "rejected_orders": rejected,
        "deliveries": deliveries,
        "duplicate_deliveries": duplicates,
        "missing_deliveries": missing,
        "shipment_mismatches": shipment_mismatches,
        "untracked_parcels": untracked,
        "reauthorised": reauthorised,
        "orders_with_nothing_to_ship": seeded as i64 - shippable.len() as i64,
        "dead_deliveries": t.deliveries_dead,
        "orders_delivered_to_buyer": t.delivered_orders,
        "pii_purged": t.pii_purged,
        "workers": args.workers,
        "workers_killed": workers_killed,
        "faults_injected": faults,
        "database": app.store.dialect(),
        "elapsed_s": (elapsed * 1000.0).round() / 1000.0,
        "tracking_s": (tracking_s * 1000.0).round() / 1000.0,
        "tracking_requests": tracking_requests,
        "orders_per_s": (seeded as f64 / elapsed.max(1e-9)).round(),
        "target_rates": target_rates,
    });
    if !args.json {
        println!(
            "ordersync demo — {} on {}",
            demo_kinds()
                .iter()
                .map(|(d, _)| d.kind)
                .collect::<Vec<_>>()
                .join(", "),
            app.store.dialect()
        );
        println!("  orders seeded      {seeded}");
        println!("  orders ingested    {}", t.orders);
        println!("  orders rejected    {rejected}");
        for (k, v) in &deliveries {
            println!("  delivered to {k:<12} {v}");
        }
        println!("  duplicates         {duplicates}");
        println!("  missing            {missing}");
        println!("  wrong shipments    {shipment_mismatches}");
        println!(
            "  nothing to ship    {} (refunded, cancelled, tips or gift cards only)",
            seeded as i64 - shippable.len() as i64
        );
        println!("  parcels delivered  {}", t.delivered_orders);
        for (k, n) in &tracking_requests {
            println!("  tracking requests  {k}: {n}");
        }
        println!("  tracking time      {tracking_s:.2} s");
        println!("  PII purged         {}", t.pii_purged);
        if let Some(serde_json::Value::Object(r)) = &target_rates {
            for (k, v) in r {
                println!("  requests/min       {k}: {v}");
            }
        }
        println!(
            "  sync time          {elapsed:.2} s ({:.0} orders/s)",
            seeded as f64 / elapsed.max(1e-9)
        );
        if args.data_dir.is_some() {
            println!("  data kept in       {}", data_dir.display());
        }
    }
    println!("{summary}");
    Ok(
        if duplicates == 0 && missing == 0 && shipment_mismatches == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// What a merchant does when a connection's credentials stop working: authorise the app again.
/// A worker SIGKILLed between a single-use refresh token's exchange and its persisting (Sage
/// rotates on every use, with no grace) leaves the connection with a dead token; its
/// deliveries wait, never dead-lettered, until then. Returns how many connections it renewed.
async fn reauthorise(
    app: &App,
    lifecycle: &Lifecycle<'_>,
    merchant: &str,
    sinks: &[(&'static str, String, String, SinkRole)],
    http: &reqwest::Client,
) -> anyhow::Result<u64> {
    let waiting = app
        .store
        .list_deliveries(merchant, Some("pending"), 1000)
        .await?;
    let mut done = 0;
    for (kind, id, url, _) in sinks {
        let stuck = waiting.iter().any(|d| {
            d.sink_connection_id == *id
                && d.last_error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("authentication failed"))
        });
        if !stuck {
            continue;
        }
        let r = http.post(format!("{url}/_sim/authorize")).send().await?;
        if !r.status().is_success() {
            continue; // a simulator without a consent screen: nothing a merchant could do
        }
        let v: serde_json::Value = r.json().await?;
        let Some(token) = v["refresh_token"].as_str() else {
            continue;
        };
        let spec = crate::registry::lookup(kind)
            .and_then(|d| d.sim)
            .context("demo sinks have a simulator")?;
        let mut secrets: Secrets = spec
            .demo_secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string().into()))
            .collect();
        secrets.insert("refresh_token".into(), token.to_string().into());
        lifecycle
            .update(
                merchant,
                Actor("demo"),
                id,
                crate::connections::ConnectionPatch {
                    name: None,
                    config: None,
                    secrets: Some(secrets),
                    state: None,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("re-authorising the demo {kind} connection: {e}"))?;
        done += 1;
    }
    Ok(done)
}

/// API requests each target's simulator has served so far (`/_sim/stats`).
async fn sink_requests(
    http: &reqwest::Client,
    sinks: &[(&'static str, String, String, SinkRole)],
) -> anyhow::Result<BTreeMap<&'static str, u64>> {
    let mut out = BTreeMap::new();
    for (name, _, url, _) in sinks {
        let st: SimStats = http
            .get(format!("{url}/_sim/stats"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .with_context(|| format!("reading {name}'s /_sim/stats"))?;
        out.insert(*name, st.requests);
    }
    Ok(out)
}

/// What the targets should hold, from every source simulator that knows (`/_sim/expected`):
/// per order the units a fulfillment target ships, and the parcels a tracking target follows.
async fn expected_of_sources(
    http: &reqwest::Client,
    servers: &[(&'static Descriptor, SimServer)],
) -> anyhow::Result<Expected> {
    let mut all = Expected::default();
    for (d, s) in servers.iter().filter(|(d, _)| d.is_source()) {
        let r = http
            .get(format!("{}/_sim/expected", s.base_url))
            .send()
            .await?;
        if r.status() == reqwest::StatusCode::NOT_FOUND {
            continue;
        }
        let e: Expected = r
            .error_for_status()?
            .json()
            .await
            .with_context(|| format!("reading {}'s /_sim/expected", d.kind))?;
        all.orders += e.orders;
        all.shippable.extend(e.shippable);
        all.tracked.extend(e.tracked);
    }
    Ok(all)
}

struct ShipmentCheck {
    /// Orders the target holds a live shipment for.
    holding: usize,
    missing: i64,
    mismatched: i64,
}

/// Compares a fulfillment target's live (not cancelled) objects with what should be shipped.
fn check_shipments(
    received: &Received,
    expected: &BTreeMap<String, BTreeMap<String, u64>>,
) -> ShipmentCheck {
    let live: BTreeMap<&str, &BTreeMap<String, u64>> = received
        .objects
        .iter()
        .filter(|o| o.status.as_deref() != Some("cancelled"))
        .filter_map(|o| Some((o.external_order_id.as_str(), o.units.as_ref()?)))
        .collect();
    let missing = expected
        .keys()
        .filter(|k| !live.contains_key(k.as_str()))
        .count() as i64;
    let mismatched = live
        .iter()
        .filter(|(k, units)| expected.get(**k) != Some(**units))
        .count() as i64;
    ShipmentCheck {
        holding: live.len(),
        missing,
        mismatched,
    }
}

/// Starts the worker children with the demo's database, keystore, key and clock.
fn start_children(
    args: &DemoArgs,
    cfg: &Config,
    data_dir: &std::path::Path,
    clock_file: &std::path::Path,
) -> anyhow::Result<crate::demo_workers::Workers> {
    let config_path = data_dir.join("demo-worker.toml");
    let worker_cfg = json!({
        "database_url": cfg.database_url,
        "keystore_url": cfg.keystore_url(),
        "log": "warn",
        "allow_private_endpoints": cfg.allow_private_endpoints,
        "engine": {
            "poll_interval_secs": cfg.engine.poll_interval_secs, "idle_ms": cfg.engine.idle_ms,
            "track_interval_secs": cfg.engine.track_interval_secs, "track_retry_secs": cfg.engine.track_retry_secs, "purge_interval_secs": cfg.engine.purge_interval_secs,
            "lease_secs": cfg.engine.lease_secs, "delivery_batch": cfg.engine.delivery_batch, "max_attempts": cfg.engine.max_attempts,
        },
    });
    let toml_text = toml::to_string(&worker_cfg)?;
    std::fs::write(&config_path, toml_text)?;
    let mut env = vec![
        (
            "ORDERSYNC_CLOCK_OFFSET_FILE".to_string(),
            clock_file.display().to_string(),
        ),
        // The children take their settings from the file above, not from the demo's environment.
        ("ORDERSYNC_DATABASE_URL".to_string(), String::new()),
        ("ORDERSYNC_KEYSTORE_URL".to_string(), String::new()),
        ("ORDERSYNC_LOG".to_string(), String::new()),
    ];
    if std::env::var_os("ORDERSYNC_MASTER_KEY").is_none()
        && std::env::var_os("ORDERSYNC_MASTER_KEY_FILE").is_none()
    {
        env.push((
            "ORDERSYNC_MASTER_KEY_FILE".to_string(),
            data_dir.join("master.key").display().to_string(),
        ));
    }
    crate::demo_workers::Workers::start(args.workers, &config_path, env, data_dir, args.kill_every)
}

/// A one-line progress display on stderr when it is a terminal.
struct Progress {
    tty: bool,
}

impl Progress {
    fn new(wanted: bool) -> Self {
        Self {
            tty: wanted && std::io::stderr().is_terminal(),
        }
    }

    fn show(&self, phase: &str, a: i64, a_total: i64, b: i64, b_total: i64) {
        if !self.tty {
            return;
        }
        let frac = if b_total > 0 {
            b as f64 / b_total as f64
        } else {
            1.0
        };
        let filled = (frac.clamp(0.0, 1.0) * 30.0) as usize;
        let mut e = std::io::stderr();
        let _ = write!(
            e,
            "\r{phase:<9} [{}{}] {a}/{a_total} · {b}/{b_total}   ",
            "#".repeat(filled),
            ".".repeat(30 - filled)
        );
        let _ = e.flush();
    }

    fn note(&self, msg: &str) {
        eprintln!("\n{msg}");
    }

    fn done(&self) {
        if self.tty {
            eprintln!();
        }
    }
}
