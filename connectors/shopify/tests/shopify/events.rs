//! `events.json`: the simulator logs order creations, updates and deletions, filtered and
//! paged like Shopify's REST list endpoints.

use crate::{env, fast};
use serde_json::{Value, json};

async fn list(e: &crate::Env, query: &str) -> (Vec<Value>, Option<String>, String) {
    let r = e
        .get(&format!("/admin/api/2026-07/events.json{query}"))
        .await;
    assert_eq!(r.status(), 200, "{query}");
    let limit = r.headers()["x-shopify-shop-api-call-limit"]
        .to_str()
        .unwrap()
        .to_string();
    let next = r.headers().get("link").map(|l| {
        let l = l.to_str().unwrap();
        assert!(l.ends_with("rel=\"next\""));
        l[1..l.find('>').unwrap()].to_string()
    });
    let v: Value = r.json().await.unwrap();
    (v["events"].as_array().unwrap().clone(), next, limit)
}

#[tokio::test]
async fn events_record_creates_updates_and_deletes() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 30, "seed": 41})).await;
    e.post("/_sim/update", json!({"count": 5})).await;
    assert_eq!(
        e.post("/_sim/delete", json!({"count": 3})).await["deleted"],
        3
    );
    let (all, next, limit) = list(&e, "?limit=250").await;
    assert_eq!(all.len(), 38);
    assert!(next.is_none());
    assert!(limit.ends_with("/40"));
    let verbs = |v: &[Value], verb: &str| v.iter().filter(|x| x["verb"] == verb).count();
    assert_eq!(
        (
            verbs(&all, "confirmed"),
            verbs(&all, "update"),
            verbs(&all, "destroy")
        ),
        (30, 5, 3)
    );
    let first = &all[0];
    assert_eq!(first["subject_type"], "Order");
    assert_eq!(
        first["path"],
        format!("/admin/orders/{}", first["subject_id"])
    );
    assert!(first["subject_id"].as_u64().unwrap() > 1 << 53);
    // The orders deleted are gone from the order surface.
    let gone = all.iter().find(|x| x["verb"] == "destroy").unwrap()["subject_id"].clone();
    assert_eq!(
        e.get(&format!("/admin/api/2026-07/orders/{gone}.json"))
            .await
            .status(),
        404
    );

    let (destroyed, _, _) = list(&e, "?filter=Order&verb=destroy").await;
    assert_eq!(destroyed.len(), 3);
    let (products, _, _) = list(&e, "?filter=Product").await;
    assert!(products.is_empty());
    let since = all[29]["id"].as_u64().unwrap();
    let (after, _, _) = list(&e, &format!("?since_id={since}")).await;
    assert_eq!(after.len(), 8);
    assert!(after.iter().all(|x| x["id"].as_u64().unwrap() > since));
}

#[tokio::test]
async fn events_page_with_link_and_page_info_refuses_filters() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 25, "seed": 42})).await;
    let mut url = Some("/admin/api/2026-07/events.json?verb=confirmed&limit=10".to_string());
    let mut ids = vec![];
    while let Some(u) = url.take() {
        let path = u.find("/admin/").map(|i| u[i..].to_string()).unwrap();
        let (page, next, _) = list(
            &e,
            path.trim_start_matches("/admin/api/2026-07/events.json"),
        )
        .await;
        ids.extend(page.iter().map(|x| x["id"].as_u64().unwrap()));
        url = next;
    }
    assert_eq!(ids.len(), 25);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first, no repeats"
    );
    let (_, next, _) = list(&e, "?limit=10").await;
    let tok = next.unwrap();
    let tok = &tok[tok.find("page_info=").unwrap() + 10..];
    let r = e
        .get(&format!(
            "/admin/api/2026-07/events.json?page_info={tok}&verb=update"
        ))
        .await;
    assert_eq!(r.status(), 400);
    let r = e
        .get("/admin/api/2026-07/events.json?created_at_min=2000-01-01T00:00:00Z&created_at_max=2000-01-02T00:00:00Z")
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["events"], json!([]));
}
