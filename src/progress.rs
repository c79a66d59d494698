//! A one-line progress of history imports for the long-running commands (`serve`, `worker`)
//! when stderr is a terminal: what `status` shows as `backfill`, summed over the connections
//! importing, redrawn in place. Never when stderr is not a terminal or logs are JSON: then
//! the structured logs are the output.

use crate::engine::BackfillProgress;
use crate::store::{BackfillRow, Store};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Starts the line if stderr is a terminal and logs are text.
pub fn spawn_backfill_line(
    store: Arc<dyn Store>,
    log_format: &str,
    cancel: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    if log_format == "json" || !std::io::stderr().is_terminal() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut shown = false;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            // A failed read shows nothing new; the logs say why.
            let Ok(rows) = store.backfill_status(None).await else {
                continue;
            };
            let mut e = std::io::stderr();
            match line(&rows) {
                Some(l) => {
                    let _ = write!(e, "\r\x1b[2K{l}");
                    shown = true;
                }
                None if shown => {
                    let _ = writeln!(e, "\r\x1b[2Kbackfill  done");
                    shown = false;
                }
                None => {}
            }
            let _ = e.flush();
        }
        if shown {
            let _ = writeln!(std::io::stderr());
        }
    }))
}

/// The line for the imports under way, `None` when none is.
pub fn line(rows: &[BackfillRow]) -> Option<String> {
    let running: Vec<f64> = rows
        .iter()
        .filter(|r| r.done_at.is_none())
        .filter_map(|r| BackfillProgress::of(Some(r), None))
        .map(|p| p.percent)
        .collect();
    if running.is_empty() {
        return None;
    }
    let pct = running.iter().sum::<f64>() / running.len() as f64;
    let filled = ((pct / 100.0).clamp(0.0, 1.0) * 30.0) as usize;
    Some(format!(
        "backfill  [{}{}] {pct:.1} % · {} connection(s) importing history",
        "#".repeat(filled),
        ".".repeat(30 - filled),
        running.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_averages_the_imports_under_way() {
        let row = |through, done| BackfillRow {
            connection_id: "c".into(),
            from_at: Some(0),
            to_at: 100,
            through_at: Some(through),
            started_at: 0,
            done_at: done,
        };
        assert_eq!(line(&[row(100, Some(1))]), None, "nothing under way");
        let l = line(&[row(20, None), row(60, None), row(100, Some(1))]).unwrap();
        assert!(
            l.starts_with("backfill  [############.................."),
            "{l}"
        );
        assert!(
            l.ends_with("40.0 % · 2 connection(s) importing history"),
            "{l}"
        );
    }
}
