//! Fulfillments of the simulator's orders: what `/_sim/expected` says (`tracked`, and no
//! fully fulfilled order in `shippable`) is what the connector maps, from GraphQL and REST.

use crate::{TOKEN, env, fast, read_all};
use ordersync_sdk::sim::Expected;
use ordersync_sdk::{Clock, FulfillmentStatus, Order, OrderStatus};
use ordersync_shopify::mapping::order_from_rest;
use ordersync_shopify::queries::{FULFILLMENT_PAGE, ORDERS_QUERY};
use serde_json::{Value, json};
use std::collections::BTreeMap;

type Units = BTreeMap<String, BTreeMap<String, u64>>;

async fn expected(e: &crate::Env) -> Expected {
    e.get("/_sim/expected").await.json().await.unwrap()
}

/// Tracking numbers of the mapped orders that have any.
fn tracked(orders: &[Order]) -> BTreeMap<String, Vec<String>> {
    orders
        .iter()
        .filter(|o| !o.fulfillments.is_empty())
        .map(|o| {
            let n = o.fulfillments.iter().map(|f| f.tracking_number.clone());
            (o.external_id.clone(), n.collect())
        })
        .collect()
}

/// Units to ship of the mapped orders that are neither cancelled nor fully fulfilled.
fn shippable(orders: &[Order]) -> Units {
    let mut out = Units::new();
    for o in orders.iter().filter(|o| {
        o.status != OrderStatus::Cancelled && o.fulfillment_status != FulfillmentStatus::Fulfilled
    }) {
        let units: BTreeMap<String, u64> = o
            .lines_to_ship()
            .map(|l| (l.external_line_id.clone(), u64::from(l.current_quantity)))
            .filter(|(_, n)| *n > 0)
            .collect();
        if !units.is_empty() {
            out.insert(o.external_id.clone(), units);
        }
    }
    out
}

#[tokio::test]
async fn expected_tracking_and_shippable_match_what_the_connector_maps() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 300, "seed": 21}))
        .await;
    let (orders, _) = read_all(&*e.source(250, TOKEN), None, e.until()).await;
    assert_eq!(orders.len(), 300);
    let want = expected(&e).await;
    assert_eq!(tracked(&orders), want.tracked);
    assert_eq!(shippable(&orders), want.shippable);
    // The mix has fulfilled orders (left out of shippable) and partial ones (kept).
    let with = |s| orders.iter().filter(|o| o.fulfillment_status == s).count();
    assert!(with(FulfillmentStatus::Fulfilled) > 10 && with(FulfillmentStatus::Partial) > 10);
    assert!(
        orders
            .iter()
            .filter(|o| o.fulfillment_status == FulfillmentStatus::Fulfilled)
            .all(|o| !want.shippable.contains_key(&o.external_id))
    );
    // Every order that shipped anything has a parcel; the others none.
    for o in &orders {
        // Shipped goods stay shipped when refunded later.
        let shipped = matches!(
            o.fulfillment_status,
            FulfillmentStatus::Fulfilled | FulfillmentStatus::Partial
        ) && o.lines.iter().any(|l| l.ships());
        assert_eq!(!o.fulfillments.is_empty(), shipped, "{}", o.external_id);
        assert!(o.fulfillments.len() <= FULFILLMENT_PAGE as usize);
        for f in &o.fulfillments {
            assert!(
                f.shipped_at
                    .is_some_and(|t| t >= o.created_at && t <= o.updated_at)
            );
            let carrier = f.carrier.as_deref().unwrap();
            let n = &f.tracking_number;
            let ok = match carrier {
                "UPS" => n.starts_with("1Z") && n.len() == 18,
                "USPS" => n.starts_with("9400") && n.len() == 22,
                "FedEx" => n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit()),
                "DHL Express" => n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()),
                "Royal Mail" => n.starts_with("RM") && n.ends_with("GB") && n.len() == 13,
                other => panic!("unexpected carrier {other}"),
            };
            assert!(ok, "{carrier} {n}");
        }
    }
    // Tracking numbers are unique across the shop.
    let all: Vec<&String> = want.tracked.values().flatten().collect();
    let unique: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!(all.len(), unique.len());
}

