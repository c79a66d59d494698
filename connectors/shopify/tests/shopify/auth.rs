//! Static tokens, expiring OAuth tokens with rotating refresh tokens.

use crate::{TOKEN, env};
use async_trait::async_trait;
use ordersync_sdk::{ConnectorError, ErrorClass, PullCursor, Secrets, SecretsPersister, Source};
use ordersync_shopify::sim::SimOptions;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::sync::{Arc, Mutex};
use time::Duration;

#[derive(Default)]
struct Keep(Mutex<Vec<(String, String)>>);

#[async_trait]
impl SecretsPersister for Keep {
    async fn persist(&self, name: &str, v: &SecretString) -> Result<(), ConnectorError> {
        self.0
            .lock()
            .unwrap()
            .push((name.into(), v.expose_secret().to_string()));
        Ok(())
    }
}

#[tokio::test]
async fn bad_static_token_is_auth() {
    let e = env(SimOptions {
        accepted_static_tokens: Some(vec![TOKEN.into()]),
        ..Default::default()
    })
    .await;
    let until = e.until();
    for bad in ["shpat_other", "not-a-token"] {
        let err = e
            .source(250, bad)
            .pull(&PullCursor {
                since: None,
                until,
                page_token: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Auth, "{bad}");
        assert!(!err.to_string().contains(bad));
    }
    assert!(
        e.source(250, TOKEN)
            .pull(&PullCursor {
                since: None,
                until,
                page_token: None
            })
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn expiring_tokens_refresh_and_rotation_is_persisted() {
    let e = env(SimOptions::default()).await;
    // One page holds them all (7 orders per page at 989 points).
    e.post("/_sim/seed", json!({"count": 7, "seed": 8})).await;
    // Install: exchange an authorization code for the first pair.
    let first = e
        .post(
            "/admin/oauth/access_token",
            json!({"client_id": "cid", "client_secret": "cs", "code": "abc"}),
        )
        .await;
    assert_eq!(first["expires_in"], 3600);
    let rt0 = first["refresh_token"].as_str().unwrap().to_string();
    let mut secrets = Secrets::new();
    secrets.insert("client_id".into(), "cid".to_string().into());
    secrets.insert("client_secret".into(), "cs".to_string().into());
    secrets.insert("refresh_token".into(), rt0.clone().into());
    let keep = Arc::new(Keep::default());
    let src: Arc<dyn Source> =
        ordersync_shopify::build_source(&e.config(250), &secrets, &e.deps(keep.clone())).unwrap();
    let pull = |src: Arc<dyn Source>, until| async move {
        src.pull(&PullCursor {
            since: None,
            until,
            page_token: None,
        })
        .await
    };
    assert_eq!(pull(src.clone(), e.until()).await.unwrap().orders.len(), 7);
    assert_eq!(
        keep.0.lock().unwrap().len(),
        1,
        "rotated refresh token persisted once"
    );

    // Token lifetime passes on the sim clock: the provider refreshes before using it.
    e.clock.advance(Duration::hours(2));
    assert_eq!(pull(src.clone(), e.until()).await.unwrap().orders.len(), 7);
    // The platform revokes early: 401 → invalidate → refresh → retry once.
    assert_eq!(
        e.post("/_sim/expire_tokens", json!({})).await["expired"]
            .as_u64()
            .unwrap(),
        3
    );
    assert_eq!(pull(src.clone(), e.until()).await.unwrap().orders.len(), 7);
    let kept = keep.0.lock().unwrap().clone();
    assert_eq!(kept.len(), 3);
    assert!(kept.iter().all(|(n, v)| n == "refresh_token" && *v != rt0));

    // rt0's successors have been used, so rt0 is dead now.
    let stale = e
        .post("/admin/oauth/access_token", json!({"client_id": "cid", "client_secret": "cs", "grant_type": "refresh_token", "refresh_token": rt0}))
        .await;
    assert_eq!(stale["error"], "invalid_grant");
}

#[tokio::test]
async fn unknown_refresh_token_is_auth() {
    let e = env(SimOptions::default()).await;
    let mut secrets = Secrets::new();
    secrets.insert("client_id".into(), "cid".to_string().into());
    secrets.insert("client_secret".into(), "cs".to_string().into());
    secrets.insert("refresh_token".into(), "shprt_unknown".to_string().into());
    let src = ordersync_shopify::build_source(
        &e.config(250),
        &secrets,
        &e.deps(Arc::new(Keep::default())),
    )
    .unwrap();
    let err = src
        .pull(&PullCursor {
            since: None,
            until: e.until(),
            page_token: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
}

#[tokio::test]
async fn config_and_secrets_are_validated() {
    let e = env(SimOptions::default()).await;
    let deps = e.deps(Arc::new(Keep::default()));
    let mut secrets = Secrets::new();
    let ok = json!({"shop_domain": "a.myshopify.com"});
    let err = |c: serde_json::Value, s: &Secrets| {
        ordersync_shopify::build_source(&c, s, &deps)
            .err()
            .map(|e| e.class())
    };
    assert_eq!(
        err(ok.clone(), &secrets),
        Some(ErrorClass::Permanent),
        "no credentials"
    );
    secrets.insert("access_token".into(), TOKEN.to_string().into());
    assert_eq!(err(ok, &secrets), None);
    assert_eq!(
        err(json!({"shop_domain": "evil.com"}), &secrets),
        Some(ErrorClass::Permanent)
    );
    assert_eq!(
        err(
            json!({"shop_domain": "a.myshopify.com", "page_size": 500}),
            &secrets
        ),
        Some(ErrorClass::Permanent)
    );
}
