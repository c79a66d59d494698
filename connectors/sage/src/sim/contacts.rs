//! `/contacts`: create (unique `reference`, `idempotency_id` replay), search, get.

use super::SimState;
use super::auth::Business;
use super::errors::{invalid, not_found, rejected};
use super::lists::{Query, base, page};
use super::state::{Books, object_id, parse_object_id};
use crate::wire::{ContactBody, ContactEnvelope};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::{Entry, contains_ci, eq_ci};
use serde_json::{Value, json};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;

pub const KIND: char = 'b';

pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn view(e: &Entry<ContactBody>) -> Value {
    let c = &e.body;
    let id = object_id(KIND, e.num());
    let mut v = base(&id, &c.name, "/contacts");
    let m = v.as_object_mut().expect("object");
    m.insert("created_at".into(), json!(rfc3339(e.created_at)));
    m.insert("updated_at".into(), json!(rfc3339(e.modified_at)));
    m.insert(
        "contact_types".into(),
        json!([base("CUSTOMER", "Customer", "/contact_types")]),
    );
    m.insert("name".into(), json!(c.name));
    if let Some(r) = &c.reference {
        m.insert("reference".into(), json!(r));
    }
    if let Some(e) = &c.email {
        m.insert("email".into(), json!(e));
    }
    m.insert("gdpr_obfuscated".into(), json!(false));
    m.insert("is_active".into(), json!(true));
    m.insert("system".into(), json!(false));
    m.insert("deletable".into(), json!(true));
    v
}

/// `missing field \`x\`` → `x` (a serde message names the field first).
pub fn field_of(e: &serde_json::Error, fallback: &str) -> String {
    let t = e.to_string();
    t.split('`')
        .nth(1)
        .filter(|f| f.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .unwrap_or(fallback)
        .to_string()
}

pub fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [("content-type", "application/json")], bytes).into_response()
}

/// `POST /contacts`.
pub async fn create(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    raw: Bytes,
) -> Response {
    if s.core.take_reject() {
        return rejected();
    }
    let body: ContactEnvelope = match serde_json::from_slice(&raw) {
        Ok(b) => b,
        Err(e) => return invalid(&field_of(&e, "contact"), "This field is required."),
    };
    let c = body.contact;
    let now = s.now();
    s.books(&biz, |b| {
        let key = c.idempotency_id.as_ref().map(|i| format!("contact:{i}"));
        if let Some((st, bytes)) = key.as_ref().and_then(|k| b.replay.get(k)) {
            return json_bytes(
                StatusCode::from_u16(*st).unwrap_or(StatusCode::OK),
                bytes.clone(),
            );
        }
        if c.name.trim().is_empty() {
            return invalid("name", "This field is required.");
        }
        if c.contact_type_ids.is_empty() {
            return invalid("contact_type_ids", "This field is required.");
        }
        if let Some(r) = &c.reference
            && b.contacts
                .iter()
                .any(|e| e.body.reference.as_ref() == Some(r))
        {
            return invalid("reference", "has already been taken");
        }
        let text = format!("{}\n{}", c.name, c.reference.as_deref().unwrap_or_default());
        let num = b.contacts.insert(None, c, now);
        b.contact_text.add(num, &text);
        let bytes = b
            .contacts
            .get(num)
            .map(|e| serde_json::to_vec(&view(e)).unwrap_or_default())
            .unwrap_or_default();
        if let Some(k) = key {
            b.replay.insert(k, (201, bytes.clone()));
        }
        json_bytes(StatusCode::CREATED, bytes)
    })
}

/// The contacts whose name or reference may contain `needle` (all of them for a needle too
/// short to narrow), in creation order; callers check each.
pub fn narrowed<'a>(
    b: &'a Books,
    needle: &str,
) -> Box<dyn Iterator<Item = &'a Entry<ContactBody>> + 'a> {
    match b.contact_text.candidates(needle) {
        Some(nums) => Box::new(nums.into_iter().filter_map(|n| b.contacts.get(n))),
        None => Box::new(b.contacts.iter()),
    }
}

/// `GET /contacts?search=&email=`.
pub async fn list(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    Q(q): Q<Query>,
) -> Response {
    let search = q.get("search");
    let email = q.get("email");
    let items = s.books(&biz, |b| {
        let all: Box<dyn Iterator<Item = &Entry<ContactBody>>> = match search {
            Some(n) => Box::new(narrowed(b, n)),
            None => Box::new(b.contacts.iter()),
        };
        all.filter(|e| {
            search.is_none_or(|needle| {
                contains_ci(&e.body.name, needle)
                    || e.body
                        .reference
                        .as_ref()
                        .is_some_and(|r| contains_ci(r, needle))
            })
        })
        .filter(|e| email.is_none_or(|m| e.body.email.as_ref().is_some_and(|x| eq_ci(x, m))))
        .map(view)
        .collect()
    });
    page("/contacts", &q, items)
}

/// `GET /contacts/{key}`.
pub async fn get_one(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    Path(key): Path<String>,
) -> Response {
    s.books(&biz, |b| {
        match parse_object_id(KIND, &key).and_then(|n| b.contacts.get(n)) {
            Some(e) => axum::Json(view(e)).into_response(),
            None => not_found(),
        }
    })
}
