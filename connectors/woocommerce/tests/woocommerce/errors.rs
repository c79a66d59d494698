//! Hosts in front of WordPress: a WAF's HTML 403 and the maintenance page's 503 are retried
//! (with the page's `Retry-After`), named as HTML, and read through when they pass.

use crate::{env, read_all};
use ordersync_sdk::{ErrorClass, PullCursor};
use ordersync_woocommerce::sim::SimOptions;
use serde_json::json;
use std::time::Duration;

async fn fail_all(kind: &str, opts: SimOptions) -> ordersync_sdk::ConnectorError {
    let e = env(opts).await;
    e.seed(5, 41).await;
    e.post("/_sim/faults", json!({ "rate": 1.0, "kinds": [kind] }))
        .await;
    e.source()
        .pull(&PullCursor {
            since: None,
            until: e.until(),
            page_token: None,
        })
        .await
        .unwrap_err()
}

#[tokio::test]
async fn a_waf_block_page_is_retriable_and_says_html() {
    let err = fail_all("waf403", SimOptions::default()).await;
    assert_eq!(err.class(), ErrorClass::Retriable);
    assert!(err.to_string().contains("HTML"), "{err}");
}

#[tokio::test]
async fn the_maintenance_page_is_retried_after_its_retry_after() {
    let err = fail_all(
        "maintenance503",
        SimOptions {
            maintenance_retry_after: 1,
            ..SimOptions::default()
        },
    )
    .await;
    assert_eq!(err.class(), ErrorClass::Retriable);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert!(err.to_string().contains("HTML"), "{err}");
}

#[tokio::test]
async fn the_host_429_and_wordpress_critical_error_are_classified() {
    let err = fail_all("500", SimOptions::default()).await;
    assert_eq!(err.class(), ErrorClass::Retriable);
    assert!(err.to_string().contains("internal_server_error"), "{err}");
}

#[tokio::test]
async fn a_window_reads_through_occasional_waf_pages() {
    let e = env(SimOptions::default()).await;
    e.seed(150, 42).await;
    e.post("/_sim/faults", json!({ "rate": 0.25, "kinds": ["waf403"] }))
        .await;
    let (orders, rejected, _) = read_all(&*e.source(), None, e.until()).await;
    assert_eq!(orders.len() + rejected.len(), 150);
    let stats: serde_json::Value = reqwest::get(format!("{}/_sim/stats", e.sim.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["faults_injected"].as_u64().unwrap() > 0);
}
