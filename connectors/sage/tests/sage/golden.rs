//! The golden accounting cases (`tests/e2e/golden/<case>/canonical.json`): the exact Sage
//! bodies of each (`sage.json`: the invoice and its credit notes), hand-checked key numbers,
//! and each case posted to the simulator, where invoice total − credit notes must equal the
//! order's current total to the minor unit.

use crate::{env, key};
use ordersync_conformance::snapshot::assert_snapshot;
use ordersync_sage::mapping::{self, Chart, Keys, Ledgers, Plan, Rate, hex32};
use ordersync_sage::sim::{default_rates, ledger_id};
use ordersync_sdk::{Decimal, DeliveryRequest, Order, OutcomeKind};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

const CASES: &[&str] = &[
    "cancelled_refunded",
    "chf_cash_rounding",
    "free_shipping_code",
    "jpy_zero_decimals",
    "kwd_three_decimals",
    "nyc_three_taxes",
    "partial_refund_exclusive",
    "presentment_usd_on_eur_shop",
    "several_shipping_lines_and_duties",
    "tax_exempt",
    "tip_and_gift_card",
    "uk_vat_inclusive",
];

fn dir(case: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/e2e/golden"
    ))
    .join(case)
}

pub fn order(case: &str) -> Order {
    let text = std::fs::read_to_string(dir(case).join("canonical.json")).expect("canonical.json");
    serde_json::from_str(&text).expect("canonical order")
}

/// The simulator's chart, as the sink resolves it from the default config.
pub fn chart() -> Chart {
    Chart {
        ledgers: Ledgers {
            sales: ledger_id(4000),
            shipping: ledger_id(4905),
            fees: ledger_id(4900),
            tips: ledger_id(4900),
            gift_cards: Some(ledger_id(2110)),
            rounding: ledger_id(4900),
            marketplace_tax: Some(ledger_id(2201)),
        },
        rates: default_rates()
            .iter()
            .map(|r| Rate::new(&r.id, Some(&r.name), r.percentage))
            .collect(),
        overrides: BTreeMap::new(),
        currencies: vec![],
    }
}

fn object_key(case: &str) -> String {
    hex32(&["golden", case])
}

