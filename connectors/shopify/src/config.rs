//! Connection config of a `shopify` source.

use ordersync_sdk::ConnectorError;
use ordersync_sdk::schemars::JsonSchema;
use serde::Deserialize;

/// `config` of a Shopify connection (stored as JSON; secrets are separate).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct ShopifyConfig {
    /// The shop's permanent domain, e.g. `my-store.myshopify.com` (never a custom domain).
    pub shop_domain: String,
    /// Admin API version (`YYYY-MM`); Shopify supports each for at least 12 months.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Base URL of the Admin API; defaults to `https://{shop_domain}`. Tests and the demo point
    /// it at the simulator.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// Most orders per page (1..=250, the platform's maximum). GraphQL pages are smaller when
    /// the query's cost requires it (see `paging.rs`); bulk results come in pages of this size.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// A first sync (no watermark yet) of a store with more orders than this runs as one Bulk
    /// Operation (a JSONL export) instead of paged queries; `null` never does.
    #[serde(default = "default_bulk_threshold")]
    pub bulk_threshold: Option<u64>,
}

fn default_api_version() -> String {
    "2026-07".into()
}

fn default_page_size() -> u32 {
    250
}

/// Paged reads at the Standard plan's 100 points/s take ~0.4 s per order of our query's
/// actual cost (~40 points); above 10,000 orders (over an hour) one bulk export is faster.
fn default_bulk_threshold() -> Option<u64> {
    Some(10_000)
}

impl ShopifyConfig {
    /// Rejects values the platform would reject anyway, naming the field (never a secret).
    pub fn validate(&self) -> Result<(), ConnectorError> {
        if !is_shop_domain(&self.shop_domain) {
            return Err(ConnectorError::permanent(
                "invalid config: shop_domain must match ^[a-z0-9][a-z0-9-]*\\.myshopify\\.com$",
            ));
        }
        if !is_api_version(&self.api_version) {
            return Err(ConnectorError::permanent(
                "invalid config: api_version must look like 2026-07 or be \"unstable\"",
            ));
        }
        if !(1..=250).contains(&self.page_size) {
            return Err(ConnectorError::permanent(
                "invalid config: page_size must be between 1 and 250",
            ));
        }
        if let Some(u) = &self.api_base_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(ConnectorError::permanent(
                "invalid config: api_base_url must be an http(s) URL",
            ));
        }
        Ok(())
    }

    /// The API base without a trailing slash.
    pub fn base_url(&self) -> String {
        match &self.api_base_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("https://{}", self.shop_domain),
        }
    }
}

/// `^[a-z0-9][a-z0-9-]*\.myshopify\.com$` without a regex dependency.
pub fn is_shop_domain(s: &str) -> bool {
    let Some(name) = s.strip_suffix(".myshopify.com") else {
        return false;
    };
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_api_version(s: &str) -> bool {
    let b = s.as_bytes();
    s == "unstable"
        || (b.len() == 7
            && b[4] == b'-'
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[5..].iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_domain_shape() {
        assert!(is_shop_domain("demo-store.myshopify.com"));
        assert!(is_shop_domain("0shop.myshopify.com"));
        for bad in [
            "-x.myshopify.com",
            "Shop.myshopify.com",
            ".myshopify.com",
            "evil.com",
            "a.b.myshopify.com",
            "shop.myshopify.com.evil.com",
        ] {
            assert!(!is_shop_domain(bad), "{bad}");
        }
    }

    #[test]
    fn defaults_and_validation() {
        let c: ShopifyConfig =
            serde_json::from_value(serde_json::json!({"shop_domain": "s.myshopify.com"})).unwrap();
        assert_eq!(c.api_version, "2026-07");
        assert_eq!(c.page_size, 250);
        assert_eq!(c.bulk_threshold, Some(10_000));
        assert_eq!(c.base_url(), "https://s.myshopify.com");
        c.validate().unwrap();
        let mut big = c.clone();
        big.page_size = 251;
        assert!(big.validate().is_err());
        assert!(
            serde_json::from_value::<ShopifyConfig>(
                serde_json::json!({"shop_domain": "s.myshopify.com", "typo": 1})
            )
            .is_err()
        );
    }
}
