//! Connection config of a `xero` sink (the `config` JSON of a connection).

use ordersync_sdk::ConnectorError;
use ordersync_sdk::schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The real Accounting API host (the API lives under `/api.xro/2.0`).
pub const DEFAULT_BASE_URL: &str = "https://api.xero.com";
/// Xero's identity server.
pub const DEFAULT_TOKEN_URL: &str = "https://identity.xero.com/connect/token";
/// Xero's per-tenant minute limit.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 60;
/// Xero's minute limit per app, across all its tenants.
pub const DEFAULT_APP_REQUESTS_PER_MINUTE: u32 = 10_000;

/// The status new invoices and credit notes get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(rename_all = "UPPERCASE")]
pub enum DocumentStatus {
    /// Approved: posted to the ledger, credit notes are allocated to the invoice.
    #[default]
    Authorised,
    /// Drafts for the merchant to approve (credit notes stay unallocated).
    Draft,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Authorised => "AUTHORISED",
            DocumentStatus::Draft => "DRAFT",
        }
    }
}

/// Account codes lines are booked to. The defaults are codes of Xero's standard chart of
/// accounts where one exists (200 Sales, 260 Other Revenue, 860 Rounding); gift-card
/// liability and marketplace-collected tax have no standard account, so their defaults
/// (835, 845) must exist as current-liability accounts or be set here.
#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq, Eq)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields, default)]
pub struct AccountCodes {
    /// Goods (product and custom lines). Default `200` (Sales).
    pub sales: String,
    /// Shipping charges. Default `260` (Other Revenue).
    pub shipping: String,
    /// Duties and additional fees. Default `260` (Other Revenue).
    pub fees: String,
    /// Tips: other income, not revenue from sales. Default `260` (Other Revenue).
    pub tips: String,
    /// Gift cards sold: a liability until redeemed, never revenue. Default `835`.
    pub gift_cards: String,
    /// The platform's rounding difference (`totals.rounding`). Default `860` (Rounding).
    pub rounding: String,
    /// Tax a marketplace collected and remits itself (marketplace-facilitator laws): booked
    /// to this clearing account, not as the merchant's output tax. Default `845`.
    pub marketplace_tax: String,
}

impl Default for AccountCodes {
    fn default() -> Self {
        Self {
            sales: "200".into(),
            shipping: "260".into(),
            fees: "260".into(),
            tips: "260".into(),
            gift_cards: "835".into(),
            rounding: "860".into(),
            marketplace_tax: "845".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct XeroConfig {
    /// The Xero organisation (`tenantId` from `GET https://api.xero.com/connections`), sent
    /// as `xero-tenant-id` on every call.
    pub tenant_id: String,
    /// Base URL of the API, without `/api.xro/2.0`. Default `https://api.xero.com`.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// OAuth token endpoint. Default `https://identity.xero.com/connect/token`.
    #[serde(default)]
    pub token_url: Option<String>,
    /// Where each kind of line is booked.
    #[serde(default)]
    pub accounts: AccountCodes,
    /// Tax types by rate percentage (`"20"`, `"8.875"`, `"0"` for untaxed lines), taking
    /// precedence over matching the organisation's tax rates by `EffectiveRate`.
    #[serde(default)]
    pub tax_types: BTreeMap<String, String>,
    /// Invoice-number prefix per marketplace (`{"amazon": "AMZ-"}`), so two marketplaces'
    /// order #1001 do not claim the same invoice number. Default: no prefix.
    #[serde(default)]
    pub invoice_prefix: BTreeMap<String, String>,
    /// `AUTHORISED` (default) or `DRAFT`.
    #[serde(default)]
    pub status: DocumentStatus,
    /// Requests per minute this connection may send (the proactive gate). Default 60, Xero's
    /// per-tenant limit; the gate also follows `X-MinLimit-Remaining` and `429`.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// Requests per minute of the whole app (the `client_id`), shared by every connection and
    /// worker. Default 10,000, Xero's app limit.
    #[serde(default)]
    pub app_requests_per_minute: Option<u32>,
}

impl XeroConfig {
    pub fn base_url(&self) -> &str {
        self.api_base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
    }

    pub fn token_url(&self) -> &str {
        self.token_url.as_deref().unwrap_or(DEFAULT_TOKEN_URL)
    }

    pub fn requests_per_minute(&self) -> u32 {
        self.requests_per_minute
            .unwrap_or(DEFAULT_REQUESTS_PER_MINUTE)
            .max(1)
    }

    pub fn app_requests_per_minute(&self) -> u32 {
        self.app_requests_per_minute
            .unwrap_or(DEFAULT_APP_REQUESTS_PER_MINUTE)
            .max(1)
    }

    pub fn prefix_for(&self, marketplace: &str) -> &str {
        self.invoice_prefix
            .get(marketplace)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Pure checks at connection time.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        if self.tenant_id.trim().is_empty() || !is_header_safe(&self.tenant_id) {
            return Err(ConnectorError::permanent(
                "invalid config: tenant_id must be a Xero tenant id",
            ));
        }
        for (k, v) in &self.tax_types {
            if ordersync_sdk::money::parse(k).is_none() || !is_code(v) {
                return Err(ConnectorError::permanent(format!(
                    "invalid config: tax_types entry {k:?} must map a rate percentage to a Xero TaxType"
                )));
            }
        }
        let a = &self.accounts;
        for code in [
            &a.sales,
            &a.shipping,
            &a.fees,
            &a.tips,
            &a.gift_cards,
            &a.rounding,
            &a.marketplace_tax,
        ] {
            if !is_code(code) {
                return Err(ConnectorError::permanent(
                    "invalid config: account codes are letters and digits",
                ));
            }
        }
        if self.invoice_prefix.values().any(|p| p.len() > 40) {
            return Err(ConnectorError::permanent(
                "invalid config: invoice_prefix entries are at most 40 characters",
            ));
        }
        Ok(())
    }
}

/// Account codes and tax types: short, letters, digits and `_` (they go into JSON bodies).
fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_header_safe(s: &str) -> bool {
    s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_validation() {
        let c: XeroConfig = ordersync_sdk::parse_config(&json!({"tenant_id": "t-1"})).unwrap();
        assert_eq!(c.base_url(), DEFAULT_BASE_URL);
        assert_eq!(c.token_url(), DEFAULT_TOKEN_URL);
        assert_eq!(c.accounts.sales, "200");
        assert_eq!(c.status, DocumentStatus::Authorised);
        assert!(c.validate().is_ok());
        assert!(ordersync_sdk::parse_config::<XeroConfig>(&json!({})).is_err());
        assert!(
            ordersync_sdk::parse_config::<XeroConfig>(&json!({"tenant_id": "t", "x": 1})).is_err()
        );
        let bad: XeroConfig =
            ordersync_sdk::parse_config(&json!({"tenant_id": "t", "tax_types": {"abc": "X"}}))
                .unwrap();
        assert!(bad.validate().is_err());
        let d: XeroConfig =
            ordersync_sdk::parse_config(&json!({"tenant_id": "t", "status": "DRAFT"})).unwrap();
        assert_eq!(d.status, DocumentStatus::Draft);
    }
}
