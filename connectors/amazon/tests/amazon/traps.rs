//! Amazon's traps, each reproduced by the simulator and handled by the connector: the
//! two-minute rule, pagination tokens tied to their filters and dying after 24 hours, the
//! usage plan (0.0056 req/s), the rate header present only sometimes, 429s without
//! `Retry-After`, 403 for a missing role, expiring LWA tokens, and HTML outages.
//! Time moves on the `ManualClock` only; nothing sleeps.

use crate::{Env, REFRESH, env, fast_plan, read_all};
use ordersync_amazon::sim::SimOptions;
use ordersync_amazon::{OVERLAP, SETTLE};
use ordersync_sdk::{Clock, ConnectorError, ErrorClass, PullCursor, Source};
use serde_json::{Value, json};
use std::time::Duration;

const SEARCH: &str = "/orders/2026-01-01/orders";

fn stamp(t: ordersync_sdk::OffsetDateTime) -> String {
    ordersync_amazon::paging::amazon_time(t)
}

async fn searches(e: &Env) -> u64 {
    e.get("/_sim/stats").await["by_route"]["searchOrders"]
        .as_u64()
        .unwrap_or(0)
}

async fn error_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Amazon refuses `lastUpdatedBefore` later than now − 2 min; the connector never sends one
/// (settle 3 min, and a window ending later is clamped).
#[tokio::test]
async fn last_updated_before_within_two_minutes_is_refused_and_never_sent() {
    let e = env(SimOptions::relaxed()).await;
    e.post("/_sim/seed", json!({ "count": 30, "seed": 1 }))
        .await;
    let now = e.clock.now();
    let q = |before: String| {
        format!(
            "{SEARCH}?lastUpdatedAfter=2026-01-01T00:00:00Z&lastUpdatedBefore={before}&marketplaceIds=ATVPDKIKX0DER"
        )
    };
    let (status, body) = error_of(e.api(&q(stamp(now - time::Duration::seconds(60)))).await).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["code"], "InvalidInput");
    assert!(
        body["errors"][0]["details"]
            .as_str()
            .unwrap()
            .contains("two minutes")
    );
    assert_eq!(
        e.api(&q(stamp(now - time::Duration::seconds(121))))
            .await
            .status(),
        200
    );
    let src = e.source();
    assert!(src.capabilities().settle >= time::Duration::minutes(3));
    // A caller that ignores the settle: the window end (now) is clamped, and it all reads.
    let (orders, _) = read_all(&*src, None, now).await;
    assert_eq!(orders.len(), 30);
    // A window ending beyond what the overlap re-reads is refused without a request.
    let before = searches(&e).await;
    let err = src
        .pull(&PullCursor {
            since: None,
            until: now + OVERLAP + time::Duration::minutes(5),
            page_token: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retriable);
    assert!(err.retry_after().is_some());
    assert_eq!(searches(&e).await, before);
}

