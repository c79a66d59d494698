//! Pure mapping: tax types, the basis, marketplace tax, rounding, balance, contacts, keys.

use ordersync_conformance::sample_order;
use ordersync_sdk::money::{Collector, TaxLine};
use ordersync_sdk::{ConnectorError, Decimal, ErrorClass, Order};
use ordersync_xero::config::{AccountCodes, DocumentStatus, XeroConfig};
use ordersync_xero::mapping::{
    Ctx, TaxTable, contact_name, contact_number, credit_note_bodies, idempotency_key, invoice_body,
    invoice_number, suffixed_name, xero_total,
};
use ordersync_xero::sim::default_tax_rates;
use std::collections::BTreeMap;
use std::str::FromStr;

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn table() -> TaxTable {
    TaxTable::new(&default_tax_rates(), &BTreeMap::new())
}

pub fn build(o: &Order, taxes: &TaxTable) -> Result<ordersync_xero::wire::Invoice, ConnectorError> {
    let accounts = AccountCodes::default();
    invoice_body(
        o,
        &Ctx {
            accounts: &accounts,
            taxes,
            status: DocumentStatus::Authorised,
            contact_id: "c-1",
            invoice_number: "INV-1",
            object_key: "0123456789abcdef0123456789abcdef",
        },
    )
}

#[test]
fn tax_types_match_effective_rates_overrides_first() {
    let t = table();
    assert_eq!(t.for_percent(d("20")).unwrap(), "OUTPUT2");
    assert_eq!(t.for_percent(d("20.000")).unwrap(), "OUTPUT2");
    assert_eq!(t.for_percent(d("8.875")).unwrap(), "TAX004");
    assert_eq!(t.for_percent(d("0")).unwrap(), "NONE");
    // An ARCHIVED rate does not count; INPUT2 (expenses only) neither.
    let e = t.for_percent(d("7.6")).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    let e = t.for_percent(d("8.5")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "permanent: no Xero tax rate of 8.5 %: add one or map it in tax_types"
    );
    let mut over = BTreeMap::new();
    over.insert("20".to_string(), "SPECIAL".to_string());
    over.insert("0".to_string(), "ZERORATEDOUTPUT".to_string());
    let t = TaxTable::new(&default_tax_rates(), &over);
    assert_eq!(t.for_percent(d("20")).unwrap(), "SPECIAL");
    assert_eq!(t.zero().unwrap(), "ZERORATEDOUTPUT");
    assert!(TaxTable::new(&[], &BTreeMap::new()).zero().is_err());
}

#[test]
fn unknown_combined_rate_is_permanent_naming_it() {
    let mut o = sample_order(0);
    for l in &mut o.lines {
        for t in &mut l.tax_lines {
            t.rate = Some(t.rate.unwrap() + d("0.0025"));
        }
    }
    let e = build(&o, &table()).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert!(e.to_string().contains("9.125 %"), "{e}");
}

#[test]
fn samples_post_in_their_basis_and_balance_exactly() {
    for i in 0..8 {
        let o = sample_order(i);
        let inv = build(&o, &table()).unwrap();
        let lat = inv.line_amount_types.clone().unwrap();
        assert_eq!(
            lat,
            if o.taxes_included {
                "Inclusive"
            } else {
                "Exclusive"
            }
        );
        assert_eq!(
            xero_total(&inv.line_items, &lat),
            Some(o.totals.total),
            "sample {i}"
        );
        // Tax amounts are the order's, never recomputed.
        let tax: Decimal = inv.line_items.iter().filter_map(|l| l.tax_amount).sum();
        assert_eq!(tax, o.totals.tax, "sample {i}");
        assert!(
            inv.line_items
                .iter()
                .all(|l| l.account_code.is_some() && l.tax_type.is_some())
        );
        assert!(
            !inv.line_items
                .iter()
                .any(|l| l.description.as_deref() == Some("Rounding"))
        );
    }
}

#[test]
fn goods_lines_carry_quantity_unit_discount_and_line_amount() {
    let o = sample_order(1); // GBP, 10 % line code
    let inv = build(&o, &table()).unwrap();
    let l = &inv.line_items[0];
    let src = &o.lines[0];
    assert_eq!(l.quantity, Some(Decimal::from(src.quantity)));
    assert_eq!(l.unit_amount, Some(src.unit_price));
    assert_eq!(l.discount_amount, src.discount().filter(|d| !d.is_zero()));
    assert_eq!(l.line_amount, src.discounted());
    assert_eq!(l.tax_amount, src.tax());
    assert_eq!(l.tax_type.as_deref(), Some("OUTPUT2"));
    assert_eq!(l.account_code.as_deref(), Some("200"));
}