pub fn plan(case: &str) -> Plan {
    let o = order(case);
    let ok = object_key(case);
    mapping::plan(
        &o,
        &chart(),
        "CONTACT_ID",
        &mapping::reference("", &o),
        Keys {
            object_key: &ok,
            idempotency_key: &format!("golden-{case}-v1"),
        },
    )
    .unwrap_or_else(|e| panic!("{case}: {e}"))
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn lines(p: &Plan) -> Vec<(String, Decimal, Decimal, Decimal, Decimal, String)> {
    p.invoice
        .invoice_lines
        .iter()
        .map(|l| {
            (
                l.description.clone(),
                l.quantity,
                l.net_amount.unwrap(),
                l.tax_amount.unwrap(),
                l.total_amount.unwrap(),
                l.tax_rate_id.clone().unwrap(),
            )
        })
        .collect()
}

fn invoice_total(p: &Plan) -> Decimal {
    mapping::artefact_total(
        &p.invoice.invoice_lines,
        p.invoice.shipping_net_amount,
        p.invoice.shipping_tax_amount,
    )
    .unwrap()
}

fn credit_totals(p: &Plan) -> Vec<Decimal> {
    p.credit_notes
        .iter()
        .map(|c| {
            mapping::artefact_total(
                &c.credit_note_lines,
                c.shipping_net_amount,
                c.shipping_tax_amount,
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn snapshots_of_every_case() {
    for case in CASES {
        let p = plan(case);
        let got = json!({
            "sales_invoice": serde_json::to_value(&p.invoice).unwrap(),
            "sales_credit_notes": serde_json::to_value(&p.credit_notes).unwrap(),
        });
        assert_snapshot(&dir(case).join("sage.json"), &got);
        // Invoice − credit notes = what the order is worth now.
        let credited: Decimal = credit_totals(&p).iter().sum();
        assert_eq!(
            invoice_total(&p) - credited,
            order(case).current.total,
            "{case}: invoice − credit notes = current total"
        );
    }
}

#[test]
fn uk_vat_inclusive_by_hand() {
    let p = plan("uk_vat_inclusive");
    let l = &p.invoice.invoice_lines[0];
    // 2 × 12.00 gross, 10 % code 2.40: 21.60 with 3.60 VAT inside, posted tax-inclusive.
    assert_eq!((l.quantity, l.unit_price), (d("2"), d("12.00")));
    assert_eq!(l.discount_amount, Some(d("2.40")));
    assert_eq!(
        (l.net_amount, l.tax_amount, l.total_amount),
        (Some(d("18.00")), Some(d("3.60")), Some(d("21.60")))
    );
    assert!(l.unit_price_includes_tax);
    assert_eq!(l.tax_rate_id.as_deref(), Some("GB_STANDARD"));
    // Shipping 4.80 gross = 4.00 net + 0.80 VAT on Sage's shipping fields.
    assert_eq!(p.invoice.shipping_net_amount, Some(d("4.00")));
    assert_eq!(p.invoice.shipping_tax_amount, Some(d("0.80")));
    assert_eq!(
        p.invoice.shipping_tax_rate_id.as_deref(),
        Some("GB_STANDARD")
    );
    assert_eq!(invoice_total(&p), d("26.40"));
    assert!(p.credit_notes.is_empty());
}

#[test]
fn partial_refund_exclusive_by_hand() {
    let p = plan("partial_refund_exclusive");
    // As placed: 3 × 199.00 less TENOFF 3.34/3.33/3.33, 6 % tax 3 × 3.98.
    assert_eq!(invoice_total(&p), d("598.94"));
    assert!(lines(&p).iter().all(|l| l.5 == "SIM_6"));
    assert_eq!(p.invoice.invoice_lines[0].net_amount, Some(d("195.66")));
    // One credit note for the refund of two units: 195.66 + 3.98 + 195.67 + 3.98.
    assert_eq!(credit_totals(&p), vec![d("399.29")]);
    let c = &p.credit_notes[0];
    assert_eq!(c.reference.as_deref(), Some("#1001-R1"));
    assert_eq!(c.credit_note_lines.len(), 2);
    assert_eq!(invoice_total(&p) - d("399.29"), d("199.65"));
}

#[test]
fn jpy_zero_decimals_by_hand() {
    let p = plan("jpy_zero_decimals");
    let l = lines(&p);
    assert_eq!(
        (l[0].1, l[0].2, l[0].3, l[0].4),
        (d("2"), d("2727"), d("273"), d("3000"))
    );
    assert_eq!((l[1].2, l[1].3, l[1].4), (d("891"), d("89"), d("980")));
    assert_eq!(p.invoice.shipping_net_amount, Some(d("500")));
    assert_eq!(p.invoice.shipping_tax_amount, Some(d("50")));
    assert_eq!(invoice_total(&p), d("4530"));
    assert!(l.iter().all(|x| x.2.scale() == 0 && x.3.scale() == 0));
}

#[test]
fn kwd_three_decimals_by_hand() {
    let p = plan("kwd_three_decimals");
    let l = lines(&p);
    assert_eq!(l[0].2, d("11.345"));
    assert_eq!((l[1].1, l[1].2), (d("3"), d("6.750")));
    // No tax anywhere: the exempt rate, tax 0.
    assert!(l.iter().all(|x| x.3.is_zero() && x.5 == "GB_EXEMPT"));
    assert_eq!(p.invoice.shipping_net_amount, Some(d("1.500")));
    assert_eq!(invoice_total(&p), d("19.595"));
}

#[test]
fn nyc_three_taxes_by_hand() {
    let p = plan("nyc_three_taxes");
    let l = lines(&p);
    // 4 % + 4.5 % + 0.375 % = 8.875 %, never rounded to fit.
    assert_eq!(
        (l[0].2, l[0].3, l[0].5.as_str()),
        (d("49.99"), d("4.44"), "SIM_8_875")
    );
    assert_eq!((l[1].1, l[1].2, l[1].3), (d("3"), d("21.75"), d("1.93")));
    assert_eq!((l[2].3, l[2].5.as_str()), (d("0"), "GB_EXEMPT"));
    assert_eq!(p.invoice.shipping_net_amount, Some(d("8.00")));
    assert_eq!(p.invoice.shipping_tax_amount, Some(d("0.71")));
    assert_eq!(invoice_total(&p), d("99.82"));
}

#[test]
fn tip_and_gift_card_by_hand() {
    let p = plan("tip_and_gift_card");
    let inv = &p.invoice.invoice_lines;
    assert_eq!(inv[0].ledger_account_id, ledger_id(4000));
    assert_eq!(
        (inv[0].net_amount, inv[0].tax_amount),
        (Some(d("20.00")), Some(d("3.80")))
    );
    // The gift card is a liability, untaxed; the tip is other income, untaxed.
    assert_eq!(inv[1].ledger_account_id, ledger_id(2110));
    assert_eq!(
        (inv[1].total_amount, inv[1].tax_rate_id.as_deref()),
        (Some(d("25.00")), Some("GB_EXEMPT"))
    );
    assert_eq!(inv[2].ledger_account_id, ledger_id(4900));
    assert_eq!(inv[2].total_amount, Some(d("3.00")));
    assert_eq!(p.invoice.shipping_net_amount, Some(d("4.12")));
    assert_eq!(p.invoice.shipping_tax_amount, Some(d("0.78")));
    assert_eq!(invoice_total(&p), d("56.70"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_posted_to_the_simulator_nets_to_the_current_total() {
    let e = env().await;
    for (i, case) in CASES.iter().enumerate() {
        let o = order(case);
        let ok = object_key(case);
        let out = e
            .sink
            .deliver(DeliveryRequest {
                order: &o,
                idempotency_key: &key("gold", i as u64),
                object_key: &ok,
                previous_ref: None,
            })
            .await
            .unwrap_or_else(|err| panic!("{case}: {err}"));
        assert_eq!(out.kind, OutcomeKind::Created, "{case}");
    }
    let r = crate::received(&e.sim.base_url).await;
    assert_eq!(r.objects.len(), CASES.len());
    for case in CASES {
        let o = order(case);
        let held = r
            .objects
            .iter()
            .find(|x| x.external_order_id == o.external_id)
            .unwrap_or_else(|| panic!("{case}: held"));
        let total = d(held.extra["total_amount"].as_str().unwrap());
        let credited = d(held.extra["credited_amount"].as_str().unwrap());
        assert_eq!(total, o.totals.total, "{case}: invoice as placed");
        assert_eq!(
            total - credited,
            o.current.total,
            "{case}: net of credit notes"
        );
        assert_eq!(
            held.extra["credit_notes"].as_array().map(Vec::len),
            Some(o.refunds.len()),
            "{case}: one credit note per refund"
        );
    }
    let _: Value = json!(null);
}
