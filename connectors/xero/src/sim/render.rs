//! Answers as Xero writes them: the `{"Id", "Status", "ProviderName", "DateTimeUTC", …}`
//! envelope, MS-JSON dates (`/Date(1552262400000+0000)/`) beside their `*String` variants,
//! numbers for money.

use super::SimAccount;
use super::books::{StoredContact, StoredCredit, StoredInvoice};
use crate::wire::{LineItem, TaxRate};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

pub fn ms_date(t: OffsetDateTime) -> String {
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    format!("/Date({ms}+0000)/")
}

/// `YYYY-MM-DD` → (`/Date(…)/`, `YYYY-MM-DDT00:00:00`).
pub fn day(d: Option<&str>) -> (Value, Value) {
    let parsed = d.and_then(|d| {
        time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()
    });
    match parsed {
        Some(date) => {
            let t = date.midnight().assume_utc();
            (
                json!(ms_date(t)),
                json!(format!("{d}T00:00:00", d = d.unwrap_or_default())),
            )
        }
        None => (Value::Null, Value::Null),
    }
}

pub fn num(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

pub fn envelope(now: OffsetDateTime, key: &str, items: Value) -> Value {
    let mut m = Map::new();
    m.insert("Id".into(), json!("9a1c0e3b-2f4d-4e5a-8b6c-7d8e9f0a1b2c"));
    m.insert("Status".into(), json!("OK"));
    m.insert("ProviderName".into(), json!("ordersync simulator"));
    m.insert("DateTimeUTC".into(), json!(ms_date(now)));
    m.insert(key.into(), items);
    Value::Object(m)
}

/// Xero leaves absent fields out rather than writing `null`.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

pub fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut v = v.clone();
    strip_nulls(&mut v);
    let body = serde_json::to_vec(&v).unwrap_or_default();
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

pub fn contact(s: &StoredContact) -> Value {
    let c = &s.c;
    json!({
        "ContactID": c.contact_id,
        "ContactNumber": c.contact_number,
        "ContactStatus": c.contact_status,
        "Name": c.name,
        "EmailAddress": c.email_address.clone().unwrap_or_default(),
        "Addresses": [],
        "Phones": [],
        "UpdatedDateUTC": ms_date(s.updated),
        "ContactGroups": [],
        "IsSupplier": false,
        "IsCustomer": true,
        "ContactPersons": [],
        "HasAttachments": false,
        "HasValidationErrors": false,
    })
}

fn lines(items: &[LineItem], ids: &[String]) -> Value {
    Value::Array(
        items
            .iter()
            .zip(ids)
            .map(|(l, id)| {
                let mut m = Map::new();
                m.insert("LineItemID".into(), json!(id));
                m.insert(
                    "Description".into(),
                    json!(l.description.clone().unwrap_or_default()),
                );
                m.insert("Quantity".into(), num(l.quantity.unwrap_or(Decimal::ONE)));
                m.insert("UnitAmount".into(), num(l.unit_amount.unwrap_or_default()));
                m.insert("AccountCode".into(), json!(l.account_code));
                m.insert("TaxType".into(), json!(l.tax_type));
                m.insert("TaxAmount".into(), num(l.tax_amount.unwrap_or_default()));
                m.insert("LineAmount".into(), num(l.line_amount.unwrap_or_default()));
                if let Some(d) = l.discount_amount {
                    m.insert("DiscountAmount".into(), num(d));
                }
                m.insert("Tracking".into(), json!([]));
                Value::Object(m)
            })
            .collect(),
    )
}

fn contact_ref(contacts: &[StoredContact], id: Option<&str>) -> Value {
    match id.and_then(|id| {
        contacts
            .iter()
            .find(|s| s.c.contact_id.as_deref() == Some(id))
    }) {
        Some(s) => json!({
            "ContactID": s.c.contact_id,
            "ContactNumber": s.c.contact_number,
            "Name": s.c.name,
            "ContactStatus": s.c.contact_status,
            "Addresses": [], "Phones": [], "ContactGroups": [], "ContactPersons": [],
            "HasValidationErrors": false,
        }),
        None => json!({ "ContactID": id }),
    }
}

pub fn invoice(s: &StoredInvoice, contacts: &[StoredContact], credits: &[&StoredCredit]) -> Value {
    let i = &s.inv;
    let (date, date_s) = day(i.date.as_deref());
    let (due, due_s) = day(i.due_date.as_deref());
    let contact_id = i.contact.as_ref().and_then(|c| c.contact_id.as_deref());
    json!({
        "Type": i.kind,
        "InvoiceID": i.invoice_id,
        "InvoiceNumber": i.invoice_number,
        "Reference": i.reference.clone().unwrap_or_default(),
        "Contact": contact_ref(contacts, contact_id),
        "Date": date, "DateString": date_s,
        "DueDate": due, "DueDateString": due_s,
        "Status": i.status,
        "LineAmountTypes": i.line_amount_types,
        "LineItems": lines(&i.line_items, &s.line_ids),
        "SubTotal": num(s.sub_total),
        "TotalTax": num(s.total_tax),
        "Total": num(s.total),
        "TotalDiscount": num(i.line_items.iter().filter_map(|l| l.discount_amount).sum()),
        "CurrencyCode": i.currency_code,
        "CurrencyRate": 1,
        "AmountDue": num(s.due()),
        "AmountPaid": num(s.paid),
        "AmountCredited": num(s.credited),
        "UpdatedDateUTC": ms_date(s.updated),
        "IsDiscounted": i.line_items.iter().any(|l| l.discount_amount.is_some()),
        "HasAttachments": false,
        "HasErrors": false,
        "SentToContact": false,
        "Payments": [],
        "Prepayments": [],
        "Overpayments": [],
        "CreditNotes": credits.iter().map(|c| json!({
            "CreditNoteID": c.cn.credit_note_id,
            "CreditNoteNumber": c.cn.credit_note_number,
            "Total": num(c.total),
            "AppliedAmount": num(c.allocations.iter()
                .filter(|a| Some(&a.0) == i.invoice_id.as_ref())
                .map(|a| a.1).sum()),
        })).collect::<Vec<_>>(),
    })
}

pub fn credit_note(s: &StoredCredit, contacts: &[StoredContact]) -> Value {
    let c = &s.cn;
    let (date, date_s) = day(c.date.as_deref());
    let contact_id = c.contact.as_ref().and_then(|c| c.contact_id.as_deref());
    json!({
        "Type": c.kind,
        "CreditNoteID": c.credit_note_id,
        "CreditNoteNumber": c.credit_note_number,
        "Reference": c.reference.clone().unwrap_or_default(),
        "Contact": contact_ref(contacts, contact_id),
        "Date": date, "DateString": date_s,
        "Status": c.status,
        "LineAmountTypes": c.line_amount_types,
        "LineItems": lines(&c.line_items, &s.line_ids),
        "SubTotal": num(s.sub_total),
        "TotalTax": num(s.total_tax),
        "Total": num(s.total),
        "RemainingCredit": num(s.remaining),
        "CurrencyCode": c.currency_code,
        "CurrencyRate": 1,
        "UpdatedDateUTC": ms_date(s.updated),
        "HasAttachments": false,
        "HasErrors": false,
        "Allocations": s.allocations.iter().map(|(inv, amount, date, id)| {
            let (d, ds) = day(Some(date));
            json!({ "AllocationID": id, "Amount": num(*amount), "Date": d, "DateString": ds,
                    "Invoice": { "InvoiceID": inv } })
        }).collect::<Vec<_>>(),
    })
}

pub fn tax_rate(r: &TaxRate) -> Value {
    let pct = r.effective_rate.unwrap_or_default();
    json!({
        "Name": r.name,
        "TaxType": r.tax_type,
        "ReportTaxType": if pct.is_zero() { "NONE" } else { "OUTPUT" },
        "CanApplyToAssets": true,
        "CanApplyToEquity": true,
        "CanApplyToExpenses": !r.can_apply_to_revenue || r.tax_type == "NONE",
        "CanApplyToLiabilities": r.can_apply_to_liabilities,
        "CanApplyToRevenue": r.can_apply_to_revenue,
        "DisplayTaxRate": num(r.display_tax_rate.unwrap_or(pct)),
        "EffectiveRate": num(pct),
        "Status": r.status,
        "TaxComponents": [{
            "Name": r.name, "Rate": num(pct), "IsCompound": false, "IsNonRecoverable": false
        }],
    })
}

pub fn account(a: &SimAccount, id: &str) -> Value {
    json!({
        "AccountID": id,
        "Code": a.code,
        "Name": a.name,
        "Status": "ACTIVE",
        "Type": a.kind,
        "TaxType": if a.class == "REVENUE" { "OUTPUT2" } else { "NONE" },
        "Class": a.class,
        "EnablePaymentsToAccount": false,
        "ShowInExpenseClaims": false,
        "ReportingCode": if a.class == "REVENUE" { "REV" } else { "LIA" },
        "ReportingCodeName": if a.class == "REVENUE" { "Revenue" } else { "Liabilities" },
        "HasAttachments": false,
        "UpdatedDateUTC": "/Date(1552262400000+0000)/",
        "AddToWatchlist": false,
    })
}

/// 400 `ValidationException` with the failed element(s).
pub fn validation_exception(element: Value, errors: &[String]) -> Response {
    let mut el = element;
    if let Value::Object(m) = &mut el {
        m.insert(
            "ValidationErrors".into(),
            Value::Array(errors.iter().map(|e| json!({ "Message": e })).collect()),
        );
    }
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [el],
        }),
    )
}

/// The per-item error of a `summarizeErrors=false` answer.
pub fn with_errors(element: Value, errors: &[String]) -> Value {
    let mut el = element;
    if let Value::Object(m) = &mut el {
        m.insert("HasErrors".into(), json!(true));
        m.insert("StatusAttributeString".into(), json!("ERROR"));
        m.insert(
            "ValidationErrors".into(),
            Value::Array(errors.iter().map(|e| json!({ "Message": e })).collect()),
        );
    }
    el
}
