//! Pure mapping: tax-rate matching, ledgers per kind of amount, marketplace tax, rounding,
//! contacts, markers, and bad input refused with PII-free reasons.

use crate::golden::{chart, order};
use ordersync_conformance::{assert_no_canary, sample_order};
use ordersync_sage::mapping::{
    self, Keys, MAX_LINES, Marker, RateKind, contact_body, contact_reference, rate_kind,
};
use ordersync_sdk::{Collector, Decimal, ErrorClass, Order, Tolerance};
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

const KEYS: Keys<'static> = Keys {
    object_key: "0123456789abcdef0123456789abcdef",
    idempotency_key: "v1",
};

fn plan(o: &Order) -> Result<mapping::Plan, ordersync_sdk::ConnectorError> {
    mapping::plan(o, &chart(), "C", "R", KEYS)
}

fn reason(o: &Order) -> String {
    let e = plan(o).expect_err("refused");
    assert_eq!(e.class(), ErrorClass::Permanent, "{e}");
    let s = e.to_string();
    assert_no_canary("reason", &s);
    s
}

#[test]
fn rate_kinds_from_ids_and_names() {
    assert_eq!(rate_kind("GB_ZERO", None), RateKind::Zero);
    assert_eq!(rate_kind("GB_EXEMPT", None), RateKind::Exempt);
    assert_eq!(rate_kind("GB_NO_TAX", None), RateKind::NoTax);
    assert_eq!(rate_kind("x", Some("No VAT")), RateKind::NoTax);
    assert_eq!(
        rate_kind("GB_STANDARD", Some("Standard 20%")),
        RateKind::Standard
    );
}

#[test]
fn unknown_rate_is_permanent_and_names_the_percentage() {
    let mut o = order("uk_vat_inclusive");
    for t in o.lines.iter_mut().flat_map(|l| l.tax_lines.iter_mut()) {
        t.rate = Some(d("0.135"));
    }
    let r = reason(&o);
    assert!(r.contains("13.5 %") && r.contains("tax_rates"), "{r}");
}

#[test]
fn overrides_win_and_zero_rates_are_told_from_exempt() {
    let mut c = chart();
    c.overrides.insert(d("20"), "MY_TWENTY".into());
    let o = order("uk_vat_inclusive");
    let p = mapping::plan(&o, &c, "C", "R", KEYS).unwrap();
    assert_eq!(
        p.invoice.invoice_lines[0].tax_rate_id.as_deref(),
        Some("MY_TWENTY")
    );
    // A taxed line at 0 % is zero-rated; an untaxed one is exempt.
    let mut z = order("uk_vat_inclusive");
    for t in z.lines.iter_mut().flat_map(|l| l.tax_lines.iter_mut()) {
        t.rate = Some(Decimal::ZERO);
    }
    let zero = reason_or_plan(&mut z);
    assert!(zero.is_some());
    let ex = plan(&order("tax_exempt")).unwrap();
    assert!(
        ex.invoice
            .invoice_lines
            .iter()
            .all(|l| l.tax_rate_id.as_deref() == Some("GB_EXEMPT"))
    );
}

/// A 0 % rate with a non-zero tax amount does not balance as Sage sees it; with the tax set
/// to zero the order is re-balanced and zero-rated.
fn reason_or_plan(o: &mut Order) -> Option<String> {
    for l in o.lines.iter_mut() {
        for t in l.tax_lines.iter_mut() {
            t.amount = Decimal::ZERO;
        }
    }
    for s in o.shipping_lines.iter_mut() {
        s.tax_lines.clear();
    }
    o.totals.tax = Decimal::ZERO;
    o.current.tax = Decimal::ZERO;
    o.tax_lines.clear();
    let p = plan(o).ok()?;
    assert_eq!(
        p.invoice.invoice_lines[0].tax_rate_id.as_deref(),
        Some("GB_ZERO")
    );
    Some("zero".into())
}

