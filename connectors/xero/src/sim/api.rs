//! `/api.xro/2.0` routes: Contacts, Invoices, CreditNotes (+ Allocations), TaxRates,
//! Accounts, Currencies.

use super::SimState;
use super::books::{Chart, StoredCredit, StoredInvoice, Tenant, figures};
use super::render::{self, envelope, json_response, validation_exception, with_errors};
use crate::wire::{Allocations, Contact, Contacts, CreditNotes, Invoice, Invoices};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::contains_ci;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

type Params = Query<HashMap<String, String>>;

fn tenant_of(h: &HeaderMap) -> String {
    h.get("xero-tenant-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn summarize(q: &HashMap<String, String>) -> bool {
    q.get("summarizeErrors")
        .is_none_or(|v| !v.eq_ignore_ascii_case("false"))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [("content-type", "application/json")],
        r#"{"Title":"NotFound","Status":404,"Detail":"The resource you're looking for cannot be found"}"#,
    )
        .into_response()
}

fn bad_json() -> Response {
    validation_exception(json!({}), &["JSON for post data was invalid".to_string()])
}

/// The answer of a batch write: every element, failures in place (`summarizeErrors=false`),
/// or a 400 with the first failed element.
fn batch_answer(
    s: &SimState,
    key: &str,
    results: Vec<Result<Value, (Value, Vec<String>)>>,
    summarize: bool,
) -> Response {
    if summarize && let Some((el, errs)) = results.iter().find_map(|r| r.as_ref().err()) {
        return validation_exception(el.clone(), errs);
    }
    let items: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(v) => v,
            Err((el, errs)) => with_errors(el, &errs),
        })
        .collect();
    json_response(
        StatusCode::OK,
        &envelope(s.clock.now(), key, Value::Array(items)),
    )
}

// ---- where filters: `Field=="value"` terms joined by AND / OR (OR binds loosest) ----

fn where_terms(expr: &str) -> Vec<Vec<(String, String)>> {
    fn term(t: &str) -> Option<(String, String)> {
        let (field, rest) = t.trim().split_once("==")?;
        let rest = rest.trim();
        let inner = rest.strip_prefix('"')?.strip_suffix('"')?;
        let mut v = String::new();
        let mut esc = false;
        for c in inner.chars() {
            match (esc, c) {
                (false, '\\') => esc = true,
                _ => {
                    v.push(c);
                    esc = false;
                }
            }
        }
        Some((field.trim().to_string(), v))
    }
    expr.split(" OR ")
        .map(|alt| alt.split(" AND ").filter_map(term).collect())
        .collect()
}

fn contact_field<'a>(c: &'a Contact, f: &str) -> Option<&'a str> {
    match f {
        "Name" => c.name.as_deref(),
        "EmailAddress" => c.email_address.as_deref(),
        "ContactNumber" => c.contact_number.as_deref(),
        "ContactStatus" => c.contact_status.as_deref(),
        "ContactID" => c.contact_id.as_deref(),
        _ => None,
    }
}

/// `terms` from [`where_terms`], parsed once per request (a batch's filter has dozens of
/// terms, and the account thousands of contacts).
type Terms = Vec<Vec<(String, String)>>;

fn matches_where<'a>(get: impl Fn(&str) -> Option<&'a str>, terms: &Terms) -> bool {
    terms.iter().any(|all| {
        !all.is_empty()
            && all
                .iter()
                .all(|(f, v)| get(f).is_some_and(|x| x.trim().eq_ignore_ascii_case(v.trim())))
    })
}

// ---- Contacts ----

pub async fn list_contacts(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Query(q): Params,
) -> Response {
    let d = s.data();
    let Some(t) = d.tenants.get(&tenant_of(&h)) else {
        return not_found();
    };
    let term = q.get("searchTerm");
    let terms = q.get("where").map(|w| where_terms(w));
    let list: Vec<Value> = t
        .contacts
        .iter()
        .filter(|c| {
            terms
                .as_ref()
                .is_none_or(|w| matches_where(|f| contact_field(&c.c, f), w))
        })
        .filter(|c| {
            term.is_none_or(|term| {
                [&c.c.name, &c.c.email_address, &c.c.contact_number]
                    .iter()
                    .any(|f| f.as_deref().is_some_and(|v| contains_ci(v, term)))
            })
        })
        .filter(|c| {
            q.get("ContactNumber")
                .is_none_or(|n| c.c.contact_number.as_deref() == Some(n))
        })
        .map(render::contact)
        .collect();
    json_response(
        StatusCode::OK,
        &envelope(s.clock.now(), "Contacts", Value::Array(list)),
    )
}

