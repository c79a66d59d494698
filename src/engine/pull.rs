//! Pull scheduling: claim due source connections under a lease and read each one window at a
//! time. A window is `[watermark − overlap, now − settle]`; pages inside it are followed by
//! the platform's page token, and the watermark moves to the window's end only once the whole
//! window is in — so a crash mid-window resumes from the saved page token, and re-reads are
//! absorbed by the content-hash dedupe.
//!
//! Each claimed connection runs isolated: an error or a panic in one is recorded on it and
//! its lease released, and the others claimed in the same pass go on.

use super::{Engine, LeaseLost, Pass};
use crate::store::{ConnectionRow, CursorRow, PullFinish};
use futures::FutureExt;
use ordersync_sdk::clock::{from_micros, to_micros};
use ordersync_sdk::{ConnectorError, ErrorClass, Page, PullCursor};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use time::Duration;

/// Pages read per claim before yielding the connection back (fairness between stores).
const MAX_PAGES_PER_CLAIM: usize = 400;

/// Wall time after which a claim yields as soon as another store is due and waiting: a history
/// import at a platform's real pace (seconds per page) would otherwise hold this process's
/// pull loop, and every other store's live pull, for as long as 400 pages take. An unfinished
/// window is claimed again at once, behind the pulls that fell due meanwhile; with nobody
/// waiting the import goes on at the platform's full budget. A minute: the default poll
/// interval, the lag a live pull has anyway.
const CLAIM_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

