//! `/sales_invoices` and `/sales_credit_notes`: create with `idempotency_id` replay, v3.1's
//! line rules (a `tax_amount` unless the rate is zero / exempt / no tax; `quantity ×
//! unit_price − discount_amount` matching the line's net or, tax-inclusive, its total), list
//! with `search` / `updated_or_created_since` / `deleted_since`, get; invoices also update
//! (while unpaid and not void) and void (`DELETE ?void_reason=`).

// Validation fails with the very answer Sage would give; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use super::SimState;
use super::auth::Business;
use super::contacts::{self, field_of, json_bytes, rfc3339};
use super::errors::{invalid, not_found, rejected};
use super::lists::{Query, base, num, page};
use super::state::{ArtefactRec, Books, ledger_by_id, object_id, parse_object_id};
use crate::mapping::MAX_LINES;
use crate::wire::{CreditNoteEnvelope, InvoiceEnvelope, Line};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ordersync_sdk::Decimal;
use ordersync_sdk::sim::{Entry, GramIndex, ObjectBook, contains_ci};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invoice,
    Credit,
}

impl Kind {
    fn id_char(self) -> char {
        match self {
            Kind::Invoice => 'a',
            Kind::Credit => 'c',
        }
    }
    fn path(self) -> &'static str {
        match self {
            Kind::Invoice => "/sales_invoices",
            Kind::Credit => "/sales_credit_notes",
        }
    }
    fn lines_key(self) -> &'static str {
        match self {
            Kind::Invoice => "invoice_lines",
            Kind::Credit => "credit_note_lines",
        }
    }
    fn book(self, b: &mut Books) -> &mut ObjectBook<ArtefactRec> {
        match self {
            Kind::Invoice => &mut b.invoices,
            Kind::Credit => &mut b.credit_notes,
        }
    }
    fn book_ref(self, b: &Books) -> &ObjectBook<ArtefactRec> {
        match self {
            Kind::Invoice => &b.invoices,
            Kind::Credit => &b.credit_notes,
        }
    }
    fn refs(self, b: &mut Books) -> &mut GramIndex {
        match self {
            Kind::Invoice => &mut b.invoice_refs,
            Kind::Credit => &mut b.credit_refs,
        }
    }
    fn refs_ref(self, b: &Books) -> &GramIndex {
        match self {
            Kind::Invoice => &b.invoice_refs,
            Kind::Credit => &b.credit_refs,
        }
    }
}

/// A write's body, either kind.
struct Incoming {
    contact_id: String,
    date: String,
    original_invoice_date: Option<String>,
    reference: Option<String>,
    currency_id: Option<String>,
    notes: Option<String>,
    ship_net: Option<Decimal>,
    ship_rate: Option<String>,
    ship_tax: Option<Decimal>,
    lines: Vec<Line>,
    idempotency_id: Option<String>,
}

fn parse(kind: Kind, raw: &[u8]) -> Result<Incoming, Response> {
    let bad = |e: serde_json::Error| invalid(&field_of(&e, "base"), "This field is required.");
    Ok(match kind {
        Kind::Invoice => {
            let b = serde_json::from_slice::<InvoiceEnvelope>(raw)
                .map_err(bad)?
                .sales_invoice;
            Incoming {
                contact_id: b.contact_id,
                date: b.date,
                original_invoice_date: None,
                reference: b.reference,
                currency_id: b.currency_id,
                notes: b.notes,
                ship_net: b.shipping_net_amount,
                ship_rate: b.shipping_tax_rate_id,
                ship_tax: b.shipping_tax_amount,
                lines: b.invoice_lines,
                idempotency_id: b.idempotency_id,
            }
        }
        Kind::Credit => {
            let b = serde_json::from_slice::<CreditNoteEnvelope>(raw)
                .map_err(bad)?
                .sales_credit_note;
            Incoming {
                contact_id: b.contact_id,
                date: b.date,
                original_invoice_date: b.original_invoice_date,
                reference: b.reference,
                currency_id: b.currency_id,
                notes: b.notes,
                ship_net: b.shipping_net_amount,
                ship_rate: b.shipping_tax_rate_id,
                ship_tax: b.shipping_tax_amount,
                lines: b.credit_note_lines,
                idempotency_id: b.idempotency_id,
            }
        }
    })
}

fn is_date(s: &str) -> bool {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &f).is_ok()
}

