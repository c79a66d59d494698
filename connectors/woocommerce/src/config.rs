//! Connection config of a `woocommerce` source.

use ordersync_sdk::ConnectorError;
use ordersync_sdk::schemars::JsonSchema;
use serde::Deserialize;

/// WooCommerce's own order statuses. `any` (the API's default) leaves out `trash`, so a pull
/// names every status explicitly: an order moved to the trash must reach the engine too.
pub const CORE_STATUSES: &[&str] = &[
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
    "checkout-draft",
];

/// `config` of a WooCommerce connection (stored as JSON; the API keys are secrets).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct WooConfig {
    /// The store's URL, e.g. `https://shop.example.com` or `https://example.com/shop`
    /// (merchant-supplied: SSRF-checked, https only). The REST API is at
    /// `{store_url}/wp-json/wc/v3`.
    pub store_url: String,
    /// Orders per page (1..=100; WooCommerce refuses more).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Send the API keys as `consumer_key`/`consumer_secret` query parameters instead of an
    /// HTTP Basic `Authorization` header, for hosts that strip that header (Apache with
    /// CGI/FastCGI); there WooCommerce answers 401 `woocommerce_rest_cannot_view`.
    #[serde(default)]
    pub auth_in_query: bool,
    /// Order statuses that plugins register (e.g. `shipped`), pulled besides WooCommerce's
    /// own. Lower-case slugs without the `wc-` prefix; a status the store does not know makes
    /// WooCommerce refuse the pull (400 `rest_invalid_param`).
    #[serde(default)]
    pub extra_statuses: Vec<String>,
}

fn default_page_size() -> u32 {
    100
}

impl WooConfig {
    /// Checks the config without I/O. Plain `http://` passes here: the service's SSRF check of
    /// `url_fields` and the SDK's client refuse it outside `allow_private_endpoints` (tests and
    /// the demo's simulators on 127.0.0.1), which this check cannot see.
    pub fn validate(&self) -> Result<(), ConnectorError> {
        let bad = |m: &str| Err(ConnectorError::permanent(format!("invalid config: {m}")));
        let Ok(u) = url::Url::parse(self.store_url.trim()) else {
            return bad("store_url is not a URL");
        };
        if !matches!(u.scheme(), "https" | "http") {
            return bad("store_url must be an https URL");
        }
        if u.host_str().is_none_or(str::is_empty) {
            return bad("store_url has no host");
        }
        if !u.username().is_empty() || u.password().is_some() {
            return bad("store_url must not carry credentials (they are secrets)");
        }
        if u.query().is_some() || u.fragment().is_some() {
            return bad("store_url must not have a query or fragment");
        }
        if !(1..=100).contains(&self.page_size) {
            return bad("page_size must be between 1 and 100");
        }
        for s in &self.extra_statuses {
            let slug = s.strip_prefix("wc-").unwrap_or(s);
            let ok = !slug.is_empty()
                && slug.len() <= 17
                && slug.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !ok {
                return bad("extra_statuses must be lower-case status slugs (a-z, 0-9, - and _)");
            }
        }
        Ok(())
    }

    /// `{store_url}/wp-json/wc/v3`, without a trailing slash.
    pub fn api_base(&self) -> String {
        format!(
            "{}/wp-json/wc/v3",
            self.store_url.trim().trim_end_matches('/')
        )
    }

    /// Every status a pull asks for: the core ones and the configured extra ones.
    pub fn statuses(&self) -> Vec<String> {
        let mut out: Vec<String> = CORE_STATUSES.iter().map(|s| s.to_string()).collect();
        for s in &self.extra_statuses {
            let slug = s.strip_prefix("wc-").unwrap_or(s).to_string();
            if !out.contains(&slug) {
                out.push(slug);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(v: serde_json::Value) -> WooConfig {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn defaults_and_validation() {
        let c = cfg(serde_json::json!({"store_url": "https://shop.example.com/"}));
        assert_eq!(c.page_size, 100);
        assert!(!c.auth_in_query);
        c.validate().unwrap();
        assert_eq!(c.api_base(), "https://shop.example.com/wp-json/wc/v3");
        assert_eq!(c.statuses().len(), CORE_STATUSES.len());
        let sub = cfg(serde_json::json!({"store_url": "https://example.com/shop"}));
        assert_eq!(sub.api_base(), "https://example.com/shop/wp-json/wc/v3");
        for bad in [
            serde_json::json!({"store_url": "ftp://shop.example.com"}),
            serde_json::json!({"store_url": "https://ck:cs@shop.example.com"}),
            serde_json::json!({"store_url": "https://shop.example.com/?x=1"}),
            serde_json::json!({"store_url": "not a url"}),
            serde_json::json!({"store_url": "https://shop.example.com", "page_size": 101}),
            serde_json::json!({"store_url": "https://shop.example.com", "page_size": 0}),
            serde_json::json!({"store_url": "https://shop.example.com", "extra_statuses": ["Shipped!"]}),
        ] {
            assert!(cfg(bad.clone()).validate().is_err(), "{bad}");
        }
        assert!(
            cfg(serde_json::json!({"store_url": "http://127.0.0.1:8080"}))
                .validate()
                .is_ok()
        );
        let extra = cfg(
            serde_json::json!({"store_url": "https://s.example", "extra_statuses": ["wc-shipped", "trash"]}),
        );
        extra.validate().unwrap();
        assert_eq!(extra.statuses().last().map(String::as_str), Some("shipped"));
        assert_eq!(extra.statuses().len(), CORE_STATUSES.len() + 1);
        assert!(
            serde_json::from_value::<WooConfig>(
                serde_json::json!({"store_url": "https://s.example", "typo": 1})
            )
            .is_err()
        );
    }
}
