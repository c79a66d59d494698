//! The fulfillments of a simulated order: the parcels sent, each with a deterministic
//! tracking number of its carrier's format. They follow the order's fulfillment state
//! ([`sync`]): none while unfulfilled, one parcel when partially fulfilled, one or two when
//! fulfilled; some fulfilled orders also keep a cancelled fulfillment (a label voided and
//! bought again), which sent nothing. An order never has more than
//! [`crate::queries::FULFILLMENT_PAGE`] fulfillments, so a page shows all of them.

use super::order::{Fulfillment, LineKind, SimOrder};

/// Fulfillment ids (`gid://shopify/Fulfillment/{id}`), far from every other id kind.
const FULFILLMENT_IDS: u64 = 7_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Ups,
    Usps,
    FedEx,
    DhlExpress,
    RoyalMail,
}

const CARRIERS: [Carrier; 5] = [
    Carrier::Ups,
    Carrier::Usps,
    Carrier::FedEx,
    Carrier::DhlExpress,
    Carrier::RoyalMail,
];

impl Carrier {
    /// `tracking_company` / `trackingInfo.company`, as Shopify names them.
    pub fn name(self) -> &'static str {
        match self {
            Carrier::Ups => "UPS",
            Carrier::Usps => "USPS",
            Carrier::FedEx => "FedEx",
            Carrier::DhlExpress => "DHL Express",
            Carrier::RoyalMail => "Royal Mail",
        }
    }

    /// The carrier's tracking page for `number` (`tracking_url`).
    pub fn url(self, number: &str) -> String {
        match self {
            Carrier::Ups => {
                format!("https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums={number}")
            }
            Carrier::Usps => {
                format!("https://tools.usps.com/go/TrackConfirmAction?tLabels={number}")
            }
            Carrier::FedEx => format!("https://www.fedex.com/fedextrack/?trknbr={number}"),
            Carrier::DhlExpress => {
                format!("https://www.dhl.com/en/express/tracking.html?AWB={number}&brand=DHL")
            }
            Carrier::RoyalMail => {
                format!("https://www.royalmail.com/track-your-item#/tracking-results/{number}")
            }
        }
    }

    /// A number of the carrier's format, unique per (order number, parcel): `1Z` + shipper +
    /// service + 8 digits (UPS, 18), `9400…` (USPS, 22 digits), 12 digits (FedEx), 10 digits
    /// (DHL Express), `RM` + 8 digits + S10 check digit + `GB` (Royal Mail, 13).
    pub fn number(self, order_number: u64, k: usize) -> String {
        let k = k % 10;
        match self {
            Carrier::Ups => format!("1Z9V74E803{:07}{k}", order_number % 10_000_000),
            Carrier::Usps => format!("9400{:017}{k}", order_number),
            Carrier::FedEx => format!("7{:010}{k}", order_number % 10_000_000_000),
            Carrier::DhlExpress => format!("{:09}{k}", order_number % 1_000_000_000),
            Carrier::RoyalMail => {
                let digits = format!("{:07}{k}", order_number % 10_000_000);
                format!("RM{digits}{}GB", s10_check(&digits))
            }
        }
    }
}

/// The UPU S10 check digit of 8 serial digits.
fn s10_check(digits: &str) -> u32 {
    const W: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    let sum: u32 = digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .zip(W)
        .map(|(d, w)| d * w)
        .sum();
    match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    }
}

/// One fulfillment of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimParcel {
    pub id: u64,
    /// Unix seconds.
    pub created: i64,
    /// `false`: a cancelled fulfillment (status `cancelled` / `CANCELLED`).
    pub live: bool,
    pub carrier: Carrier,
    pub number: String,
    /// Indices into `SimOrder::lines` of what it holds.
    pub lines: Vec<usize>,
}

/// A deterministic mix of the order's id (a splitmix64 step).
fn mix(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SimOrder {
    /// The fulfillments that sent something.
    pub fn live_parcels(&self) -> impl Iterator<Item = &SimParcel> {
        self.parcels.iter().filter(|p| p.live)
    }
}

/// Brings the order's fulfillments in line with its fulfillment state, as of `at`: existing
/// parcels stay as they are (a fulfillment is never rewritten); an order with nothing to
/// ship gets none.
pub fn sync(o: &mut SimOrder, at: i64) {
    let ship: Vec<usize> = o
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            l.requires_shipping && matches!(l.kind, LineKind::Product | LineKind::Custom)
        })
        .map(|(i, _)| i)
        .collect();
    if o.fulfillment == Fulfillment::Unfulfilled || ship.is_empty() {
        o.parcels.clear();
        return;
    }
    let h = mix(o.id);
    let carrier = CARRIERS[(h % CARRIERS.len() as u64) as usize];
    // One fulfilled order in four had a label voided first; one in three of the others
    // shipped in two parcels (first line, then the rest), when it has two lines to split.
    let voided = o.fulfillment == Fulfillment::Fulfilled && (h >> 8).is_multiple_of(4);
    let split = !voided && ship.len() > 1 && (h >> 16).is_multiple_of(3);
    let at = at.max(o.created);
    let add = |o: &mut SimOrder, live: bool, lines: Vec<usize>| {
        let k = o.parcels.len();
        o.parcels.push(SimParcel {
            id: FULFILLMENT_IDS + o.number.saturating_mul(10) + k as u64,
            created: at,
            live,
            carrier,
            number: carrier.number(o.number, k),
            lines,
        });
    };
    match o.fulfillment {
        Fulfillment::Unfulfilled => {}
        Fulfillment::Partial => {
            if o.parcels.is_empty() {
                add(o, true, ship[..1].to_vec());
            }
        }
        Fulfillment::Fulfilled => {
            if o.parcels.is_empty() {
                if voided {
                    add(o, false, ship.clone());
                    add(o, true, ship);
                } else if split {
                    add(o, true, ship[..1].to_vec());
                    add(o, true, ship[1..].to_vec());
                } else {
                    add(o, true, ship);
                }
            } else if o.parcels.len() == 1 {
                // Partially fulfilled before: the rest goes in a second parcel.
                let rest: Vec<usize> = ship
                    .iter()
                    .copied()
                    .filter(|i| !o.parcels[0].lines.contains(i))
                    .collect();
                if !rest.is_empty() {
                    add(o, true, rest);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_their_carriers_format() {
        let n = |c: Carrier| c.number(1234, 1);
        assert_eq!(n(Carrier::Ups), "1Z9V74E80300012341");
        assert_eq!(n(Carrier::Ups).len(), 18);
        assert_eq!(n(Carrier::Usps).len(), 22);
        assert!(n(Carrier::Usps).starts_with("9400"));
        assert_eq!(n(Carrier::FedEx).len(), 12);
        assert_eq!(n(Carrier::DhlExpress).len(), 10);
        // S10: RM 0001234 1 → weights 8 6 4 2 3 5 9 7 over 00012341.
        let rm = n(Carrier::RoyalMail);
        assert_eq!(rm.len(), 13);
        assert!(rm.starts_with("RM00012341") && rm.ends_with("GB"));
        // 0·8+0·6+0·4+1·2+2·3+3·5+4·9+1·7 = 66; 11 − 66 % 11 = 11 → 5.
        assert_eq!(rm, "RM000123415GB");
        assert_ne!(Carrier::Ups.number(1234, 0), n(Carrier::Ups));
    }
}
