//! Bulk operations: the simulator's export (statuses, JSONL with `__parentId`, grouping,
//! pre-signed download) and the connector's first sync of a large store through it.

use crate::{TOKEN, env, fast, read_all};
use ordersync_sdk::{PullCursor, Source};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use time::Duration;

const RUN: &str = "mutation($q: String!, $g: Boolean) { bulkOperationRunQuery(query: $q, groupObjects: $g) { bulkOperation { id status } userErrors { field message code } } }";
const POLL: &str = "query($id: ID!) { node(id: $id) { ... on BulkOperation { id status objectCount rootObjectCount url } } }";
const EXPORT: &str = "{ orders(sortKey: UPDATED_AT) { edges { node { id updatedAt lineItems { edges { node { id } } } } } } }";

/// Runs a bulk export to completion and returns its JSONL lines.
async fn export(e: &crate::Env, version: &str, group: Option<bool>) -> Vec<Value> {
    let v = e
        .gql(version, RUN, json!({ "q": EXPORT, "g": group }))
        .await;
    let p = &v["data"]["bulkOperationRunQuery"];
    assert_eq!(p["userErrors"], json!([]), "{v}");
    assert_eq!(p["bulkOperation"]["status"], "CREATED");
    assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 10.0);
    let id = p["bulkOperation"]["id"].as_str().unwrap().to_string();
    let running = e.gql(version, POLL, json!({ "id": id })).await;
    assert_eq!(running["data"]["node"]["status"], "RUNNING");
    assert!(running["data"]["node"]["url"].is_null());
    let done = e.gql(version, POLL, json!({ "id": id })).await;
    let node = &done["data"]["node"];
    assert_eq!(node["status"], "COMPLETED");
    let url = node["url"].as_str().unwrap();
    // A pre-signed link: no access token, and not without its signature.
    let body = reqwest::get(url).await.unwrap();
    assert_eq!(body.status(), 200);
    let text = body.text().await.unwrap();
    let unsigned = url.split('?').next().unwrap();
    assert_eq!(reqwest::get(unsigned).await.unwrap().status(), 403);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        node["rootObjectCount"],
        lines
            .iter()
            .filter(|l| l.get("__parentId").is_none())
            .count()
            .to_string()
    );
    assert_eq!(node["objectCount"], lines.len().to_string());
    lines
}

fn is_child(l: &Value) -> bool {
    l.get("__parentId").is_some()
}

#[tokio::test]
async fn sim_exports_jsonl_grouped_only_when_asked_since_2026_01() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 30, "seed": 31})).await;
    // 2026-07 without groupObjects: every order first, the line items after all of them.
    let flat = export(&e, "2026-07", None).await;
    let first_child = flat.iter().position(is_child).unwrap();
    assert_eq!(first_child, 30);
    assert!(flat[first_child..].iter().all(is_child));
    // Every child names an order that came before it.
    let orders: HashSet<_> = flat[..30]
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(
        flat[30..]
            .iter()
            .all(|c| orders.contains(c["__parentId"].as_str().unwrap()))
    );
    // The export honours sortKey, and order lines carry no nested connection.
    let updated: Vec<_> = flat[..30]
        .iter()
        .map(|o| o["updatedAt"].as_str().unwrap())
        .collect();
    assert!(updated.windows(2).all(|w| w[0] <= w[1]));
    assert!(flat[..30].iter().all(|o| o.get("lineItems").is_none()));
    // groupObjects: true, or an older version: each order directly followed by its lines.
    for (version, group) in [("2026-07", Some(true)), ("2025-01", None)] {
        let grouped = export(&e, version, group).await;
        let mut parent = None;
        for l in &grouped {
            match l.get("__parentId") {
                None => parent = l["id"].as_str(),
                Some(p) => assert_eq!(p.as_str(), parent, "{version}"),
            }
        }
    }
}

