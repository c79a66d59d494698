//! Amazon marketplaces: their currency and whether their prices contain tax. The Orders API
//! says neither per order (no `taxesIncluded` flag, no rates), so the marketplace decides the
//! basis: prices on Amazon.com and Amazon.ca are net with tax on top; everywhere else
//! (EU/UK VAT, JP consumption tax, AU/IN/SG GST, …) displayed prices include it.

/// One marketplace of the SP-API (developer docs, "Marketplace IDs").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Market {
    pub id: &'static str,
    /// ISO 3166-1 alpha-2 of the storefront.
    pub country: &'static str,
    pub name: &'static str,
    /// ISO 4217: the only currency the marketplace sells in.
    pub currency: &'static str,
    pub taxes_included: bool,
    /// Title of the tax lines of its orders (Amazon reports amounts, not names or rates).
    pub tax_title: &'static str,
}

const fn m(
    id: &'static str,
    country: &'static str,
    name: &'static str,
    currency: &'static str,
    taxes_included: bool,
    tax_title: &'static str,
) -> Market {
    Market {
        id,
        country,
        name,
        currency,
        taxes_included,
        tax_title,
    }
}

pub const US: Market = m(
    "ATVPDKIKX0DER",
    "US",
    "Amazon.com",
    "USD",
    false,
    "Sales tax",
);
pub const CA: Market = m("A2EUQ1WTGCTBG2", "CA", "Amazon.ca", "CAD", false, "GST/HST");
pub const UK: Market = m("A1F83G8C2ARO7P", "GB", "Amazon.co.uk", "GBP", true, "VAT");
pub const DE: Market = m("A1PA6795UKMFR9", "DE", "Amazon.de", "EUR", true, "VAT");
pub const JP: Market = m(
    "A1VC38T7YXB528",
    "JP",
    "Amazon.co.jp",
    "JPY",
    true,
    "Consumption tax",
);

/// Every marketplace the connector knows.
pub const MARKETS: &[Market] = &[
    US,
    CA,
    m("A1AM78C64UM0Y8", "MX", "Amazon.com.mx", "MXN", true, "IVA"),
    m("A2Q3Y263D00KWC", "BR", "Amazon.com.br", "BRL", true, "Tax"),
    m("A28R8C7NBKEWEA", "IE", "Amazon.ie", "EUR", true, "VAT"),
    m("A1RKKUPIHCS9HS", "ES", "Amazon.es", "EUR", true, "VAT"),
    UK,
    m("A13V1IB3VIYZZH", "FR", "Amazon.fr", "EUR", true, "VAT"),
    m("AMEN7PMS3EDWL", "BE", "Amazon.com.be", "EUR", true, "VAT"),
    m("A1805IZSGTT6HS", "NL", "Amazon.nl", "EUR", true, "VAT"),
    DE,
    m("APJ6JRA9NG5V4", "IT", "Amazon.it", "EUR", true, "VAT"),
    m("A2NODRKZP88ZB9", "SE", "Amazon.se", "SEK", true, "VAT"),
    m("AE08WJ6YKNBMC", "ZA", "Amazon.co.za", "ZAR", true, "VAT"),
    m("A1C3SOZRARQ6R3", "PL", "Amazon.pl", "PLN", true, "VAT"),
    m("ARBP9OOSHTCHU", "EG", "Amazon.eg", "EGP", true, "VAT"),
    m("A33AVAJ2PDY3EV", "TR", "Amazon.com.tr", "TRY", true, "VAT"),
    m("A17E79C6D8DWNP", "SA", "Amazon.sa", "SAR", true, "VAT"),
    m("A2VIGQ35RCS4UG", "AE", "Amazon.ae", "AED", true, "VAT"),
    m("A21TJRUUN4KGV", "IN", "Amazon.in", "INR", true, "GST"),
    m("A19VAU5U5O7RUS", "SG", "Amazon.sg", "SGD", true, "GST"),
    m("A39IBJ37TRP1C6", "AU", "Amazon.com.au", "AUD", true, "GST"),
    JP,
];

/// The marketplace of an id, if the connector knows it.
pub fn by_id(id: &str) -> Option<&'static Market> {
    MARKETS.iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_bases_follow_the_storefront() {
        let mut ids: Vec<_> = MARKETS.iter().map(|m| m.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), MARKETS.len());
        assert!(!by_id("ATVPDKIKX0DER").unwrap().taxes_included);
        assert!(by_id("A1F83G8C2ARO7P").unwrap().taxes_included);
        assert_eq!(by_id("A1VC38T7YXB528").unwrap().currency, "JPY");
        assert!(by_id("XXXX").is_none());
    }
}
