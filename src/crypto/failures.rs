//! Decryption failures, counted per key kind (R27, NIST SP 800-38D App. B: monitor failed
//! verifications per key). Every failure increments
//! `ordersync_decrypt_failures_total{key_kind, reason}`; the labels are a fixed vocabulary
//! (never an id of a merchant, an order or a person). A spike of authentication failures
//! for one key kind (`ALERT_THRESHOLD` within `WINDOW`) is an alert: an error log and
//! `ordersync_decrypt_failure_alerts_total{key_kind}`, once per window. The recent failures
//! are kept in memory per merchant, for the status API (this process only; Prometheus sees
//! all processes).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How far back the status counts and the alert look.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Authentication failures (tampered or moved ciphertext, wrong key) of one key kind within
/// [`WINDOW`] that raise the alert.
pub const ALERT_THRESHOLD: usize = 20;
/// Failures remembered at most (older ones are dropped first).
const MAX_EVENTS: usize = 10_000;

/// Which key failed to open something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// The master key (a tenant key or the check row did not unwrap).
    Master,
    /// A tenant key (an epoch, index, hash or secrets key did not unwrap).
    Tenant,
    /// An epoch key (an order's DEK did not unwrap).
    Epoch,
    /// An order's DEK (its PII blob did not open).
    Dek,
    /// A merchant's secrets key (a connection's credentials did not open).
    Secrets,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Master => "master",
            KeyKind::Tenant => "tenant",
            KeyKind::Epoch => "epoch",
            KeyKind::Dek => "dek",
            KeyKind::Secrets => "secrets",
        }
    }
}

/// Why it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The AEAD tag did not verify: tampering, a ciphertext moved to another row, or a key
    /// that does not match. The only reason that counts toward the alert, with `Malformed`.
    Auth,
    /// The stored envelope cannot be parsed.
    Malformed,
    /// The key was destroyed (crypto-shredding): expected after a purge or termination.
    KeyDestroyed,
    /// Wrapped by a master key version this process does not hold (restart it with the
    /// current key).
    KeyUnavailable,
    /// Wrapped by, or asking to wrap under, a retired master key version.
    KeyRetired,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Auth => "auth",
            Reason::Malformed => "malformed",
            Reason::KeyDestroyed => "key_destroyed",
            Reason::KeyUnavailable => "key_unavailable",
            Reason::KeyRetired => "key_retired",
        }
    }

    fn suspicious(self) -> bool {
        matches!(self, Reason::Auth | Reason::Malformed)
    }
}

/// Recent failures of one `(key kind, reason)`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailureCount {
    pub key_kind: &'static str,
    pub reason: &'static str,
    pub count: u64,
}

struct Event {
    at: Instant,
    merchant: String,
    kind: KeyKind,
    reason: Reason,
}

#[derive(Default)]
struct Inner {
    events: VecDeque<Event>,
    /// When the alert of a key kind last fired.
    alerted: HashMap<KeyKind, Instant>,
}

#[derive(Default)]
pub struct DecryptFailures {
    inner: Mutex<Inner>,
}

impl DecryptFailures {
    /// Counts one failure; returns whether it raised the alert.
    pub fn record(&self, merchant: &str, kind: KeyKind, reason: Reason) -> bool {
        self.record_at(Instant::now(), merchant, kind, reason)
    }

    fn record_at(&self, at: Instant, merchant: &str, kind: KeyKind, reason: Reason) -> bool {
        metrics::counter!("ordersync_decrypt_failures_total", "key_kind" => kind.as_str(), "reason" => reason.as_str())
            .increment(1);
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        prune(&mut g.events, at);
        if g.events.len() >= MAX_EVENTS {
            g.events.pop_front();
        }
        g.events.push_back(Event {
            at,
            merchant: merchant.to_string(),
            kind,
            reason,
        });
        if !reason.suspicious() {
            return false;
        }
        let n = g
            .events
            .iter()
            .filter(|e| e.kind == kind && e.reason.suspicious())
            .count();
        let quiet = g
            .alerted
            .get(&kind)
            .is_none_or(|t| at.saturating_duration_since(*t) >= WINDOW);
        if n >= ALERT_THRESHOLD && quiet {
            g.alerted.insert(kind, at);
            drop(g);
            metrics::counter!("ordersync_decrypt_failure_alerts_total", "key_kind" => kind.as_str())
                .increment(1);
            tracing::error!(
                key_kind = kind.as_str(),
                failures = n,
                window_s = WINDOW.as_secs(),
                "ALERT: decryption failures are spiking for one key kind (possible tampering with stored ciphertext or keys)."
            );
            return true;
        }
        false
    }

    /// Failures within [`WINDOW`], of one merchant or of all, by key kind and reason.
    pub fn recent(&self, merchant: Option<&str>) -> Vec<FailureCount> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        prune(&mut g.events, Instant::now());
        let mut by: std::collections::BTreeMap<(KeyKind, Reason), u64> = Default::default();
        for e in g
            .events
            .iter()
            .filter(|e| merchant.is_none_or(|m| e.merchant == m))
        {
            *by.entry((e.kind, e.reason)).or_default() += 1;
        }
        by.into_iter()
            .map(|((k, r), count)| FailureCount {
                key_kind: k.as_str(),
                reason: r.as_str(),
                count,
            })
            .collect()
    }
}

fn prune(events: &mut VecDeque<Event>, now: Instant) {
    while events
        .front()
        .is_some_and(|e| now.saturating_duration_since(e.at) > WINDOW)
    {
        events.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_of_auth_failures_alerts_once_per_window() {
        let f = DecryptFailures::default();
        let t0 = Instant::now();
        // Destroyed keys are expected (purges): they are counted, never alerted.
        for _ in 0..100 {
            assert!(!f.record_at(t0, "m1", KeyKind::Epoch, Reason::KeyDestroyed));
        }
        let mut alerts = 0;
        for i in 0..100 {
            if f.record_at(t0, "m1", KeyKind::Dek, Reason::Auth) {
                alerts += 1;
                assert_eq!(i + 1, ALERT_THRESHOLD, "the threshold-th failure alerts");
            }
        }
        assert_eq!(alerts, 1, "100 tampered ciphertexts raise the alert once");
        // Another key kind has its own count.
        assert!(!f.record_at(t0, "m1", KeyKind::Secrets, Reason::Auth));
        // After the window, a new spike alerts again.
        let later = t0 + WINDOW + Duration::from_secs(1);
        let again = (0..ALERT_THRESHOLD)
            .filter(|_| f.record_at(later, "m2", KeyKind::Dek, Reason::Auth))
            .count();
        assert_eq!(again, 1);
    }

    #[test]
    fn recent_counts_are_per_merchant_and_by_kind_and_reason() {
        let f = DecryptFailures::default();
        f.record("m1", KeyKind::Dek, Reason::Auth);
        f.record("m1", KeyKind::Dek, Reason::Auth);
        f.record("m1", KeyKind::Master, Reason::KeyUnavailable);
        f.record("m2", KeyKind::Dek, Reason::Auth);
        assert_eq!(
            f.recent(Some("m1")),
            vec![
                FailureCount {
                    key_kind: "master",
                    reason: "key_unavailable",
                    count: 1
                },
                FailureCount {
                    key_kind: "dek",
                    reason: "auth",
                    count: 2
                },
            ]
        );
        assert_eq!(f.recent(None).iter().map(|c| c.count).sum::<u64>(), 4);
        assert!(f.recent(Some("m3")).is_empty());
    }
}
