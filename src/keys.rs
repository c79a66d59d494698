//! `ordersync keys status|rotate`: master key versions and their rotation (docs/keys.md).

use crate::app::App;
use std::fmt::Write as _;

#[derive(clap::Subcommand, Debug, Clone)]
pub enum KeysAction {
    /// Master key versions (with the tenant keys each wraps) and live/destroyed keys by kind.
    Status,
    /// Re-wraps every tenant key under the current master key (`ORDERSYNC_MASTER_KEY`) while
    /// the service keeps running, then retires the previous versions (they are refused from
    /// then on). Needs the previous key in `ORDERSYNC_MASTER_KEY_PREVIOUS`.
    Rotate {
        /// Tenant keys read and re-wrapped per batch.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

/// Runs a `keys` command and returns what to print.
pub async fn run(app: &App, action: KeysAction) -> anyhow::Result<String> {
    let now = app.clock.now();
    let mut out = String::new();
    if let KeysAction::Rotate { batch } = action {
        let r = app.crypto.rotate(batch, now).await?;
        writeln!(
            out,
            "rotated to master key {}: {} tenant keys re-wrapped, {} changed meanwhile (skipped)",
            r.current, r.rewrapped, r.skipped
        )?;
        if r.retired.is_empty() {
            writeln!(out, "no previous master key version was left to retire")?;
        } else {
            writeln!(
                out,
                "retired {} (processes holding only a retired key refuse to start; remove ORDERSYNC_MASTER_KEY_PREVIOUS)",
                r.retired.join(", ")
            )?;
        }
    }
    out.push_str(&status(app).await?);
    Ok(out)
}

/// `keys status`.
pub async fn status(app: &App) -> anyhow::Result<String> {
    let mut out = String::from("master key versions:\n");
    for v in app.crypto.key_versions().await? {
        let role = if v.current {
            "current"
        } else if v.held {
            "previous"
        } else {
            "-"
        };
        let state = if v.retired { "retired" } else { "live" };
        writeln!(
            out,
            "  {:<16} {role:<9} {state:<8} tenant keys {:>6}",
            v.version, v.tenant_keys
        )?;
    }
    out.push_str("keys by kind:\n");
    for (kind, live, destroyed) in app.crypto.keystore().counts().await? {
        writeln!(out, "  {kind:<8} live {live:>6}  destroyed {destroyed:>6}")?;
    }
    // Crypto-shredding (docs/privacy.md): epochs whose week is over.
    let e = app.engine().epoch_status().await?;
    writeln!(
        out,
        "epochs whose week is over: {} pending destruction (the next purge sweep), {} still holding orders' keys",
        e.pending, e.held
    )?;
    Ok(out)
}
