//! Connection config of a `shipstation` sink (the `config` JSON of a connection).

use ordersync_sdk::schemars::JsonSchema;
use serde::Deserialize;

/// The real V2 API host.
pub const DEFAULT_BASE_URL: &str = "https://api.shipstation.com";
/// The real V1 API host.
pub const DEFAULT_V1_BASE_URL: &str = "https://ssapi.shipstation.com";
/// ShipStation V2's documented limit (the sandbox allows 20).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 200;
/// ShipStation V1's documented limit per key + secret pair.
pub const DEFAULT_V1_REQUESTS_PER_MINUTE: u32 = 40;

/// Which ShipStation API a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(rename_all = "lowercase")]
pub enum ApiVersion {
    /// Legacy `ssapi.shipstation.com` with a key + secret pair (Basic auth): orders by
    /// `orderKey`, no delivery tracking.
    V1,
    /// `api.shipstation.com/v2` with the `API-Key` header.
    #[default]
    V2,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct ShipStationConfig {
    /// `v2` (default) or `v1` (needs the `api_secret` secret too).
    #[serde(default)]
    pub api_version: ApiVersion,
    /// Base URL of the API, without `/v2`. Defaults to `https://api.shipstation.com` (V2) or
    /// `https://ssapi.shipstation.com` (V1); tests and the demo point it at the simulator.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// Requests per minute this connection may send (the proactive rate gate). Defaults to
    /// 200, the V2 limit (40 for V1); the gate also pauses on `X-Rate-Limit-Remaining: 0`
    /// and `429`.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// ShipStation warehouse shipments ship from: `se-...` for V2, the numeric
    /// `warehouseId` for V1. When absent, ShipStation uses the account's default warehouse.
    #[serde(default)]
    pub warehouse_id: Option<String>,
}

impl ShipStationConfig {
    pub fn base_url(&self) -> &str {
        let default = match self.api_version {
            ApiVersion::V1 => DEFAULT_V1_BASE_URL,
            ApiVersion::V2 => DEFAULT_BASE_URL,
        };
        self.api_base_url
            .as_deref()
            .unwrap_or(default)
            .trim_end_matches('/')
    }

    pub fn requests_per_minute(&self) -> u32 {
        let default = match self.api_version {
            ApiVersion::V1 => DEFAULT_V1_REQUESTS_PER_MINUTE,
            ApiVersion::V2 => DEFAULT_REQUESTS_PER_MINUTE,
        };
        self.requests_per_minute.unwrap_or(default).max(1)
    }

    /// V1's numeric `warehouseId`, if one is configured; anything else is a config error.
    pub fn v1_warehouse_id(&self) -> Result<Option<u64>, String> {
        self.warehouse_id
            .as_deref()
            .map(|w| {
                w.trim()
                    .parse::<u64>()
                    .map_err(|_| "warehouse_id must be the numeric V1 warehouseId".to_string())
            })
            .transpose()
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
        assert_eq!(v1.base_url(), DEFAULT_V1_BASE_URL);
        assert_eq!(v1.requests_per_minute(), 40);
        assert_eq!(v1.v1_warehouse_id(), Ok(None));
        let w: ShipStationConfig =
            ordersync_sdk::parse_config(&json!({"api_version": "v1", "warehouse_id": "se-1"}))
                .unwrap();
        assert!(w.v1_warehouse_id().is_err());
        assert!(ordersync_sdk::parse_config::<ShipStationConfig>(&json!({"shop": 1})).is_err());
        assert!(
            ordersync_sdk::parse_config::<ShipStationConfig>(&json!({"api_version": "v3"}))
                .is_err()
        );
    }
}
