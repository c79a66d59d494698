//! `packages[]` (v2026-01-01, `includedData=PACKAGES`, merchant-fulfilled orders only) →
//! canonical fulfillments: one per package with a tracking number, unless the package was
//! cancelled (a voided label sent nothing). Amazon ships FBA orders itself and reports no
//! packages for them. Malformed packages are skipped, never a reason to reject the order.

use crate::wire::OrderPackage;
use ordersync_sdk::Fulfillment;
use ordersync_sdk::mapping::parse_time;

/// Longest tracking number or carrier name kept; real ones are under 40 characters.
const MAX_TEXT: usize = 100;

fn clean(s: Option<&str>) -> Option<String> {
    let s = s?.trim();
    (!s.is_empty() && s.chars().count() <= MAX_TEXT && !s.chars().any(char::is_control))
        .then(|| s.to_string())
}

pub fn fulfillments(packages: &[OrderPackage]) -> Vec<Fulfillment> {
    let mut out: Vec<Fulfillment> = Vec::new();
    for p in packages {
        let status = p.package_status.as_ref().and_then(|s| s.status.as_deref());
        if status.is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED")) {
            continue;
        }
        let Some(number) = clean(p.tracking_number.as_deref()) else {
            continue;
        };
        if out.iter().any(|f| f.tracking_number == number) {
            continue;
        }
        out.push(Fulfillment {
            tracking_number: number,
            carrier: clean(p.carrier.as_deref()),
            shipped_at: parse_time(p.ship_time.as_deref(), "shipTime").ok(),
        });
    }
    out
}
