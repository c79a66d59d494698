//! Typed bodies of the `/_sim/*` control routes (ARCHITECTURE §10), shared by the simulators,
//! the demo and tests, so that no caller indexes control JSON by hand.

use super::{FaultConfig, SimCore};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `POST /_sim/seed` (sources): `count` deterministic orders from `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRequest {
    pub count: u64,
    #[serde(default)]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedResponse {
    pub created: u64,
}

/// `POST /_sim/update` (sources): edit the `count` least recently updated orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRequest {
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateResponse {
    pub updated: u64,
    /// The edited orders' external ids.
    #[serde(default)]
    pub ids: Vec<String>,
}

/// `GET /_sim/expected` (sources): the simulator's own truth of what a fulfillment target
/// should end up holding: per order (external id), the units left to ship per line (external
/// line id). Orders with nothing to ship (refunded, cancelled, tips and gift cards only) are
/// absent. The demo checks targets against it, not against our ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    /// Orders the simulator holds.
    pub orders: u64,
    pub shippable: BTreeMap<String, BTreeMap<String, u64>>,
    /// Orders a tracking target should follow: external order id → tracking number of the
    /// parcels the marketplace reports sent (empty where the platform reports none).
    #[serde(default)]
    pub tracked: BTreeMap<String, Vec<String>>,
}

/// `POST /_sim/expire_tokens` (OAuth platforms): how many access tokens were expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredResponse {
    pub expired: u64,
}

/// `GET /_sim/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimStats {
    pub requests: u64,
    /// 429s sent (the platform's limiter and injected ones).
    pub throttled: u64,
    pub faults_injected: u64,
    #[serde(default)]
    pub by_route: BTreeMap<String, u64>,
    /// What a simulator adds (`orders` a source holds, `shipments` ShipStation holds, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SimStats {
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }
}

/// `GET /_sim/received` (targets): every object the target holds, in creation order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Received {
    pub count: u64,
    pub objects: Vec<ReceivedObject>,
}

impl Received {
    pub fn new(objects: Vec<ReceivedObject>) -> Self {
        Self {
            count: objects.len() as u64,
            objects,
        }
    }

    /// Objects held per marketplace order: more than one is a duplicate delivery.
    pub fn per_order(&self) -> BTreeMap<&str, u64> {
        let mut m = BTreeMap::new();
        for o in &self.objects {
            *m.entry(o.external_order_id.as_str()).or_default() += 1;
        }
        m
    }
}

/// One object a target holds. Every target fills `external_order_id` (the marketplace
/// order's external id, as the sink sent it) and `object_key` (the key the sink made the
/// object unique with), so the demo counts deliveries the same way for every target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceivedObject {
    pub external_order_id: String,
    pub object_key: String,
    /// The idempotency key the platform saw, when it has that notion.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The platform's own id of the object (what a sink records as `external_ref`).
    pub external_ref: String,
    /// Times the object was created: more than one means the platform itself duplicated it.
    #[serde(default = "one")]
    pub creates: u64,
    #[serde(default)]
    pub updates: u64,
    #[serde(default)]
    pub status: Option<String>,
    /// What a fulfillment target holds to ship: units per marketplace line id (`None` for
    /// targets that do not ship, such as accounting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<BTreeMap<String, u64>>,
    /// Platform fields (`shipment_number`, …), kept at the top level of the object.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn one() -> u64 {
    1
}

/// `POST /_sim/faults` for any state that exposes its [`SimCore`].
pub async fn set_faults_handler<S: AsRef<SimCore>>(
    State(s): State<Arc<S>>,
    Json(cfg): Json<FaultConfig>,
) -> StatusCode {
    (*s).as_ref().set_faults(cfg);
    StatusCode::NO_CONTENT
}

/// `POST /_sim/reject {"count": n}` (targets): the next n writes fail with the platform's
/// own validation error, as a permanent rejection would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RejectRequest {
    pub count: u64,
}

/// `POST /_sim/reject` for any state that exposes its [`SimCore`].
pub async fn set_rejects_handler<S: AsRef<SimCore>>(
    State(s): State<Arc<S>>,
    Json(r): Json<RejectRequest>,
) -> StatusCode {
    (*s).as_ref().set_rejects(r.count);
    StatusCode::NO_CONTENT
}

/// `POST /_sim/hold {"count": n}` holds the next n API requests; `{"release": true}` lets the
/// held ones go on. `GET /_sim/hold` answers `{"held": n}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HoldRequest {
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub release: bool,
}

pub async fn set_hold_handler<S: AsRef<SimCore>>(
    State(s): State<Arc<S>>,
    Json(r): Json<HoldRequest>,
) -> StatusCode {
    let core = (*s).as_ref();
    if r.release {
        core.release_held();
    } else {
        core.set_hold(r.count);
    }
    StatusCode::NO_CONTENT
}

pub async fn held_handler<S: AsRef<SimCore>>(State(s): State<Arc<S>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "held": (*s).as_ref().held() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn received_round_trips_with_platform_fields_at_the_top_level() {
        let o = ReceivedObject {
            external_order_id: "1001".into(),
            object_key: "k1".into(),
            idempotency_key: Some("k1".into()),
            external_ref: "se-1".into(),
            creates: 1,
            updates: 2,
            status: Some("pending".into()),
            units: None,
            extra: Map::from_iter([("shipment_number".to_string(), json!("#1001"))]),
        };
        let r = Received::new(vec![
            o.clone(),
            ReceivedObject {
                object_key: "k2".into(),
                ..o
            },
        ]);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["count"], 2);
        assert_eq!(v["objects"][0]["shipment_number"], "#1001");
        assert_eq!(v["objects"][1]["object_key"], "k2");
        let back: Received = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.per_order().get("1001"), Some(&2));
    }

    #[test]
    fn stats_keep_simulator_fields() {
        let v = json!({"requests": 3, "throttled": 1, "faults_injected": 0,
                       "by_route": {"graphql": 3}, "orders": 12});
        let s: SimStats = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(s.extra["orders"], 12);
        assert_eq!(serde_json::to_value(&s).unwrap(), v);
        let s = SimStats::default().with("shipments", 4);
        assert_eq!(serde_json::to_value(&s).unwrap()["shipments"], 4);
    }

    #[test]
    fn seed_defaults_its_seed() {
        let r: SeedRequest = serde_json::from_value(json!({"count": 5})).unwrap();
        assert_eq!(r, SeedRequest { count: 5, seed: 0 });
    }
}
