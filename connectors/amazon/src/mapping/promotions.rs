//! Amazon promotions (`promotion.breakdowns[].promotionId`) as discount applications.

use super::items::Item;
use ordersync_sdk::{
    AllocationMethod, Decimal, DiscountAllocation, DiscountApplication, DiscountKind,
    DiscountTarget, DiscountValue, LineItem, ShippingLine,
};

/// One discount application per promotion id. Its value is what the items carrying only
/// that promotion were discounted (items with several promotions do not say which gave what).
pub fn applications(
    promo_ids: &[String],
    lines: &[LineItem],
    ship: &ShippingLine,
    items: &[Item],
    app_of: &dyn Fn(&Item) -> Option<u32>,
) -> Vec<DiscountApplication> {
    promo_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let index = u32::try_from(i).ok()?;
            let mine = |a: &DiscountAllocation| a.application == Some(index);
            let on_lines: Decimal = lines
                .iter()
                .flat_map(|l| &l.discounts)
                .filter(|a| mine(a))
                .map(|a| a.amount)
                .sum();
            let on_ship: Decimal = ship
                .discounts
                .iter()
                .filter(|a| mine(a))
                .map(|a| a.amount)
                .sum();
            let only_shipping = on_lines.is_zero()
                && !on_ship.is_zero()
                && items.iter().filter(|it| app_of(it) == Some(index)).count() > 0;
            Some(DiscountApplication {
                index,
                kind: DiscountKind::Automatic,
                code: None,
                title: Some(shown_title(id)),
                target: if only_shipping {
                    DiscountTarget::Shipping
                } else {
                    DiscountTarget::Line
                },
                value: DiscountValue::FixedAmount(on_lines.checked_add(on_ship)?),
                allocation: AllocationMethod::Across,
            })
        })
        .collect()
}

/// A promotion id is the seller's marketing string; keep it printable and short.
fn shown_title(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(100).collect()
}
