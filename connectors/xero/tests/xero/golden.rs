//! Golden accounting cases (`tests/e2e/golden/<case>/canonical.json`, see the README there):
//! the exact Xero request bodies (invoice + credit notes) pinned as `xero.json`, key numbers
//! checked by hand-computed constants, then each order posted to the simulator, whose
//! invoice total minus its credit notes must be the order's `current.total`.
//! `ORDERSYNC_BLESS_GOLDEN=1` rewrites the `xero.json` files (read every amount before
//! committing what it wrote).

use crate::mapping::{d, table};
use crate::{env, key, received};
use ordersync_conformance::snapshot::assert_snapshot;
use ordersync_sdk::{Decimal, DeliveryRequest, Order};
use ordersync_xero::config::{AccountCodes, DocumentStatus};
use ordersync_xero::mapping::{Ctx, credit_note_bodies, invoice_body};
use ordersync_xero::wire::{CreditNote, Invoice};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/e2e/golden");
const OBJECT_KEY: &str = "0123456789abcdef0123456789abcdef";
const CONTACT: &str = "00000000-0000-4000-8000-00000000c0de";

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(ROOT)
        .expect("golden folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("canonical.json").exists())
        .collect();
    v.sort();
    assert!(v.len() >= 12, "golden cases found: {}", v.len());
    v
}

fn order(dir: &Path) -> Order {
    let text = std::fs::read_to_string(dir.join("canonical.json")).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn bodies(o: &Order) -> (Invoice, Vec<CreditNote>) {
    let accounts = AccountCodes::default();
    let taxes = table();
    let number = o.order_number.clone();
    let ctx = Ctx {
        accounts: &accounts,
        taxes: &taxes,
        status: DocumentStatus::Authorised,
        contact_id: CONTACT,
        invoice_number: &number,
        object_key: OBJECT_KEY,
    };
    let inv = invoice_body(o, &ctx).unwrap_or_else(|e| panic!("{}: {e}", o.order_number));
    let cns = credit_note_bodies(o, &ctx)
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    (inv, cns)
}

fn as_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
}

#[test]
fn bodies_are_pinned_for_every_case() {
    for dir in cases() {
        let o = order(&dir);
        let (inv, cns) = bodies(&o);
        let got = json!({
            "Invoices": [as_json(&inv)],
            "CreditNotes": cns.iter().map(as_json).collect::<Vec<_>>(),
        });
        assert_snapshot(&dir.join("xero.json"), &got);
    }
}

/// (account, line amount, tax amount, tax type) per line, hand-computed from the payloads.
type Line = (&'static str, &'static str, &'static str, &'static str);

fn check(case: &str, basis: &str, want: &[Line], credit: &[&str]) {
    let o = order(&Path::new(ROOT).join(case));
    let (inv, cns) = bodies(&o);
    assert_eq!(inv.line_amount_types.as_deref(), Some(basis), "{case}");
    let got: Vec<(String, Decimal, Decimal, String)> = inv
        .line_items
        .iter()
        .map(|l| {
            (
                l.account_code.clone().unwrap(),
                l.line_amount.unwrap(),
                l.tax_amount.unwrap_or_default(),
                l.tax_type.clone().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, Decimal, Decimal, String)> = want
        .iter()
        .map(|(a, l, t, tt)| (a.to_string(), d(l), d(t), tt.to_string()))
        .collect();
    assert_eq!(got, want, "{case}: invoice lines");
    let totals: Vec<Decimal> = cns
        .iter()
        .map(|c| ordersync_xero::mapping::xero_total(&c.line_items, basis).unwrap())
        .collect();
    let want_credit: Vec<Decimal> = credit.iter().map(|c| d(c)).collect();
    assert_eq!(totals, want_credit, "{case}: credit notes");
}

#[test]
fn hand_computed_key_numbers() {
    // 2 × 12.00 − 2.40 = 21.60 (VAT 3.60 inside); shipping 4.80 (0.80): 26.40.
    check(
        "uk_vat_inclusive",
        "Inclusive",
        &[
            ("200", "21.60", "3.60", "OUTPUT2"),
            ("260", "4.80", "0.80", "OUTPUT2"),
        ],
        &[],
    );
    // 199 − 3.34 / 3.33 / 3.33, 6 % tax 3.98 each: 587.00 + 11.94 = 598.94; the refund of
    // two units credits 195.66 + 195.67 + 2 × 3.98 = 399.29, leaving 199.65.
    check(
        "partial_refund_exclusive",
        "Exclusive",
        &[
            ("200", "195.66", "3.98", "TAX001"),
            ("200", "195.67", "3.98", "TAX001"),
            ("200", "195.67", "3.98", "TAX001"),
            ("260", "0.00", "0.00", "NONE"),
        ],
        &["399.29"],
    );
    // 2 × 1500 (273), 980 (89), shipping 550 (50): 4530 yen, no decimals.
    check(
        "jpy_zero_decimals",
        "Inclusive",
        &[
            ("200", "3000", "273", "TAX006"),
            ("200", "980", "89", "TAX006"),
            ("260", "550", "50", "TAX006"),
        ],
        &[],
    );
    // 12.345 − 1.000 = 11.345, 3 × 2.250 = 6.750, shipping 1.500: 19.595, untaxed.
    check(
        "kwd_three_decimals",
        "Exclusive",
        &[
            ("200", "11.345", "0", "NONE"),
            ("200", "6.750", "0", "NONE"),
            ("260", "1.500", "0", "NONE"),
        ],
        &[],
    );
    // 8.875 % = 4 + 4.5 + 0.375: 49.99 (2.00 + 2.25 + 0.19), 21.75 (0.87 + 0.98 + 0.08),
    // 13.00 untaxed, shipping 8.00 (0.32 + 0.36 + 0.03): 92.74 + 7.08 = 99.82.
    check(
        "nyc_three_taxes",
        "Exclusive",
        &[
            ("200", "49.99", "4.44", "TAX004"),
            ("200", "21.75", "1.93", "TAX004"),
            ("200", "13.00", "0", "NONE"),
            ("260", "8.00", "0.71", "TAX004"),
        ],
        &[],
    );
    // Product 23.80 (3.80) to sales, gift card 25.00 to the liability, tip 3.00 to other
    // income, shipping 4.90 (0.78): 56.70.
    check(
        "tip_and_gift_card",
        "Inclusive",
        &[
            ("200", "23.80", "3.80", "TAX005"),
            ("835", "25.00", "0", "NONE"),
            ("260", "3.00", "0", "NONE"),
            ("260", "4.90", "0.78", "TAX005"),
        ],
        &[],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_cases_leave_the_current_total_in_xero() {
    let e = env().await;
    let cases = cases();
    for (i, dir) in cases.iter().enumerate() {
        let o = order(dir);
        let (k, obj) = (key("gk", i as u64), key("go", i as u64));
        e.sink
            .deliver(DeliveryRequest {
                order: &o,
                idempotency_key: &k,
                object_key: &obj,
                previous_ref: None,
            })
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        let r = received(&e.sim.base_url).await;
        let held = r
            .objects
            .iter()
            .find(|x| x.object_key == obj)
            .unwrap_or_else(|| panic!("{}: no invoice", dir.display()));
        let total = d(held.extra["total"].as_str().unwrap());
        let credited = d(held.extra["credit_notes"].as_str().unwrap());
        assert_eq!(total, o.totals.total, "{}: invoice total", dir.display());
        assert_eq!(
            total - credited,
            o.current.total,
            "{}: invoice − credit notes",
            dir.display()
        );
    }
    assert_eq!(received(&e.sim.base_url).await.count, cases.len() as u64);
}
