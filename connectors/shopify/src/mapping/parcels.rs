//! Fulfillments (parcels sent) of either shape → canonical [`Fulfillment`]s. Tracking is
//! optional: anything malformed is skipped, never a reason to reject the order.

use ordersync_sdk::Fulfillment;
use time::OffsetDateTime;

/// Longest tracking number or carrier name kept; real ones are under 40 characters, so
/// anything longer is junk, not a parcel to follow.
const MAX_TEXT: usize = 100;

/// Fulfillment statuses that sent nothing (REST lower case, GraphQL upper case).
pub(super) fn is_dead(status: Option<&str>) -> bool {
    status.is_some_and(|s| {
        ["cancelled", "error", "failure"]
            .iter()
            .any(|d| s.eq_ignore_ascii_case(d))
    })
}

/// Trimmed, non-empty, printable and short, else `None`.
pub(super) fn clean(s: Option<&str>) -> Option<String> {
    let s = s?.trim();
    (!s.is_empty() && s.chars().count() <= MAX_TEXT && !s.chars().any(char::is_control))
        .then(|| s.to_string())
}

/// Collects parcels in the platform's order; a number seen before (the same parcel listed
/// twice) is kept once, with its first carrier and date.
#[derive(Default)]
pub(super) struct Parcels(Vec<Fulfillment>);

impl Parcels {
    pub fn push(
        &mut self,
        number: Option<&str>,
        carrier: Option<&str>,
        at: Option<OffsetDateTime>,
    ) {
        let Some(tracking_number) = clean(number) else {
            return;
        };
        if self.0.iter().any(|f| f.tracking_number == tracking_number) {
            return;
        }
        self.0.push(Fulfillment {
            tracking_number,
            carrier: clean(carrier),
            shipped_at: at,
        });
    }

    pub fn into_vec(self) -> Vec<Fulfillment> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_skipped_and_duplicates_kept_once() {
        let mut p = Parcels::default();
        p.push(Some(" 1Z999 "), Some(" UPS "), None);
        p.push(Some("1Z999"), Some("FedEx"), None);
        p.push(Some(""), Some("UPS"), None);
        p.push(None, Some("UPS"), None);
        p.push(Some("bad\nnumber"), None, None);
        p.push(Some(&"9".repeat(101)), None, None);
        p.push(Some("RM1GB"), Some(&"x".repeat(101)), None);
        let v = p.into_vec();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].tracking_number, "1Z999");
        assert_eq!(v[0].carrier.as_deref(), Some("UPS"));
        assert_eq!(v[1].carrier, None);
        assert!(is_dead(Some("CANCELLED")) && is_dead(Some("failure")) && is_dead(Some("error")));
        assert!(!is_dead(Some("success")) && !is_dead(Some("OPEN")) && !is_dead(None));
    }
}
