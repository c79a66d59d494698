//! The buyer's personal data of an order: `buyer` (name, relay email), `recipient`
//! (delivery address and phone) and gift messages. Amazon leaves fields out as the rules
//! say (no address before an order is released, no phone for FBA orders or once the latest
//! delivery date has passed): what is absent stays `None`, so a later copy never blanks the
//! one stored (`Pii::merge_newer`).

use crate::wire;
use ordersync_sdk::mapping::non_empty;
use ordersync_sdk::{Address, Pii};

fn text(s: &Option<String>) -> Option<String> {
    non_empty(s.clone()).map(|s| s.trim().to_string())
}

fn address(a: &wire::CustomerAddress) -> Option<Address> {
    let line2 = [text(&a.address_line2), text(&a.address_line3)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let out = Address {
        name: text(&a.name),
        company: text(&a.company_name),
        line1: text(&a.address_line1),
        line2: (!line2.is_empty()).then_some(line2),
        city: text(&a.city).or_else(|| text(&a.municipality)),
        region: text(&a.state_or_region).or_else(|| text(&a.district_or_county)),
        postal_code: text(&a.postal_code),
        country_code: text(&a.country_code),
        phone: text(&a.phone),
    };
    (out != Address::default()).then_some(out)
}

pub fn pii(o: &wire::Order, gift_messages: &[&str]) -> Pii {
    let buyer = o.buyer.clone().unwrap_or_default();
    let delivery = o
        .recipient
        .as_ref()
        .and_then(|r| r.delivery_address.as_ref());
    let notes = gift_messages
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Pii {
        buyer_name: text(&buyer.buyer_name),
        email: text(&buyer.buyer_email),
        phone: delivery.and_then(|a| text(&a.phone)),
        shipping_address: delivery.and_then(address),
        billing_address: None,
        notes: (!notes.is_empty()).then_some(notes),
    }
}