/// Applies Sage's rules and computes the totals, or answers the 422 Sage would.
fn validate(s: &SimState, b: &Books, kind: Kind, inc: Incoming) -> Result<ArtefactRec, Response> {
    let key = kind.lines_key();
    let overflow = || invalid("base", "An amount is too large");
    if parse_object_id(contacts::KIND, &inc.contact_id)
        .and_then(|n| b.contacts.get(n))
        .is_none()
    {
        return Err(invalid("contact_id", "is invalid"));
    }
    if !is_date(&inc.date) {
        return Err(invalid("date", "is not a valid date"));
    }
    let currency = inc.currency_id.clone().unwrap_or_else(|| "GBP".into());
    if !s.opts.currencies.contains(&currency) {
        return Err(invalid("currency_id", "is invalid"));
    }
    if inc.lines.is_empty() {
        return Err(invalid(key, "can't be blank"));
    }
    if inc.lines.len() > MAX_LINES {
        return Err(invalid(key, "has too many lines"));
    }
    let (mut net_sum, mut tax_sum) = (Decimal::ZERO, Decimal::ZERO);
    let mut lines = Vec::with_capacity(inc.lines.len());
    for (i, l) in inc.lines.into_iter().enumerate() {
        let at = |f: &str| format!("{key}.{i}.{f}");
        if l.description.trim().is_empty() {
            return Err(invalid(&at("description"), "can't be blank"));
        }
        if ledger_by_id(&l.ledger_account_id).is_none() {
            return Err(invalid(&at("ledger_account_id"), "is invalid"));
        }
        let Some(rate) = l.tax_rate_id.as_deref().and_then(|r| s.rate(r)) else {
            return Err(invalid(&at("tax_rate_id"), "is invalid"));
        };
        let zeroish = rate.percentage.is_zero();
        let tax = match l.tax_amount {
            Some(t) => t,
            None if zeroish => Decimal::ZERO,
            None => return Err(invalid(&at("tax_amount"), "This field is required.")),
        };
        if zeroish && !tax.is_zero() {
            return Err(invalid(&at("tax_amount"), "must be 0 for this tax rate"));
        }
        let sum = l
            .unit_price
            .checked_mul(l.quantity)
            .and_then(|g| g.checked_sub(l.discount_amount.unwrap_or_default()))
            .ok_or_else(overflow)?;
        let net = match l.net_amount {
            Some(n) => n,
            None if l.unit_price_includes_tax => sum.checked_sub(tax).ok_or_else(overflow)?,
            None => sum,
        };
        let total = net.checked_add(tax).ok_or_else(overflow)?;
        let priced = if l.unit_price_includes_tax {
            total
        } else {
            net
        };
        if priced != sum {
            return Err(invalid(
                &at("net_amount"),
                "does not match quantity × unit_price − discount_amount",
            ));
        }
        if l.total_amount.is_some_and(|t| t != total) {
            return Err(invalid(
                &at("total_amount"),
                "is not net_amount + tax_amount",
            ));
        }
        net_sum = net_sum.checked_add(net).ok_or_else(overflow)?;
        tax_sum = tax_sum.checked_add(tax).ok_or_else(overflow)?;
        lines.push(Line {
            net_amount: Some(net),
            tax_amount: Some(tax),
            total_amount: Some(total),
            ..l
        });
    }
    let (ship_net, ship_tax) = match inc.ship_net {
        None => (Decimal::ZERO, Decimal::ZERO),
        Some(n) => {
            let Some(rate) = inc.ship_rate.as_deref().and_then(|r| s.rate(r)) else {
                return Err(invalid("shipping_tax_rate_id", "is invalid"));
            };
            // Sage calculates shipping tax when it is not sent (half up, 2 places here).
            let t = match inc.ship_tax {
                Some(t) => t,
                None => n
                    .checked_mul(rate.percentage)
                    .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
                    .ok_or_else(overflow)?
                    .round_dp_with_strategy(
                        2,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                    ),
            };
            if rate.percentage.is_zero() && !t.is_zero() {
                return Err(invalid(
                    "shipping_tax_amount",
                    "must be 0 for this tax rate",
                ));
            }
            (n, t)
        }
    };
    let net = net_sum.checked_add(ship_net).ok_or_else(overflow)?;
    let tax = tax_sum.checked_add(ship_tax).ok_or_else(overflow)?;
    Ok(ArtefactRec {
        contact_id: inc.contact_id,
        date: inc.date,
        original_invoice_date: inc.original_invoice_date,
        reference: inc.reference,
        notes: inc.notes,
        currency,
        lines,
        ship_net,
        ship_rate: inc.ship_rate.filter(|_| inc.ship_net.is_some()),
        ship_tax,
        net,
        tax,
        total: net.checked_add(tax).ok_or_else(overflow)?,
        paid: Decimal::ZERO,
        status: "UNPAID",
        void_reason: None,
        deleted_at: None,
    })
}

