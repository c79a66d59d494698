//! What runs before every platform route once the fault layer let a request through: the
//! version in the path, the `as-api-key` check, and the per-endpoint per-second bucket with
//! `X-RateLimit-Limit/Remaining/Reset` on the answer.

use super::errors::{no_such_resource, too_many, unauthorized};
use super::{SimState, VERSION};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// Which of AfterShip's per-endpoint limits a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Create,
    List,
    ById,
}

impl Class {
    fn of(method: &Method, path: &str) -> Class {
        let by_id = path.trim_end_matches('/').split('/').count() > 4;
        match (method, by_id) {
            (_, true) => Class::ById,
            (&Method::POST, false) => Class::Create,
            _ => Class::List,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Class::Create => "create",
            Class::List => "list",
            Class::ById => "by_id",
        }
    }
}

pub async fn gate(State(s): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    // `/tracking/{version}/...`
    if path.split('/').nth(2) != Some(VERSION) {
        return no_such_resource();
    }
    let key = req
        .headers()
        .get("as-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let accepted = !key.is_empty()
        && s.opts
            .api_keys
            .as_ref()
            .is_none_or(|keys| keys.contains(&key));
    if !accepted {
        return unauthorized();
    }
    let hit = s.take_rate(&key, Class::of(req.method(), &path));
    let mut resp = if hit.admitted {
        next.run(req).await
    } else {
        s.core.count_throttled();
        too_many()
    };
    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(hit.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(hit.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(hit.reset_unix));
    resp
}
