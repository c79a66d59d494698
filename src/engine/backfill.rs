//! Progress of a source's history import. A new connection's first pull window has no lower
//! bound: it reads the store's whole history (routes decide, by their start, what of it goes
//! on to targets), page by page in `updated_at` order, and its watermark moves only when that
//! window is done. So the pull records, per page of such a window (and of any catch-up more
//! than [`BACKFILL_LAG`] behind), the oldest and newest `updated_at` read and the window's
//! end; `status` turns that into a percentage without asking the platform anything.

use super::Engine;
use crate::store::{BackfillPage, BackfillRow, ConnectionRow};
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{Page, SourceCaps};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// A window that starts further behind its end than this (past its overlap) is a catch-up
/// shown as a backfill; shorter ones are live pulls.
pub const BACKFILL_LAG: Duration = Duration::hours(1);

/// The `updated_at` range of a page's orders (µs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct PageSpan {
    min: Option<i64>,
    max: Option<i64>,
}

impl PageSpan {
    pub fn of(page: &Page) -> Self {
        let times = page.orders.iter().map(|o| to_micros(o.updated_at));
        Self {
            min: times.clone().min(),
            max: times.max(),
        }
    }
}

/// What a window's page contributes to its backfill record; `None` for a live window.
pub(super) fn backfill_page(
    since: Option<OffsetDateTime>,
    until: OffsetDateTime,
    caps: &SourceCaps,
    span: PageSpan,
    window_done: bool,
    now: OffsetDateTime,
) -> Option<BackfillPage> {
    let watermark = since.map(|s| s + caps.overlap);
    if watermark.is_some_and(|w| until - w < BACKFILL_LAG) {
        return None;
    }
    let to = to_micros(until);
    let caught_up = window_done && now - caps.settle - until < BACKFILL_LAG;
    Some(BackfillPage {
        // A catch-up starts at its watermark; a history import where its oldest order is.
        from: watermark.map(to_micros).or(span.min),
        to,
        through: if window_done {
            Some(to)
        } else {
            span.max.map(|m| m.min(to))
        },
        done: caught_up.then(|| to_micros(now)),
        now: to_micros(now),
    })
}

impl Engine {
    /// Records a backfill window's page (after it committed); live windows record nothing.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn note_backfill(
        &self,
        c: &ConnectionRow,
        owner: &str,
        since: Option<OffsetDateTime>,
        until: OffsetDateTime,
        caps: &SourceCaps,
        span: PageSpan,
        window_done: bool,
    ) -> anyhow::Result<()> {
        if let Some(p) = backfill_page(since, until, caps, span, window_done, self.clock.now()) {
            self.store.record_backfill(&c.id, owner, &p).await?;
        }
        Ok(())
    }
}

/// A backfill as `status` shows it (times in µs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackfillProgress {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub through: Option<i64>,
    /// Of the time from `from` to `to`, how much is read; 100 only once done.
    pub percent: f64,
    pub started_at: Option<i64>,
    pub done_at: Option<i64>,
}

impl BackfillProgress {
    /// From a source's backfill record and cursor watermark; `None` when it has neither
    /// imported history nor is about to (a connection whose import predates the record).
    pub fn of(row: Option<&BackfillRow>, watermark: Option<i64>) -> Option<Self> {
        let Some(r) = row else {
            // Never pulled yet: the import has not started.
            return watermark.is_none().then_some(Self {
                from: None,
                to: None,
                through: None,
                percent: 0.0,
                started_at: None,
                done_at: None,
            });
        };
        let through = match (r.through_at, watermark) {
            (Some(t), Some(w)) => Some(t.max(w.min(r.to_at))),
            (t, w) => t.or(w.map(|w| w.min(r.to_at))),
        };
        let percent = if r.done_at.is_some() {
            100.0
        } else {
            match (r.from_at, through) {
                (Some(f), Some(t)) if r.to_at > f => {
                    let p = (t - f) as f64 / (r.to_at - f) as f64 * 100.0;
                    // Rounded down to a tenth, and short of 100 until the pull says it is done.
                    ((p * 10.0).floor() / 10.0).clamp(0.0, 99.9)
                }
                _ => 0.0,
            }
        };
        Some(Self {
            from: r.from_at,
            to: Some(r.to_at),
            through,
            percent,
            started_at: Some(r.started_at),
            done_at: r.done_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> SourceCaps {
        SourceCaps {
            page_size: 250,
            webhooks: false,
            overlap: Duration::minutes(5),
            settle: Duration::seconds(60),
            pii_window: None,
        }
    }

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(s).unwrap()
    }

    #[test]
    fn the_first_window_is_a_backfill_and_live_windows_are_not() {
        let span = PageSpan {
            min: Some(1_000_000),
            max: Some(5_000_000),
        };
        let now = at(100_000);
        let until = now - Duration::seconds(60);
        let p = backfill_page(None, until, &caps(), span, false, now).unwrap();
        assert_eq!(
            p.from,
            Some(1_000_000),
            "history starts at its oldest order"
        );
        assert_eq!(p.through, Some(5_000_000));
        assert_eq!(p.done, None);
        let last = backfill_page(None, until, &caps(), PageSpan::default(), true, now).unwrap();
        assert_eq!(
            last.through,
            Some(to_micros(until)),
            "a done window is read through"
        );
        assert_eq!(
            last.done,
            Some(to_micros(now)),
            "and it reached the live edge"
        );
        // A live window: a minute past the watermark.
        let since = until - Duration::seconds(120) - caps().overlap;
        assert_eq!(
            backfill_page(Some(since), until, &caps(), span, true, now),
            None
        );
        // A day behind: a catch-up from its watermark.
        let since = until - Duration::days(1) - caps().overlap;
        let c = backfill_page(Some(since), until, &caps(), span, false, now).unwrap();
        assert_eq!(c.from, Some(to_micros(until - Duration::days(1))));
        // Done with its window, but time moved on by more than the lag: not caught up yet.
        let later = now + Duration::hours(2);
        let c = backfill_page(Some(since), until, &caps(), span, true, later).unwrap();
        assert_eq!(c.done, None);
    }

    #[test]
    fn percent_follows_the_time_read_and_is_100_only_when_done() {
        let row = BackfillRow {
            connection_id: "c".into(),
            from_at: Some(0),
            to_at: 1000,
            through_at: Some(333),
            started_at: 5,
            done_at: None,
        };
        let p = BackfillProgress::of(Some(&row), None).unwrap();
        assert_eq!(p.percent, 33.3);
        assert_eq!(p.through, Some(333));
        let near = BackfillRow {
            through_at: Some(1000),
            ..row.clone()
        };
        assert_eq!(
            BackfillProgress::of(Some(&near), None).unwrap().percent,
            99.9
        );
        let done = BackfillRow {
            done_at: Some(9),
            ..near
        };
        assert_eq!(
            BackfillProgress::of(Some(&done), None).unwrap().percent,
            100.0
        );
        let fresh = BackfillProgress::of(None, None).unwrap();
        assert_eq!((fresh.percent, fresh.through), (0.0, None), "not started");
        assert_eq!(
            BackfillProgress::of(None, Some(1)),
            None,
            "nothing recorded"
        );
        let empty = BackfillRow {
            from_at: None,
            through_at: None,
            ..row
        };
        assert_eq!(
            BackfillProgress::of(Some(&empty), None).unwrap().percent,
            0.0
        );
    }
}
