//! Connection config of an `aftership` sink (the `config` JSON of a connection).

use ordersync_sdk::ConnectorError;
use ordersync_sdk::schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The real API host.
pub const DEFAULT_BASE_URL: &str = "https://api.aftership.com";
/// The API version the connector is written against (the 2024-04+ unwrapped payloads).
pub const DEFAULT_API_VERSION: &str = "2026-07";
/// Oldest version with the payload shape we send (unwrapped body, `customers[]`).
pub const OLDEST_API_VERSION: &str = "2024-04";

/// Per-endpoint limits AfterShip documents (requests per second, since 2024-07).
pub const CREATE_PER_SECOND: u32 = 20;
pub const LIST_PER_SECOND: u32 = 6;
pub const BY_ID_PER_SECOND: u32 = 5;

/// Carrier names as marketplaces write them → AfterShip courier slugs. Matching ignores case
/// and spaces; a connection's `slugs` are merged over these.
pub const DEFAULT_SLUGS: &[(&str, &str)] = &[
    ("UPS", "ups"),
    ("USPS", "usps"),
    ("FedEx", "fedex"),
    ("DHL", "dhl"),
    ("DHL Express", "dhl"),
    ("Royal Mail", "royal-mail"),
    ("DPD", "dpd"),
    ("Canada Post", "canada-post"),
    ("Australia Post", "australia-post"),
    ("Deutsche Post", "deutsch-post"),
    ("PostNL", "postnl-3s"),
    ("Japan Post", "japan-post"),
];

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[schemars(crate = "ordersync_sdk::schemars")]
#[serde(deny_unknown_fields)]
pub struct AfterShipConfig {
    /// Base URL without `/tracking/...`. Defaults to `https://api.aftership.com`; tests and the
    /// demo point it at the simulator.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// Dated API version `YYYY-MM` (default `2026-07`; `2024-04` or later).
    #[serde(default)]
    pub api_version: Option<String>,
    /// Carrier name as the marketplace writes it → AfterShip slug, merged over the built-in
    /// map (UPS, USPS, FedEx, DHL, Royal Mail, ...). Matching ignores case and spaces.
    #[serde(default)]
    pub slugs: BTreeMap<String, String>,
    /// Send the buyer's name and email as `customers[]` so that AfterShip emails them. Off by
    /// default (data minimisation): AfterShip then holds no buyer data from us.
    #[serde(default)]
    pub send_customers: bool,
    /// `POST /trackings` requests per second (default 20).
    #[serde(default)]
    pub create_per_second: Option<u32>,
    /// `GET /trackings` requests per second (default 6).
    #[serde(default)]
    pub list_per_second: Option<u32>,
    /// `GET/PUT/DELETE /trackings/{id}` requests per second (default 5).
    #[serde(default)]
    pub by_id_per_second: Option<u32>,
}

impl AfterShipConfig {
    pub fn base_url(&self) -> &str {
        self.api_base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
    }

    /// The version, checked: `YYYY-MM`, a real month, not older than 2024-04.
    pub fn api_version(&self) -> Result<&str, ConnectorError> {
        let v = self.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION);
        if !is_dated_version(v) {
            return Err(ConnectorError::permanent(
                "invalid config: api_version must be a dated version YYYY-MM (e.g. 2026-07)",
            ));
        }
        // Lexical order is date order for YYYY-MM.
        if v < OLDEST_API_VERSION {
            return Err(ConnectorError::permanent(
                "invalid config: api_version must be 2024-04 or later (unwrapped payloads)",
            ));
        }
        Ok(v)
    }

    /// The carrier map: defaults, then the connection's entries over them.
    pub fn slug_map(&self) -> Result<BTreeMap<String, String>, ConnectorError> {
        let mut m: BTreeMap<String, String> = DEFAULT_SLUGS
            .iter()
            .map(|(k, v)| (carrier_key(k), (*v).to_string()))
            .collect();
        for (k, v) in &self.slugs {
            let slug = v.trim();
            if !is_slug(slug) {
                return Err(ConnectorError::permanent(format!(
                    "invalid config: slugs[{k:?}] is not an AfterShip slug (lowercase letters, digits, -)"
                )));
            }
            m.insert(carrier_key(k), slug.to_string());
        }
        Ok(m)
    }

    pub fn rates(&self) -> (u32, u32, u32) {
        let r = |v: Option<u32>, d: u32| v.unwrap_or(d).max(1);
        (
            r(self.create_per_second, CREATE_PER_SECOND),
            r(self.list_per_second, LIST_PER_SECOND),
            r(self.by_id_per_second, BY_ID_PER_SECOND),
        )
    }
}

/// How carrier names are compared: case- and space-insensitive (`Royal Mail` = `royalmail`).
pub fn carrier_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// AfterShip slugs: lowercase ASCII letters, digits and `-`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_dated_version(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() != 7 || b[4] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !digits(0..4) || !digits(5..7) {
        return false;
    }
    matches!(v[5..7].parse::<u8>(), Ok(1..=12))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: serde_json::Value) -> AfterShipConfig {
        ordersync_sdk::parse_config(&v).unwrap()
    }

    #[test]
    fn defaults() {
        let c = cfg(json!({}));
        assert_eq!(c.base_url(), DEFAULT_BASE_URL);
        assert_eq!(c.api_version().unwrap(), "2026-07");
        assert_eq!(c.rates(), (20, 6, 5));
        assert!(!c.send_customers);
        assert_eq!(c.slug_map().unwrap()["royalmail"], "royal-mail");
        assert!(ordersync_sdk::parse_config::<AfterShipConfig>(&json!({"shop": 1})).is_err());
    }

    #[test]
    fn versions_are_dated_and_recent_enough() {
        for ok in ["2024-04", "2025-01", "2026-07"] {
            assert!(
                cfg(json!({"api_version": ok})).api_version().is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "v4",
            "2026-13",
            "2026-7",
            "2023-10",
            "2026-07-01",
            "2026/07",
            "２０２６-07",
        ] {
            assert!(
                cfg(json!({"api_version": bad})).api_version().is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn slugs_merge_over_defaults_and_are_checked() {
        let c = cfg(json!({"slugs": {"Evri": "hermes", "ups ": "ups-mi"}}));
        let m = c.slug_map().unwrap();
        assert_eq!(m["evri"], "hermes");
        assert_eq!(m["ups"], "ups-mi");
        assert_eq!(m["dhlexpress"], "dhl");
        let bad = cfg(json!({"slugs": {"X": "Not A Slug"}}));
        assert!(bad.slug_map().is_err());
    }
}
