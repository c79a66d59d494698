//! The buyer's PII of an eBay order.
//!
//! eBay hides it as the order ages: `email` is returned for 14 days after creation,
//! `fullName`, `primaryPhone` and `addressLine1/2` for 90 days. A later read therefore carries
//! less, and what it lacks must be **absent** (`None`), never empty: the engine keeps a stored
//! field only where the newer copy has none (`Pii::merge_newer`), and an address is one
//! field. So an address is given only while it is whole (it has its first line); an aged one
//! (city and postcode left) is absent and the stored one stays. An order first seen after 90
//! days therefore has no address at all. The buyer's username is not kept (not needed to ship):
//! it becomes the order's `buyer_account`, of which the service stores only a blind index, so
//! that a Marketplace Account Deletion notice finds the buyer's orders.

use crate::wire::{self, ExtendedContact};
use ordersync_sdk::mapping::non_empty;
use ordersync_sdk::{Address, Pii, Redacted};

/// The text inside a redacted wire field (it goes straight into `Pii`).
fn open(r: Redacted<String>) -> String {
    r.0
}

fn phone(c: &ExtendedContact) -> Option<String> {
    non_empty(
        c.primary_phone
            .as_ref()
            .and_then(|p| p.phone_number.clone())
            .map(open),
    )
}

/// A whole address, or `None` when eBay has aged its street lines away.
fn address(c: &ExtendedContact) -> Option<Address> {
    let a = c.contact_address.as_ref()?;
    let line1 = non_empty(a.address_line1.clone().map(open))?;
    Some(Address {
        name: non_empty(c.full_name.clone().map(open)),
        company: non_empty(c.company_name.clone().map(open)),
        line1: Some(line1),
        line2: non_empty(a.address_line2.clone().map(open)),
        city: non_empty(a.city.clone().map(open)),
        region: non_empty(a.state_or_province.clone()),
        postal_code: non_empty(a.postal_code.clone().map(open)),
        country_code: non_empty(a.country_code.clone()),
        phone: phone(c),
    })
}

pub fn read_pii(o: &wire::Order) -> Pii {
    let registration = o
        .buyer
        .as_ref()
        .and_then(|b| b.buyer_registration_address.as_ref());
    let ship_to = o
        .fulfillment_start_instructions
        .iter()
        .filter_map(|f| f.shipping_step.as_ref()?.ship_to.as_ref())
        .next();
    let contacts = || ship_to.into_iter().chain(registration);
    Pii {
        buyer_name: contacts().find_map(|c| non_empty(c.full_name.clone().map(open))),
        email: contacts().find_map(|c| non_empty(c.email.clone().map(open))),
        phone: contacts().find_map(phone),
        shipping_address: ship_to.and_then(address),
        billing_address: registration.and_then(address),
        notes: non_empty(o.buyer_checkout_notes.clone().map(open)),
    }
}

/// The buyer's username, for the blind index an account-deletion notice is matched by.
pub fn buyer_account(o: &wire::Order) -> Option<Redacted<String>> {
    let name = o.buyer.as_ref()?.username.as_ref()?.0.trim();
    (!name.is_empty()).then(|| Redacted(name.to_string()))
}
