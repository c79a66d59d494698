//! Deliveries to acknowledge and otherwise ignore: a platform's check that the endpoint is
//! alive (WooCommerce POSTs an unsigned `webhook_id=N` when a webhook is created and disables
//! it unless the answer is exactly 200). A verifier returns [`WebhookHint::ack`] for them: the
//! service answers 200, and a hint that [`WebhookHint::is_ack`] asks for nothing (no order to
//! look at, so no pull needs scheduling for it).

use crate::traits::WebhookHint;

impl WebhookHint {
    /// The topic of an acknowledgement-only hint.
    pub const ACK_TOPIC: &'static str = "ordersync/ack";

    /// A hint that only acknowledges the delivery (`dedupe_key` names it, e.g. `ping:42`).
    pub fn ack(dedupe_key: impl Into<String>) -> Self {
        WebhookHint {
            dedupe_key: dedupe_key.into(),
            topic: Self::ACK_TOPIC.to_string(),
            external_id: None,
            privacy: None,
        }
    }

    /// Whether this hint only acknowledges a delivery: nothing changed at the platform.
    pub fn is_ack(&self) -> bool {
        self.topic == Self::ACK_TOPIC && self.external_id.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_are_recognisable_and_order_hints_are_not() {
        let a = WebhookHint::ack("ping:42");
        assert!(a.is_ack());
        assert_eq!(a.dedupe_key, "ping:42");
        let h = WebhookHint {
            dedupe_key: "x".into(),
            topic: "order.updated".into(),
            external_id: Some("1001".into()),
            privacy: None,
        };
        assert!(!h.is_ack());
    }
}
