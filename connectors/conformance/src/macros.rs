//! One `#[tokio::test]` per check. A macro rather than libtest-mimic trials: the connector's
//! existing test binary keeps the standard harness, and each check is an ordinary test that
//! `cargo test <name>` selects.

/// Expands to one test per source check, named after it (see the crate docs for the harness).
///
/// `source_tests!(harness_fn, caps...)`: `harness_fn` is a path to `fn() -> SourceHarness`;
/// the optional capabilities are `webhooks` and `refreshing_tokens`.
#[macro_export]
macro_rules! source_tests {
    ($harness:path $(, $cap:ident)* $(,)?) => {
        $crate::__conformance_tests!(source, $harness;
            pagination_to_the_end,
            resume_from_saved_token,
            oldest_first_within_a_window,
            updates_are_picked_up_within_bounds,
            fetch_returns_the_pulled_order,
            fetch_of_an_absent_id_is_none,
            unmappable_orders_are_rejected_and_the_page_commits,
            pii_is_captured_but_redacted_in_debug,
            rate_limits_are_absorbed,
            server_errors_are_retried,
            malformed_bodies_are_permanent_errors,
            bad_credentials_are_auth_errors,
        );
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn declared_capabilities_match() {
            $crate::source::declared_capabilities_match(&$harness(), &[$(stringify!($cap)),*])
                .await;
        }
        $( $crate::__source_capability!($cap, $harness); )*
    };
}

/// Expands to one test per sink check, named after it.
///
/// `sink_tests!(harness_fn, caps...)`: `harness_fn` is a path to `fn() -> SinkHarness`; the
/// optional capabilities are `updates` and `tracks_delivery`.
#[macro_export]
macro_rules! sink_tests {
    ($harness:path $(, $cap:ident)* $(,)?) => {
        $crate::__conformance_tests!(sink, $harness;
            same_key_twice_is_one_object,
            batches_land_whole,
            rate_limits_are_absorbed,
            malformed_answers_never_duplicate,
            bad_credentials_are_auth_errors,
            permanent_rejection_is_dead_and_replayable,
        );
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn declared_capabilities_match() {
            $crate::sink::declared_capabilities_match(&$harness(), &[$(stringify!($cap)),*])
                .await;
        }
        $( $crate::__sink_capability!($cap, $harness); )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($module:ident, $harness:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                $crate::$module::$check(&$harness()).await;
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __source_capability {
    (webhooks, $harness:path) => {
        $crate::__conformance_tests!(source, $harness;
            webhook_signed_body_gives_a_hint,
            webhook_forged_signature_is_refused,
            webhook_missing_signature_is_refused,
            webhook_empty_secret_is_refused,
        );
    };
    (refreshing_tokens, $harness:path) => {
        $crate::__conformance_tests!(source, $harness; expired_tokens_are_refreshed);
    };
    ($other:ident, $harness:path) => {
        compile_error!(concat!(
            "unknown source capability `",
            stringify!($other),
            "` (known: webhooks, refreshing_tokens)"
        ));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __sink_capability {
    (updates, $harness:path) => {
        $crate::__conformance_tests!(sink, $harness;
            updates_keep_one_object,
            lost_create_then_update_is_one_updated_object,
        );
    };
    (tracks_delivery, $harness:path) => {
        $crate::__conformance_tests!(sink, $harness; delivery_status_round_trip);
    };
    (delivery_feed, $harness:path) => {
        $crate::__conformance_tests!(sink, $harness; delivery_feed_costs_pages);
    };
    ($other:ident, $harness:path) => {
        compile_error!(concat!(
            "unknown sink capability `",
            stringify!($other),
            "` (known: updates, tracks_delivery, delivery_feed)"
        ));
    };
}
