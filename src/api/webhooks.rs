//! Webhooks are hints: verify the signature over the raw body with the kind's verifier (from
//! its descriptor), dedupe, then schedule a pull. Polling with an overlapping cursor stays the
//! source of truth, so a lost webhook loses nothing.
//!
//! - `POST /webhooks/{kind}/{connection_id}`: a connection's own webhooks, signed with its
//!   webhook secret. A connection of another kind answers 404, like a missing one.
//! - `POST /webhooks/{kind}`: app-level webhooks, signed with the app's secret from the
//!   environment; the connection is found by the account header the descriptor names.
//! - `GET|POST /webhooks/{kind}/{path}` where the descriptor names a notification endpoint
//!   (`Descriptor::notification`): the platform's endpoint challenge, and signed privacy
//!   notices about a marketplace account, verified by a connection of the kind with the
//!   platform's published key and acted on in every connection of the kind.

use super::extract::Path;
use super::{ApiError, ApiState};
use crate::registry;
use crate::store::{ConnectionRow, EraseScope};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{NotificationSpec, PrivacyAction, WebhookError, WebhookHint};
use secrecy::ExposeSecret;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/webhooks/{kind}", post(app_hint))
        .route(
            "/webhooks/{kind}/{connection_id}",
            post(connection_hint).get(challenge),
        )
}

fn bad_signature() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_signature",
        "invalid webhook signature",
    )
}

fn verified(r: Result<WebhookHint, WebhookError>) -> Result<WebhookHint, ApiError> {
    match r {
        Ok(h) => Ok(h),
        Err(WebhookError::BadSignature) => Err(bad_signature()),
        Err(WebhookError::Unsupported) => Err(ApiError::not_found()),
        Err(WebhookError::Malformed(_)) => Err(ApiError::bad_request("malformed webhook")),
        Err(WebhookError::Unavailable(_)) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "cannot verify the webhook now; retry later",
        )),
    }
}

async fn connection_hint(
    State(s): State<ApiState>,
    Path((kind, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    if let Some(n) = notification_spec(&kind, &id) {
        return notice(&s, &kind, n, &headers, &body).await;
    }
    let spec = registry::lookup(&kind)
        .and_then(|d| d.webhook)
        .ok_or_else(ApiError::not_found)?;
    let c = match s.store.get_connection(&id).await? {
        Some(c) if c.kind == kind && c.state != "deleted" => c,
        _ => return Err(ApiError::not_found()),
    };
    let secrets = match &c.secrets_ct {
        Some(ct) => {
            s.crypto
                .open_secrets(&c.merchant_id, &c.id, ct, s.clock.now())
                .await?
        }
        None => Default::default(),
    };
    // No (or an empty) secret: this connection has no webhooks to verify.
    let secret = secrets
        .get(spec.secret)
        .map(|v| v.expose_secret().as_bytes().to_vec())
        .filter(|v| !v.is_empty())
        .ok_or_else(ApiError::not_found)?;
    let hint = verified((spec.verify)(&headers, &body, &secret))?;
    accept(&s, &c, &hint).await
}

async fn app_hint(
    State(s): State<ApiState>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let spec = registry::lookup(&kind)
        .and_then(|d| d.app_webhook)
        .ok_or_else(ApiError::not_found)?;
    let secret = s
        .app_secrets
        .get(kind.as_str())
        .map(|v| v.expose_secret().to_string())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "app webhooks are not configured",
            )
        })?;
    // Verify before reading anything else from the request.
    let hint = verified((spec.verify)(&headers, &body, secret.as_bytes()))?;
    let account = headers
        .get(spec.account_header)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("missing {} header", spec.account_header)))?;
    let conns = s.store.connections_of_kind(&kind).await?;
    let matches = |c: &&ConnectionRow| {
        serde_json::from_str::<serde_json::Value>(&c.config)
            .ok()
            .and_then(|v| {
                v.get(spec.account_config_field)?
                    .as_str()
                    .map(|a| a == account)
            })
            .unwrap_or(false)
    };
    // Unknown account: answer 200 so the platform does not retry forever; nothing to do.
    for c in conns.iter().filter(matches) {
        accept(&s, c, &hint).await?;
    }
    Ok(StatusCode::OK)
}

