//! Named money cases: one fixed order per case (`POST /_sim/case {"case": "uk_vat_inclusive"}`)
//! for tests that check figures by hand. The seeded mix (`mix.rs`) draws the same kinds of
//! orders at random; both go through `mix::build`.

use super::mix::{
    CA_REGIONS, Cancel, DE_REGION, JP_REGION, Spec, UK_REGION, US_REGIONS, base, item, price,
};
use super::order::Status;
use crate::marketplaces;

/// Every case `/_sim/case` builds.
pub const CASES: &[&str] = &[
    "us_facilitator_tax",
    "us_untaxed_state",
    "ca_hst",
    "uk_vat_inclusive",
    "de_reduced_rate",
    "jp_zero_decimals",
    "pending_no_prices",
    "cancelled_order",
    "cancelled_item",
    "cancelled_units",
    "afn_shipped",
    "mfn_shipped_packages",
    "partially_shipped",
    "item_promotion",
    "free_shipping",
    "multi_buy_deal",
    "gift_wrap",
    "delivery_tip",
    "multi_item_multi_qty",
];

/// The spec of a named case.
pub fn case(name: &str) -> Option<Spec> {
    let name: &'static str = CASES.iter().copied().find(|c| *c == name)?;
    let us = || base(Some(name), marketplaces::US, US_REGIONS[1]);
    let s = match name {
        "us_facilitator_tax" => {
            let mut s = us();
            s.items = vec![item(&marketplaces::US, 0, 2, 1_999)];
            s.items[0].ship_per_unit = 499;
            s
        }
        "us_untaxed_state" => base(Some(name), marketplaces::US, US_REGIONS[4]),
        "ca_hst" => {
            let mut s = base(Some(name), marketplaces::CA, CA_REGIONS[0]);
            s.items[0].ship_per_unit = price(&marketplaces::CA, 599);
            s
        }
        "uk_vat_inclusive" => {
            let mut s = base(Some(name), marketplaces::UK, UK_REGION);
            s.items = vec![
                item(&marketplaces::UK, 0, 1, 2_999),
                item(&marketplaces::UK, 4, 1, 1_250),
            ];
            s.items[1].reduced_rate = Some(0);
            s.items[0].ship_per_unit = price(&marketplaces::UK, 374);
            s
        }
        "de_reduced_rate" => {
            let mut s = base(Some(name), marketplaces::DE, DE_REGION);
            s.items = vec![
                item(&marketplaces::DE, 4, 2, 1_499),
                item(&marketplaces::DE, 5, 1, 3_999),
            ];
            s.items[0].reduced_rate = Some(7_000);
            s.facilitator = true;
            s.scheme = Some("UOSS");
            s
        }
        "jp_zero_decimals" => {
            let mut s = base(Some(name), marketplaces::JP, JP_REGION);
            s.items = vec![item(&marketplaces::JP, 7, 3, 3_333)];
            s.items[0].ship_per_unit = 350;
            s
        }
        "pending_no_prices" => {
            let mut s = us();
            s.status = Status::Pending;
            s
        }
        "cancelled_order" => {
            let mut s = us();
            s.status = Status::Cancelled;
            s.cancel = Cancel::Order;
            s
        }
        "cancelled_item" => {
            let mut s = us();
            s.items = vec![
                item(&marketplaces::US, 0, 1, 1_999),
                item(&marketplaces::US, 3, 2, 899),
            ];
            s.cancel = Cancel::Item(1);
            s
        }
        "cancelled_units" => {
            let mut s = us();
            s.items = vec![item(&marketplaces::US, 2, 3, 1_000)];
            s.items[0].price = 2_500;
            s.items[0].ship_per_unit = 399;
            s.cancel = Cancel::Units(0, 1);
            s
        }
        "afn_shipped" => {
            let mut s = us();
            s.afn = true;
            s.prime = true;
            s.status = Status::Shipped;
            s
        }
        "mfn_shipped_packages" => {
            let mut s = us();
            s.items.push(item(&marketplaces::US, 6, 1, 3_499));
            s.status = Status::Shipped;
            s
        }
        "partially_shipped" => {
            let mut s = us();
            s.items.push(item(&marketplaces::US, 6, 1, 3_499));
            s.status = Status::PartiallyShipped;
            s
        }
        "item_promotion" => {
            let mut s = us();
            s.items[0].quantity = 3;
            s.items[0].price = 3 * 1_999;
            s.items[0].percent_off_bp = 1_500;
            s
        }
        "free_shipping" => {
            let mut s = base(Some(name), marketplaces::UK, UK_REGION);
            s.items[0].ship_per_unit = price(&marketplaces::UK, 499);
            s.items[0].free_shipping = true;
            s
        }
        "multi_buy_deal" => {
            let mut s = us();
            // 3 for 10.00: the unit price 3.33 is a rounded share.
            s.items = vec![item(&marketplaces::US, 1, 3, 0)];
            s.items[0].price = 1_000;
            s
        }
        "gift_wrap" => {
            let mut s = base(Some(name), marketplaces::DE, DE_REGION);
            s.items[0].gift_wrap = price(&marketplaces::DE, 399);
            s.items[0].gift_message = true;
            s
        }
        "delivery_tip" => {
            let mut s = us();
            s.tip = 500;
            s
        }
        "multi_item_multi_qty" => {
            let mut s = base(Some(name), marketplaces::US, US_REGIONS[2]);
            s.items = vec![
                item(&marketplaces::US, 0, 2, 1_999),
                item(&marketplaces::US, 1, 3, 1_249),
                item(&marketplaces::US, 2, 1, 899),
            ];
            for it in &mut s.items {
                it.ship_per_unit = 299;
            }
            s
        }
        _ => return None,
    };
    Some(s)
}
