//! Connection config of an `amazon` source.

use crate::marketplaces;
use ordersync_sdk::ConnectorError;
use ordersync_sdk::schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `config` of an Amazon SP-API connection (stored as JSON; the LWA credentials are secrets).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct AmazonConfig {
    /// The regional Selling Partner API endpoint of the seller's marketplaces:
    /// `https://sellingpartnerapi-na.amazon.com` (North America and Brazil), `-eu` (Europe,
    /// Middle East, India, Africa) or `-fe` (Japan, Australia, Singapore).
    #[serde(default = "default_api_base_url")]
    pub api_base_url: String,
    /// The Login with Amazon token endpoint that exchanges the refresh token.
    #[serde(default = "default_lwa_token_url")]
    pub lwa_token_url: String,
    /// Marketplaces whose orders are read (1 to 50 ids, e.g. `ATVPDKIKX0DER` for
    /// Amazon.com): every one must be a known marketplace, because the marketplace decides
    /// the currency and whether prices include tax.
    pub marketplace_ids: Vec<String>,
    /// Orders per `searchOrders` page (1..=100). Pages are the scarce resource: the default
    /// usage plan allows one every ~3 minutes.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Only orders fulfilled by these parties (`MERCHANT`, `AMAZON`); all when absent.
    #[serde(default)]
    pub fulfilled_by: Option<Vec<FulfilledBy>>,
    /// The usage plan to start from. Defaults to the spec's (searchOrders 0.0056 req/s burst
    /// 20, getOrder 0.5 req/s burst 30). Sellers whose plan Amazon raised can say so here:
    /// the rate is re-learnt from `x-amzn-RateLimit-Limit` anyway, the burst never is.
    #[serde(default)]
    pub rate_limits: Option<RateLimits>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FulfilledBy {
    Merchant,
    Amazon,
}

impl FulfilledBy {
    pub fn as_str(self) -> &'static str {
        match self {
            FulfilledBy::Merchant => "MERCHANT",
            FulfilledBy::Amazon => "AMAZON",
        }
    }
}

/// A usage plan: per operation, a rate (requests per second) and a burst.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    #[serde(default = "default_search_plan")]
    pub search_orders: Plan,
    #[serde(default = "default_get_plan")]
    pub get_order: Plan,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Requests per second.
    pub rate: f64,
    /// Requests that may go out at once.
    pub burst: u32,
}

/// The spec's usage plan of `searchOrders`.
pub const SEARCH_ORDERS_PLAN: Plan = Plan {
    rate: 0.0056,
    burst: 20,
};
/// The spec's usage plan of `getOrder`.
pub const GET_ORDER_PLAN: Plan = Plan {
    rate: 0.5,
    burst: 30,
};

fn default_search_plan() -> Plan {
    SEARCH_ORDERS_PLAN
}

fn default_get_plan() -> Plan {
    GET_ORDER_PLAN
}

fn default_api_base_url() -> String {
    "https://sellingpartnerapi-na.amazon.com".into()
}

fn default_lwa_token_url() -> String {
    "https://api.amazon.com/auth/o2/token".into()
}

fn default_page_size() -> u32 {
    100
}

impl AmazonConfig {
    /// Rejects values Amazon would reject anyway, naming the field (never a secret).
    pub fn validate(&self) -> Result<(), ConnectorError> {
        let bad = |m: &str| Err(ConnectorError::permanent(format!("invalid config: {m}")));
        if self.marketplace_ids.is_empty() || self.marketplace_ids.len() > 50 {
            return bad("marketplace_ids must list 1 to 50 marketplace ids");
        }
        if let Some(unknown) = self
            .marketplace_ids
            .iter()
            .find(|id| marketplaces::by_id(id).is_none())
        {
            // Ids are Amazon's public constants, not personal data.
            let shown: String = unknown
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(20)
                .collect();
            return bad(&format!("unknown marketplace id {shown:?}"));
        }
        if !(1..=100).contains(&self.page_size) {
            return bad("page_size must be between 1 and 100");
        }
        if self.fulfilled_by.as_ref().is_some_and(Vec::is_empty) {
            return bad("fulfilled_by must not be empty (leave it out for all orders)");
        }
        for (field, url) in [
            ("api_base_url", &self.api_base_url),
            ("lwa_token_url", &self.lwa_token_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return bad(&format!("{field} must be an http(s) URL"));
            }
        }
        if let Some(r) = &self.rate_limits {
            for p in [r.search_orders, r.get_order] {
                if !(p.rate.is_finite() && p.rate > 0.0) || p.burst == 0 {
                    return bad("rate_limits need a positive rate and burst");
                }
            }
        }
        Ok(())
    }

    /// The API base without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.api_base_url.trim_end_matches('/')
    }

    pub fn plans(&self) -> RateLimits {
        self.rate_limits.unwrap_or(RateLimits {
            search_orders: SEARCH_ORDERS_PLAN,
            get_order: GET_ORDER_PLAN,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> AmazonConfig {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn defaults_and_validation() {
        let c = parse(json!({ "marketplace_ids": ["ATVPDKIKX0DER"] }));
        assert_eq!(c.api_base_url, "https://sellingpartnerapi-na.amazon.com");
        assert_eq!(c.lwa_token_url, "https://api.amazon.com/auth/o2/token");
        assert_eq!(c.page_size, 100);
        assert_eq!(c.plans().search_orders, SEARCH_ORDERS_PLAN);
        c.validate().unwrap();
        for bad in [
            json!({ "marketplace_ids": [] }),
            json!({ "marketplace_ids": ["NOPE"] }),
            json!({ "marketplace_ids": ["ATVPDKIKX0DER"], "page_size": 101 }),
            json!({ "marketplace_ids": ["ATVPDKIKX0DER"], "fulfilled_by": [] }),
            json!({ "marketplace_ids": ["ATVPDKIKX0DER"], "api_base_url": "ftp://x" }),
            json!({ "marketplace_ids": ["ATVPDKIKX0DER"],
                    "rate_limits": { "search_orders": { "rate": 0.0, "burst": 1 } } }),
        ] {
            assert!(parse(bad.clone()).validate().is_err(), "{bad}");
        }
        assert!(
            serde_json::from_value::<AmazonConfig>(
                json!({ "marketplace_ids": ["ATVPDKIKX0DER"], "typo": 1 })
            )
            .is_err()
        );
        let c = parse(
            json!({ "marketplace_ids": ["ATVPDKIKX0DER"], "fulfilled_by": ["MERCHANT"],
                               "rate_limits": { "search_orders": { "rate": 10.0, "burst": 50 } } }),
        );
        c.validate().unwrap();
        assert_eq!(c.plans().get_order, GET_ORDER_PLAN);
        assert_eq!(c.plans().search_orders.burst, 50);
    }
}