#[test]
fn exempt_orders_post_no_tax() {
    let mut o = sample_order(0);
    for l in &mut o.lines {
        l.tax_lines.clear();
    }
    for s in &mut o.shipping_lines {
        s.tax_lines.clear();
    }
    o.tax_lines.clear();
    o.tax_exempt = true;
    o.totals.total -= o.totals.tax;
    o.current.total -= o.current.tax;
    o.totals.tax = Decimal::ZERO;
    o.current.tax = Decimal::ZERO;
    let inv = build(&o, &table()).unwrap();
    assert_eq!(inv.line_amount_types.as_deref(), Some("NoTax"));
    assert!(
        inv.line_items
            .iter()
            .all(|l| l.tax_type.as_deref() == Some("NONE") && l.tax_amount.is_none())
    );
    assert_eq!(xero_total(&inv.line_items, "NoTax"), Some(o.totals.total));
}

#[test]
fn marketplace_collected_tax_is_booked_apart_from_the_merchants() {
    // Exclusive: the line keeps its net amount; the tax goes to the clearing account.
    let mut o = sample_order(0);
    for l in &mut o.lines {
        for t in &mut l.tax_lines {
            t.collector = Collector::Marketplace;
        }
    }
    o.tax_lines = o.summarise_taxes().unwrap();
    let inv = build(&o, &table()).unwrap();
    let last = inv.line_items.last().unwrap();
    assert_eq!(last.account_code.as_deref(), Some("845"));
    assert_eq!(last.tax_type.as_deref(), Some("NONE"));
    let line_tax: Decimal = o.lines.iter().map(|l| l.tax().unwrap()).sum();
    assert_eq!(last.line_amount, Some(line_tax));
    assert_eq!(inv.line_items[0].tax_type.as_deref(), Some("NONE"));
    assert_eq!(inv.line_items[0].tax_amount, Some(Decimal::ZERO));
    assert_eq!(
        xero_total(&inv.line_items, "Exclusive"),
        Some(o.totals.total)
    );
    // Inclusive: the gross loses the marketplace's part.
    let mut o = sample_order(1);
    let first_tax = o.lines[0].tax().unwrap();
    for t in &mut o.lines[0].tax_lines {
        t.collector = Collector::Marketplace;
    }
    o.tax_lines = o.summarise_taxes().unwrap();
    let inv = build(&o, &table()).unwrap();
    assert_eq!(
        inv.line_items[0].line_amount,
        Some(o.lines[0].discounted().unwrap() - first_tax)
    );
    assert_eq!(inv.line_items[0].quantity, Some(Decimal::ONE));
    assert_eq!(
        xero_total(&inv.line_items, "Inclusive"),
        Some(o.totals.total)
    );
}

#[test]
fn a_rounding_line_only_when_totals_carry_rounding() {
    let mut o = sample_order(0);
    o.tolerance = ordersync_sdk::Tolerance {
        per_order: 2,
        per_line: 0,
    };
    o.totals.total += d("0.01");
    o.current.total += d("0.01");
    o.totals.rounding = d("0.01");
    let inv = build(&o, &table()).unwrap();
    let r = inv.line_items.last().unwrap();
    assert_eq!(r.description.as_deref(), Some("Rounding"));
    assert_eq!(r.account_code.as_deref(), Some("860"));
    assert_eq!(r.line_amount, Some(d("0.01")));
    assert_eq!(
        xero_total(&inv.line_items, "Exclusive"),
        Some(o.totals.total)
    );
}

