//! Connection config of a `sage` sink (the `config` JSON of a connection).

use ordersync_sdk::schemars::JsonSchema;
use ordersync_sdk::{ConnectorError, Decimal};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// The real API host (the path `/v3.1` is appended).
pub const DEFAULT_BASE_URL: &str = "https://api.accounting.sage.com";
/// Sage's token endpoint (official sample `Sage/sbca_api_python_sample`).
pub const DEFAULT_TOKEN_URL: &str = "https://oauth.accounting.sage.com/token";
/// "200 calls in any 60 second period (per Accounting business)" (Sage's v3.0 text; v3.1
/// publishes no number).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 200;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct SageConfig {
    /// The Sage business the books belong to. Always sent as `X-Business`: without it Sage
    /// writes to the user's lead business.
    pub business_id: String,
    /// API host without `/v3.1`; defaults to `https://api.accounting.sage.com` (tests and
    /// the demo point it at the simulator).
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// Token endpoint; defaults to `https://oauth.accounting.sage.com/token`.
    #[serde(default)]
    pub token_url: Option<String>,
    /// Ledger accounts each kind of amount is booked to, by id or by nominal code.
    #[serde(default)]
    pub ledger_accounts: LedgerAccounts,
    /// Overrides of the tax-rate match: percentage (`"20"`, `"8.875"`, `"0"`) → Sage
    /// `tax_rate_id`. Without an entry a line's combined rate × 100 is matched against the
    /// business's sales tax rates.
    #[serde(default)]
    pub tax_rates: BTreeMap<String, String>,
    /// Invoice reference prefix per marketplace (`{"amazon": "AMZ-"}`); default none. Two
    /// marketplaces that can send the same order number need different prefixes.
    #[serde(default)]
    pub reference_prefix: BTreeMap<String, String>,
    /// Requests per minute this connection may send (default 200, Sage's per-business limit).
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
}

/// Where amounts are booked. Each is `{"id": "..."}` or `{"nominal_code": 4000}`; the
/// defaults are nominal codes of Sage's standard UK chart. Gift cards and marketplace-
/// collected tax have no default: an order that needs one is refused until it is set.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct LedgerAccounts {
    /// Goods (product and custom lines). Default nominal code 4000 (Sales Type A).
    #[serde(default = "sales")]
    pub sales: LedgerRef,
    /// Shipping income. Default 4905 (Distribution and Carriage).
    #[serde(default = "shipping")]
    pub shipping: LedgerRef,
    /// Duties and additional fees. Default 4900 (Miscellaneous Income).
    #[serde(default = "other_income")]
    pub fees: LedgerRef,
    /// Tips (other income, not revenue). Default 4900.
    #[serde(default = "other_income")]
    pub tips: LedgerRef,
    /// Gift cards sold (a liability until redeemed). No default.
    #[serde(default)]
    pub gift_cards: Option<LedgerRef>,
    /// The platform's rounding difference (`totals.rounding`). Default 4900.
    #[serde(default = "other_income")]
    pub rounding: LedgerRef,
    /// Tax the marketplace collects and remits (marketplace-facilitator laws). No default.
    #[serde(default)]
    pub marketplace_tax: Option<LedgerRef>,
}

impl Default for LedgerAccounts {
    fn default() -> Self {
        Self {
            sales: sales(),
            shipping: shipping(),
            fees: other_income(),
            tips: other_income(),
            gift_cards: None,
            rounding: other_income(),
            marketplace_tax: None,
        }
    }
}

fn sales() -> LedgerRef {
    LedgerRef::code(4000)
}
fn shipping() -> LedgerRef {
    LedgerRef::code(4905)
}
fn other_income() -> LedgerRef {
    LedgerRef::code(4900)
}

/// A ledger account by id, or by nominal code (resolved with `GET /ledger_accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct LedgerRef {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub nominal_code: Option<u32>,
}

impl LedgerRef {
    pub fn code(c: u32) -> Self {
        Self {
            id: None,
            nominal_code: Some(c),
        }
    }
}

