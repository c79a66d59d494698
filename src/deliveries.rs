//! `ordersync deliveries`: the operator's view of a merchant's delivery queue — list it, and
//! re-arm dead letters once their cause is fixed (the CLI twin of
//! `POST /api/v1/deliveries/{id}/replay`; each replay is audited the same way, as the operator).

use crate::app::App;
use serde_json::{Value, json};

/// The statuses a delivery row can have (`list --status` is checked against them).
const STATUSES: &[&str] = &["pending", "in_flight", "done", "dead"];

#[derive(clap::Subcommand)]
pub enum DeliveriesCommand {
    /// List a merchant's deliveries (JSON); `--status dead` shows the dead letters and why.
    List {
        /// The merchant the deliveries belong to.
        #[arg(long)]
        merchant: String,
        /// Only deliveries with this status: pending, in_flight, done or dead.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
    },
    /// Re-arm dead deliveries: pending again, attempts reset, due now.
    Replay {
        #[arg(long)]
        merchant: String,
        /// Delivery ids to replay.
        #[arg(required_unless_present = "all_dead", conflicts_with = "all_dead")]
        ids: Vec<String>,
        /// Every dead delivery of the merchant (with `--sink`, of that sink connection only).
        #[arg(long)]
        all_dead: bool,
        /// With `--all-dead`: only this sink connection's dead deliveries.
        #[arg(long, requires = "all_dead")]
        sink: Option<String>,
    },
}

/// What a command did: its JSON answer, and whether everything asked for was done.
pub struct Outcome {
    pub json: Value,
    pub complete: bool,
}

pub async fn run(app: &App, cmd: DeliveriesCommand) -> anyhow::Result<Outcome> {
    match cmd {
        DeliveriesCommand::List {
            merchant,
            status,
            limit,
        } => {
            if let Some(s) = status.as_deref()
                && !STATUSES.contains(&s)
            {
                anyhow::bail!("unknown status {s:?}: one of {}", STATUSES.join(", "));
            }
            let rows = app
                .store
                .list_deliveries(&merchant, status.as_deref(), limit)
                .await?;
            Ok(Outcome {
                json: json!({ "deliveries": rows }),
                complete: true,
            })
        }
        DeliveriesCommand::Replay {
            merchant,
            ids,
            all_dead,
            sink,
        } => {
            if all_dead {
                replay_all_dead(app, &merchant, sink.as_deref()).await
            } else {
                replay_ids(app, &merchant, &ids).await
            }
        }
    }
}

async fn replay_one(app: &App, merchant: &str, id: &str) -> anyhow::Result<bool> {
    let now = app.engine().now_us();
    if app.store.replay_delivery(merchant, id, now).await? == 0 {
        return Ok(false);
    }
    app.store
        .audit(
            Some(merchant),
            "operator",
            "delivery.replayed",
            Some(id),
            None,
            now,
        )
        .await?;
    Ok(true)
}

async fn replay_ids(app: &App, merchant: &str, ids: &[String]) -> anyhow::Result<Outcome> {
    let mut replayed = Vec::new();
    let mut not_replayed = Vec::new();
    for id in ids {
        if replay_one(app, merchant, id).await? {
            replayed.push(id.clone());
        } else {
            not_replayed.push(id.clone());
        }
    }
    Ok(Outcome {
        complete: not_replayed.is_empty(),
        json: json!({
            "replayed": replayed,
            // Not dead, not this merchant's, or its sink was deleted.
            "not_replayed": not_replayed,
        }),
    })
}

/// Every dead delivery of the merchant (of one sink) in one statement, audited once with the
/// count; one whose sink was deleted stays dead.
async fn replay_all_dead(app: &App, merchant: &str, sink: Option<&str>) -> anyhow::Result<Outcome> {
    let now = app.engine().now_us();
    let n = app
        .store
        .replay_dead_deliveries(merchant, sink, now)
        .await?;
    if n > 0 {
        let detail = json!({ "deliveries": n }).to_string();
        app.store
            .audit(
                Some(merchant),
                "operator",
                "deliveries.replayed",
                sink,
                Some(&detail),
                now,
            )
            .await?;
    }
    Ok(Outcome {
        complete: true,
        json: json!({ "replayed": n }),
    })
}
