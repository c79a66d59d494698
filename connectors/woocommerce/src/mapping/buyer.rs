//! The buyer's data: billing and shipping addresses, email, phone and the customer note.
//! `customer_ip_address` and `customer_user_agent` are not read: no target needs them.

use crate::wire::{WireAddress, WireOrder};
use ordersync_sdk::mapping::{join_name, non_empty};
use ordersync_sdk::{Address, Pii};

fn address(a: &WireAddress) -> Option<Address> {
    let out = Address {
        name: join_name(a.first_name.as_deref(), a.last_name.as_deref()),
        company: non_empty(a.company.clone()),
        line1: non_empty(a.address_1.clone()),
        line2: non_empty(a.address_2.clone()),
        city: non_empty(a.city.clone()),
        region: non_empty(a.state.clone()),
        postal_code: non_empty(a.postcode.clone()),
        country_code: non_empty(a.country.clone()),
        phone: non_empty(a.phone.clone()),
    };
    // Orders without shipping (downloads) carry an address of empty strings.
    (out != Address::default()).then_some(out)
}

pub fn pii(o: &WireOrder) -> Pii {
    let billing = o.billing.as_ref().and_then(address);
    let shipping = o.shipping.as_ref().and_then(address);
    let b = o.billing.as_ref();
    Pii {
        buyer_name: billing
            .as_ref()
            .and_then(|a| a.name.clone())
            .or_else(|| shipping.as_ref().and_then(|a| a.name.clone())),
        email: b.and_then(|b| non_empty(b.email.clone())),
        phone: b
            .and_then(|b| non_empty(b.phone.clone()))
            .or_else(|| shipping.as_ref().and_then(|a| a.phone.clone())),
        shipping_address: shipping,
        billing_address: billing,
        notes: non_empty(o.customer_note.expose().clone()),
    }
}