impl SageConfig {
    pub fn base_url(&self) -> String {
        let b = self
            .api_base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/');
        format!("{b}/v3.1")
    }

    pub fn token_url(&self) -> &str {
        self.token_url.as_deref().unwrap_or(DEFAULT_TOKEN_URL)
    }

    pub fn requests_per_minute(&self) -> u32 {
        self.requests_per_minute
            .unwrap_or(DEFAULT_REQUESTS_PER_MINUTE)
            .max(1)
    }

    pub fn prefix(&self, marketplace: &str) -> &str {
        self.reference_prefix
            .get(marketplace)
            .map_or("", String::as_str)
    }

    /// Checks what can be checked without I/O (the factory's validation).
    pub fn validate(&self) -> Result<(), ConnectorError> {
        let b = self.business_id.trim();
        if b.is_empty()
            || b.len() > 64
            || !b
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        {
            return Err(ConnectorError::permanent(
                "invalid config: business_id must be a Sage business id",
            ));
        }
        let l = &self.ledger_accounts;
        for (name, r) in [
            ("sales", Some(&l.sales)),
            ("shipping", Some(&l.shipping)),
            ("fees", Some(&l.fees)),
            ("tips", Some(&l.tips)),
            ("gift_cards", l.gift_cards.as_ref()),
            ("rounding", Some(&l.rounding)),
            ("marketplace_tax", l.marketplace_tax.as_ref()),
        ] {
            if let Some(r) = r
                && r.id.is_some() == r.nominal_code.is_some()
            {
                return Err(ConnectorError::permanent(format!(
                    "invalid config: ledger_accounts.{name} needs exactly one of id, nominal_code"
                )));
            }
        }
        self.tax_rate_overrides()?;
        Ok(())
    }

    /// `tax_rates` keyed by the percentage as a number (`"20.0"` and `"20"` are one key).
    pub fn tax_rate_overrides(&self) -> Result<BTreeMap<Decimal, String>, ConnectorError> {
        self.tax_rates
            .iter()
            .map(|(k, v)| {
                let p = Decimal::from_str(k.trim())
                    .ok()
                    .filter(|p| !p.is_sign_negative())
                    .ok_or_else(|| {
                        ConnectorError::permanent(format!(
                            "invalid config: tax_rates key {k:?} is not a percentage"
                        ))
                    })?;
                Ok((p.normalize(), v.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_validation() {
        let c: SageConfig = ordersync_sdk::parse_config(&json!({"business_id": "b1"})).unwrap();
        assert_eq!(c.base_url(), "https://api.accounting.sage.com/v3.1");
        assert_eq!(c.token_url(), DEFAULT_TOKEN_URL);
        assert_eq!(c.requests_per_minute(), 200);
        assert_eq!(c.ledger_accounts.sales, LedgerRef::code(4000));
        c.validate().unwrap();
        assert!(ordersync_sdk::parse_config::<SageConfig>(&json!({})).is_err());
        assert!(
            ordersync_sdk::parse_config::<SageConfig>(&json!({"business_id": "b", "x": 1}))
                .is_err()
        );
        let both: SageConfig = ordersync_sdk::parse_config(&json!({"business_id": "b",
            "ledger_accounts": {"sales": {"id": "x", "nominal_code": 1}}}))
        .unwrap();
        assert!(both.validate().is_err());
        let bad_rate: SageConfig = ordersync_sdk::parse_config(
            &json!({"business_id": "b", "tax_rates": {"twenty": "GB_STANDARD"}}),
        )
        .unwrap();
        assert!(bad_rate.validate().is_err());
        let ok: SageConfig = ordersync_sdk::parse_config(
            &json!({"business_id": "b", "tax_rates": {"20.0": "GB_STANDARD"}}),
        )
        .unwrap();
        assert_eq!(
            ok.tax_rate_overrides().unwrap()[&Decimal::from(20)],
            "GB_STANDARD"
        );
    }
}
