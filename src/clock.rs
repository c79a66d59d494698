//! A clock whose fast-forward offset is shared through a file, so that `demo --workers N` can
//! move the time of its worker child processes together with its own. Set by the demo through
//! `ORDERSYNC_CLOCK_OFFSET_FILE`; a testing and demo knob, never needed in production.

use ordersync_sdk::{Clock, ManualClock};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Reads the offset (microseconds) from the file at most every 50 ms.
pub struct FileOffsetClock {
    path: PathBuf,
    cached: Mutex<(i64, Option<Instant>)>,
}

impl FileOffsetClock {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            cached: Mutex::new((0, None)),
        }
    }

    fn offset_us(&self) -> i64 {
        let mut c = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if c.1.is_none_or(|t| t.elapsed() > Duration::from_millis(50)) {
            if let Ok(s) = std::fs::read_to_string(&self.path)
                && let Ok(v) = s.trim().parse::<i64>()
            {
                // Time never moves backwards, even if the file is rewritten with a smaller value.
                c.0 = c.0.max(v);
            }
            c.1 = Some(Instant::now());
        }
        c.0
    }
}

impl Clock for FileOffsetClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::microseconds(self.offset_us())
    }
}

/// Writes a manual clock's offset where [`FileOffsetClock`]s read it (atomically, by rename).
pub fn publish_offset(clock: &ManualClock, path: &std::path::Path) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(
        &tmp,
        (clock.offset().whole_microseconds() as i64).to_string(),
    )?;
    std::fs::rename(tmp, path)
}

/// The process clock: the system clock, or a shared-offset clock when the demo asks for one.
pub fn from_env() -> std::sync::Arc<dyn Clock> {
    match std::env::var_os("ORDERSYNC_CLOCK_OFFSET_FILE") {
        Some(p) if !p.is_empty() => std::sync::Arc::new(FileOffsetClock::new(PathBuf::from(p))),
        _ => std::sync::Arc::new(ordersync_sdk::SystemClock),
    }
}

/// The database server's time, as this process sees it: the base clock plus the measured
/// offset of the database's clock, re-measured every minute. Leases are compared across
/// hosts, so they must run on one clock: a worker whose host clock runs ahead would
/// otherwise take over live leases, and one that runs behind would hold dead ones.
pub struct DbClock {
    base: std::sync::Arc<dyn Clock>,
    offset_us: std::sync::atomic::AtomicI64,
}

/// A measurement slower than this says nothing about the offset; the last one stays.
const MAX_RTT: Duration = Duration::from_millis(500);

impl DbClock {
    /// Measures the offset once (an unreachable database fails the start) and keeps it fresh
    /// in the background for as long as the clock lives.
    pub async fn start(
        base: std::sync::Arc<dyn Clock>,
        store: std::sync::Arc<dyn crate::store::Store>,
    ) -> anyhow::Result<std::sync::Arc<Self>> {
        let clock = std::sync::Arc::new(Self {
            base,
            offset_us: Default::default(),
        });
        clock.measure(&*store).await?;
        let weak = std::sync::Arc::downgrade(&clock);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                let Some(c) = weak.upgrade() else { break };
                if let Err(e) = c.measure(&*store).await {
                    tracing::warn!(error = %e, "Could not read the database clock; keeping the last offset.");
                }
            }
        });
        Ok(clock)
    }

    async fn measure(&self, store: &dyn crate::store::Store) -> anyhow::Result<()> {
        use ordersync_sdk::clock::to_micros;
        for _ in 0..3 {
            let (sent, local) = (Instant::now(), to_micros(self.base.now()));
            let db = store.db_now_us().await?;
            let rtt = sent.elapsed();
            if rtt <= MAX_RTT {
                // The server read its clock about half-way through the round trip.
                let offset = db - (local + rtt.as_micros() as i64 / 2);
                self.offset_us
                    .store(offset, std::sync::atomic::Ordering::Relaxed);
                if offset.abs() > 2_000_000 {
                    tracing::warn!(
                        offset_ms = offset / 1000,
                        "This host's clock differs from the database's; leases follow the database."
                    );
                }
                return Ok(());
            }
        }
        Ok(())
    }

    pub fn offset_us(&self) -> i64 {
        self.offset_us.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Clock for DbClock {
    fn now(&self) -> OffsetDateTime {
        self.base.now() + time::Duration::microseconds(self.offset_us())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_follow_the_published_offset() {
        let dir =
            std::env::temp_dir().join(format!("ordersync-clock-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("clock");
        let parent = ManualClock::new();
        parent.advance(time::Duration::days(3));
        publish_offset(&parent, &path).unwrap();
        let child = FileOffsetClock::new(path);
        let d = child.now() - OffsetDateTime::now_utc();
        assert!(
            d >= time::Duration::days(3) - time::Duration::seconds(1)
                && d < time::Duration::days(3) + time::Duration::seconds(1),
            "{d}"
        );
    }
}
