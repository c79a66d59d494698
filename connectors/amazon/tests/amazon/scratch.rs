use crate::{env, fast_plan, REFRESH};
use ordersync_amazon::sim::SimOptions;
use ordersync_sdk::PullCursor;
use serde_json::json;

#[tokio::test]
async fn scratch_find_unbalanced() {
    let e = env(SimOptions::relaxed()).await;
    for seed in 1..8 { e.post("/_sim/seed", json!({"count": 4000, "seed": seed})).await; }
    for c in ordersync_amazon::sim::CASES { e.post("/_sim/case", json!({"case": c})).await; }
    let src = e.build(json!({ "rate_limits": fast_plan() }), REFRESH);
    use ordersync_sdk::Source;
    let mut token = None;
    loop {
        let p = src.pull(&PullCursor { since: None, until: e.until(), page_token: token }).await.unwrap();
        for r in &p.rejected {
            println!("REJECT {} {}", r.external_id, r.reason);
            let v: serde_json::Value = e.api(&format!("/orders/2026-01-01/orders/{}?includedData=PROCEEDS,FULFILLMENT,CANCELLATION,TAX,PROMOTION", r.external_id)).await.json().await.unwrap();
            println!("{}", serde_json::to_string_pretty(&v).unwrap());
        }
        token = p.next_page_token;
        if token.is_none() { break; }
    }
}
