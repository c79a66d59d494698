//! The marketplaces a simulated seller lists on, with their currency, the buyer's country,
//! the tax eBay collects and remits there, and the buyer's currency when it differs.
//!
//! What the spec supports (collect-and-remit, `collectionMethod: NET`): US state sales tax
//! (`STATE_SALES_TAX`, one combined state + local amount per line), Canada's `GST` and
//! `PROVINCE_SALES_TAX`, Australia's `GST` on imports (`ABN` reference), UK and EU `VAT` on
//! low-value imports (`IOSS` reference). A domestic UK or German seller's own VAT is inside
//! its prices and not reported by the API, so those orders carry no tax at all.

use super::model::Conversion;

/// How eBay taxes orders of a marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    /// Per US state, from [`US_STATES`].
    UsSalesTax,
    /// Nothing reported (a seller's own VAT inside its prices).
    NoTax,
    /// One tax of `kind` at `rate` (10⁻⁵) on price and shipping, with its scheme reference.
    Single {
        kind: &'static str,
        rate: i64,
        reference: (&'static str, &'static str),
    },
    /// Canada: GST plus a provincial sales tax.
    Canada { gst: i64, pst: i64 },
}

#[derive(Debug)]
pub struct Market {
    /// `listingMarketplaceId`.
    pub id: &'static str,
    pub currency: &'static str,
    /// The buyer's country and, where the regime does not pick one, region and postcode.
    pub country: &'static str,
    pub region: Option<&'static str>,
    pub postal_code: &'static str,
    pub regime: Regime,
    /// The buyer pays in another currency (international buyers of a US listing).
    pub conversion: Option<Conversion>,
    pub carrier: &'static str,
    pub service: &'static str,
    /// Weight in the seeded mix.
    pub weight: u32,
}

pub const US: Market = Market {
    id: "EBAY_US",
    currency: "USD",
    country: "US",
    region: None,
    postal_code: "",
    regime: Regime::UsSalesTax,
    conversion: None,
    carrier: "USPS",
    service: "USPSPriority",
    weight: 52,
};

pub const GB: Market = Market {
    id: "EBAY_GB",
    currency: "GBP",
    country: "GB",
    region: Some("London"),
    postal_code: "SW1A 2AA",
    regime: Regime::NoTax,
    conversion: None,
    carrier: "Royal Mail",
    service: "UK_RoyalMailSecondClassStandard",
    weight: 8,
};

/// A low-value import into the UK: eBay collects 20 % VAT under its IOSS number.
pub const GB_IMPORT: Market = Market {
    regime: Regime::Single {
        kind: "VAT",
        rate: 20_000,
        reference: ("IOSS", "IM2760000742"),
    },
    weight: 6,
    ..GB
};

pub const DE: Market = Market {
    id: "EBAY_DE",
    currency: "EUR",
    country: "DE",
    region: Some("Berlin"),
    postal_code: "10115",
    regime: Regime::NoTax,
    conversion: None,
    carrier: "DHL",
    service: "DE_DHLPaket",
    weight: 5,
};

/// A low-value import into Germany: 19 % VAT collected by eBay (IOSS).
pub const DE_IMPORT: Market = Market {
    regime: Regime::Single {
        kind: "VAT",
        rate: 19_000,
        reference: ("IOSS", "IM2760000742"),
    },
    weight: 5,
    ..DE
};

/// Australia: 10 % GST collected by eBay on imports (its ABN).
pub const AU: Market = Market {
    id: "EBAY_AU",
    currency: "AUD",
    country: "AU",
    region: Some("NSW"),
    postal_code: "2000",
    regime: Regime::Single {
        kind: "GST",
        rate: 10_000,
        reference: ("ABN", "65123456789"),
    },
    conversion: None,
    carrier: "AustraliaPost",
    service: "AU_Regular",
    weight: 6,
};

/// Canada (British Columbia): 5 % GST and 7 % PST.
pub const CA: Market = Market {
    id: "EBAY_CA",
    currency: "CAD",
    country: "CA",
    region: Some("BC"),
    postal_code: "V6B 1A1",
    regime: Regime::Canada {
        gst: 5_000,
        pst: 7_000,
    },
    conversion: None,
    carrier: "CanadaPost",
    service: "CA_PostRegularParcel",
    weight: 6,
};

/// A UK buyer of a US listing, paying in pounds: amounts in USD, `convertedFrom` GBP; the UK
/// import VAT is collected by eBay.
pub const US_TO_GB: Market = Market {
    id: "EBAY_US",
    currency: "USD",
    country: "GB",
    region: Some("London"),
    postal_code: "EC1A 1BB",
    regime: Regime::Single {
        kind: "VAT",
        rate: 20_000,
        reference: ("IOSS", "IM2760000742"),
    },
    conversion: Some(Conversion {
        currency: "GBP",
        rate_micros: 789_450,
    }),
    carrier: "USPS",
    service: "USPSPriorityMailInternational",
    weight: 7,
};

/// A Japanese buyer of a US listing, paying in yen (no decimals): no tax collected by eBay.
pub const US_TO_JP: Market = Market {
    id: "EBAY_US",
    currency: "USD",
    country: "JP",
    region: Some("Tokyo"),
    postal_code: "100-0001",
    regime: Regime::NoTax,
    conversion: Some(Conversion {
        currency: "JPY",
        rate_micros: 149_520_000,
    }),
    carrier: "USPS",
    service: "USPSFirstClassMailInternational",
    weight: 5,
};

pub const MARKETS: [&Market; 9] = [
    &US, &GB, &GB_IMPORT, &DE, &DE_IMPORT, &AU, &CA, &US_TO_GB, &US_TO_JP,
];

/// US states a buyer lives in: code, combined state + local rate (10⁻⁵), a ZIP code.
pub const US_STATES: [(&str, i64, &str); 9] = [
    ("CA", 8_250, "94105"),
    ("NY", 8_875, "10001"),
    ("TX", 8_250, "73301"),
    ("WA", 10_250, "98101"),
    ("FL", 7_000, "33101"),
    ("IL", 10_250, "60601"),
    ("PA", 6_000, "19103"),
    ("NJ", 6_625, "07030"),
    // No sales tax in Oregon: orders without any tax line.
    ("OR", 0, "97201"),
];

/// California's electronic waste recycling fee per unit (collected and remitted by eBay).
pub const CA_EWASTE_FEE: i64 = 600;
