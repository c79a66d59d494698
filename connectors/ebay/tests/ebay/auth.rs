//! OAuth: the token endpoint as eBay (and `ebay-oauth-nodejs-client`) speak it, refreshing
//! an expired token once, `invalid_grant` as "reconnect", application tokens refused.

use crate::{CLIENT_ID, CLIENT_SECRET, REFRESH, env, opts};
use ordersync_sdk::{ErrorClass, PullCursor};
use serde_json::{Value, json};

const TOKEN_PATH: &str = "/identity/v1/oauth2/token";

async fn token_call(base: &str, auth: Option<&str>, body: &str) -> (u16, Value) {
    let mut r = reqwest::Client::new()
        .post(format!("{base}{TOKEN_PATH}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    if let Some(a) = auth {
        r = r.header("Authorization", a);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_speaks_ebays_oauth() {
    let e = env(opts()).await;
    let base = &e.sim.base_url;
    let auth = basic(CLIENT_ID, CLIENT_SECRET);
    // As the nodejs client sends it: the refresh token unencoded, scopes joined by %20.
    let body = format!(
        "refresh_token={REFRESH}&grant_type=refresh_token&scope=https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly%20https://api.ebay.com/oauth/api_scope"
    );
    let (status, v) = token_call(base, Some(&auth), &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["expires_in"].as_i64(), v["token_type"].as_str()),
        (Some(7200), Some("User Access Token"))
    );
    assert!(
        v.get("refresh_token").is_none(),
        "eBay keeps the refresh token"
    );
    let (status, v) = token_call(base, None, &body).await;
    assert_eq!((status, v["error"].as_str()), (401, Some("invalid_client")));
    let bad_scope =
        format!("grant_type=refresh_token&refresh_token={REFRESH}&scope=https://example.com/scope");
    assert_eq!(
        token_call(base, Some(&auth), &bad_scope).await.1["error"],
        "invalid_scope"
    );
    // A token without a fulfillment scope cannot read orders: 403, which is `Auth`.
    let other = format!(
        "grant_type=refresh_token&refresh_token={REFRESH}&scope=https://api.ebay.com/oauth/api_scope/sell.inventory"
    );
    let (_, v) = token_call(base, Some(&auth), &other).await;
    let r = reqwest::Client::new()
        .get(format!("{base}/sell/fulfillment/v1/order"))
        .bearer_auth(v["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body = r.bytes().await.unwrap();
    let err = ordersync_ebay::errors::parse_error(403, &reqwest::header::HeaderMap::new(), &body);
    assert_eq!(err.class(), ErrorClass::Auth);
    let unknown = "grant_type=refresh_token&refresh_token=v^1.1%23never-issued";
    let (status, v) = token_call(base, Some(&auth), unknown).await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_grant")));
    // A new consent: the code grant issues a refresh token the connector can use.
    let (status, v) = token_call(
        base,
        Some(&auth),
        "code=v%5E1.1%23code&grant_type=authorization_code&redirect_uri=Demo-Seller-RuName",
    )
    .await;
    assert_eq!(status, 200);
    let rt = v["refresh_token"].as_str().unwrap();
    assert_eq!(v["refresh_token_expires_in"], 47_304_000);
    e.seed(3, 1).await;
    let (orders, _, _) = crate::read_all(&*e.source_with(200, rt), None, e.until()).await;
    assert_eq!(orders.len(), 3);
    // An application token (client credentials) cannot read a seller's orders.
    let (_, v) = token_call(
        base,
        Some(&auth),
        "grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope",
    )
    .await;
    assert_eq!(v["token_type"], "Application Access Token");
    let r = reqwest::Client::new()
        .get(format!("{base}/sell/fulfillment/v1/order"))
        .bearer_auth(v["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// The platform expires the token early: the 401 is answered by one refresh and one retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_refreshed_once() {
    let e = env(opts()).await;
    e.seed(5, 2).await;
    let src = e.source(200);
    let until = e.until();
    let cursor = PullCursor {
        since: None,
        until,
        page_token: None,
    };
    src.pull(&cursor).await.unwrap();
    let (tokens, calls) = (e.calls("token").await, e.calls("getOrders").await);
    assert_eq!(tokens, 1);
    src.pull(&cursor).await.unwrap();
    assert_eq!(e.calls("token").await, 1, "a valid token is reused");
    e.post("/_sim/expire_tokens", json!({})).await;
    let p = src.pull(&cursor).await.unwrap();
    assert_eq!(p.orders.len(), 5);
    assert_eq!(e.calls("token").await, 2, "one refresh");
    assert_eq!(
        e.calls("getOrders").await - calls,
        3,
        "the second pull, the 401, the retry"
    );
}

/// `invalid_grant` (the merchant revoked the app or changed the password): `Auth`, saying
/// the merchant must reconnect, so the connection shows needs_reauth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_authorization_asks_the_merchant_to_reconnect() {
    let e = env(opts()).await;
    e.seed(5, 3).await;
    let src = e.source(200);
    let cursor = PullCursor {
        since: None,
        until: e.until(),
        page_token: None,
    };
    src.pull(&cursor).await.unwrap();
    e.post("/_sim/revoke", json!({})).await;
    // The access token in use still works until it expires, as on eBay.
    src.pull(&cursor).await.unwrap();
    e.post("/_sim/expire_tokens", json!({})).await;
    let err = src.pull(&cursor).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    let msg = err.to_string();
    assert!(
        msg.contains("invalid_grant") && msg.contains("reconnect"),
        "{msg}"
    );
    assert!(
        !msg.contains(REFRESH) && !msg.contains(CLIENT_SECRET),
        "no secret in {msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_factory_refuses_what_ebay_would() {
    let e = env(opts()).await;
    let deps = e.deps();
    let mut secrets = ordersync_sdk::Secrets::new();
    secrets.insert("client_id".into(), CLIENT_ID.to_string().into());
    secrets.insert("client_secret".into(), CLIENT_SECRET.to_string().into());
    let no_rt = ordersync_ebay::build_source(&e.config(200), &secrets, &deps)
        .err()
        .unwrap();
    assert!(no_rt.to_string().contains("refresh_token"));
    secrets.insert("refresh_token".into(), REFRESH.to_string().into());
    let big = ordersync_ebay::build_source(&e.config(201), &secrets, &deps)
        .err()
        .unwrap();
    assert!(big.to_string().contains("page_size"));
    assert!(ordersync_ebay::build_source(&e.config(200), &secrets, &deps).is_ok());
    let schema = (ordersync_ebay::DESCRIPTOR.config_schema)();
    assert!(schema["properties"]["token_url"]["description"].is_string());
}
