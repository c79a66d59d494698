//! Authentication as WooCommerce checks it: Basic, query keys and OAuth 1.0a one-legged
//! signatures as the official Python client (`woocommerce` 3.0.0) sends them over plain HTTP.

use crate::{CK, CS, env};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use ordersync_sdk::Clock;
use ordersync_woocommerce::sim::{Keys, SimOptions};
use serde_json::Value;

/// Python's `urllib.parse.quote(s, safe)`.
fn quote(s: &str, safe: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.as_bytes().contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The URL the official Python client requests for `GET {url}?{params}` over HTTP: its
/// `OAuth.get_oauth_url`, then `requests` appending `params` once more.
fn python_client_url(
    url: &str,
    params: &[(&str, &str)],
    cs: &str,
    ts: i64,
    nonce: &str,
    method: &str,
) -> String {
    let mut p: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    p.push(("oauth_consumer_key".into(), CK.into()));
    p.push(("oauth_timestamp".into(), ts.to_string()));
    p.push(("oauth_nonce".into(), nonce.into()));
    p.push(("oauth_signature_method".into(), method.into()));
    let mut sorted = p.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let query: Vec<String> = sorted
        .iter()
        .map(|(k, v)| {
            format!(
                "{}%3D{}",
                quote(k, "/").replace('%', "%25"),
                quote(v, "/").replace('%', "%25")
            )
        })
        .collect();
    let base = format!("GET&{}&{}", quote(url, ""), query.join("%26"));
    let key = format!("{cs}&");
    let sig = match method {
        "HMAC-SHA1" => {
            let mut m = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
            m.update(base.as_bytes());
            STANDARD.encode(m.finalize().into_bytes())
        }
        _ => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
            m.update(base.as_bytes());
            STANDARD.encode(m.finalize().into_bytes())
        }
    };
    p.push(("oauth_signature".into(), sig));
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &p {
        ser.append_pair(k, v);
    }
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    format!("{url}?{}", ser.finish())
}

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn oauth_one_legged_signatures_of_the_python_client_verify() {
    let e = env(SimOptions::default()).await;
    e.seed(12, 31).await;
    let url = format!("{}/wp-json/wc/v3/orders", e.sim.base_url);
    let now = e.clock.now().unix_timestamp();
    let params = [
        ("per_page", "5"),
        ("modified_after", "2026-01-01T00:00:00"),
        ("dates_are_gmt", "true"),
    ];
    for (i, method) in ["HMAC-SHA256", "HMAC-SHA1"].iter().enumerate() {
        let (status, v) = get(&python_client_url(
            &url,
            &params,
            CS,
            now,
            &format!("nonce{i}"),
            method,
        ))
        .await;
        assert_eq!(status, 200, "{method}: {v}");
        assert_eq!(v.as_array().unwrap().len(), 5);
    }
    // The same nonce twice: a replay.
    let (status, v) = get(&python_client_url(
        &url,
        &params,
        CS,
        now,
        "nonce0",
        "HMAC-SHA256",
    ))
    .await;
    assert_eq!(
        (status, v["message"].as_str()),
        (401, Some("Invalid nonce - nonce has already been used."))
    );
    // Signed with another secret.
    let (status, v) = get(&python_client_url(
        &url,
        &params,
        "cs_other",
        now,
        "n2",
        "HMAC-SHA256",
    ))
    .await;
    assert_eq!(status, 401);
    assert_eq!(v["code"], "woocommerce_rest_authentication_error");
    assert_eq!(
        v["message"],
        "Invalid signature - provided signature does not match."
    );
    // An hour old.
    let (status, v) = get(&python_client_url(
        &url,
        &params,
        CS,
        now - 3600,
        "n3",
        "HMAC-SHA256",
    ))
    .await;
    assert_eq!(
        (status, v["message"].as_str()),
        (401, Some("Invalid timestamp."))
    );
    // Another method.
    let (status, v) = get(&python_client_url(
        &url,
        &params,
        CS,
        now,
        "n4",
        "PLAINTEXT",
    ))
    .await;
    assert_eq!(
        (status, v["message"].as_str()),
        (
            401,
            Some("Invalid signature - signature method is invalid.")
        )
    );
    // Half the parameters.
    let (status, v) = get(&format!("{url}?oauth_consumer_key={CK}&oauth_nonce=x")).await;
    assert_eq!(status, 401);
    assert_eq!(
        v["code"],
        "woocommerce_rest_authentication_missing_parameter"
    );
}

#[tokio::test]
async fn basic_and_query_keys_and_their_failures() {
    let e = env(SimOptions {
        keys: Keys::Only(vec![(CK.into(), CS.into())]),
        ..SimOptions::default()
    })
    .await;
    e.seed(3, 32).await;
    let url = format!("{}/wp-json/wc/v3/orders", e.sim.base_url);
    let c = reqwest::Client::new();
    let r = c.get(&url).basic_auth(CK, Some(CS)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(format!("{url}?consumer_key={CK}&consumer_secret={CS}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A known key with the wrong secret.
    let r = c
        .get(&url)
        .basic_auth(CK, Some("cs_wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=")
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["code"].as_str(), v["message"].as_str()),
        (
            Some("woocommerce_rest_authentication_error"),
            Some("Consumer secret is invalid.")
        )
    );
    // An unknown key is no key at all.
    let r = c
        .get(&url)
        .basic_auth("ck_unknown", Some(CS))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["code"].as_str(), v["data"]["status"].as_u64()),
        (Some("woocommerce_rest_cannot_view"), Some(401))
    );
    let v: Value = c
        .get(format!("{url}/1001"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["message"], "Sorry, you cannot view this resource.");
    // The connector with a revoked key: Auth, saying what to check.
    let src = e.source_with(serde_json::json!({}), "ck_revoked", "cs_revoked");
    let err = src
        .pull(&ordersync_sdk::PullCursor {
            since: None,
            until: e.until(),
            page_token: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.class(), ordersync_sdk::ErrorClass::Auth);
    assert!(err.to_string().contains("consumer key"), "{err}");
}
