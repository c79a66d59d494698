//! What runs before every API route once the fault layer let a request through: the bearer
//! token, the tenant, Xero's limits (day, minute, app minute, in flight) with their headers
//! on every answer, the XML answer without `Accept: application/json`, and the
//! `Idempotency-Key` replay of writes.

use super::SimState;
use super::state::too_many;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::AccessCheck;
use std::sync::Arc;

fn unauthorized(detail: &str) -> Response {
    let body = format!(
        r#"{{"Type":null,"Title":"Unauthorized","Status":401,"Detail":"{detail}","Instance":"5e1f0a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b","Extensions":{{}}}}"#
    );
    (
        StatusCode::UNAUTHORIZED,
        [
            ("content-type", "application/json"),
            ("www-authenticate", "Bearer error=\"invalid_token\""),
        ],
        body,
    )
        .into_response()
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        [("content-type", "application/json")],
        r#"{"Type":null,"Title":"Forbidden","Status":403,"Detail":"AuthenticationUnsuccessful","Instance":"6f2a1b3c-4d5e-4f6a-8b7c-8d9e0f1a2b3c","Extensions":{}}"#,
    )
        .into_response()
}

/// Releases a tenant's in-flight slot however the request ends.
struct Inflight {
    s: Arc<SimState>,
    tenant: String,
}

impl Drop for Inflight {
    fn drop(&mut self) {
        if let Some(t) = self.s.data().tenants.get_mut(&self.tenant) {
            t.inflight = t.inflight.saturating_sub(1);
        }
    }
}

pub async fn gate(State(s): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let h = req.headers();
    let bearer = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let tenant = h
        .get("xero-tenant-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let json = h
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let idem = h
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 128)
        .map(String::from);
    let write = matches!(*req.method(), Method::PUT | Method::POST);
    let now = s.clock.now();
    let (day, minute, app, replay) = {
        let mut d = s.data();
        let secs = now.unix_timestamp();
        match d.tokens.check(&bearer, secs) {
            AccessCheck::Valid => {}
            AccessCheck::Expired => {
                let at = now.format(time::macros::format_description!(
                    "[month]/[day]/[year] [hour]:[minute]:[second]"
                ));
                return unauthorized(&format!(
                    "TokenExpired: token expired at {}",
                    at.unwrap_or_default()
                ));
            }
            AccessCheck::Unknown => return unauthorized("AuthenticationUnsuccessful"),
        }
        d.used_tokens.insert(bearer.clone());
        let app = d.app_minute.hit(now);
        let Some(t) = d.tenants.get_mut(&tenant) else {
            return forbidden();
        };
        if t.inflight >= s.opts.concurrent {
            s.core.count_throttled();
            return too_many("concurrent", 1);
        }
        // The minute first: a call refused for the minute does not spend the day.
        let day_left = t.day.remaining(now);
        let minute = t.minute.hit(now);
        if !minute.admitted {
            s.core.count_throttled();
            return with_limits(
                too_many("minute", minute.reset_secs),
                day_left,
                0,
                app.remaining,
            );
        }
        let day = t.day.hit(now);
        if !day.admitted {
            s.core.count_throttled();
            return with_limits(
                too_many("day", day.reset_secs),
                day.remaining,
                minute.remaining,
                app.remaining,
            );
        }
        if !app.admitted {
            s.core.count_throttled();
            return with_limits(
                too_many("appminute", app.reset_secs),
                day.remaining,
                minute.remaining,
                0,
            );
        }
        let replay = match (&idem, write) {
            (Some(k), true) => t.answers.get(k).cloned(),
            _ => None,
        };
        if replay.is_none() {
            t.inflight += 1;
        }
        (day.remaining, minute.remaining, app.remaining, replay)
    };
    if let Some(a) = replay {
        let r = (
            StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK),
            [("content-type", "application/json; charset=utf-8")],
            a.body,
        )
            .into_response();
        return with_limits(r, day, minute, app);
    }
    let _slot = Inflight {
        s: s.clone(),
        tenant: tenant.clone(),
    };
    if !json {
        // Xero's default representation.
        let r = (
            StatusCode::OK,
            [("content-type", "text/xml; charset=utf-8")],
            "<Response xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><Status>OK</Status></Response>",
        )
            .into_response();
        return with_limits(r, day, minute, app);
    }
    let resp = next.run(req).await;
    let resp = match (idem, write) {
        (Some(k), true) => remember(&s, &tenant, k, resp).await,
        _ => resp,
    };
    with_limits(resp, day, minute, app)
}

/// Keeps a successful write's answer for its key (failed ones are not kept, so a corrected
/// retry can succeed — Xero's behaviour here is not documented).
async fn remember(s: &SimState, tenant: &str, key: String, resp: Response) -> Response {
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let ok = parts.status.is_success() && !bytes.windows(16).any(|w| w == b"\"HasErrors\":true");
    if ok && let Some(t) = s.data().tenants.get_mut(tenant) {
        t.answers.insert(
            key,
            super::books::StoredAnswer {
                status: parts.status.as_u16(),
                body: bytes.to_vec(),
            },
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn with_limits(mut r: Response, day: u32, minute: u32, app: u32) -> Response {
    let h = r.headers_mut();
    h.insert("x-daylimit-remaining", HeaderValue::from(day));
    h.insert("x-minlimit-remaining", HeaderValue::from(minute));
    h.insert("x-appminlimit-remaining", HeaderValue::from(app));
    r
}