pub async fn get_contact(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let d = s.data();
    match d.tenants.get(&tenant_of(&h)).and_then(|t| t.contact(&id)) {
        Some(c) => json_response(
            StatusCode::OK,
            &envelope(s.clock.now(), "Contacts", json!([render::contact(c)])),
        ),
        None => not_found(),
    }
}

async fn write_contacts(
    s: Arc<SimState>,
    h: HeaderMap,
    q: HashMap<String, String>,
    raw: Bytes,
    upsert: bool,
) -> Response {
    let Ok(req) = serde_json::from_slice::<Contacts>(&raw) else {
        return bad_json();
    };
    let now = s.clock.now();
    let mut d = s.data();
    let mut results = Vec::new();
    for c in req.contacts {
        let echo = json!({ "Name": c.name, "ContactNumber": c.contact_number });
        if s.core.take_reject() {
            results.push(Err((
                echo,
                vec!["The contact could not be saved: a required field is invalid.".to_string()],
            )));
            continue;
        }
        let id = d.id(0xc0);
        let Some(t) = d.tenants.get_mut(&tenant_of(&h)) else {
            return not_found();
        };
        let r = match upsert.then(|| t.update_contact(c.clone(), now)).flatten() {
            Some(r) => r,
            None => t.create_contact(c, id, now),
        };
        results.push(match r {
            Ok(c) => {
                let stored = t.contact(c.contact_id.as_deref().unwrap_or_default());
                Ok(stored.map(render::contact).unwrap_or(Value::Null))
            }
            Err(errs) => Err((echo, errs)),
        });
    }
    drop(d);
    batch_answer(&s, "Contacts", results, summarize(&q))
}

pub async fn create_contacts(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Query(q): Params,
    raw: Bytes,
) -> Response {
    write_contacts(s, h, q, raw, false).await
}

pub async fn update_contacts(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Query(q): Params,
    raw: Bytes,
) -> Response {
    write_contacts(s, h, q, raw, true).await
}

// ---- Invoices ----

fn chart(s: &SimState) -> Chart<'_> {
    Chart {
        rates: &s.opts.tax_rates,
        accounts: &s.opts.accounts,
        currencies: &s.opts.currencies,
        period_lock: s.opts.period_lock.as_deref(),
    }
}

fn credits_of<'a>(t: &'a Tenant, inv: &Invoice) -> Vec<&'a StoredCredit> {
    let prefix = inv.invoice_number.as_deref().map(|n| format!("{n}-R"));
    t.credit_notes
        .iter()
        .filter(|c| !matches!(c.cn.status.as_deref(), Some("VOIDED" | "DELETED")))
        .filter(|c| {
            c.allocations
                .iter()
                .any(|a| Some(&a.0) == inv.invoice_id.as_ref())
                || prefix.as_deref().is_some_and(|p| {
                    c.cn.credit_note_number
                        .as_deref()
                        .is_some_and(|n| n.starts_with(p))
                })
        })
        .collect()
}

fn render_invoice(t: &Tenant, num: u64) -> Value {
    match t.invoices.get(num) {
        Some(e) => render::invoice(&e.body, &t.contacts, &credits_of(t, &e.body.inv)),
        None => Value::Null,
    }
}

pub async fn list_invoices(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Query(q): Params,
) -> Response {
    let d = s.data();
    let Some(t) = d.tenants.get(&tenant_of(&h)) else {
        return not_found();
    };
    let split = |k: &str| -> Option<Vec<String>> {
        q.get(k)
            .map(|v| v.split(',').map(|x| x.trim().to_string()).collect())
    };
    let (numbers, statuses, ids) = (split("InvoiceNumbers"), split("Statuses"), split("IDs"));
    let list: Vec<Value> = t
        .invoices
        .iter()
        .filter(|e| {
            let i = &e.body.inv;
            numbers
                .as_ref()
                .is_none_or(|n| i.invoice_number.as_ref().is_some_and(|x| n.contains(x)))
                && statuses
                    .as_ref()
                    .is_none_or(|st| i.status.as_ref().is_some_and(|x| st.contains(x)))
                && ids
                    .as_ref()
                    .is_none_or(|ids| i.invoice_id.as_ref().is_some_and(|x| ids.contains(x)))
        })
        .map(|e| render::invoice(&e.body, &t.contacts, &credits_of(t, &e.body.inv)))
        .collect();
    json_response(
        StatusCode::OK,
        &envelope(s.clock.now(), "Invoices", Value::Array(list)),
    )
}