/// The fetch of the next page, running while the current one is stored. Aborted when the pull
/// stops early (an error, a panic, the page budget), so no request outlives its claim.
struct Prefetch {
    req: PullCursor,
    task: tokio::task::JoinHandle<Result<Page, ConnectorError>>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Engine {
    pub async fn pull_once(&self) -> anyhow::Result<Pass> {
        let now = self.now_us();
        let lease = self.cfg.lease_secs * 1_000_000;
        let owner = self.claim_owner();
        let claimed = self
            .store
            .claim_due_sources(&owner, now, now + lease, 4)
            .await?;
        // Side by side: a store with a long read (a history import) does not hold the others
        // of its pass. Each runs isolated and under its own lease and limiter.
        let pulls = claimed
            .iter()
            .map(|c| self.pull_isolated(c, &owner, self.pull_connection(c, &owner)));
        let pages = futures::future::join_all(pulls).await.into_iter().sum();
        Ok(Pass { work: pages })
    }

    /// Runs one claimed connection's pull so that what goes wrong stays with it: an engine
    /// error or a panic becomes the connection's `last_error` (PII-free: no panic payload, no
    /// order data), its lease is released with the next pull one poll interval away, and the
    /// pass goes on. Returns the pages read.
    async fn pull_isolated(
        &self,
        c: &ConnectionRow,
        owner: &str,
        pull: impl Future<Output = anyhow::Result<usize>>,
    ) -> usize {
        self.heartbeats.beat("pull");
        let error = match AssertUnwindSafe(pull).catch_unwind().await {
            Ok(Ok(pages)) => return pages,
            Ok(Err(e)) if e.is::<LeaseLost>() => {
                // We stalled past the lease; the worker holding it now carries on.
                tracing::warn!(connection = %c.id, kind = %c.kind, "Pull lease lost; this worker's page was not written.");
                metrics::counter!("ordersync_leases_lost_total", "work" => "pull").increment(1);
                return 0;
            }
            Ok(Err(e)) => {
                tracing::warn!(connection = %c.id, kind = %c.kind, error = %format!("{e:#}"), "Pull failed in the engine.");
                format!("internal: {}", truncate(&e.to_string(), 200))
            }
            Err(_) => {
                tracing::error!(connection = %c.id, kind = %c.kind, "Pull panicked; other connections go on.");
                "internal: the pull panicked".to_string()
            }
        };
        metrics::counter!("ordersync_pull_errors_total", "kind" => c.kind.clone(), "class" => "internal").increment(1);
        let now = self.now_us();
        let f = PullFinish {
            next_pull_at: now + self.poll_us(),
            last_pull_at: None,
            last_error: Some(error),
            state: None,
        };
        if let Err(e) = self.store.finish_pull(&c.id, owner, &f).await {
            tracing::warn!(connection = %c.id, error = %e, "Could not release a pull lease; it will expire.");
        }
        0
    }

    fn poll_us(&self) -> i64 {
        i64::try_from(self.cfg.poll_interval_secs)
            .unwrap_or(i64::MAX / 1_000_000)
            .saturating_mul(1_000_000)
    }

    /// Reads windows of one claimed connection; returns the number of pages read.
    async fn pull_connection(&self, c: &ConnectionRow, owner: &str) -> anyhow::Result<usize> {
        let source = match self.connectors.source(c).await {
            Ok(s) => s,
            Err(e) => {
                self.finish(c, owner, Some(e), 0, false, None).await?;
                return Ok(0);
            }
        };
        let caps = source.capabilities();
        let sinks = self.store.routes_for_source(&c.id).await?;
        let mut cursor = self.store.get_cursor(&c.id).await?.unwrap_or_default();
        let mut pages = 0;
        let mut last_err = None;
        let mut rejected = None;
        let mut prefetch: Option<Prefetch> = None;
        let claimed_at = std::time::Instant::now();
        let mut last_page_at = claimed_at;
        while pages < MAX_PAGES_PER_CLAIM {
            self.heartbeats.beat("pull");
            let now = self.clock.now();
            let until = match cursor.window_until {
                Some(u) => from_micros(u),
                None => now - caps.settle,
            };
            let since = cursor.watermark.map(|w| from_micros(w) - caps.overlap);
            if cursor.page_token.is_none() && since.is_some_and(|s| s + caps.overlap >= until) {
                break; // nothing new can have settled yet
            }
            let req = PullCursor {
                since,
                until,
                page_token: cursor.page_token.clone(),
            };
            let fetched = match prefetch.take() {
                Some(mut p) if p.req == req => (&mut p.task)
                    .await
                    .unwrap_or_else(|_| Err(ConnectorError::retriable("prefetch task failed"))),
                // A stale prefetch is aborted as it drops.
                _ => source.pull(&req).await,
            };
            let page = match fetched {
                Ok(p) => p,
                Err(e) => {
                    last_err = Some(e);
                    break;
                }
            };
            // Past its budget (by the time the next page would take), the claim yields after
            // this page if a store is waiting, and prefetches nothing the yield would abort.
            let page_time = last_page_at.elapsed();
            last_page_at = std::time::Instant::now();
            let yielding = claimed_at.elapsed() + page_time >= CLAIM_BUDGET
                && self.store.pulls_waiting(self.now_us()).await?;
            if let Some(tok) = &page.next_page_token
                && pages + 1 < MAX_PAGES_PER_CLAIM
                && !yielding
            {
                let next_req = PullCursor {
                    since,
                    until,
                    page_token: Some(tok.clone()),
                };
                let (src, r) = (source.clone(), next_req.clone());
                prefetch = Some(Prefetch {
                    req: next_req,
                    task: tokio::spawn(async move { src.pull(&r).await }),
                });
            }
            let next = match &page.next_page_token {
                Some(tok) => CursorRow {
                    watermark: cursor.watermark,
                    window_until: Some(to_micros(until)),
                    page_token: Some(tok.clone()),
                },
                None => CursorRow {
                    watermark: Some(to_micros(until)),
                    window_until: None,
                    page_token: None,
                },
            };
            let window_done = page.next_page_token.is_none();
            let span = super::backfill::PageSpan::of(&page);
            if let Some(r) = self
                .ingest_page(c, &sinks, page, next.clone(), owner)
                .await?
            {
                rejected = Some(r);
            }
            self.note_backfill(c, owner, since, until, &caps, span, window_done)
                .await?;
            cursor = next;
            pages += 1;
            if pages % 20 == 0
                && !self
                    .store
                    .renew_source_lease(
                        &c.id,
                        owner,
                        self.now_us() + self.cfg.lease_secs * 1_000_000,
                    )
                    .await?
            {
                return Err(LeaseLost.into());
            }
            if yielding {
                break;
            }
            // After a finished window, start the next one only if time has moved on enough.
            if window_done && self.clock.now() - caps.settle - until < Duration::seconds(1) {
                break;
            }
        }
        drop(prefetch);
        // A window left unfinished (page or time budget used up) continues at once, after the
        // stores that fell due meanwhile (claims go by `next_pull_at`).
        let unfinished = cursor.page_token.is_some() && last_err.is_none();
        self.finish(c, owner, last_err, pages, unfinished, rejected)
            .await?;
        Ok(pages)
    }

    /// Records a claim's outcome and releases the lease. Without an error, `last_error` keeps
    /// the claim's last rejection summary, so `status` shows why orders were held back.
    async fn finish(
        &self,
        c: &ConnectionRow,
        owner: &str,
        err: Option<ConnectorError>,
        pages: usize,
        unfinished: bool,
        rejected: Option<String>,
    ) -> anyhow::Result<()> {
        let now = self.now_us();
        let poll = self.poll_us();
        let next = if unfinished { now } else { now + poll };
        let mut f = PullFinish {
            next_pull_at: next,
            last_pull_at: None,
            last_error: rejected,
            state: None,
        };
        match &err {
            None => f.last_pull_at = Some(now),
            Some(e) => {
                tracing::warn!(connection = %c.id, kind = %c.kind, class = e.class().as_str(), error = %e, "Pull failed.");
                metrics::counter!("ordersync_pull_errors_total", "kind" => c.kind.clone(), "class" => e.class().as_str()).increment(1);
                // The error's Display already names its class ("retriable: …").
                f.last_error = Some(e.to_string());
                match e.class() {
                    // Credentials are gone: stop pulling and surface it; a merchant must re-connect.
                    ErrorClass::Auth => f.state = Some("needs_reauth".into()),
                    ErrorClass::Retriable | ErrorClass::RateLimited => {
                        let d = e.retry_after().unwrap_or(std::time::Duration::from_secs(5));
                        f.next_pull_at = now + (d.as_micros() as i64).min(poll);
                    }
                    _ => {}
                }
            }
        }
        if pages > 0 {
            f.last_pull_at = Some(now);
        }
        self.store.finish_pull(&c.id, owner, &f).await?;
        Ok(())
    }
}

/// At most `max` bytes of `s`, cut on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
