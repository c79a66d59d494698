//! The Shipment Tracking extension's order meta (`_wc_shipment_tracking_items`), which the
//! simulated store carries on completed orders that shipped goods, except one in five (a
//! merchant who completes without tracking). Derived from the order's state, so an order
//! completed later gains its parcel then.

use super::order::{SimOrder, Status};
use serde_json::{Value, json};

pub const TRACKING_META: &str = "_wc_shipment_tracking_items";

/// One tracking item as the plugin stores it.
pub struct Item {
    /// The plugin's provider slug; empty for a custom provider.
    pub provider: &'static str,
    pub custom: &'static str,
    pub number: String,
    pub shipped: i64,
}

fn mix(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The UPU S10 check digit of 8 serial digits.
fn s10_check(serial: u64) -> u64 {
    const W: [u64; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    let digits = format!("{serial:08}");
    let sum: u64 = digits
        .bytes()
        .map(|b| u64::from(b - b'0'))
        .zip(W)
        .map(|(d, w)| d * w)
        .sum();
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    }
}

/// The order's tracking item, if it has one.
pub fn item(o: &SimOrder) -> Option<Item> {
    let shipped = o.completed?;
    if o.status != Status::Completed || o.shipping.is_empty() || o.id.is_multiple_of(5) {
        return None;
    }
    let n = o.id % 10_000_000;
    // Tracking numbers are unique worldwide: this store's shipper accounts and number ranges
    // differ from the other simulated marketplaces' (UPS shipper `4W7C2A`, USPS `9405`, FedEx
    // `8…`, Royal Mail `RN`, DHL `5…`), so one parcel never belongs to two stores' orders.
    let (provider, custom, number) = match mix(o.id) % 5 {
        0 => ("ups", "", format!("1Z4W7C2A03{n:07}0")),
        1 => ("usps", "", format!("9405{:018}", o.id)),
        2 => ("fedex", "", format!("8{:011}", o.id % 100_000_000_000)),
        3 => ("royal-mail", "", format!("RN{n:08}{}GB", s10_check(n))),
        // An unlisted carrier: the slug stays empty.
        _ => ("", "DHL Express", format!("5{:09}", o.id % 1_000_000_000)),
    };
    Some(Item {
        provider,
        custom,
        number,
        shipped,
    })
}

/// The order's `meta_data` entries.
pub fn meta(o: &SimOrder) -> Value {
    let Some(i) = item(o) else {
        return json!([]);
    };
    // The plugin stores `strtotime()` (an int); items added through its REST API keep the
    // string they were given.
    let date = if mix(o.id).is_multiple_of(3) {
        json!(i.shipped)
    } else {
        json!(i.shipped.to_string())
    };
    let link = if i.custom.is_empty() {
        String::new()
    } else {
        format!(
            "https://www.dhl.com/en/express/tracking.html?AWB={}",
            i.number
        )
    };
    json!([{
        "id": o.id * 10 + 1,
        "key": TRACKING_META,
        "value": [{
            "tracking_provider": i.provider,
            "custom_tracking_provider": i.custom,
            "custom_tracking_link": link,
            "tracking_number": i.number,
            "date_shipped": date,
            "tracking_id": format!("{:016x}{:016x}", mix(o.id), mix(o.id ^ 0xA5)),
        }],
    }])
}