#[test]
fn unbalanced_or_negative_orders_are_never_built() {
    let mut o = sample_order(0);
    o.totals.total += d("0.05");
    let e = build(&o, &table()).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    let mut o = sample_order(2);
    o.lines[0].unit_price = -o.lines[0].unit_price;
    assert_eq!(
        build(&o, &table()).unwrap_err().class(),
        ErrorClass::Permanent
    );
    // A tax line without a rate gets the type whose rate explains its amount (1.72 on
    // 19.99: 8.625 %), and none when no rate of the organisation does.
    let mut o = sample_order(0);
    o.lines[0].tax_lines[0].rate = None;
    let inv = build(&o, &table()).unwrap();
    assert_eq!(inv.line_items[0].tax_type.as_deref(), Some("TAX003"));
    assert_eq!(inv.line_items[0].tax_amount, Some(d("1.72")));
    let without: Vec<_> = default_tax_rates()
        .into_iter()
        .filter(|r| r.tax_type != "TAX003")
        .collect();
    let e = build(&o, &TaxTable::new(&without, &BTreeMap::new())).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert_eq!(
        e.to_string(),
        "permanent: a tax line has no rate and no Xero tax rate explains its 8.604 %: add one \
         or map it in tax_types"
    );
}

#[test]
fn refunds_become_credit_notes_from_their_own_figures() {
    let mut o = sample_order(4); // USD exclusive, two lines
    let l = &o.lines[0];
    let refund = ordersync_sdk::Refund {
        external_id: "r1".into(),
        created_at: o.created_at,
        lines: vec![ordersync_sdk::RefundLine {
            line_id: l.external_line_id.clone(),
            quantity: 1,
            restock: true,
            subtotal: l.discounted().unwrap() / Decimal::from(l.quantity),
            tax: Decimal::ZERO,
        }],
        shipping: d("1.00"),
        shipping_tax: Decimal::ZERO,
        duties: Decimal::ZERO,
        adjustments: vec![ordersync_sdk::RefundAdjustment {
            reason: Some("Canary Buyer asked nicely".into()),
            amount: d("-0.50"),
            tax: Decimal::ZERO,
        }],
        total: Decimal::ZERO,
    };
    o.refunds.push(refund);
    let accounts = AccountCodes::default();
    let taxes = table();
    let ctx = Ctx {
        accounts: &accounts,
        taxes: &taxes,
        status: DocumentStatus::Authorised,
        contact_id: "c-1",
        invoice_number: "#C4",
        object_key: "k",
    };
    let notes = credit_note_bodies(&o, &ctx).unwrap();
    let cn = notes[0].as_ref().unwrap();
    assert_eq!(cn.credit_note_number.as_deref(), Some("#C4-R1"));
    assert_eq!(cn.kind.as_deref(), Some("ACCRECCREDIT"));
    let amounts: Vec<Decimal> = cn
        .line_items
        .iter()
        .map(|l| l.line_amount.unwrap())
        .collect();
    assert_eq!(amounts[1..], [d("1.00"), d("-0.50")]);
    let text = serde_json::to_string(cn).unwrap();
    assert!(
        !text.contains("Canary"),
        "adjustment reasons are free text: {text}"
    );
}

#[test]
fn contacts_numbers_names_and_keys() {
    let o = sample_order(3);
    let n = contact_number(&o, "k1");
    assert!(n.starts_with("os-") && n.len() == 27, "{n}");
    let mut same = sample_order(3);
    same.pii.email = Some("  BUYER3@customer.test ".into());
    assert_eq!(
        contact_number(&same, "other"),
        n,
        "normalised email, not the key"
    );
    let mut anon = sample_order(3);
    anon.pii.email = None;
    assert_ne!(contact_number(&anon, "k1"), contact_number(&anon, "k2"));
    assert_eq!(contact_name(&o), "Canary Buyer3");
    anon.pii.buyer_name = None;
    assert_eq!(contact_name(&anon), "Marketplace customer #C3");
    assert_eq!(suffixed_name("Ann", &n, 4), format!("Ann ({})", &n[3..7]));
    let long = "k".repeat(200);
    assert_eq!(idempotency_key(&long, "invoice").len(), 64);
    assert_eq!(idempotency_key("abc", "cn-1"), "abc:cn-1");
    let cfg: XeroConfig = ordersync_sdk::parse_config(&serde_json::json!({
        "tenant_id": "t", "invoice_prefix": {"conformance": "CF-"}
    }))
    .unwrap();
    assert_eq!(invoice_number(&cfg, &o).unwrap(), "CF-#C3");
}

#[test]
fn pii_never_reaches_the_invoice() {
    let o = sample_order(1);
    let text = serde_json::to_string(&build(&o, &table()).unwrap()).unwrap();
    ordersync_conformance::assert_no_canary("invoice body", &text);
    let _ = TaxLine {
        title: String::new(),
        rate: None,
        amount: Decimal::ZERO,
        collector: Collector::Merchant,
    };
}
