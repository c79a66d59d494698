//! Connection config of an `ebay` source.

use ordersync_sdk::ConnectorError;
use ordersync_sdk::schemars::JsonSchema;
use serde::Deserialize;

/// The Sell Fulfillment API's largest `limit`: more fails with errorId 31100.
pub const MAX_PAGE_SIZE: u32 = 200;

/// `config` of an eBay connection (stored as JSON; `client_id`, `client_secret` and
/// `refresh_token` are secrets).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct EbayConfig {
    /// Base URL of the REST APIs (`https://api.ebay.com`; the sandbox is
    /// `https://api.sandbox.ebay.com`). Tests and the demo point it at the simulator.
    #[serde(default = "default_api_base_url")]
    pub api_base_url: String,
    /// The OAuth token endpoint (refresh grant).
    #[serde(default = "default_token_url")]
    pub token_url: String,
    /// Orders per `getOrders` call (1..=200, eBay's maximum).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Sent as `X-EBAY-C-MARKETPLACE-ID` (e.g. `EBAY_US`) when set. getOrders returns the
    /// seller's orders of every marketplace either way.
    #[serde(default)]
    pub marketplace_id: Option<String>,
    /// The app's daily Sell Fulfillment call quota (100,000 by default; more after eBay's
    /// Application Growth Check). Calls are paced so a day's polling stays inside it.
    #[serde(default = "default_daily_call_quota")]
    pub daily_call_quota: u32,
}

fn default_api_base_url() -> String {
    "https://api.ebay.com".into()
}

fn default_token_url() -> String {
    "https://api.ebay.com/identity/v1/oauth2/token".into()
}

fn default_page_size() -> u32 {
    MAX_PAGE_SIZE
}

fn default_daily_call_quota() -> u32 {
    100_000
}

impl EbayConfig {
    /// Rejects values eBay would reject anyway, naming the field (never a secret).
    pub fn validate(&self) -> Result<(), ConnectorError> {
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(ConnectorError::permanent(
                "invalid config: page_size must be between 1 and 200",
            ));
        }
        for (name, url) in [
            ("api_base_url", &self.api_base_url),
            ("token_url", &self.token_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ConnectorError::permanent(format!(
                    "invalid config: {name} must be an http(s) URL"
                )));
            }
        }
        if let Some(m) = &self.marketplace_id
            && !is_marketplace_id(m)
        {
            return Err(ConnectorError::permanent(
                "invalid config: marketplace_id must look like EBAY_US",
            ));
        }
        if self.daily_call_quota == 0 {
            return Err(ConnectorError::permanent(
                "invalid config: daily_call_quota must be positive",
            ));
        }
        Ok(())
    }

    /// The API base without a trailing slash.
    pub fn base_url(&self) -> String {
        self.api_base_url.trim_end_matches('/').to_string()
    }
}

/// `EBAY_` followed by upper-case letters, digits or `_` (EBAY_US, EBAY_MOTORS_US).
fn is_marketplace_id(s: &str) -> bool {
    s.strip_prefix("EBAY_").is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 20
            && rest
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let c: EbayConfig = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(c.api_base_url, "https://api.ebay.com");
        assert_eq!(c.token_url, "https://api.ebay.com/identity/v1/oauth2/token");
        assert_eq!((c.page_size, c.daily_call_quota), (200, 100_000));
        c.validate().unwrap();
        let mut big = c.clone();
        big.page_size = 201;
        assert!(big.validate().is_err());
        let mut m = c.clone();
        m.marketplace_id = Some("EBAY_GB".into());
        m.validate().unwrap();
        m.marketplace_id = Some("ebay_gb\r\nX: 1".into());
        assert!(m.validate().is_err());
        let mut u = c;
        u.token_url = "ftp://x".into();
        assert!(u.validate().is_err());
        assert!(serde_json::from_value::<EbayConfig>(serde_json::json!({"typo": 1})).is_err());
    }
}
