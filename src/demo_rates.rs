//! `demo --real-limits`: how close the fleet runs to each target's limit. Each target's
//! simulator counts the requests it served (`/_sim/stats`); sampled once a second, the counts
//! give the most requests in any 60 s window (what a per-minute limit caps), the mean rate
//! over the time the target was busy, and the 429s it had to send (none, if the shared budget
//! holds).

use ordersync_sdk::sim::SimStats;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// One reading of a target's counters, `at` seconds after sampling began.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: f64,
    pub requests: u64,
    pub throttled: u64,
}

pub struct RateSampler {
    stop: CancellationToken,
    task: JoinHandle<BTreeMap<&'static str, Vec<Sample>>>,
}

impl RateSampler {
    /// Samples every `(kind, base_url)` once a second until [`RateSampler::finish`].
    pub fn start(http: reqwest::Client, targets: Vec<(&'static str, String)>) -> Self {
        let stop = CancellationToken::new();
        let s = stop.clone();
        let task = tokio::spawn(async move {
            let began = Instant::now();
            let mut series: BTreeMap<&'static str, Vec<Sample>> = BTreeMap::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = s.cancelled() => {}
                }
                for (kind, url) in &targets {
                    // A missed reading only widens the gap between two others.
                    let Ok(r) = http.get(format!("{url}/_sim/stats")).send().await else {
                        continue;
                    };
                    let Ok(st) = r.json::<SimStats>().await else {
                        continue;
                    };
                    series.entry(kind).or_default().push(Sample {
                        at: began.elapsed().as_secs_f64(),
                        requests: st.requests,
                        throttled: st.throttled,
                    });
                }
                if s.is_cancelled() {
                    return series;
                }
            }
        });
        Self { stop, task }
    }

    /// Stops sampling (one last reading) and reports each target's rates.
    pub async fn finish(self) -> Value {
        self.stop.cancel();
        let series = self.task.await.unwrap_or_default();
        Value::Object(
            series
                .into_iter()
                .map(|(kind, s)| (kind.to_string(), rates(&s)))
                .collect(),
        )
    }
}

/// A target's rates from its samples (in time order).
pub fn rates(s: &[Sample]) -> Value {
    let (Some(first), Some(last)) = (s.first(), s.last()) else {
        return json!({});
    };
    let total = last.requests.saturating_sub(first.requests);
    // Busy from the reading before the first new request to the first reading at the final
    // count.
    let start = s
        .iter()
        .position(|x| x.requests > first.requests)
        .map_or(last.at, |i| s[i.saturating_sub(1)].at);
    let end = s
        .iter()
        .find(|x| x.requests == last.requests)
        .map_or(last.at, |x| x.at);
    let busy = (end - start).max(0.0);
    // The most requests between two readings at least a minute apart, per minute of the
    // span between them (a slight under-count of the true 60 s peak, never an over-count).
    let mut peak: Option<f64> = None;
    let mut j = 0;
    for (i, a) in s.iter().enumerate() {
        j = j.max(i);
        while j < s.len() && s[j].at - a.at < 60.0 {
            j += 1;
        }
        let Some(b) = s.get(j) else { break };
        let per_min = (b.requests.saturating_sub(a.requests)) as f64 * 60.0 / (b.at - a.at);
        peak = Some(peak.map_or(per_min, |p: f64| p.max(per_min)));
    }
    let round = |x: f64| (x * 10.0).round() / 10.0;
    json!({
        "requests": total,
        "throttled": last.throttled.saturating_sub(first.throttled),
        "busy_s": round(busy),
        "mean_per_min": if busy > 0.0 { Some(round(total as f64 * 60.0 / busy)) } else { None },
        "peak_per_min": peak.map(round),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at: f64, requests: u64) -> Sample {
        Sample {
            at,
            requests,
            throttled: 0,
        }
    }

    #[test]
    fn a_steady_target_reports_its_rate() {
        // 3 requests a second for 120 s, idle before and after.
        let mut s = vec![at(0.0, 0), at(1.0, 0)];
        for k in 1..=120u64 {
            s.push(at(1.0 + k as f64, 3 * k));
        }
        s.push(at(122.0, 360));
        s.push(at(123.0, 360));
        let r = rates(&s);
        assert_eq!(r["requests"], 360);
        assert_eq!(r["busy_s"], 120.0);
        assert_eq!(r["mean_per_min"], 180.0);
        assert_eq!(r["peak_per_min"], 180.0);
        assert_eq!(r["throttled"], 0);
    }

    #[test]
    fn a_burst_shows_in_the_peak_and_a_short_run_has_none() {
        // 50 at once, then 60 over a minute: the peak window holds the burst.
        let s = vec![at(0.0, 0), at(1.0, 50), at(61.0, 110), at(62.0, 110)];
        let r = rates(&s);
        assert_eq!(r["peak_per_min"], 108.2);
        assert_eq!(r["busy_s"], 61.0);
        let short = rates(&[at(0.0, 0), at(1.0, 10)]);
        assert!(short["peak_per_min"].is_null());
        assert_eq!(rates(&[])["requests"], Value::Null);
    }
}