/// Records the hint once per connection and coalesces pulls: a replayed webhook (same signed
/// body) schedules nothing, and many distinct hints fold into one due pull.
async fn accept(
    s: &ApiState,
    c: &ConnectionRow,
    hint: &WebhookHint,
) -> Result<StatusCode, ApiError> {
    // A liveness check of the platform's (an unsigned creation ping): 200, nothing changed.
    if hint.is_ack() {
        metrics::counter!("ordersync_webhooks_total", "kind" => c.kind.clone(), "duplicate" => "ack").increment(1);
        return Ok(StatusCode::OK);
    }
    let now = to_micros(s.clock.now());
    // A privacy request is acted on before it is recorded: an erasure that fails answers
    // 500 and the platform's retry does it (erasing twice is harmless); a replay of one
    // that succeeded finds nothing left and is not audited again.
    let privacy_event = match &hint.privacy {
        Some(action) => Some(privacy(s, c, action, now).await?),
        None => None,
    };
    let fresh = s
        .store
        .record_webhook(
            &format!("{}:{}", c.id, hint.dedupe_key),
            &c.id,
            &hint.topic,
            now,
        )
        .await?;
    metrics::counter!("ordersync_webhooks_total", "kind" => c.kind.clone(), "duplicate" => if fresh { "no" } else { "yes" }).increment(1);
    if let Some((event, detail)) = privacy_event {
        if fresh {
            s.store
                .audit(
                    Some(&c.merchant_id),
                    "platform",
                    event,
                    Some(&c.id),
                    Some(&detail),
                    now,
                )
                .await?;
        }
        return Ok(StatusCode::OK);
    }
    if fresh && c.role == "source" && c.state == "active" {
        s.store.schedule_pull(&c.id, now).await?;
    }
    // A target's tracking update: read its delivery feed now (a hint; the feed is the truth).
    if fresh && c.role == "sink" && c.state == "active" {
        s.store.feed_due_now(&c.id, now).await?;
    }
    Ok(StatusCode::OK)
}

/// Orders one erasure pass takes; an account's redaction loops over them.
const ERASE_BATCH: i64 = 1000;

/// A marketplace's privacy request for one connection, whatever the connection's state (a
/// paused or deleted shop's PII must go too). Returns the audit event and its detail (how
/// many orders it named and erased; a legal hold keeps an order's PII). A customer's erasure runs now (a few orders); an account's loops in batches in
/// the background, so the platform gets its 200 at once (Shopify wants it within 5 s). A data
/// request is audited with the number of orders it names; the export itself is the
/// merchant's (data-subject requests).
async fn privacy(
    s: &ApiState,
    c: &ConnectionRow,
    action: &PrivacyAction,
    now: i64,
) -> Result<(&'static str, String), ApiError> {
    let bidx = |email: &Option<String>| {
        let email = email
            .as_deref()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty());
        let (crypto, m, at) = (s.crypto.clone(), c.merchant_id.clone(), s.clock.now());
        async move {
            match email {
                Some(e) => crypto.blind_index(&m, &e, at).await.map(Some),
                None => Ok(None),
            }
        }
    };
    let (event, scope) = match action {
        PrivacyAction::RedactCustomer { email, order_ids } => (
            "privacy.customer_redact",
            EraseScope::Orders {
                external_ids: order_ids.clone(),
                email_bidx: bidx(email).await?,
                buyer_bidx: None,
            },
        ),
        PrivacyAction::DataRequest { email, order_ids } => (
            "privacy.data_request",
            EraseScope::Orders {
                external_ids: order_ids.clone(),
                email_bidx: bidx(email).await?,
                buyer_bidx: None,
            },
        ),
        PrivacyAction::RedactAccount => ("privacy.account_redact", EraseScope::All),
        // Notices about a marketplace account reach `notice`, never a connection's webhook.
        PrivacyAction::RedactBuyer { .. } => return Err(ApiError::not_found()),
    };
    let named = s.store.orders_named(&c.id, &scope).await?.len();
    let detail = match action {
        // (A buyer's notice never gets here: answered above.)
        PrivacyAction::DataRequest { .. } | PrivacyAction::RedactBuyer { .. } => {
            format!("{named} orders named")
        }
        PrivacyAction::RedactCustomer { .. } => {
            let erased = erase_now(s, &c.id, &scope, now).await?;
            format!("{named} orders named, {erased} erased")
        }
        PrivacyAction::RedactAccount => {
            let (store, id) = (s.store.clone(), c.id.clone());
            tokio::spawn(async move {
                let mut failures = 0u32;
                loop {
                    match store.erase_pii(&id, &scope, now, ERASE_BATCH).await {
                        Ok(ids) if (ids.len() as i64) < ERASE_BATCH => return,
                        Ok(_) => failures = 0,
                        // A busy or briefly unreachable database: wait and go on.
                        Err(e) if failures < 8 => {
                            failures += 1;
                            tracing::warn!(connection = %id, error = %e, attempt = failures, "Erasing an account's PII failed; retrying.");
                            tokio::time::sleep(std::time::Duration::from_millis(250 << failures))
                                .await;
                        }
                        Err(e) => {
                            // Audited as requested but not done: an operator must see it.
                            tracing::error!(connection = %id, error = %e, "Erasing an account's PII failed; it stops here.");
                            return;
                        }
                    }
                }
            });
            format!("{named} orders named, erasing in the background")
        }
    };
    Ok((event, detail))
}

