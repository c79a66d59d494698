//! Store money profiles: currency, whether prices include tax, the rounding setting and the
//! tax rates by class. One simulated store carries orders of several profiles, a deliberate
//! simplification so one demo connection exercises every case; each order on its own is as
//! WooCommerce would build it in a store of that profile.

use super::tax::Rate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub name: &'static str,
    pub currency: &'static str,
    pub symbol: &'static str,
    pub dp: u32,
    /// `woocommerce_prices_include_tax`.
    pub inclusive: bool,
    /// `woocommerce_tax_round_at_subtotal`: taxes rounded once per order, not per line.
    pub at_subtotal: bool,
    /// The standard tax class.
    pub standard: &'static [Rate],
    /// The `reduced-rate` class (food, books).
    pub reduced: &'static [Rate],
    /// Minor units for one US dollar of the mix's price ranges, and the price step.
    pub major: i64,
    pub step: i64,
}

const fn rate(
    id: u32,
    code: &'static str,
    label: &'static str,
    percent4: i64,
    shipping: bool,
) -> Rate {
    Rate {
        id,
        code,
        label,
        percent4,
        compound: false,
        shipping,
    }
}

pub const US_CA: Profile = Profile {
    name: "us_ca",
    currency: "USD",
    symbol: "$",
    dp: 2,
    inclusive: false,
    at_subtotal: false,
    standard: &[rate(75, "US-CA-STATE TAX-1", "State Tax", 75_000, false)],
    reduced: &[],
    major: 100,
    step: 1,
};

/// New York City: three rates, shipping taxed.
pub const US_NY: Profile = Profile {
    name: "us_ny",
    standard: &[
        rate(80, "US-NY-STATE-1", "NY State Tax", 40_000, true),
        rate(81, "US-NY-NYC-2", "NYC Tax", 45_000, true),
        rate(82, "US-NY-MCTD-3", "MCTD", 3_750, true),
    ],
    ..US_CA
};

/// Québec before 2013: GST 5 % and a compound QST of 9.975 % on price plus GST.
pub const CA_QC: Profile = Profile {
    name: "ca_qc",
    currency: "CAD",
    symbol: "$",
    standard: &[
        rate(90, "CA-QC-GST-1", "GST", 50_000, true),
        Rate {
            id: 91,
            code: "CA-QC-QST-2",
            label: "QST",
            percent4: 99_750,
            compound: true,
            shipping: true,
        },
    ],
    ..US_CA
};

pub const DE: Profile = Profile {
    name: "de",
    currency: "EUR",
    symbol: "€",
    dp: 2,
    inclusive: true,
    at_subtotal: false,
    standard: &[rate(19, "DE-MWST-1", "MwSt.", 190_000, true)],
    reduced: &[rate(7, "DE-MWST-ERM-1", "MwSt. 7 %", 70_000, false)],
    major: 95,
    step: 1,
};

/// A German store rounding tax at subtotal.
pub const DE_SUBTOTAL: Profile = Profile {
    name: "de_subtotal",
    at_subtotal: true,
    ..DE
};

pub const GB: Profile = Profile {
    name: "gb",
    currency: "GBP",
    symbol: "£",
    at_subtotal: true,
    standard: &[rate(20, "GB-VAT-1", "VAT", 200_000, true)],
    reduced: &[rate(5, "GB-VAT-RED-1", "VAT 5%", 50_000, true)],
    major: 80,
    ..DE
};

pub const AU: Profile = Profile {
    name: "au",
    currency: "AUD",
    symbol: "$",
    at_subtotal: false,
    standard: &[rate(10, "AU-GST-1", "GST", 100_000, true)],
    reduced: &[],
    major: 150,
    ..DE
};

/// No decimals; 10 % consumption tax included.
pub const JP: Profile = Profile {
    name: "jp",
    currency: "JPY",
    symbol: "¥",
    dp: 0,
    at_subtotal: false,
    standard: &[rate(100, "JP-CT-1", "消費税", 100_000, true)],
    reduced: &[rate(108, "JP-CT-RED-1", "消費税 (軽減)", 80_000, false)],
    major: 150,
    step: 10,
    ..DE
};

/// Three decimals, no tax.
pub const KW: Profile = Profile {
    name: "kw",
    currency: "KWD",
    symbol: "د.ك",
    dp: 3,
    inclusive: false,
    at_subtotal: false,
    standard: &[],
    reduced: &[],
    major: 300,
    step: 5,
};

#[cfg(test)]
pub const ALL: &[Profile] = &[US_CA, US_NY, CA_QC, DE, DE_SUBTOTAL, GB, AU, JP, KW];

/// Minor units of `p`'s currency for `cents` of the mix's US-dollar prices, on its price step.
pub fn price(p: &Profile, cents: i64) -> i64 {
    let v = super::money::mul_div(i128::from(cents), i128::from(p.major), 100);
    let step = i128::from(p.step.max(1));
    let v = (super::money::mul_div(v, 1, step) * step).max(step);
    i64::try_from(v).unwrap_or(i64::MAX)
}