#[tokio::test]
async fn rest_orders_carry_the_same_fulfillments_with_cancelled_ones_skipped() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 250, "seed": 22}))
        .await;
    let v: Value = e
        .get("/admin/api/2026-07/orders.json?status=any&limit=250")
        .await
        .json()
        .await
        .unwrap();
    let raw = v["orders"].as_array().unwrap();
    // (The simulator's REST rendering of a few money cases does not balance; they are not
    // what this test is about.)
    let orders: Vec<Order> = raw.iter().filter_map(|o| order_from_rest(o).ok()).collect();
    assert!(orders.len() > 200, "{}", orders.len());
    let mut want = expected(&e).await.tracked;
    want.retain(|id, _| orders.iter().any(|o| &o.external_id == id));
    assert_eq!(tracked(&orders), want);
    // The shape of the example, and the voided labels the mix has.
    let all: Vec<&Value> = raw
        .iter()
        .flat_map(|o| o["fulfillments"].as_array().unwrap())
        .collect();
    let cancelled = all.iter().filter(|f| f["status"] == "cancelled").count();
    assert!(cancelled > 0 && all.iter().any(|f| f["status"] == "success"));
    for f in &all {
        assert_eq!(f["tracking_numbers"][0], f["tracking_number"]);
        assert!(f["tracking_url"].as_str().unwrap().starts_with("https://"));
        assert!(!f["line_items"].as_array().unwrap().is_empty());
        assert!(
            f["admin_graphql_api_id"]
                .as_str()
                .unwrap()
                .starts_with("gid://shopify/Fulfillment/")
        );
    }
}

#[tokio::test]
async fn an_edit_that_fulfils_an_order_adds_its_parcel_and_takes_it_off_shippable() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 60, "seed": 23})).await;
    let before = expected(&e).await;
    // Two edits: every touched open order moves to partial, then fulfilled.
    let touched: Value = e.post("/_sim/update", json!({"count": 60})).await;
    assert_eq!(touched["updated"], 60);
    e.post("/_sim/update", json!({"count": 60})).await;
    let after = expected(&e).await;
    let (orders, _) = read_all(&*e.source(250, TOKEN), None, e.clock.now()).await;
    assert_eq!(tracked(&orders), after.tracked);
    assert_eq!(shippable(&orders), after.shippable);
    assert!(after.tracked.len() > before.tracked.len());
    assert!(after.shippable.len() < before.shippable.len());
    // A parcel, once sent, keeps its number.
    for (id, numbers) in &before.tracked {
        assert!(after.tracked[id].starts_with(numbers), "{id}");
    }
}

