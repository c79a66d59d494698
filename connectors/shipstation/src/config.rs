//! Connection config of a `shipstation` sink (the `config` JSON of a connection).

use ordersync_sdk::schemars::JsonSchema;
use serde::Deserialize;

/// The real V2 API host.
pub const DEFAULT_BASE_URL: &str = "https://api.shipstation.com";
/// ShipStation V2's documented limit (the sandbox allows 20).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 200;

/// Which ShipStation API a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(rename_all = "lowercase")]
pub enum ApiVersion {
    /// Legacy `ssapi.shipstation.com` (key + secret pair): not supported yet.
    V1,
    /// `api.shipstation.com/v2` with the `API-Key` header.
    #[default]
    V2,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct ShipStationConfig {
    /// `v2` (default). `v1` is refused with a clear error until a V1 adapter exists.
    #[serde(default)]
    pub api_version: ApiVersion,
    /// Base URL of the API, without `/v2`. Defaults to `https://api.shipstation.com`; tests
    /// and the demo point it at the simulator.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// Requests per minute this connection may send (the proactive rate gate). Defaults to
    /// 200, the V2 limit; the gate also pauses on `X-Rate-Limit-Remaining: 0` and `429`.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// ShipStation warehouse (`se-...`) shipments ship from. When absent, no `warehouse_id`
    /// or `ship_from` is sent and ShipStation uses the account's default warehouse.
    #[serde(default)]
    pub warehouse_id: Option<String>,
}

impl ShipStationConfig {
    pub fn base_url(&self) -> &str {
        self.api_base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
    }

    pub fn requests_per_minute(&self) -> u32 {
        self.requests_per_minute
            .unwrap_or(DEFAULT_REQUESTS_PER_MINUTE)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_unknown_fields() {
        let c: ShipStationConfig = ordersync_sdk::parse_config(&json!({})).unwrap();
        assert_eq!(c.api_version, ApiVersion::V2);
        assert_eq!(c.base_url(), DEFAULT_BASE_URL);
        assert_eq!(c.requests_per_minute(), 200);
        let v1: ShipStationConfig =
            ordersync_sdk::parse_config(&json!({"api_version": "v1"})).unwrap();
        assert_eq!(v1.api_version, ApiVersion::V1);
        assert!(ordersync_sdk::parse_config::<ShipStationConfig>(&json!({"shop": 1})).is_err());
        assert!(
            ordersync_sdk::parse_config::<ShipStationConfig>(&json!({"api_version": "v3"}))
                .is_err()
        );
    }
}
