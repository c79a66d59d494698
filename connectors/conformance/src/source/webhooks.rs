//! Capability `webhooks`: the descriptor's pure verifier (what the service can run before
//! building anything) and the instance's `parse_webhook` agree, accept a genuine delivery and
//! refuse forged, unsigned and empty-secret ones.

use super::{SourceHarness, SourceInstance, read_window, seed, window_end};
use ordersync_sdk::{WebhookError, WebhookHint, WebhookSpec};

/// How a platform signs its webhooks (the connector's test provides it).
pub struct WebhookHarness {
    /// The webhook secret [`SourceInstance::source`] was built with.
    pub secret: &'static str,
    /// Signs `body` as the platform does: every header a genuine delivery carries (signature,
    /// topic, ...).
    pub sign: fn(secret: &[u8], body: &[u8]) -> http::HeaderMap,
    /// The body of a webhook about the order with this external id, as the platform sends it.
    pub body_for: fn(external_id: &str) -> Vec<u8>,
}

struct Setup<'h> {
    name: &'static str,
    i: SourceInstance,
    spec: WebhookSpec,
    wh: &'h WebhookHarness,
    sensitive: &'static [&'static str],
    external_id: String,
    body: Vec<u8>,
}

/// A pulled order's id and a genuine webhook body about it.
async fn setup(h: &SourceHarness) -> Setup<'_> {
    let name = h.name();
    let spec = h
        .descriptor
        .webhook
        .unwrap_or_else(|| panic!("{name}: `webhooks` needs Descriptor.webhook"));
    let wh = h
        .webhook
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: `webhooks` needs SourceHarness.webhook"));
    let i = (h.make)().await;
    seed(&i, 3, 14).await;
    let (orders, _) = read_window(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    let external_id = orders
        .first()
        .map(|o| o.external_id.clone())
        .unwrap_or_else(|| panic!("{name}: seeded orders are read"));
    let body = (wh.body_for)(&external_id);
    Setup {
        name,
        i,
        spec,
        wh,
        sensitive: h.descriptor.sensitive_headers,
        external_id,
        body,
    }
}

impl Setup<'_> {
    fn secret(&self) -> &[u8] {
        self.wh.secret.as_bytes()
    }

    fn signed(&self, secret: &[u8], body: &[u8]) -> http::HeaderMap {
        (self.wh.sign)(secret, body)
    }

    /// Both verification paths under the connection's secret; they must agree.
    fn verify(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<WebhookHint, WebhookError> {
        let pure = (self.spec.verify)(headers, body, self.secret());
        let instance = self.i.source.parse_webhook(headers, body);
        assert_eq!(
            pure, instance,
            "{}: Descriptor.webhook.verify and Source::parse_webhook disagree",
            self.name
        );
        pure
    }

    fn assert_refused(&self, what: &str, got: Result<WebhookHint, WebhookError>) {
        assert_eq!(
            got,
            Err(WebhookError::BadSignature),
            "{}: {what} → BadSignature",
            self.name
        );
    }
}

/// A correctly signed body verifies to a hint naming the order.
pub async fn webhook_signed_body_gives_a_hint(h: &SourceHarness) {
    let s = setup(h).await;
    let headers = s.signed(s.secret(), &s.body);
    let hint = s
        .verify(&headers, &s.body)
        .unwrap_or_else(|e| panic!("{}: a genuine webhook verifies: {e}", s.name));
    assert_eq!(
        hint.external_id.as_deref(),
        Some(s.external_id.as_str()),
        "{}: the hint names the order",
        s.name
    );
    assert!(
        !hint.dedupe_key.is_empty(),
        "{}: the hint has a dedupe key",
        s.name
    );
}

/// A signature under another secret, or over another body, is refused.
pub async fn webhook_forged_signature_is_refused(h: &SourceHarness) {
    let s = setup(h).await;
    let mut other = s.secret().to_vec();
    other.extend_from_slice(b"-forged");
    s.assert_refused(
        "a signature under another secret",
        s.verify(&s.signed(&other, &s.body), &s.body),
    );
    let mut tampered = s.body.clone();
    tampered.extend_from_slice(b" ");
    s.assert_refused(
        "a body changed after signing",
        s.verify(&s.signed(s.secret(), &s.body), &tampered),
    );
    let elsewhere = (s.wh.body_for)("1");
    s.assert_refused(
        "a signature of another body",
        s.verify(&s.signed(s.secret(), &elsewhere), &s.body),
    );
}

/// Without its signature header (every other header of a genuine delivery kept), or with no
/// headers at all, a webhook is refused.
pub async fn webhook_missing_signature_is_refused(h: &SourceHarness) {
    let s = setup(h).await;
    let mut headers = s.signed(s.secret(), &s.body);
    // The signature header is one the service must redact from its logs, so it is listed in
    // `Descriptor.sensitive_headers`; that list says which header to drop.
    let before = headers.len();
    for name in s.sensitive {
        headers.remove(*name);
    }
    assert!(
        headers.len() < before,
        "{}: the signature header is listed in Descriptor.sensitive_headers",
        s.name
    );
    s.assert_refused("no signature header", s.verify(&headers, &s.body));
    s.assert_refused(
        "no headers at all",
        s.verify(&http::HeaderMap::new(), &s.body),
    );
}

/// An empty secret verifies nothing, even a body signed with the empty key.
pub async fn webhook_empty_secret_is_refused(h: &SourceHarness) {
    let s = setup(h).await;
    let verify_empty = |headers: &http::HeaderMap| (s.spec.verify)(headers, &s.body, b"");
    s.assert_refused(
        "a body signed with the empty key, verified with an empty secret",
        verify_empty(&s.signed(b"", &s.body)),
    );
    s.assert_refused(
        "a genuine body verified with an empty secret",
        verify_empty(&s.signed(s.secret(), &s.body)),
    );
}