#[tokio::test]
async fn sim_refuses_a_second_running_export_and_bad_bulk_queries() {
    let e = env(fast()).await;
    let v = e.gql("2026-07", RUN, json!({ "q": EXPORT })).await;
    assert_eq!(v["data"]["bulkOperationRunQuery"]["userErrors"], json!([]));
    let again = e.gql("2026-07", RUN, json!({ "q": EXPORT })).await;
    let p = &again["data"]["bulkOperationRunQuery"];
    assert!(p["bulkOperation"].is_null());
    assert_eq!(p["userErrors"][0]["code"], "OPERATION_IN_PROGRESS");
    e.clock.advance(Duration::seconds(31));
    for bad in [
        "{ orders { edges { node { id ",
        "{ products { edges { node { id } } } }",
    ] {
        let v = e.gql("2026-07", RUN, json!({ "q": bad })).await;
        assert_eq!(
            v["data"]["bulkOperationRunQuery"]["userErrors"][0]["code"], "INVALID",
            "{bad}"
        );
    }
    // The time-based completion freed the shop for a new export.
    let v = e.gql("2026-07", RUN, json!({ "q": EXPORT })).await;
    assert_eq!(v["data"]["bulkOperationRunQuery"]["userErrors"], json!([]));
    let current = e
        .gql(
            "2026-07",
            "{ currentBulkOperation { id status } }",
            json!({}),
        )
        .await;
    assert_eq!(
        current["data"]["currentBulkOperation"]["id"],
        v["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
    );
}

/// Reads one window like the engine does, returning orders, pages and tokens seen.
async fn read_window(
    src: &dyn Source,
    until: time::OffsetDateTime,
) -> (Vec<ordersync_sdk::Order>, Vec<Option<String>>) {
    let mut token = None;
    let mut out = vec![];
    let mut tokens = vec![];
    for _ in 0..200 {
        let p = src
            .pull(&PullCursor {
                since: None,
                until,
                page_token: token,
            })
            .await
            .expect("page");
        assert!(p.rejected.is_empty());
        // Within a page, oldest first.
        assert!(
            p.orders
                .windows(2)
                .all(|w| w[0].updated_at <= w[1].updated_at)
        );
        out.extend(p.orders);
        tokens.push(p.next_page_token.clone());
        match p.next_page_token {
            Some(t) => token = Some(t),
            None => return (out, tokens),
        }
    }
    panic!("window never ended");
}

#[tokio::test]
async fn first_sync_of_a_large_store_runs_one_bulk_export() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 230, "seed": 32}))
        .await;
    let big = e.post("/_sim/order", json!({ "lines": 300 })).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let src = e.source_with(json!({ "page_size": 100, "bulk_threshold": 200 }), TOKEN);
    let until = e.until();
    let (orders, tokens) = read_window(&*src, until).await;
    let ids: HashSet<_> = orders.iter().map(|o| o.external_id.clone()).collect();
    assert_eq!((ids.len(), orders.len()), (231, 231));
    let b = orders.iter().find(|o| o.external_id == big).unwrap();
    assert_eq!(b.lines.len(), 300);
    // Fulfillments come inline with their order (a list, not a child connection).
    let want: ordersync_sdk::sim::Expected = e.get("/_sim/expected").await.json().await.unwrap();
    let tracked: std::collections::BTreeMap<String, Vec<String>> = orders
        .iter()
        .filter(|o| !o.fulfillments.is_empty())
        .map(|o| {
            let n = o.fulfillments.iter().map(|f| f.tracking_number.clone());
            (o.external_id.clone(), n.collect())
        })
        .collect();
    assert!(!tracked.is_empty());
    assert_eq!(tracked, want.tracked);
    assert!(tokens.iter().flatten().all(|t| t.starts_with("bulk:")));
    let ops = e.bulk_ops().await;
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["status"], "COMPLETED");
    assert_eq!(
        ops[0]["grouped"], true,
        "the connector asks for grouped output"
    );
    assert_eq!(
        ops[0]["downloads"], 1,
        "one streamed download, read page by page"
    );
    // The next window is incremental: paged queries, no new export.
    e.clock.advance(Duration::seconds(5));
    e.post("/_sim/update", json!({"count": 3})).await;
    e.clock.advance(Duration::seconds(70));
    let (next, _) = read_all(&*src, Some(until - Duration::minutes(5)), e.until()).await;
    assert_eq!(next.iter().filter(|o| o.updated_at > until).count(), 3);
    assert_eq!(e.bulk_ops().await.len(), 1);
}

#[tokio::test]
async fn small_stores_and_disabled_threshold_page_as_usual() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 40, "seed": 33})).await;
    for extra in [
        json!({ "bulk_threshold": 40 }),
        json!({ "bulk_threshold": null }),
    ] {
        let src = e.source_with(extra, TOKEN);
        let (orders, _) = read_all(&*src, None, e.until()).await;
        assert_eq!(orders.len(), 40);
    }
    assert!(e.bulk_ops().await.is_empty());
}

#[tokio::test]
async fn a_failed_export_falls_back_to_paged_reads() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 60, "seed": 34})).await;
    e.post("/_sim/bulk/fail_next", json!({})).await;
    let src = e.source_with(json!({ "bulk_threshold": 10 }), TOKEN);
    let (orders, tokens) = read_window(&*src, e.until()).await;
    let ids: HashSet<_> = orders.iter().map(|o| o.external_id.clone()).collect();
    assert_eq!(ids.len(), 60);
    assert!(tokens.contains(&Some("page:".to_string())), "{tokens:?}");
    assert_eq!(e.bulk_ops().await[0]["status"], "FAILED");
}

#[tokio::test]
async fn a_bulk_read_resumes_in_a_new_process_from_its_token() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 120, "seed": 35}))
        .await;
    let extra = json!({ "page_size": 50, "bulk_threshold": 100 });
    let until = e.until();
    let first: Arc<dyn Source> = e.source_with(extra.clone(), TOKEN);
    let mut token = None;
    let mut seen = vec![];
    // Poll until the first page of orders arrives.
    while seen.is_empty() {
        let p = first
            .pull(&PullCursor {
                since: None,
                until,
                page_token: token.clone(),
            })
            .await
            .unwrap();
        seen.extend(p.orders);
        token = p.next_page_token;
    }
    assert_eq!(seen.len(), 50);
    // A restarted worker has no open download: it re-opens the result and skips to the token.
    let second = e.source_with(extra, TOKEN);
    while let Some(t) = token.take() {
        let p = second
            .pull(&PullCursor {
                since: None,
                until,
                page_token: Some(t),
            })
            .await
            .unwrap();
        seen.extend(p.orders);
        token = p.next_page_token;
    }
    let ids: HashSet<_> = seen.iter().map(|o| o.external_id.clone()).collect();
    assert_eq!((ids.len(), seen.len()), (120, 120));
    assert_eq!(e.bulk_ops().await[0]["downloads"], 2);
}
