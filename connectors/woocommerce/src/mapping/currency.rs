//! The currencies a WooCommerce store can sell in: the list of the API's `currency` property
//! (`shared/api-specs/woocommerce/order-properties.v3.json`), plus the ISO successors of
//! codes in it (`BYN` for `BYR`, `MRU`, `SLE`, `STN`, `VES`, `XCG`). An order in any other
//! currency is refused: its minor unit is unknown, so its amounts cannot be checked.

const DOCUMENTED: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTC", "BTN", "BWP", "BYR", "BZD",
    "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK",
    "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GGP", "GHS", "GIP",
    "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "IMP", "INR",
    "IQD", "IRR", "IRT", "ISK", "JEP", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW",
    "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA",
    "MKD", "MMK", "MNT", "MOP", "MRO", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN",
    "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PRB", "PYG",
    "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLL",
    "SOS", "SRD", "SSP", "STD", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD",
    "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VEF", "VND", "VUV", "WST", "XAF", "XCD",
    "XOF", "XPF", "YER", "ZAR", "ZMW",
];

const SUCCESSORS: &[&str] = &["BYN", "MRU", "SLE", "STN", "VES", "XCG"];

pub fn is_known(code: &str) -> bool {
    DOCUMENTED.binary_search(&code).is_ok() || SUCCESSORS.contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_list_is_sorted_and_complete() {
        assert!(DOCUMENTED.windows(2).all(|w| w[0] < w[1]));
        for c in ["USD", "EUR", "JPY", "KWD", "GBP", "CAD", "VES"] {
            assert!(is_known(c), "{c}");
        }
        for c in ["XXX", "usd", "EURO", ""] {
            assert!(!is_known(c), "{c}");
        }
    }
}