fn status_name(id: &str) -> &'static str {
    match id {
        "PAID" => "Paid",
        "PART_PAID" => "Part Paid",
        "VOID" => "Void",
        _ => "Unpaid",
    }
}

fn line_view(i: usize, l: &Line, s: &SimState) -> Value {
    let ledger = ledger_by_id(&l.ledger_account_id);
    let rate_id = l.tax_rate_id.clone().unwrap_or_default();
    let rate_name = s.rate(&rate_id).map(|r| r.name.clone()).unwrap_or_default();
    json!({
        "id": format!("{i:032x}"),
        "displayed_as": l.description,
        "description": l.description,
        "ledger_account": base(&l.ledger_account_id, ledger.map_or("", |x| x.1), "/ledger_accounts"),
        "quantity": num(l.quantity),
        "unit_price": num(l.unit_price),
        "net_amount": num(l.net_amount.unwrap_or_default()),
        "tax_rate": base(&rate_id, &rate_name, "/tax_rates"),
        "tax_amount": num(l.tax_amount.unwrap_or_default()),
        "total_amount": num(l.total_amount.unwrap_or_default()),
        "unit_price_includes_tax": l.unit_price_includes_tax,
        "discount_amount": num(l.discount_amount.unwrap_or_default()),
    })
}

/// A `SalesInvoice` / `SalesCreditNote` as Sage answers it (absent values left out: the
/// swagger's types are not nullable).
fn view(s: &SimState, b: &Books, kind: Kind, e: &Entry<ArtefactRec>) -> Value {
    let r = &e.body;
    let id = object_id(kind.id_char(), e.num());
    let number = match kind {
        Kind::Invoice => format!("SI-{}", e.num()),
        Kind::Credit => format!("SCN-{}", e.num()),
    };
    let contact = parse_object_id(contacts::KIND, &r.contact_id).and_then(|n| b.contacts.get(n));
    let contact_name = contact.map(|c| c.body.name.clone()).unwrap_or_default();
    let mut v = base(&id, &number, kind.path());
    let m = v.as_object_mut().expect("object");
    let mut put = |k: &str, val: Value| {
        m.insert(k.to_string(), val);
    };
    put("created_at", json!(rfc3339(e.created_at)));
    put("updated_at", json!(rfc3339(e.modified_at)));
    put("editable", json!(r.status == "UNPAID"));
    put("contact", base(&r.contact_id, &contact_name, "/contacts"));
    put("contact_name", json!(contact_name));
    if let Some(c) = contact.and_then(|c| c.body.reference.clone()) {
        put("contact_reference", json!(c));
    }
    put("date", json!(r.date));
    if let Some(x) = &r.reference {
        put("reference", json!(x));
    }
    if let Some(x) = &r.notes {
        put("notes", json!(x));
    }
    put("shipping_net_amount", num(r.ship_net));
    if let Some(rate) = &r.ship_rate {
        let name = s.rate(rate).map(|x| x.name.clone()).unwrap_or_default();
        put("shipping_tax_rate", base(rate, &name, "/tax_rates"));
    }
    put("shipping_tax_amount", num(r.ship_tax));
    put("shipping_total_amount", num(r.ship_net + r.ship_tax));
    put("net_amount", num(r.net));
    put("tax_amount", num(r.tax));
    put("total_amount", num(r.total));
    put("total_paid", num(r.paid));
    put(
        "outstanding_amount",
        num(if r.status == "VOID" {
            Decimal::ZERO
        } else {
            r.total - r.paid
        }),
    );
    put("currency", base(&r.currency, &r.currency, "/currencies"));
    put(
        "status",
        base(r.status, status_name(r.status), "/artefact_statuses"),
    );
    put("sent", json!(false));
    if let Some(x) = &r.void_reason {
        put("void_reason", json!(x));
    }
    if let Some(t) = r.deleted_at {
        put("deleted_at", json!(rfc3339(t)));
    }
    let lines: Vec<Value> = r
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| line_view(i, l, s))
        .collect();
    let total_quantity: Decimal = r.lines.iter().map(|l| l.quantity).sum();
    put("total_quantity", num(total_quantity));
    match kind {
        Kind::Invoice => {
            put("invoice_number", json!(number));
            put("due_date", json!(r.date));
            put("invoice_lines", json!(lines));
        }
        Kind::Credit => {
            put("credit_note_number", json!(number));
            if let Some(d) = &r.original_invoice_date {
                put("original_invoice_date", json!(d));
            }
            put("credit_note_lines", json!(lines));
        }
    }
    v
}