/// The search's other rules: exactly one lower bound, marketplaces required, page sizes,
/// known `includedData`, inclusive bounds, oldest first, `createdAfter` searches.
#[tokio::test]
async fn search_parameters_are_checked_like_amazon() {
    let e = env(SimOptions::relaxed()).await;
    e.post("/_sim/seed", json!({ "count": 40, "seed": 2 }))
        .await;
    let old = "2026-01-01T00:00:00Z";
    for (q, why) in [
        (
            format!("{SEARCH}?marketplaceIds=ATVPDKIKX0DER"),
            "Exactly one",
        ),
        (
            format!(
                "{SEARCH}?createdAfter={old}&lastUpdatedAfter={old}&marketplaceIds=ATVPDKIKX0DER"
            ),
            "Exactly one",
        ),
        (format!("{SEARCH}?lastUpdatedAfter={old}"), "marketplaceIds"),
        (
            format!(
                "{SEARCH}?lastUpdatedAfter={old}&marketplaceIds=ATVPDKIKX0DER&maxResultsPerPage=101"
            ),
            "maxResultsPerPage",
        ),
        (
            format!(
                "{SEARCH}?lastUpdatedAfter={old}&marketplaceIds=ATVPDKIKX0DER&includedData=BUYER,SECRETS"
            ),
            "includedData",
        ),
        (
            format!("{SEARCH}?lastUpdatedAfter=soon&marketplaceIds=ATVPDKIKX0DER"),
            "ISO 8601",
        ),
    ] {
        let (status, body) = error_of(e.api(&q).await).await;
        assert_eq!(status, 400, "{q}");
        let details = body["errors"][0]["details"].as_str().unwrap_or("");
        assert!(details.contains(why), "{q}: {details}");
    }
    // Oldest first, every order once, by update and by creation; arrays as CSV or repeated.
    for (mode, field) in [
        ("lastUpdatedAfter", "lastUpdatedTime"),
        ("createdAfter", "createdTime"),
    ] {
        let mut seen = vec![];
        let mut token: Option<String> = None;
        loop {
            let mut q = format!(
                "{SEARCH}?{mode}={old}&marketplaceIds=ATVPDKIKX0DER,A1F83G8C2ARO7P&marketplaceIds=A1PA6795UKMFR9&marketplaceIds=A1VC38T7YXB528&marketplaceIds=A2EUQ1WTGCTBG2&maxResultsPerPage=7"
            );
            if let Some(t) = &token {
                q.push_str(&format!("&paginationToken={t}"));
            }
            let v: Value = e.api(&q).await.json().await.unwrap();
            for o in v["orders"].as_array().unwrap() {
                seen.push(o[field].as_str().unwrap().to_string());
            }
            match v["pagination"]["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 40, "{mode}");
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "{mode}: oldest first");
    }
}

/// A `paginationToken` only works with its first page's filters, and dies after 24 hours:
/// the connector then reads the window again from its first page.
#[tokio::test]
async fn pagination_tokens_expire_after_a_day_and_the_window_restarts() {
    let e = env(SimOptions::relaxed()).await;
    e.post("/_sim/seed", json!({ "count": 250, "seed": 3 }))
        .await;
    let src = e.source();
    let until = e.until();
    let cursor = |t: Option<String>| PullCursor {
        since: None,
        until,
        page_token: t,
    };
    let first = src.pull(&cursor(None)).await.unwrap();
    assert_eq!(first.orders.len(), 100);
    let token = first.next_page_token.clone().unwrap();

    // Raw: the same token with other filters is refused.
    let amazon_token = ordersync_amazon::paging::PageToken::decode(&token)
        .unwrap()
        .next
        .unwrap();
    let (status, _) = error_of(
        e.api(&format!(
            "{SEARCH}?lastUpdatedAfter=2025-01-01T00:00:00Z&marketplaceIds=ATVPDKIKX0DER&paginationToken={amazon_token}"
        ))
        .await,
    )
    .await;
    assert_eq!(status, 400, "mismatched filters");

    // A day later the token is dead (Amazon: 400), the connector restarts the window.
    e.clock.advance(time::Duration::hours(25));
    let (status, body) = error_of(
        e.api(&format!(
            "{SEARCH}?paginationToken={amazon_token}&marketplaceIds=ATVPDKIKX0DER"
        ))
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]["details"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let mut ids: Vec<String> = first.orders.iter().map(|o| o.external_id.clone()).collect();
    let mut token = Some(token);
    let mut pages = 0;
    while let Some(t) = token {
        let p = src.pull(&cursor(Some(t))).await.unwrap();
        ids.extend(p.orders.iter().map(|o| o.external_id.clone()));
        token = p.next_page_token;
        pages += 1;
        assert!(pages < 10);
    }
    assert_eq!(
        pages, 3,
        "the stale token restarts at page 1: 3 pages of 250"
    );
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        250,
        "nothing lost; the engine dedupes what is read twice"
    );

    // A token Amazon refuses as expired while ours looks fresh (its clock, its rules):
    // restart as well.
    let e = env(SimOptions {
        page_token_ttl_secs: 3_600,
        ..SimOptions::relaxed()
    })
    .await;
    e.post("/_sim/seed", json!({ "count": 150, "seed": 3 }))
        .await;
    let src = e.source();
    let until = e.until();
    let cursor = |t: Option<String>| PullCursor {
        since: None,
        until,
        page_token: t,
    };
    let p = src.pull(&cursor(None)).await.unwrap();
    e.clock.advance(time::Duration::hours(2));
    let restart = src.pull(&cursor(p.next_page_token)).await.unwrap();
    assert!(restart.orders.is_empty() && restart.rejected.is_empty());
    let r = ordersync_amazon::paging::PageToken::decode(&restart.next_page_token.clone().unwrap())
        .unwrap();
    assert_eq!(r.next, None, "the next pull reads the window's first page");
    let again = src.pull(&cursor(restart.next_page_token)).await.unwrap();
    assert_eq!(again.orders.len(), 100);
}

/// The spec's usage plan: 20 `searchOrders` at once, then one every ~3 minutes. Beyond the
/// burst the connector hands the wait back to the engine instead of sleeping through its
/// lease; once the clock has moved on it goes on.
#[tokio::test]
async fn the_default_usage_plan_paces_searches_through_the_engine() {
    let e = env(SimOptions::default()).await;
    e.post("/_sim/seed", json!({ "count": 25, "seed": 4 }))
        .await;
    let src = e.build(json!({ "page_size": 1 }), REFRESH);
    assert_eq!(src.client().search.bucket.rate(), 0.0056);
    let until = e.until();
    let mut token = None;
    for _ in 0..20 {
        let p = src
            .pull(&PullCursor {
                since: None,
                until,
                page_token: token,
            })
            .await
            .unwrap();
        token = p.next_page_token;
    }
    let sent = searches(&e).await;
    let err = src
        .pull(&PullCursor {
            since: None,
            until,
            page_token: token.clone(),
        })
        .await
        .unwrap_err();
    let wait = err.retry_after().unwrap();
    assert_eq!(err.class(), ErrorClass::RateLimited);
    assert!(
        (Duration::from_secs(170)..Duration::from_secs(180)).contains(&wait),
        "{wait:?}"
    );
    assert_eq!(searches(&e).await, sent, "no request went out");
    assert_eq!(
        e.get("/_sim/stats").await["throttled"],
        0,
        "Amazon never had to refuse one"
    );
    e.clock.advance(time::Duration::seconds(180));
    src.pull(&PullCursor {
        since: None,
        until,
        page_token: token,
    })
    .await
    .expect("a token is back");
}

/// `x-amzn-RateLimit-Limit` re-rates the bucket: a seller whose plan Amazon raised (the
/// relaxed simulator announces 100,000/s) is read fast although the connector started from
/// the spec's 0.0056/s.
#[tokio::test]
async fn the_rate_header_re_rates_the_bucket() {
    let e = env(SimOptions::relaxed()).await;
    e.post("/_sim/seed", json!({ "count": 60, "seed": 5 }))
        .await;
    let src = e.build(json!({ "page_size": 1 }), REFRESH);
    assert_eq!(src.client().search.bucket.rate(), 0.0056);
    let (orders, pages) = read_all(&src, None, e.until()).await;
    assert_eq!(
        (orders.len(), pages),
        (60, 60),
        "60 pages, beyond a burst of 20"
    );
    assert_eq!(src.client().search.bucket.rate(), 100_000.0);
}

/// The header is left out of some answers; the connector keeps the last rate it learnt.
#[tokio::test]
async fn the_rate_header_is_sometimes_absent_and_the_last_rate_stays() {
    let e = env(SimOptions::relaxed()).await;
    let mut with = 0;
    for _ in 0..12 {
        let r = e
            .api(&format!(
                "{SEARCH}?lastUpdatedAfter=2026-01-01T00:00:00Z&marketplaceIds=ATVPDKIKX0DER"
            ))
            .await;
        with += usize::from(r.headers().contains_key("x-amzn-ratelimit-limit"));
    }
    assert_eq!(with, 9, "one answer in four lacks it");
    // A simulator that never sends it: the configured plan stays in force.
    let e = env(SimOptions {
        rate_header_gap: 1,
        ..SimOptions::relaxed()
    })
    .await;
    e.post("/_sim/seed", json!({ "count": 5, "seed": 6 })).await;
    let src = e.build(
        json!({ "rate_limits": { "search_orders": { "rate": 2.5, "burst": 100 } } }),
        REFRESH,
    );
    read_all(&src, None, e.until()).await;
    assert_eq!(src.client().search.bucket.rate(), 2.5);
}

/// A 429 (`QuotaExceeded`, no `Retry-After`) empties our bucket as Amazon's is empty; the
/// wait is the bucket's refill time, handed back as `RateLimited`.
#[tokio::test]
async fn quota_exceeded_waits_the_buckets_refill_time() {
    let e = env(SimOptions::default()).await;
    e.post("/_sim/seed", json!({ "count": 30, "seed": 7 }))
        .await;
    // A connector that believes in a bigger burst than Amazon grants.
    let src = e.build(
        json!({ "page_size": 1, "rate_limits": { "search_orders": { "rate": 0.0056, "burst": 100 } } }),
        REFRESH,
    );
    let until = e.until();
    let mut token = None;
    let err = loop {
        match src
            .pull(&PullCursor {
                since: None,
                until,
                page_token: token.clone(),
            })
            .await
        {
            Ok(p) => token = p.next_page_token,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, ConnectorError::RateLimited { .. }));
    let wait = err.retry_after().unwrap();
    assert!((Duration::from_secs(170)..Duration::from_secs(180)).contains(&wait));
    assert_eq!(e.get("/_sim/stats").await["throttled"], 1);
    // The raw 429: Amazon's body, no Retry-After, no rate header.
    let r = e
        .api(&format!(
            "{SEARCH}?lastUpdatedAfter=2026-01-01T00:00:00Z&marketplaceIds=ATVPDKIKX0DER"
        ))
        .await;
    assert_eq!(r.status(), 429);
    assert!(!r.headers().contains_key("retry-after"));
    assert!(!r.headers().contains_key("x-amzn-ratelimit-limit"));
    let (_, body) = error_of(r).await;
    assert_eq!(body["errors"][0]["code"], "QuotaExceeded");
}

/// Buyer and recipient data need a restricted role: without it Amazon answers 403
/// `Unauthorized`, which the connector reports as `Auth` naming the role, without PII.
#[tokio::test]
async fn a_missing_role_is_an_auth_error_that_names_it() {
    let e = env(SimOptions::relaxed()).await;
    e.post("/_sim/seed", json!({ "count": 5, "seed": 8 })).await;
    let src = e.source();
    let (orders, _) = read_all(&*src, None, e.until()).await;
    e.post("/_sim/roles", json!({ "pii": false })).await;
    for err in [
        src.pull(&PullCursor {
            since: None,
            until: e.until(),
            page_token: None,
        })
        .await
        .unwrap_err(),
        src.fetch(&orders[0].external_id).await.unwrap_err(),
    ] {
        assert_eq!(err.class(), ErrorClass::Auth);
        let text = err.to_string();
        assert!(text.contains("Direct-to-Consumer Delivery"), "{text}");
        ordersync_conformance::assert_no_canary("role error", &text);
    }
    // Without buyer data, the same order is served.
    let r = e
        .api(&format!(
            "{SEARCH}/{}?includedData=PROCEEDS",
            orders[0].external_id
        ))
        .await;
    assert_eq!(r.status(), 200);
}

/// LWA: a revoked authorization (`invalid_grant`) and rotated client credentials
/// (`invalid_client`) are `Auth` errors saying what to do; an expired access token is
/// refreshed once, quietly.
#[tokio::test]
async fn lwa_errors_and_expired_tokens() {
    let e = env(SimOptions {
        accepted_client: Some((
            "amzn1.application-oa2-client.test".into(),
            "amzn1.oa2-cs.v1.test".into(),
        )),
        ..SimOptions::relaxed()
    })
    .await;
    e.post("/_sim/seed", json!({ "count": 5, "seed": 9 })).await;
    let src = e.source();
    read_all(&*src, None, e.until()).await;
    let lwa = || async {
        e.get("/_sim/stats").await["by_route"]["lwa_token"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(lwa().await, 1, "one token for every request");
    e.post("/_sim/expire_tokens", json!({})).await;
    read_all(&*src, None, e.until()).await;
    assert_eq!(lwa().await, 2, "refreshed once after the 403");
    // An hour later the connector refreshes before Amazon has to refuse.
    e.clock.advance(time::Duration::minutes(61));
    read_all(&*src, None, e.until()).await;
    assert_eq!(lwa().await, 3);

    e.post("/_sim/revoke", json!({ "refresh_token": REFRESH }))
        .await;
    e.post("/_sim/expire_tokens", json!({})).await;
    let err = src.fetch("111-0000000-0000001").await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    assert!(err.to_string().contains("invalid_grant"), "{err}");

    let mut secrets = Env::secrets("Atzr|other");
    secrets.insert(
        "lwa_client_secret".into(),
        "rotated-away".to_string().into(),
    );
    let mut config = e.config();
    config["rate_limits"] = fast_plan();
    let stale = ordersync_amazon::build(
        &config,
        &secrets,
        &e.deps(std::sync::Arc::new(ordersync_sdk::DiscardSecrets)),
    )
    .unwrap();
    let err = stale.fetch("111-0000000-0000001").await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    assert!(err.to_string().contains("lwa_client_secret"), "{err}");
}

/// A maintenance page (503 HTML) and a firewall (403 HTML) are retriable, not a verdict on
/// the credentials; a 200 with a cut-off body is permanent.
#[tokio::test]
async fn html_outages_are_classified() {
    let e = env(SimOptions::relaxed()).await;
    e.post("/_sim/seed", json!({ "count": 5, "seed": 10 }))
        .await;
    let src = e.build(json!({ "rate_limits": fast_plan() }), REFRESH);
    let cursor = PullCursor {
        since: None,
        until: e.until(),
        page_token: None,
    };
    for mode in ["html_503", "waf_403"] {
        e.post("/_sim/outage", json!({ "mode": mode })).await;
        let err = src.pull(&cursor).await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::Retriable, "{mode}: {err}");
    }
    e.post("/_sim/outage", json!({ "mode": null })).await;
    assert_eq!(src.pull(&cursor).await.unwrap().orders.len(), 5);
    e.post(
        "/_sim/faults",
        json!({ "rate": 1.0, "kinds": ["malformed"] }),
    )
    .await;
    let err = src.fetch("111-0000000-0000001").await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(SETTLE, time::Duration::minutes(3));
}

/// Records what the connector persists.
struct Keep(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl ordersync_sdk::SecretsPersister for Keep {
    async fn persist(
        &self,
        name: &str,
        value: &secrecy::SecretString,
    ) -> Result<(), ConnectorError> {
        assert_eq!(name, "refresh_token");
        self.0
            .lock()
            .unwrap()
            .push(secrecy::ExposeSecret::expose_secret(value).to_string());
        Ok(())
    }
}

/// LWA's refresh tokens are reusable, and nothing is persisted; should LWA answer a new one,
/// it is persisted before the access token that came with it is used, and used next time.
#[tokio::test]
async fn a_rotated_refresh_token_is_persisted_before_use() {
    for rotate in [false, true] {
        let e = env(SimOptions {
            rotate_refresh_tokens: rotate,
            ..SimOptions::relaxed()
        })
        .await;
        e.post("/_sim/seed", json!({ "count": 5, "seed": 11 }))
            .await;
        let keep = std::sync::Arc::new(Keep(std::sync::Mutex::new(vec![])));
        let mut config = e.config();
        config["rate_limits"] = fast_plan();
        let src = ordersync_amazon::build(&config, &Env::secrets(REFRESH), &e.deps(keep.clone()))
            .unwrap();
        read_all(&src, None, e.until()).await;
        e.post("/_sim/expire_tokens", json!({})).await;
        read_all(&src, None, e.until()).await;
        let kept = keep.0.lock().unwrap().clone();
        if rotate {
            assert_eq!(kept.len(), 2, "each refresh rotated it");
            assert!(kept.iter().all(|k| k.starts_with("Atzr|") && k != REFRESH));
            assert_ne!(kept[0], kept[1]);
        } else {
            assert!(kept.is_empty(), "the same token is not persisted again");
        }
    }
}
