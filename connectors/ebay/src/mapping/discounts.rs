//! How eBay's discounts become the canonical discount applications and allocations, and its
//! per-line delivery costs the order's shipping lines.

use super::lines::ReadLine;
use crate::wire;
use ordersync_sdk::mapping::Reason;
use ordersync_sdk::{
    AllocationMethod, Decimal, DiscountAllocation, DiscountApplication, DiscountKind,
    DiscountTarget, DiscountValue, ShippingLine,
};

/// One application per promotion (by `promotionId`), allocated on the lines it appears on;
/// a discount eBay shows without a promotion gets one of its own.
pub fn allocate_promotions(read: &mut [ReadLine], apps: &mut Vec<DiscountApplication>) {
    let mut keys: Vec<String> = Vec::new();
    for l in read.iter_mut() {
        for p in &l.promos {
            let index = match keys.iter().position(|k| *k == p.key) {
                Some(i) => i,
                None => {
                    keys.push(p.key.clone());
                    apps.push(DiscountApplication {
                        index: apps.len() as u32,
                        kind: DiscountKind::Automatic,
                        code: None,
                        title: p.title.clone(),
                        target: DiscountTarget::Line,
                        value: DiscountValue::FixedAmount(Decimal::ZERO),
                        allocation: AllocationMethod::One,
                    });
                    apps.len() - 1
                }
            };
            add_allocation(apps, index, &mut l.line.discounts, p.amount);
        }
        if !l.unlinked_discount.is_zero() {
            let index = apps.len();
            apps.push(DiscountApplication {
                index: index as u32,
                kind: DiscountKind::Automatic,
                code: None,
                title: Some("eBay discount".into()),
                target: DiscountTarget::Line,
                value: DiscountValue::FixedAmount(Decimal::ZERO),
                allocation: AllocationMethod::One,
            });
            add_allocation(apps, index, &mut l.line.discounts, l.unlinked_discount);
        }
    }
}

/// Adds an allocation of application `index` and grows the application's value; an
/// application on a second target is spread `Across` them.
fn add_allocation(
    apps: &mut [DiscountApplication],
    index: usize,
    allocs: &mut Vec<DiscountAllocation>,
    amount: Decimal,
) {
    let Some(app) = apps.get_mut(index) else {
        return;
    };
    if let DiscountValue::FixedAmount(v) = &mut app.value {
        match v.checked_add(amount) {
            Some(s) if !v.is_zero() => {
                *v = s;
                app.allocation = AllocationMethod::Across;
            }
            Some(s) => *v = s,
            None => {}
        }
    }
    allocs.push(DiscountAllocation {
        amount,
        application: Some(index as u32),
    });
}

/// A negative `pricingSummary.adjustment` lowers the price of the items: it is allocated on
/// the first line that can carry it whole (eBay does not say which item it was for).
pub fn allocate_adjustment(
    read: &mut [ReadLine],
    amount: Decimal,
    apps: &mut Vec<DiscountApplication>,
) -> Result<(), Reason> {
    let index = apps.len();
    let line = read
        .iter_mut()
        .find(|l| l.line.discounted().is_some_and(|d| d >= amount))
        .ok_or("pricingSummary.adjustment exceeds every line's price")?;
    apps.push(DiscountApplication {
        index: index as u32,
        kind: DiscountKind::Manual,
        code: None,
        title: Some("Price adjustment".into()),
        target: DiscountTarget::Line,
        value: DiscountValue::FixedAmount(amount),
        allocation: AllocationMethod::One,
    });
    line.line.discounts.push(DiscountAllocation {
        amount,
        application: Some(index as u32),
    });
    Ok(())
}

/// One shipping line per line item that has a delivery cost or discount, titled with the
/// order's shipping service; shipping discounts share one application.
pub fn shipping_lines(
    o: &wire::Order,
    read: &[ReadLine],
    apps: &mut Vec<DiscountApplication>,
) -> Vec<ShippingLine> {
    let (title, code) = (super::service_code(o), super::carrier_code(o));
    let mut ship_app: Option<usize> = None;
    let mut out = Vec::new();
    for l in read {
        if l.ship.is_zero() && l.ship_discount.is_zero() {
            continue;
        }
        let mut discounts = Vec::new();
        if !l.ship_discount.is_zero() {
            let index = *ship_app.get_or_insert_with(|| {
                apps.push(DiscountApplication {
                    index: apps.len() as u32,
                    kind: DiscountKind::Automatic,
                    code: None,
                    title: Some("Shipping discount".into()),
                    target: DiscountTarget::Shipping,
                    value: DiscountValue::FixedAmount(Decimal::ZERO),
                    allocation: AllocationMethod::One,
                });
                apps.len() - 1
            });
            add_allocation(apps, index, &mut discounts, l.ship_discount);
        }
        out.push(ShippingLine {
            title: title.clone(),
            code: code.clone(),
            price: l.ship,
            discounts,
            tax_lines: vec![],
        });
    }
    out
}