#[tokio::test]
async fn fulfillments_are_charged_as_a_sized_list_and_refunded_when_fewer_come() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 40, "seed": 24})).await;
    let want = expected(&e).await;
    let q = "query($first: Int!) { orders(first: $first, query: \"updated_at:<='2100-01-01T00:00:00Z'\") { edges { node { id fulfillments(first: 2) { status createdAt trackingInfo { number company } } } } } }";
    let v = e.gql("2026-07", q, json!({ "first": 40 })).await;
    assert!(v["errors"].is_null(), "{v}");
    let cost = &v["extensions"]["cost"];
    // One order: 1 + (2 + 2 × (1 + trackingInfo 1)); 40 of them and the connection's 2.
    assert_eq!(cost["requestedQueryCost"], 2.0 + 40.0 * 7.0);
    let nodes: Vec<&Value> = v["data"]["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let returned: usize = nodes
        .iter()
        .map(|n| n["fulfillments"].as_array().unwrap().len())
        .sum();
    assert!(returned > 0);
    assert_eq!(
        cost["actualQueryCost"],
        2.0 + 40.0 * 3.0 + 2.0 * returned as f64
    );
    let live: usize = nodes
        .iter()
        .flat_map(|n| n["fulfillments"].as_array().unwrap())
        .filter(|f| f["status"] == "SUCCESS")
        .count();
    assert_eq!(live, want.tracked.values().map(Vec::len).sum::<usize>());
    // `first: 1` returns one at most; the connector's own page asks for FULFILLMENT_PAGE.
    let v = e
        .gql(
            "2026-07",
            &q.replace("first: 2", "first: 1"),
            json!({ "first": 40 }),
        )
        .await;
    let edges = v["data"]["orders"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 40);
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["fulfillments"].as_array().unwrap().len() <= 1)
    );
    assert!(ORDERS_QUERY.contains(&format!("fulfillments(first: {FULFILLMENT_PAGE})")));
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The GraphQL fulfillments the simulator renders are typed as the 2025-01 Admin schema says;
/// the REST ones have the example's keys.
#[tokio::test]
async fn rendered_fulfillments_follow_the_schema_and_the_example() {
    let schema = fixture("admin_schema_2025-01.fulfillment.json");
    assert_eq!(schema["Order.fulfillments"], "[Fulfillment!]!");
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 120, "seed": 25}))
        .await;
    let q = "query($first: Int!) { orders(first: $first, query: \"updated_at:<='2100-01-01T00:00:00Z'\") { edges { node { id fulfillments(first: 2) { id legacyResourceId name status displayStatus createdAt updatedAt requiresShipping totalQuantity trackingInfo { number company url } } } } } }";
    let v = e.gql("2026-07", q, json!({ "first": 120 })).await;
    assert!(v["errors"].is_null(), "{v}");
    let fields = schema["Fulfillment"].as_object().unwrap();
    let enum_has = |e: &str, x: &Value| {
        schema[e]
            .as_array()
            .unwrap()
            .iter()
            .any(|y| Some(y) == Some(x))
    };
    let mut seen = 0;
    for edge in v["data"]["orders"]["edges"].as_array().unwrap() {
        for f in edge["node"]["fulfillments"].as_array().unwrap() {
            seen += 1;
            let f = f.as_object().unwrap();
            for (k, x) in f {
                let t = fields
                    .get(k)
                    .unwrap_or_else(|| panic!("Fulfillment has no field {k}"))
                    .as_str()
                    .unwrap();
                let ok = match t.trim_end_matches('!') {
                    "ID" | "String" => x.is_string(),
                    "UnsignedInt64" => x.as_str().is_some_and(|s| s.parse::<u64>().is_ok()),
                    "DateTime" => x.as_str().is_some_and(|s| {
                        time::OffsetDateTime::parse(
                            s,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .is_ok()
                    }),
                    "Boolean" => x.is_boolean(),
                    "Int" => x.is_i64(),
                    "FulfillmentStatus" => enum_has("FulfillmentStatus", x),
                    "FulfillmentDisplayStatus" => enum_has("FulfillmentDisplayStatus", x),
                    "[FulfillmentTrackingInfo!]" => x.as_array().is_some_and(|a| {
                        a.iter().all(|i| {
                            i.as_object().is_some_and(|o| {
                                o.keys()
                                    .all(|k| schema["FulfillmentTrackingInfo"].get(k).is_some())
                            })
                        })
                    }),
                    other => panic!("{k}: untested type {other}"),
                };
                assert!(ok, "{k}: {x} is not a {t}");
            }
            // Every non-null field that is not a connection or an object is there.
            for (k, t) in fields {
                let t = t.as_str().unwrap();
                let object = t.ends_with("Connection!") || t == "Order!";
                if t.ends_with('!') && !object {
                    assert!(f.get(k).is_some_and(|x| !x.is_null()), "missing {k}");
                }
            }
        }
    }
    assert!(seen > 10, "{seen}");

    let example = fixture("GET_order_450789469.response.json");
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let want = keys(&example["order"]["fulfillments"][0]);
    let r: Value = e
        .get("/admin/api/2026-07/orders.json?status=any&limit=250")
        .await
        .json()
        .await
        .unwrap();
    let rest: Vec<&Value> = r["orders"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["fulfillments"].as_array().unwrap())
        .collect();
    assert!(!rest.is_empty());
    for f in rest {
        assert_eq!(keys(f), want);
    }
}