#[test]
fn marketplace_collected_tax_is_its_own_line_and_needs_its_ledger() {
    let mut o = order("nyc_three_taxes");
    for t in o.lines[0].tax_lines.iter_mut() {
        t.collector = Collector::Marketplace;
    }
    let p = plan(&o).unwrap();
    let l0 = &p.invoice.invoice_lines[0];
    assert_eq!(
        (l0.tax_amount, l0.tax_rate_id.as_deref()),
        (Some(Decimal::ZERO), Some("GB_EXEMPT"))
    );
    let mk = p
        .invoice
        .invoice_lines
        .iter()
        .find(|l| l.description.contains("marketplace"))
        .expect("marketplace tax line");
    assert_eq!(mk.total_amount, Some(d("4.44")));
    assert_eq!(
        mk.ledger_account_id,
        chart().ledgers.marketplace_tax.unwrap()
    );
    let mut c = chart();
    c.ledgers.marketplace_tax = None;
    let e = mapping::plan(&o, &c, "C", "R", KEYS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ledger_accounts.marketplace_tax"), "{e}");
}

#[test]
fn inclusive_marketplace_tax_becomes_one_unit_of_the_line() {
    let mut o = order("jpy_zero_decimals");
    for t in o.lines[0].tax_lines.iter_mut() {
        t.collector = Collector::Marketplace;
    }
    let p = plan(&o).unwrap();
    let l = &p.invoice.invoice_lines[0];
    // 2 × 1500 gross with 273 collected by the marketplace: 2727 net, no merchant tax.
    assert_eq!(
        (l.quantity, l.unit_price, l.total_amount),
        (Decimal::ONE, d("2727"), Some(d("2727")))
    );
    assert!(l.description.starts_with("2 × "));
}

#[test]
fn rounding_line_only_when_totals_round() {
    assert!(
        plan(&order("uk_vat_inclusive"))
            .unwrap()
            .invoice
            .invoice_lines
            .iter()
            .all(|l| l.description != "Rounding")
    );
    let mut o = order("uk_vat_inclusive");
    o.tolerance = Tolerance {
        per_order: 1,
        per_line: 0,
    };
    o.totals.total += d("0.01");
    o.current.total += d("0.01");
    let p = plan(&o).unwrap();
    let r = p
        .invoice
        .invoice_lines
        .iter()
        .find(|l| l.description == "Rounding")
        .expect("rounding line");
    assert_eq!(
        (r.total_amount, r.ledger_account_id.clone()),
        (Some(d("0.01")), chart().ledgers.rounding)
    );
}

#[test]
fn gift_cards_need_their_ledger() {
    let mut c = chart();
    c.ledgers.gift_cards = None;
    let e = mapping::plan(&order("tip_and_gift_card"), &c, "C", "R", KEYS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ledger_accounts.gift_cards"), "{e}");
}

#[test]
fn bad_input_is_classified_never_a_panic() {
    let mut neg = order("uk_vat_inclusive");
    neg.lines[0].unit_price = d("-12.00");
    reason(&neg);
    let mut cur = order("uk_vat_inclusive");
    cur.currency = String::new();
    reason(&cur);
    let mut unknown = order("uk_vat_inclusive");
    unknown.currency = "ZZZ".into();
    let mut c = chart();
    c.currencies = vec!["GBP".into()];
    let e = mapping::plan(&unknown, &c, "C", "R", KEYS)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ZZZ"), "{e}");
    let mut huge = order("uk_vat_inclusive");
    huge.lines[0].unit_price = Decimal::MAX;
    reason(&huge);
    let r = reason(&many_lines(500));
    assert!(r.contains(&MAX_LINES.to_string()), "{r}");
}

/// A balanced exempt order of `n` one-unit lines.
pub fn many_lines(n: usize) -> Order {
    let mut o = order("tax_exempt");
    let proto = o.lines[0].clone();
    o.lines = (0..n)
        .map(|i| {
            let mut l = proto.clone();
            l.external_line_id = format!("L{i}");
            l.quantity = 1;
            l.current_quantity = 1;
            l.unit_price = d("1.00");
            l
        })
        .collect();
    let sum = Decimal::from(n as u64);
    let ship = o.totals.shipping;
    o.totals.subtotal = sum;
    o.totals.total = sum + ship;
    o.current.subtotal = sum;
    o.current.total = sum + ship;
    o
}

#[test]
fn contacts_markers_and_keys() {
    let o = sample_order(1);
    let r = contact_reference(&o.pii, "k");
    assert!(r.starts_with('O') && r.len() == 10, "{r}");
    assert_no_canary("reference", &r);
    assert_eq!(
        r,
        contact_reference(&o.pii, "other key"),
        "by email, not by order"
    );
    let anon = order("tip_and_gift_card");
    let c = contact_body(&anon, &contact_reference(&anon.pii, "k"));
    assert_eq!(c.name, "Marketplace customer #G105");
    assert_eq!(c.contact_type_ids, vec!["CUSTOMER".to_string()]);
    assert_eq!(c.idempotency_id.as_ref().map(String::len), Some(32));
    let m = Marker {
        object_key: "k".into(),
        tag: "H1".into(),
        external_id: "a:b".into(),
    };
    assert_eq!(
        Marker::parse(&format!("free text\n{}", m.render())),
        Some(m)
    );
    let p = plan(&order("uk_vat_inclusive")).unwrap();
    let id = p.invoice.idempotency_id.unwrap();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn a_tax_without_rate_takes_the_rate_that_explains_it() {
    // Amazon sends tax amounts only: 3.60 on 18.00 net is 20 %.
    let mut o = order("uk_vat_inclusive");
    for t in o.lines.iter_mut().flat_map(|l| l.tax_lines.iter_mut()) {
        t.rate = None;
    }
    let p = plan(&o).unwrap();
    assert_eq!(
        p.invoice.invoice_lines[0].tax_rate_id.as_deref(),
        Some("GB_STANDARD")
    );
    assert_eq!(
        p.invoice.invoice_lines[0].tax_amount,
        Some(d("3.60")),
        "the amount is kept"
    );
    // A tax no rate explains (2.70 on 18.90 net: 14.286 %) is refused, naming it.
    for t in o.lines.iter_mut().flat_map(|l| l.tax_lines.iter_mut()) {
        t.amount = d("2.70");
    }
    o.totals.tax -= d("0.90");
    o.current.tax = o.totals.tax;
    o.tax_lines.clear();
    let r = reason(&o);
    assert!(
        r.contains("without a rate") && r.contains("14.286 %"),
        "{r}"
    );
}
