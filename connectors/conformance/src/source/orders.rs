//! Single orders: fetch by id, unmappable orders rejected without losing the page, PII
//! captured but never in `Debug`.

use super::{SourceHarness, flatten, read_pages, read_window, seed, window_end};
use crate::{assert_no_canary, sim_post};
use futures::future::BoxFuture;
use serde_json::json;
use std::collections::HashSet;
use time::Duration;

/// `fetch` of an order a pull returned gives the same order (id and content).
pub async fn fetch_returns_the_pulled_order(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 20, 10).await;
    let (orders, _) = read_window(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    assert_eq!(orders.len(), 20, "{name}: the window reads all");
    for pulled in [&orders[0], &orders[10], &orders[19]] {
        let fetched = i
            .source
            .fetch(&pulled.external_id)
            .await
            .unwrap_or_else(|e| panic!("{name}: fetch {}: {e}", pulled.external_id))
            .unwrap_or_else(|| panic!("{name}: fetch {} found nothing", pulled.external_id));
        assert_eq!(
            fetched.external_id, pulled.external_id,
            "{name}: fetch returns the order asked for"
        );
        // PII included (`Order: PartialEq`); its Debug redacts PII, so the report is safe.
        assert_eq!(
            &fetched, pulled,
            "{name}: fetch and pull map order {} alike",
            pulled.external_id
        );
    }
}

/// `fetch` of an id the platform never issued is `Ok(None)`, not an error.
pub async fn fetch_of_an_absent_id_is_none(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 3, 11).await;
    let got = i
        .source
        .fetch(h.absent_id)
        .await
        .unwrap_or_else(|e| panic!("{name}: fetch of an absent id is not an error: {e}"));
    assert!(
        got.is_none(),
        "{name}: fetch of {} found an order",
        h.absent_id
    );
}

/// `POST /_sim/poison {"kind": "unmappable", "count": 1}` → `{"external_ids": [...]}`: the
/// common control route for [`SourceHarness::serve_unmappable`].
pub fn sim_poison_unmappable(base_url: String) -> BoxFuture<'static, Vec<String>> {
    Box::pin(async move {
        let v = sim_post(
            &base_url,
            "/_sim/poison",
            json!({ "kind": "unmappable", "count": 1 }),
        )
        .await;
        v["external_ids"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// An order the connector cannot map lands in `Page.rejected` (its id, a PII-free reason)
/// while every other order of the window is still returned.
pub async fn unmappable_orders_are_rejected_and_the_page_commits(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 30, 12).await;
    let (before, _) = read_window(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    let poisoned: HashSet<String> = (h.serve_unmappable)(i.sim.base_url.clone())
        .await
        .into_iter()
        .collect();
    assert_eq!(
        poisoned.len(),
        1,
        "{name}: the simulator serves one unmappable order"
    );
    // The poisoned order may have been touched now: let it settle into the window.
    i.clock
        .advance(i.source.capabilities().settle + Duration::seconds(2));
    let pages = read_pages(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    let (orders, rejected) = flatten(pages);
    let rejected_ids: Vec<&str> = rejected.iter().map(|r| r.external_id.as_str()).collect();
    assert_eq!(
        rejected_ids.iter().copied().collect::<HashSet<_>>(),
        poisoned.iter().map(String::as_str).collect(),
        "{name}: exactly the unmappable order is rejected, under its external id"
    );
    assert_eq!(rejected.len(), 1, "{name}: rejected once");
    for r in &rejected {
        assert!(!r.reason.trim().is_empty(), "{name}: a rejection says why");
        assert_no_canary(&format!("{name}: rejection reason"), &r.reason);
        assert_no_canary(&format!("{name}: Debug of a rejection"), &format!("{r:?}"));
    }
    let returned: HashSet<&str> = orders.iter().map(|o| o.external_id.as_str()).collect();
    assert!(
        poisoned.iter().all(|p| !returned.contains(p.as_str())),
        "{name}: the unmappable order is not also returned"
    );
    for o in before.iter().filter(|o| !poisoned.contains(&o.external_id)) {
        assert!(
            returned.contains(o.external_id.as_str()),
            "{name}: order {} was lost beside the unmappable one",
            o.external_id
        );
    }
}

/// PII is captured (the sink needs it) but `Debug` of pages and orders shows none of it.
pub async fn pii_is_captured_but_redacted_in_debug(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 50, 13).await;
    let pages = read_pages(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    for p in &pages {
        assert_no_canary(&format!("{name}: Debug of a page"), &format!("{p:?}"));
    }
    let (orders, _) = flatten(pages);
    assert_eq!(orders.len(), 50, "{name}: the window reads all");
    for o in &orders {
        assert!(
            o.pii
                .email
                .as_deref()
                .is_some_and(|e| e.ends_with("@customer.test")),
            "{name}: buyer email of {} captured",
            o.external_id
        );
        assert_no_canary(&format!("{name}: Debug of an order"), &format!("{o:?}"));
        assert_no_canary(
            &format!("{name}: Debug of its PII"),
            &format!("{:?}", o.pii),
        );
    }
    assert!(
        orders.iter().any(|o| {
            o.pii.shipping_address.as_ref().is_some_and(|a| {
                a.name.as_deref().is_some_and(|n| n.contains("Canary"))
                    || a.line1.as_deref().is_some_and(|l| !l.is_empty())
            })
        }),
        "{name}: shipping addresses captured"
    );
}