/// Erases what `scope` names in one connection, in batches; returns how many were erased (a
/// legal hold keeps an order's PII).
async fn erase_now(
    s: &ApiState,
    connection_id: &str,
    scope: &EraseScope,
    now: i64,
) -> Result<usize, ApiError> {
    let mut erased = 0;
    loop {
        let ids = s
            .store
            .erase_pii(connection_id, scope, now, ERASE_BATCH)
            .await?;
        erased += ids.len();
        if (ids.len() as i64) < ERASE_BATCH {
            return Ok(erased);
        }
    }
}

/// The kind's notification endpoint, if `/webhooks/{kind}/{segment}` is it.
fn notification_spec(kind: &str, segment: &str) -> Option<NotificationSpec> {
    registry::lookup(kind)?
        .notification
        .filter(|n| n.path == segment)
}

/// The endpoint's URL as registered with the platform: from `public_url` (set it in
/// production), else as this request reached us.
fn endpoint_url(s: &ApiState, headers: &HeaderMap, kind: &str, path: &str) -> String {
    let base = match &s.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            };
            let scheme = header("x-forwarded-proto").unwrap_or("http");
            format!("{scheme}://{}", header("host").unwrap_or("localhost"))
        }
    };
    format!("{base}/webhooks/{kind}/{path}")
}

/// `GET /webhooks/{kind}/{path}?challenge_code=…`: the platform's endpoint validation.
async fn challenge(
    State(s): State<ApiState>,
    Path((kind, segment)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<super::extract::Json<serde_json::Value>, ApiError> {
    let spec = notification_spec(&kind, &segment).ok_or_else(ApiError::not_found)?;
    let token = s.notification_tokens.get(kind.as_str()).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{} is not set", spec.token_env),
        )
    })?;
    let code = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == spec.challenge_param)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty() && v.len() <= 512)
        .ok_or_else(|| ApiError::bad_request(format!("missing {}", spec.challenge_param)))?;
    let endpoint = endpoint_url(&s, &headers, &kind, spec.path);
    Ok(super::extract::Json((spec.challenge)(
        &code,
        token.expose_secret(),
        &endpoint,
    )))
}

/// Connections asked to verify a notice before it is answered 500 (each may call the
/// platform, and a platform outage fails them all).
const VERIFY_TRIES: usize = 3;

