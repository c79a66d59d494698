//! The money profiles of simulated orders: a shop currency with its tax regime, and a
//! buyer's currency when it differs.

use super::order::{Profile, TaxRate};

const fn rate(title: &'static str, rate: i64) -> TaxRate {
    TaxRate { title, rate }
}

pub const US_TAX: &[TaxRate] = &[rate("State Tax", 8_250)];
/// New York City: state 4 %, city 4.5 %, MCTD 0.375 % (combined 8.875 %).
pub const NYC_TAX: &[TaxRate] = &[
    rate("New York State Tax", 4_000),
    rate("New York City Tax", 4_500),
    rate("Metropolitan Commuter Transportation District", 375),
];
pub const GB_VAT: &[TaxRate] = &[rate("GB VAT", 20_000)];
pub const DE_VAT: &[TaxRate] = &[rate("DE VAT", 19_000)];
pub const NL_VAT: &[TaxRate] = &[rate("NL VAT", 21_000)];
/// Swiss VAT was 7.7 % until 2023 and is 8.1 % since 2024.
pub const CH_VAT_OLD: &[TaxRate] = &[rate("CH VAT", 7_700)];
pub const CH_VAT: &[TaxRate] = &[rate("CH VAT", 8_100)];
pub const JP_TAX: &[TaxRate] = &[rate("JP Consumption Tax", 10_000)];

const fn profile(
    currency: &'static str,
    taxes_included: bool,
    rates: &'static [TaxRate],
) -> Profile {
    Profile {
        currency,
        taxes_included,
        rates,
        ship_taxed: taxes_included,
        presentment: None,
        cash_step: None,
        major: 100,
        price_step: 1,
    }
}

/// Tax on top, 8.25 % state tax, shipping untaxed.
pub const US: Profile = profile("USD", false, US_TAX);
/// Tax on top, three tax lines; New York taxes shipping.
pub const NYC: Profile = Profile {
    ship_taxed: true,
    ..profile("USD", false, NYC_TAX)
};
/// Prices include 20 % VAT; shipping is taxed at the same rate.
pub const UK: Profile = profile("GBP", true, GB_VAT);
pub const DE: Profile = profile("EUR", true, DE_VAT);
pub const NL: Profile = profile("EUR", true, NL_VAT);
/// Prices include VAT; cash payments are rounded to 0.05.
pub const CH_OLD: Profile = Profile {
    cash_step: Some(5),
    ..profile("CHF", true, CH_VAT_OLD)
};
pub const CH: Profile = Profile {
    cash_step: Some(5),
    ..profile("CHF", true, CH_VAT)
};
/// No decimals; 10 % consumption tax included.
pub const JP: Profile = Profile {
    major: 150,
    price_step: 10,
    ..profile("JPY", true, JP_TAX)
};
/// Three decimals, no tax.
pub const KW: Profile = Profile {
    major: 300,
    price_step: 5,
    ..profile("KWD", false, &[])
};
/// A German shop whose buyer pays in US dollars.
pub const DE_TO_USD: Profile = Profile {
    presentment: Some(("USD", 1_083_700)),
    ..DE
};
/// A US shop whose buyer pays in Canadian dollars.
pub const US_TO_CAD: Profile = Profile {
    presentment: Some(("CAD", 1_367_100)),
    ..US
};

/// Minor units of `p`'s currency for `cents` of the mix's US-dollar price ranges, on the
/// currency's price step (at least one step).
pub fn price(p: &Profile, cents: i64) -> i64 {
    let v = super::money::mul_div_round(cents, p.major, 100);
    let step = p.price_step.max(1);
    (super::money::round_to(v, step)).max(step)
}
