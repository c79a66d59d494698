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