fn replay_key(kind: Kind, op: &str, id: &Option<String>) -> Option<String> {
    id.as_ref().map(|i| format!("{}:{op}:{i}", kind.path()))
}

async fn create(s: Arc<SimState>, biz: String, kind: Kind, raw: Bytes) -> Response {
    if s.core.take_reject() {
        return rejected();
    }
    let inc = match parse(kind, &raw) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let now = s.now();
    s.books(&biz, |b| {
        let key = replay_key(kind, "create", &inc.idempotency_id);
        if let Some((st, bytes)) = key.as_ref().and_then(|k| b.replay.get(k)) {
            return json_bytes(
                StatusCode::from_u16(*st).unwrap_or(StatusCode::OK),
                bytes.clone(),
            );
        }
        let rec = match validate(&s, b, kind, inc) {
            Ok(r) => r,
            Err(r) => return r,
        };
        let reference = rec.reference.clone();
        let num = kind.book(b).insert(None, rec, now);
        if let Some(r) = &reference {
            kind.refs(b).add(num, r);
        }
        let bytes = kind
            .book_ref(b)
            .get(num)
            .map(|e| serde_json::to_vec(&view(&s, b, kind, e)).unwrap_or_default())
            .unwrap_or_default();
        if let Some(k) = key {
            b.replay.insert(k, (201, bytes.clone()));
        }
        json_bytes(StatusCode::CREATED, bytes)
    })
}

pub async fn create_invoice(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    raw: Bytes,
) -> Response {
    create(s, biz, Kind::Invoice, raw).await
}

pub async fn create_credit_note(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    raw: Bytes,
) -> Response {
    create(s, biz, Kind::Credit, raw).await
}

fn since(q: &Query, name: &str) -> Result<Option<OffsetDateTime>, Response> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => OffsetDateTime::parse(v, &Rfc3339)
            .map(Some)
            .map_err(|_| invalid(name, "is not a valid date-time")),
    }
}