pub async fn get_invoice(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let d = s.data();
    let Some(t) = d.tenants.get(&tenant_of(&h)) else {
        return not_found();
    };
    match t.find_invoice(Some(&id), None) {
        Some(n) => json_response(
            StatusCode::OK,
            &envelope(s.clock.now(), "Invoices", json!([render_invoice(t, n)])),
        ),
        None => not_found(),
    }
}

fn echo_invoice(i: &Invoice) -> Value {
    json!({ "Type": i.kind, "InvoiceID": i.invoice_id, "InvoiceNumber": i.invoice_number })
}

fn reject_message() -> Vec<String> {
    vec!["Account code '200' is not a valid code for this document.".to_string()]
}

/// A new invoice (PUT, or POST without a match).
fn create_invoice(
    s: &SimState,
    d: &mut super::state::Data,
    tenant: &str,
    mut i: Invoice,
    key: Option<&str>,
) -> Result<u64, Vec<String>> {
    let now = s.clock.now();
    let id = d.id(0x1a);
    let line_ids: Vec<String> = i.line_items.iter().map(|_| d.id(0x11)).collect();
    let auto = d.next_id;
    let t = d
        .tenants
        .get_mut(tenant)
        .ok_or_else(|| vec!["Unknown organisation".to_string()])?;
    let mut errs = Vec::new();
    let kind = i.kind.clone().unwrap_or_default();
    if !matches!(kind.as_str(), "ACCREC" | "ACCPAY") {
        errs.push("Invoice Type must be specified (ACCREC or ACCPAY).".to_string());
    }
    match i.contact.as_ref().and_then(|c| c.contact_id.as_deref()) {
        Some(cid) if t.contact(cid).is_some() => {}
        _ => errs.push("The contact could not be found: a ContactID is required.".to_string()),
    }
    let status = i.status.clone().unwrap_or_else(|| "DRAFT".into());
    if !matches!(status.as_str(), "DRAFT" | "SUBMITTED" | "AUTHORISED") {
        errs.push("Invoice not of valid status for creation".to_string());
    }
    let number = i
        .invoice_number
        .clone()
        .unwrap_or_else(|| format!("INV-{auto:04}"));
    if kind == "ACCREC" && t.invoices.num_of(&number).is_some() {
        errs.push("Invoice # must be unique.".to_string());
    }
    let f = figures(
        &chart(s),
        i.currency_code.as_deref().unwrap_or(""),
        i.line_amount_types.as_deref().unwrap_or("Exclusive"),
        i.date.as_deref(),
        &i.line_items,
    );
    let f = match f {
        Ok(f) => f,
        Err(mut e) => {
            errs.append(&mut e);
            return Err(errs);
        }
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    i.invoice_id = Some(id);
    i.invoice_number = Some(number.clone());
    i.status = Some(status);
    i.line_amount_types = Some(i.line_amount_types.unwrap_or_else(|| "Exclusive".into()));
    i.line_items = f.lines;
    let stored = StoredInvoice {
        inv: i,
        line_ids,
        sub_total: f.sub_total,
        total_tax: f.total_tax,
        total: f.total,
        paid: Decimal::ZERO,
        credited: Decimal::ZERO,
        updated: now,
    };
    let num = t.invoices.insert(Some(number), stored, now);
    if let Some(k) = key {
        t.invoice_keys.insert(num, k.to_string());
    }
    Ok(num)
}

/// POST on an existing invoice: a status change (VOIDED / DELETED) or an edit.
fn update_invoice_in(
    s: &SimState,
    d: &mut super::state::Data,
    tenant: &str,
    num: u64,
    patch: Invoice,
) -> Result<(), Vec<String>> {
    let now = s.clock.now();
    let new_ids: Vec<String> = patch.line_items.iter().map(|_| d.id(0x11)).collect();
    let t = d
        .tenants
        .get_mut(tenant)
        .ok_or_else(|| vec!["Unknown organisation".to_string()])?;
    let chart = chart(s);
    let e = t
        .invoices
        .get(num)
        .ok_or_else(|| vec!["Invoice not found".to_string()])?;
    let cur = e.body.clone();
    let status = cur.inv.status.clone().unwrap_or_default();
    let locked = cur.paid > Decimal::ZERO || cur.credited > Decimal::ZERO;
    const LOCKED: &str =
        "This document cannot be edited as it has a payment or credit note allocated to it.";
    const STATUS: &str = "Invoice not of valid status for modification";
    if matches!(status.as_str(), "VOIDED" | "DELETED") {
        return Err(vec![STATUS.into()]);
    }
    let mut next = cur.clone();
    match patch.status.as_deref() {
        Some("VOIDED") if patch.line_items.is_empty() => {
            if locked {
                return Err(vec![LOCKED.into()]);
            }
            if status != "AUTHORISED" && status != "SUBMITTED" {
                return Err(vec![STATUS.into()]);
            }
            next.inv.status = Some("VOIDED".into());
        }
        Some("DELETED") if patch.line_items.is_empty() => {
            if !matches!(status.as_str(), "DRAFT" | "SUBMITTED") {
                return Err(vec![STATUS.into()]);
            }
            next.inv.status = Some("DELETED".into());
        }
        _ => {
            if locked || status == "PAID" {
                return Err(vec![LOCKED.into()]);
            }
            if status == "AUTHORISED"
                && matches!(patch.status.as_deref(), Some("DRAFT" | "SUBMITTED"))
            {
                return Err(vec![STATUS.into()]);
            }
            if patch.invoice_number.is_some() && patch.invoice_number != cur.inv.invoice_number {
                return Err(vec!["Invoice # must be unique.".into()]);
            }
            let i = &mut next.inv;
            macro_rules! take {
                ($f:ident) => {
                    if patch.$f.is_some() {
                        i.$f = patch.$f.clone();
                    }
                };
            }
            take!(contact);
            take!(date);
            take!(due_date);
            take!(line_amount_types);
            take!(reference);
            take!(currency_code);
            take!(status);
            if !patch.line_items.is_empty() {
                i.line_items = patch.line_items.clone();
                next.line_ids = new_ids;
            }
            if let Some(cid) = i.contact.as_ref().and_then(|c| c.contact_id.as_deref())
                && t.contact(cid).is_none()
            {
                return Err(vec![
                    "The contact could not be found: a ContactID is required.".into(),
                ]);
            }
            let f = figures(
                &chart,
                i.currency_code.as_deref().unwrap_or(""),
                i.line_amount_types.as_deref().unwrap_or("Exclusive"),
                i.date.as_deref(),
                &i.line_items,
            )?;
            i.line_items = f.lines;
            next.sub_total = f.sub_total;
            next.total_tax = f.total_tax;
            next.total = f.total;
        }
    }
    next.updated = now;
    let dead = matches!(next.inv.status.as_deref(), Some("VOIDED" | "DELETED"));
    t.invoices.update(num, next, now);
    if dead && let Some(e) = t.invoices.get_mut(num) {
        e.cancelled = true;
    }
    Ok(())
}

async fn write_invoices(
    s: Arc<SimState>,
    h: HeaderMap,
    q: HashMap<String, String>,
    raw: Bytes,
    upsert: bool,
    path_id: Option<String>,
) -> Response {
    let Ok(req) = serde_json::from_slice::<Invoices>(&raw) else {
        return bad_json();
    };
    let tenant = tenant_of(&h);
    let key = h
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let mut d = s.data();
    let mut results = Vec::new();
    for mut i in req.invoices {
        if let Some(id) = &path_id {
            i.invoice_id = Some(id.clone());
        }
        let echo = echo_invoice(&i);
        if s.core.take_reject() {
            results.push(Err((echo, reject_message())));
            continue;
        }
        let Some(t) = d.tenants.get(&tenant) else {
            return not_found();
        };
        let found = if upsert {
            let by_number = (i.kind.as_deref() != Some("ACCPAY"))
                .then_some(i.invoice_number.as_deref())
                .flatten();
            t.find_invoice(
                i.invoice_id.as_deref(),
                if i.invoice_id.is_some() {
                    None
                } else {
                    by_number
                },
            )
        } else {
            None
        };
        if upsert && i.invoice_id.is_some() && found.is_none() {
            results.push(Err((echo, vec!["Invoice could not be found".to_string()])));
            continue;
        }
        let r = match found {
            Some(num) => update_invoice_in(&s, &mut d, &tenant, num, i).map(|_| num),
            None => create_invoice(&s, &mut d, &tenant, i, key.as_deref()),
        };
        let t = d.tenants.get(&tenant);
        results.push(match (r, t) {
            (Ok(num), Some(t)) => Ok(render_invoice(t, num)),
            (Err(errs), _) => Err((echo, errs)),
            (Ok(_), None) => return not_found(),
        });
    }
    drop(d);
    batch_answer(&s, "Invoices", results, summarize(&q))
}

pub async fn create_invoices(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Query(q): Params,
    raw: Bytes,
) -> Response {
    write_invoices(s, h, q, raw, false, None).await
}

pub async fn update_invoices(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Query(q): Params,
    raw: Bytes,
) -> Response {
    write_invoices(s, h, q, raw, true, None).await
}

pub async fn update_invoice(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Path(id): Path<String>,
    Query(q): Params,
    raw: Bytes,
) -> Response {
    write_invoices(s, h, q, raw, true, Some(id)).await
}

// ---- Credit notes ----

pub async fn list_credit_notes(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Query(q): Params,
) -> Response {
    let d = s.data();
    let Some(t) = d.tenants.get(&tenant_of(&h)) else {
        return not_found();
    };
    let terms = q.get("where").map(|w| where_terms(w));
    let list: Vec<Value> = t
        .credit_notes
        .iter()
        .filter(|c| {
            terms.as_ref().is_none_or(|w| {
                matches_where(
                    |f| match f {
                        "CreditNoteNumber" => c.cn.credit_note_number.as_deref(),
                        "Status" => c.cn.status.as_deref(),
                        "Reference" => c.cn.reference.as_deref(),
                        _ => None,
                    },
                    w,
                )
            })
        })
        .map(|c| render::credit_note(c, &t.contacts))
        .collect();
    json_response(
        StatusCode::OK,
        &envelope(s.clock.now(), "CreditNotes", Value::Array(list)),
    )
}

pub async fn create_credit_notes(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Query(q): Params,
    raw: Bytes,
) -> Response {
    let Ok(req) = serde_json::from_slice::<CreditNotes>(&raw) else {
        return bad_json();
    };
    let tenant = tenant_of(&h);
    let now = s.clock.now();
    let mut d = s.data();
    let mut results = Vec::new();
    for mut c in req.credit_notes {
        let echo = json!({ "Type": c.kind, "CreditNoteNumber": c.credit_note_number });
        if s.core.take_reject() {
            results.push(Err((echo, reject_message())));
            continue;
        }
        let id = d.id(0xc2);
        let line_ids: Vec<String> = c.line_items.iter().map(|_| d.id(0x12)).collect();
        let Some(t) = d.tenants.get_mut(&tenant) else {
            return not_found();
        };
        let mut errs = Vec::new();
        if !matches!(c.kind.as_deref(), Some("ACCRECCREDIT" | "ACCPAYCREDIT")) {
            errs.push(
                "CreditNote Type must be specified (ACCRECCREDIT or ACCPAYCREDIT).".to_string(),
            );
        }
        if c.contact
            .as_ref()
            .and_then(|x| x.contact_id.as_deref())
            .is_none_or(|cid| t.contact(cid).is_none())
        {
            errs.push("The contact could not be found: a ContactID is required.".to_string());
        }
        let status = c.status.clone().unwrap_or_else(|| "DRAFT".into());
        if !matches!(status.as_str(), "DRAFT" | "SUBMITTED" | "AUTHORISED") {
            errs.push("Credit note not of valid status for creation".to_string());
        }
        let f = figures(
            &chart(&s),
            c.currency_code.as_deref().unwrap_or(""),
            c.line_amount_types.as_deref().unwrap_or("Exclusive"),
            c.date.as_deref(),
            &c.line_items,
        );
        let f = match (f, errs.is_empty()) {
            (Ok(f), true) => f,
            (Ok(_), false) => {
                results.push(Err((echo, errs)));
                continue;
            }
            (Err(mut e), _) => {
                errs.append(&mut e);
                results.push(Err((echo, errs)));
                continue;
            }
        };
        c.credit_note_id = Some(id);
        c.status = Some(status);
        c.line_items = f.lines;
        let stored = StoredCredit {
            cn: c,
            line_ids,
            sub_total: f.sub_total,
            total_tax: f.total_tax,
            total: f.total,
            remaining: f.total,
            allocations: Vec::new(),
            updated: now,
        };
        results.push(Ok(render::credit_note(&stored, &t.contacts)));
        t.credit_notes.push(stored);
    }
    drop(d);
    batch_answer(&s, "CreditNotes", results, summarize(&q))
}

/// `PUT /CreditNotes/{id}/Allocations`: both documents AUTHORISED, the amount within the
/// note's remaining credit and the invoice's amount due.
pub async fn allocate(
    State(s): State<Arc<SimState>>,
    h: HeaderMap,
    Path(id): Path<String>,
    raw: Bytes,
) -> Response {
    let Ok(req) = serde_json::from_slice::<Allocations>(&raw) else {
        return bad_json();
    };
    let tenant = tenant_of(&h);
    let now = s.clock.now();
    let mut d = s.data();
    let alloc_id = d.id(0xa1);
    let Some(t) = d.tenants.get_mut(&tenant) else {
        return not_found();
    };
    let Some(ci) = t
        .credit_notes
        .iter()
        .position(|c| c.cn.credit_note_id.as_deref() == Some(&id))
    else {
        return not_found();
    };
    let mut out = Vec::new();
    for a in req.allocations {
        let echo = json!({ "Amount": render::num(a.amount), "Invoice": { "InvoiceID": a.invoice.invoice_id } });
        let Some(num) = t.find_invoice(Some(&a.invoice.invoice_id), None) else {
            return validation_exception(echo, &["Invoice could not be found".to_string()]);
        };
        let (cn_ok, remaining) = {
            let c = &t.credit_notes[ci];
            (c.cn.status.as_deref() == Some("AUTHORISED"), c.remaining)
        };
        let Some(e) = t.invoices.get_mut(num) else {
            return not_found();
        };
        let inv_ok = e.body.inv.status.as_deref() == Some("AUTHORISED");
        let mut errs = Vec::new();
        if !cn_ok || !inv_ok {
            errs.push(
                "Only AUTHORISED credit notes can be allocated to AUTHORISED invoices.".to_string(),
            );
        }
        if a.amount <= Decimal::ZERO || a.amount > remaining {
            errs.push("The amount to allocate must not exceed the remaining credit.".to_string());
        }
        if a.amount > e.body.due() {
            errs.push(
                "The amount to allocate must not exceed the invoice's amount due.".to_string(),
            );
        }
        if !errs.is_empty() {
            return validation_exception(echo, &errs);
        }
        e.body.credited += a.amount;
        e.body.updated = now;
        if e.body.due().is_zero() {
            e.body.inv.status = Some("PAID".into());
        }
        let c = &mut t.credit_notes[ci];
        c.remaining -= a.amount;
        if c.remaining.is_zero() {
            c.cn.status = Some("PAID".into());
        }
        c.allocations.push((
            a.invoice.invoice_id.clone(),
            a.amount,
            a.date.clone(),
            alloc_id.clone(),
        ));
        c.updated = now;
        let (dv, ds) = render::day(Some(&a.date));
        out.push(json!({
            "AllocationID": alloc_id, "Amount": render::num(a.amount), "Date": dv, "DateString": ds,
            "Invoice": { "InvoiceID": a.invoice.invoice_id },
            "CreditNote": { "CreditNoteID": id },
            "StatusAttributeString": "OK",
        }));
    }
    drop(d);
    json_response(
        StatusCode::OK,
        &envelope(now, "Allocations", Value::Array(out)),
    )
}

// ---- Settings ----

pub async fn tax_rates(State(s): State<Arc<SimState>>) -> Response {
    let list: Vec<Value> = s.opts.tax_rates.iter().map(render::tax_rate).collect();
    json_response(
        StatusCode::OK,
        &envelope(s.clock.now(), "TaxRates", Value::Array(list)),
    )
}

pub async fn accounts(State(s): State<Arc<SimState>>) -> Response {
    let list: Vec<Value> = s
        .opts
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| render::account(a, &format!("000000ac-0000-4000-8000-{i:012x}")))
        .collect();
    json_response(
        StatusCode::OK,
        &envelope(s.clock.now(), "Accounts", Value::Array(list)),
    )
}

pub async fn currencies(State(s): State<Arc<SimState>>) -> Response {
    let list: Vec<Value> = s
        .opts
        .currencies
        .iter()
        .map(|c| json!({ "Code": c, "Description": c }))
        .collect();
    json_response(
        StatusCode::OK,
        &envelope(s.clock.now(), "Currencies", Value::Array(list)),
    )
}
