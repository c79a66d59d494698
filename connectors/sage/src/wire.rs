//! Sage v3.1 request and response types (serde), nothing else. Requests wrap the resource in
//! its namespace (`{"sales_invoice": {...}}`), with `idempotency_id` inside it. Money is a JSON
//! number written from the decimal's own text.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `{"sales_invoice": …}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvoiceEnvelope {
    pub sales_invoice: InvoiceBody,
}

/// `{"sales_credit_note": …}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreditNoteEnvelope {
    pub sales_credit_note: CreditNoteBody,
}

/// `{"contact": …}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContactEnvelope {
    pub contact: ContactBody,
}

/// `postSalesInvoices.sales_invoice` (the fields we send).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceBody {
    pub contact_id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_net_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_tax_rate_id: Option<String>,
    #[serde(
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_tax_amount: Option<Decimal>,
    pub invoice_lines: Vec<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_id: Option<String>,
}

/// `postSalesCreditNotes.sales_credit_note` (the fields we send).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditNoteBody {
    pub contact_id: String,
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_invoice_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_net_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_tax_rate_id: Option<String>,
    #[serde(
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_tax_amount: Option<Decimal>,
    pub credit_note_lines: Vec<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_id: Option<String>,
}

/// An invoice or credit-note line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub description: String,
    pub ledger_account_id: String,
    #[serde(with = "decimal_number")]
    pub quantity: Decimal,
    /// In the basis of `unit_price_includes_tax`.
    #[serde(with = "decimal_number")]
    pub unit_price: Decimal,
    /// In the same basis as `unit_price`: `quantity × unit_price − discount_amount` is the
    /// line's total when `unit_price_includes_tax`, its net otherwise.
    #[serde(default, with = "decimal_number::option")]
    pub discount_amount: Option<Decimal>,
    /// Always without tax.
    #[serde(default, with = "decimal_number::option")]
    pub net_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_rate_id: Option<String>,
    #[serde(default, with = "decimal_number::option")]
    pub tax_amount: Option<Decimal>,
    #[serde(default, with = "decimal_number::option")]
    pub total_amount: Option<Decimal>,
    #[serde(default)]
    pub unit_price_includes_tax: bool,
}

/// `postContacts.contact` (the fields we send).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactBody {
    pub name: String,
    pub contact_type_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_id: Option<String>,
}

/// A list answer: Sage's `$`-envelope (the swagger says a bare array; the API does not).
#[derive(Debug, Deserialize)]
pub struct Listed<T> {
    #[serde(rename = "$items", default = "Vec::new")]
    pub items: Vec<T>,
    #[serde(rename = "$next", default)]
    pub next: Option<String>,
}

/// `{id, displayed_as}` links (`Base`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Link {
    #[serde(default)]
    pub id: String,
}

/// The fields of a `SalesInvoice` / `SalesCreditNote` answer the sink reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Artefact {
    pub id: String,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub status: Option<Link>,
    #[serde(default)]
    pub contact: Option<Link>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default, with = "decimal_number::option")]
    pub total_amount: Option<Decimal>,
    #[serde(default, with = "decimal_number::option")]
    pub total_paid: Option<Decimal>,
    #[serde(default)]
    pub void_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ContactOut {
    pub id: String,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TaxRateOut {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "decimal_number::option")]
    pub percentage: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LedgerOut {
    pub id: String,
    #[serde(default)]
    pub nominal_code: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CurrencyOut {
    pub id: String,
}

/// The token endpoint's answer.
#[derive(Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// One element of Sage's error array.
#[derive(Debug, Default, Deserialize)]
pub struct SageError {
    #[serde(rename = "$severity", default)]
    pub severity: Option<String>,
    #[serde(rename = "$dataCode", default)]
    pub data_code: Option<String>,
    #[serde(rename = "$source", default)]
    pub source: Option<String>,
}

pub use ordersync_sdk::decimal_number;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_a_json_number_and_round_trips_exactly() {
        #[derive(Serialize, Deserialize)]
        struct M {
            #[serde(with = "decimal_number")]
            a: Decimal,
            #[serde(with = "decimal_number::option")]
            b: Option<Decimal>,
        }
        let m = M {
            a: Decimal::new(1234567890123456789, 2),
            b: Some(Decimal::new(1000, 3)),
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(text, r#"{"a":12345678901234567.89,"b":1}"#);
        let back: M = serde_json::from_str(&text).unwrap();
        assert_eq!((back.a, back.b), (m.a, m.b));
    }
}
