//! The simulator's money against the connector's mapper: every seeded order and every named
//! case, rendered as the API renders it, maps and balances within the declared tolerance.

use super::render::{self, View};
use super::store::Store;
use super::tz::SiteTz;
use super::{cases, order::Status};
use crate::mapping::{TOLERANCE, order_from_json};
use ordersync_sdk::money::minor_unit;
use ordersync_sdk::{Decimal, OrderStatus};
use serde_json::Value;

fn view() -> View<'static> {
    View {
        tz: SiteTz::Berlin,
        base: "http://shop.test",
    }
}

fn mapped(s: &Store) -> Vec<(u64, Result<ordersync_sdk::Order, String>)> {
    s.book
        .iter()
        .map(|o| {
            let v = render::order(o, &view());
            let refunds: Vec<Value> = o
                .refunds
                .iter()
                .rev()
                .map(|r| render::refund(o, r, &view()))
                .collect();
            (o.id, order_from_json(&v, &refunds))
        })
        .collect()
}

#[test]
fn every_seeded_order_maps_and_balances_within_tolerance() {
    let mut s = Store::default();
    s.seed(3_000, 42, 1_795_000_000);
    let mut worst = Decimal::ZERO;
    let mut statuses = std::collections::BTreeSet::new();
    for (id, r) in mapped(&s) {
        let o = r.unwrap_or_else(|e| {
            let so = s.book.get(id).unwrap();
            panic!(
                "order {id}: {e}\n{}\nrefunds: {:?}",
                render::order(so, &view()),
                so.refunds
            )
        });
        let lines = o.lines.len() as u32;
        let tol = Decimal::from(TOLERANCE.per_order + TOLERANCE.per_line * lines)
            * minor_unit(&o.currency);
        assert!(
            o.totals.rounding.abs() <= tol,
            "order {id} rounds {}",
            o.totals.rounding
        );
        worst = worst.max(o.totals.rounding.abs() / minor_unit(&o.currency));
        statuses.insert(format!("{:?}", o.status));
    }
    assert!(statuses.contains(&format!("{:?}", OrderStatus::Cancelled)));
    // WooCommerce's own rounding shows up somewhere in a store this size.
    assert!(worst > Decimal::ZERO, "no order rounds at all");
}

#[test]
fn the_mix_has_every_case() {
    let mut s = Store::default();
    s.seed(3_000, 7, 1_795_000_000);
    let all: Vec<_> = s.book.iter().collect();
    let has = |f: &dyn Fn(&&super::order::SimOrder) -> bool| all.iter().any(f);
    assert!(has(&|o| o.profile.inclusive && o.profile.at_subtotal));
    assert!(has(&|o| !o.profile.inclusive));
    assert!(has(&|o| o.profile.dp == 0));
    assert!(has(&|o| o.profile.dp == 3));
    assert!(has(&|o| o.tax_lines.iter().any(|t| t.rate.compound)));
    assert!(has(&|o| o.fees.iter().any(|f| f.total < 0)));
    assert!(has(&|o| o.fees.iter().any(|f| f.total > 0)));
    assert!(has(&|o| o.coupons.len() > 1));
    assert!(has(&|o| o.coupons.iter().any(|c| c.free_shipping)));
    assert!(has(&|o| o.shipping.is_empty()));
    assert!(has(&|o| o.refunds.iter().any(|r| !r.lines.is_empty())));
    assert!(has(&|o| o
        .refunds
        .iter()
        .any(|r| r.lines.is_empty() && r.shipping.is_empty())));
    assert!(has(&|o| o
        .refunds
        .iter()
        .any(|r| !r.shipping.is_empty() && r.lines.is_empty())));
    for st in Status::ALL {
        assert!(
            has(&|o| o.status == st) || st == Status::CheckoutDraft,
            "{st:?}"
        );
    }
}

#[test]
fn named_cases_map() {
    let mut s = Store::default();
    for (i, c) in cases::CASES.iter().enumerate() {
        s.case(c, 1_795_000_000 + i as i64).unwrap();
    }
    for (id, r) in mapped(&s) {
        r.unwrap_or_else(|e| panic!("case order {id}: {e}"));
    }
}

#[test]
fn the_example_case_is_the_specs_order() {
    let mut s = Store::default();
    let id = s.case("example", 1_795_000_000).unwrap();
    let o = s.book.get(id).unwrap();
    let v = render::order(o, &view());
    assert_eq!(v["total"], "29.35");
    assert_eq!(v["cart_tax"], "1.35");
    assert_eq!(v["line_items"][0]["taxes"][0]["total"], "0.45");
    assert_eq!(v["line_items"][1]["taxes"][0]["total"], "0.9");
    assert_eq!(v["tax_lines"][0]["rate_percent"], 7.5);
    for p in super::profiles::ALL {
        assert!(super::profiles::price(p, 1) >= p.step);
    }
}
