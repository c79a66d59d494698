//! Source checks. Each is a public async fn taking the connector's [`SourceHarness`];
//! [`source_tests!`](crate::source_tests) makes one test of each.

mod failures;
mod orders;
mod webhooks;
mod windows;

pub use failures::{
    bad_credentials_are_auth_errors, expired_tokens_are_refreshed,
    malformed_bodies_are_permanent_errors, rate_limits_are_absorbed, server_errors_are_retried,
};
pub use orders::{
    fetch_of_an_absent_id_is_none, fetch_returns_the_pulled_order,
    pii_is_captured_but_redacted_in_debug, sim_poison_unmappable,
    unmappable_orders_are_rejected_and_the_page_commits,
};
pub use webhooks::{
    WebhookHarness, webhook_empty_secret_is_refused, webhook_forged_signature_is_refused,
    webhook_missing_signature_is_refused, webhook_signed_body_gives_a_hint,
};
pub use windows::{
    oldest_first_within_a_window, pagination_to_the_end, resume_from_saved_token,
    updates_are_picked_up_within_bounds,
};

use futures::future::BoxFuture;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{Clock, Descriptor, ManualClock, Order, Page, PullCursor, Rejected, Source};
use serde_json::json;
use std::sync::Arc;
use time::OffsetDateTime;

/// A simulator and a connector pointed at it.
pub struct SourceInstance {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
    /// Built with working credentials (and the webhook secret of [`WebhookHarness::secret`]).
    pub source: Arc<dyn Source>,
    /// The same connector built with credentials the simulator rejects.
    pub bad_auth: Arc<dyn Source>,
    /// The connector built with refreshable credentials (OAuth refresh token), if the platform
    /// issues expiring tokens; checked against `POST /_sim/expire_tokens`.
    pub refreshing: Option<Arc<dyn Source>>,
}

/// What the kit needs from a source connector's tests.
pub struct SourceHarness {
    /// The connector's descriptor (its line in the service's registry).
    pub descriptor: Descriptor,
    /// A fresh simulator and connectors; called once per check.
    pub make: Box<dyn Fn() -> BoxFuture<'static, SourceInstance> + Send + Sync>,
    /// An order id well-formed for the platform that the simulator never issues.
    pub absent_id: &'static str,
    /// Makes the simulator at `base_url` serve one order the connector cannot map, and returns
    /// the external ids it made unmappable (usually [`sim_poison_unmappable`]).
    pub serve_unmappable: fn(base_url: String) -> BoxFuture<'static, Vec<String>>,
    /// How the platform signs webhooks; `Some` exactly when the connector has webhooks.
    pub webhook: Option<WebhookHarness>,
}

impl SourceHarness {
    fn name(&self) -> &'static str {
        self.descriptor.kind
    }
}

/// The optional capabilities a connector's `source_tests!` line lists must be the ones it has:
/// a capability left off would silently drop its checks.
pub async fn declared_capabilities_match(h: &SourceHarness, declared: &[&str]) {
    let name = h.name();
    for cap in declared {
        assert!(
            ["webhooks", "refreshing_tokens"].contains(cap),
            "{name}: unknown capability {cap}"
        );
    }
    let i = (h.make)().await;
    assert_eq!(
        i.source.kind(),
        h.descriptor.kind,
        "{name}: descriptor kind"
    );
    assert!(h.descriptor.is_source(), "{name}: descriptor role");
    let webhooks = declared.contains(&"webhooks");
    assert_eq!(
        i.source.capabilities().webhooks,
        webhooks,
        "{name}: SourceCaps.webhooks vs `webhooks` in source_tests!"
    );
    assert_eq!(
        h.descriptor.webhook.is_some(),
        webhooks,
        "{name}: Descriptor.webhook vs `webhooks` in source_tests!"
    );
    assert_eq!(
        h.webhook.is_some(),
        webhooks,
        "{name}: SourceHarness.webhook vs `webhooks` in source_tests!"
    );
    if let Some(spec) = &h.descriptor.webhook {
        assert!(
            h.descriptor.secret_names().any(|s| s == spec.secret),
            "{name}: the webhook secret {:?} is one of the descriptor's secrets",
            spec.secret
        );
    }
    assert_eq!(
        i.refreshing.is_some(),
        declared.contains(&"refreshing_tokens"),
        "{name}: SourceInstance.refreshing vs `refreshing_tokens` in source_tests!"
    );
}

/// Seeds `count` canary orders.
async fn seed(i: &SourceInstance, count: u64, seed: u64) {
    crate::sim_post(
        &i.sim.base_url,
        "/_sim/seed",
        json!({ "count": count, "seed": seed }),
    )
    .await;
}

fn window_end(src: &dyn Source, clock: &ManualClock) -> OffsetDateTime {
    clock.now() - src.capabilities().settle
}

/// One whole window, page by page, following page tokens.
async fn read_pages(
    src: &dyn Source,
    since: Option<OffsetDateTime>,
    until: OffsetDateTime,
) -> Vec<Page> {
    let mut pages = vec![];
    let mut token = None;
    loop {
        let page = src
            .pull(&PullCursor {
                since,
                until,
                page_token: token.take(),
            })
            .await
            .unwrap_or_else(|e| panic!("pull failed: {e}"));
        token = page.next_page_token.clone();
        pages.push(page);
        assert!(pages.len() < 10_000, "pagination does not terminate");
        if token.is_none() {
            return pages;
        }
    }
}

/// One whole window of seeded orders (all of which must map). Returns the orders and the
/// page count.
pub async fn read_window(
    src: &dyn Source,
    since: Option<OffsetDateTime>,
    until: OffsetDateTime,
) -> (Vec<Order>, usize) {
    let pages = read_pages(src, since, until).await;
    let n = pages.len();
    let (orders, rejected) = flatten(pages);
    // Reasons are PII-free by contract: show them, they are what to fix.
    let reasons: Vec<&str> = rejected.iter().take(5).map(|r| r.reason.as_str()).collect();
    assert!(
        rejected.is_empty(),
        "seeded orders must all map ({} rejected: {reasons:?})",
        rejected.len()
    );
    (orders, n)
}

/// One whole window, following page tokens: the orders, the rejected ones and the page count.
pub async fn read_all(
    src: &dyn Source,
    since: Option<OffsetDateTime>,
    until: OffsetDateTime,
) -> (Vec<Order>, Vec<Rejected>, usize) {
    let pages = read_pages(src, since, until).await;
    let n = pages.len();
    let (orders, rejected) = flatten(pages);
    (orders, rejected, n)
}

fn flatten(pages: Vec<Page>) -> (Vec<Order>, Vec<Rejected>) {
    let mut orders = vec![];
    let mut rejected = vec![];
    for p in pages {
        orders.extend(p.orders);
        rejected.extend(p.rejected);
    }
    (orders, rejected)
}
