//! The sales tax and VAT rates of the regions the simulated marketplaces sell in (every rate
//! the source simulators charge: Amazon, eBay, Shopify, WooCommerce), besides the UK rates
//! (20 %, 5 %, 0 %) the accounting simulators' demo business has as its own. One list, so the
//! Xero and Sage simulators cannot drift apart: an order one of them books, the other books.
//! A real business has only its region's rates; the demo one sells everywhere.

use rust_decimal::Decimal;

/// One rate: a display name and its percentage as `mantissa × 10^-scale` (8.875 = 8875, 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoRate {
    pub name: &'static str,
    mantissa: i64,
    scale: u32,
}

impl DemoRate {
    /// Percent (20 is 20 %).
    pub fn percent(&self) -> Decimal {
        Decimal::new(self.mantissa, self.scale)
    }
}

const fn r(name: &'static str, mantissa: i64, scale: u32) -> DemoRate {
    DemoRate {
        name,
        mantissa,
        scale,
    }
}

/// In a stable order: simulators number their rates by position (Xero's `TAX001`…), and
/// recorded golden files name those numbers. Append, never reorder.
pub const DEMO_TAX_RATES: &[DemoRate] = &[
    r("Sales Tax 6%", 6, 0),
    r("Sales Tax 8.25%", 825, 2),
    r("CA + SF Sales Tax 8.625%", 8625, 3),
    r("NYC Sales Tax 8.875%", 8875, 3),
    r("MwSt 19%", 19, 0),
    r("Consumption Tax 10%", 10, 0),
    r("Consumption Tax 8% (reduced)", 8, 0),
    r("MWST 8.1%", 81, 1),
    r("MwSt 7% (reduced)", 7, 0),
    r("BTW 21%", 21, 0),
    r("MWST 7.7% (until 2023)", 77, 1),
    r("VAT 17%", 17, 0),
    r("CA State Tax 7.5%", 75, 1),
    r("GST + QST 14.975%", 14975, 3),
    r("QST 9.975%", 9975, 3),
    r("HST 13%", 13, 0),
    r("CA Sales Tax 7.25%", 725, 2),
    r("WA / IL Sales Tax 10.25%", 1025, 2),
    r("NJ Sales Tax 6.625%", 6625, 3),
    r("VAT 12%", 12, 0),
    r("VAT 22%", 22, 0),
    r("VAT 23%", 23, 0),
    r("VAT 24%", 24, 0),
    r("VAT 25%", 25, 0),
    r("VAT 16%", 16, 0),
    r("VAT 15%", 15, 0),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_distinct_and_positive() {
        let mut seen: Vec<Decimal> = DEMO_TAX_RATES.iter().map(DemoRate::percent).collect();
        assert!(
            seen.iter()
                .all(|p| *p > Decimal::ZERO && *p < Decimal::ONE_HUNDRED)
        );
        let n = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), n, "a rate is listed twice");
        // The UK home rates are the simulators' own, not listed here.
        for home in [Decimal::from(20), Decimal::from(5)] {
            assert!(!seen.contains(&home));
        }
    }
}