fn list(s: &SimState, biz: &str, kind: Kind, q: &Query) -> Response {
    let (changed, deleted) = match (
        since(q, "updated_or_created_since"),
        since(q, "deleted_since"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let search = q.get("search");
    let contact = q.get("contact_id");
    let status = q.get("status_id");
    let items = s.books(biz, |b| {
        // The contacts whose name matches, found once per request (not once per artefact).
        let named: HashSet<u64> = search
            .map(|n| {
                contacts::narrowed(b, n)
                    .filter(|c| contains_ci(&c.body.name, n))
                    .map(|c| c.num())
                    .collect()
            })
            .unwrap_or_default();
        let book = kind.book_ref(b);
        // With no contact named so, only artefacts whose reference may match are looked at.
        let narrowed = search
            .filter(|_| named.is_empty())
            .and_then(|n| kind.refs_ref(b).candidates(n));
        let all: Box<dyn Iterator<Item = &Entry<ArtefactRec>>> = match narrowed {
            Some(nums) => Box::new(nums.into_iter().filter_map(|n| book.get(n))),
            None => Box::new(book.iter()),
        };
        all.filter(|e| {
            let r = &e.body;
            search.is_none_or(|n| {
                    n.is_empty()
                        || r.reference.as_ref().is_some_and(|x| contains_ci(x, n))
                        || parse_object_id(contacts::KIND, &r.contact_id)
                            .is_some_and(|c| named.contains(&c))
                }) && contact.is_none_or(|c| &r.contact_id == c)
                    && status.is_none_or(|st| r.status == st)
                    // `updated_or_created_since` is inclusive, `deleted_since` exclusive.
                    && changed.is_none_or(|t| e.modified_at >= t)
                    && deleted.is_none_or(|t| r.deleted_at.is_some_and(|d| d > t))
        })
        .map(|e| view(s, b, kind, e))
        .collect()
    });
    page(kind.path(), q, items)
}

pub async fn list_invoices(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    Q(q): Q<Query>,
) -> Response {
    list(&s, &biz, Kind::Invoice, &q)
}

pub async fn list_credit_notes(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    Q(q): Q<Query>,
) -> Response {
    list(&s, &biz, Kind::Credit, &q)
}

fn get_one(s: &SimState, biz: &str, kind: Kind, key: &str) -> Response {
    s.books(biz, |b| {
        match parse_object_id(kind.id_char(), key).and_then(|n| kind.book_ref(b).get(n)) {
            Some(e) => axum::Json(view(s, b, kind, e)).into_response(),
            None => not_found(),
        }
    })
}

pub async fn get_invoice(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    Path(key): Path<String>,
) -> Response {
    get_one(&s, &biz, Kind::Invoice, &key)
}

pub async fn get_credit_note(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    Path(key): Path<String>,
) -> Response {
    get_one(&s, &biz, Kind::Credit, &key)
}

/// `PUT /sales_invoices/{key}`: replaces what was sent, while unpaid and not void.
pub async fn update_invoice(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    Path(key): Path<String>,
    raw: Bytes,
) -> Response {
    if s.core.take_reject() {
        return rejected();
    }
    let inc = match parse(Kind::Invoice, &raw) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let now = s.now();
    s.books(&biz, |b| {
        let rkey = replay_key(Kind::Invoice, &format!("update:{key}"), &inc.idempotency_id);
        if let Some((st, bytes)) = rkey.as_ref().and_then(|k| b.replay.get(k)) {
            return json_bytes(
                StatusCode::from_u16(*st).unwrap_or(StatusCode::OK),
                bytes.clone(),
            );
        }
        let Some(n) = parse_object_id('a', &key).filter(|n| b.invoices.get(*n).is_some()) else {
            return not_found();
        };
        let (status, paid) = match b.invoices.get(n) {
            Some(e) => (e.body.status, e.body.paid),
            None => return not_found(),
        };
        if status == "VOID" {
            return invalid("status_id", "A void invoice cannot be edited");
        }
        if !paid.is_zero() {
            return invalid("base", "An invoice with payments cannot be edited");
        }
        let rec = match validate(&s, b, Kind::Invoice, inc) {
            Ok(r) => r,
            Err(r) => return r,
        };
        if let Some(r) = &rec.reference {
            b.invoice_refs.add(n, r);
        }
        b.invoices.update(n, rec, now);
        let bytes = b
            .invoices
            .get(n)
            .map(|e| serde_json::to_vec(&view(&s, b, Kind::Invoice, e)).unwrap_or_default())
            .unwrap_or_default();
        if let Some(k) = rkey {
            b.replay.insert(k, (200, bytes.clone()));
        }
        json_bytes(StatusCode::OK, bytes)
    })
}

/// `DELETE /sales_invoices/{key}?void_reason=`: voids (the reason is required unless draft).
pub async fn void_invoice(
    State(s): State<Arc<SimState>>,
    Extension(Business(biz)): Extension<Business>,
    Path(key): Path<String>,
    Q(q): Q<Query>,
) -> Response {
    if s.core.take_reject() {
        return rejected();
    }
    let now = s.now();
    s.books(&biz, |b| {
        let Some(n) = parse_object_id('a', &key) else {
            return not_found();
        };
        let Some(e) = b.invoices.get_mut(n) else {
            return not_found();
        };
        let Some(reason) = q.get("void_reason").filter(|r| !r.trim().is_empty()) else {
            return invalid("void_reason", "can't be blank");
        };
        if e.body.status == "VOID" {
            return invalid("status_id", "The invoice is already void");
        }
        if !e.body.paid.is_zero() {
            return invalid("base", "An invoice with payments cannot be voided");
        }
        e.body.status = "VOID";
        e.body.void_reason = Some(reason.clone());
        e.body.deleted_at = Some(now);
        e.modified_at = now;
        e.updates += 1;
        match b.invoices.get(n) {
            Some(e) => axum::Json(view(&s, b, Kind::Invoice, e)).into_response(),
            None => not_found(),
        }
    })
}