/// `POST /webhooks/{kind}/{path}`: a signed notice about a marketplace account. Verified by
/// the first connection of the kind that can fetch the platform's key; a bad signature gets
/// the platform's rejection status, a key that cannot be fetched 500 (the platform retries).
/// A buyer's account deletion erases that buyer's orders in every connection of the kind;
/// the platform sends every account deletion of its whole site, so only a connection that
/// holds orders of that buyer records and audits it.
async fn notice(
    s: &ApiState,
    kind: &str,
    spec: NotificationSpec,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<StatusCode, ApiError> {
    let status = |code: u16, fallback: StatusCode| StatusCode::from_u16(code).unwrap_or(fallback);
    let rejected = || {
        metrics::counter!("ordersync_notifications_total", "kind" => kind.to_string(), "outcome" => "bad_signature").increment(1);
        ApiError::new(
            status(spec.rejected_status, StatusCode::UNAUTHORIZED),
            "bad_signature",
            "invalid notification signature",
        )
    };
    let accepted = status(spec.accepted_status, StatusCode::OK);
    if !(spec.signature_well_formed)(headers) {
        return Err(rejected());
    }
    let conns: Vec<ConnectionRow> = s
        .store
        .connections_of_kind(kind)
        .await?
        .into_iter()
        .filter(|c| c.state != "deleted")
        .collect();
    if conns.is_empty() {
        // Nothing is held that a notice could name, and nothing could fetch the key.
        return Ok(accepted);
    }
    let mut hint = None;
    for c in conns.iter().take(VERIFY_TRIES) {
        let Ok(source) = s.engine.connectors.source(c).await else {
            continue;
        };
        match source.verify_notification(headers, body).await {
            Ok(h) => {
                hint = Some(h);
                break;
            }
            Err(WebhookError::BadSignature) => return Err(rejected()),
            Err(WebhookError::Malformed(_)) => {
                return Err(ApiError::bad_request("malformed notification"));
            }
            Err(WebhookError::Unsupported) => return Err(ApiError::not_found()),
            // Another connection's credentials may work.
            Err(WebhookError::Unavailable(why)) => {
                tracing::warn!(kind, connection = %c.id, error = %why, "Cannot verify a platform notification now.");
            }
        }
    }
    let Some(hint) = hint else {
        metrics::counter!("ordersync_notifications_total", "kind" => kind.to_string(), "outcome" => "unverifiable").increment(1);
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unavailable",
            "the notification cannot be verified now; retry later",
        ));
    };
    metrics::counter!("ordersync_notifications_total", "kind" => kind.to_string(), "outcome" => "verified").increment(1);
    let Some(PrivacyAction::RedactBuyer { account }) = &hint.privacy else {
        return Ok(accepted);
    };
    let now = to_micros(s.clock.now());
    let mut index_keys = std::collections::HashMap::new();
    for c in &conns {
        if !index_keys.contains_key(&c.merchant_id) {
            match s.crypto.index_key(&c.merchant_id, s.clock.now()).await {
                Ok(k) => {
                    index_keys.insert(c.merchant_id.clone(), k);
                }
                // A terminated merchant: its PII is gone with its key.
                Err(crate::crypto::CryptoError::Destroyed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let Some(key) = index_keys.get(&c.merchant_id) else {
            continue;
        };
        let bidx = key.buyer(account);
        let scope = EraseScope::Orders {
            external_ids: Vec::new(),
            email_bidx: None,
            buyer_bidx: Some(bidx),
        };
        let named = s.store.orders_named(&c.id, &scope).await?.len();
        if named == 0 {
            continue;
        }
        let erased = erase_now(s, &c.id, &scope, now).await?;
        let fresh = s
            .store
            .record_webhook(
                &format!("{}:{}", c.id, hint.dedupe_key),
                &c.id,
                &hint.topic,
                now,
            )
            .await?;
        if fresh {
            s.store
                .audit(
                    Some(&c.merchant_id),
                    "platform",
                    "privacy.buyer_account_deleted",
                    Some(&c.id),
                    Some(&format!("{named} orders named, {erased} erased")),
                    now,
                )
                .await?;
        }
    }
    Ok(accepted)
}
