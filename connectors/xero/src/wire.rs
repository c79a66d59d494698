//! Xero Accounting API request/response types (PascalCase, as the spec names them). Both the
//! sink and the simulator use them. Money is `Decimal`, written as a JSON number from its own
//! text (never through `f64`). Contacts are PII: their `Debug` is redacted.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationError {
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// `{"ContactID"}` inside an invoice or credit note (the full contact in answers).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactRef {
    #[serde(rename = "ContactID", default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl std::fmt::Debug for ContactRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactRef")
            .field("contact_id", &self.contact_id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(rename = "ContactID", default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    #[serde(
        rename = "ContactNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_number: Option<String>,
    #[serde(
        rename = "ContactStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub contact_status: Option<String>,
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        rename = "EmailAddress",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub email_address: Option<String>,
    #[serde(
        rename = "IsCustomer",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_customer: Option<bool>,
    #[serde(
        rename = "HasValidationErrors",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub has_validation_errors: Option<bool>,
    #[serde(
        rename = "ValidationErrors",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub validation_errors: Vec<ValidationError>,
}

impl std::fmt::Debug for Contact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contact")
            .field("contact_id", &self.contact_id)
            .field("contact_number", &self.contact_number)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Contacts {
    #[serde(rename = "Contacts", default)]
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    #[serde(
        rename = "Description",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    #[serde(
        rename = "Quantity",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<Decimal>,
    #[serde(
        rename = "UnitAmount",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub unit_amount: Option<Decimal>,
    #[serde(rename = "ItemCode", default, skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    #[serde(
        rename = "AccountCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub account_code: Option<String>,
    #[serde(rename = "TaxType", default, skip_serializing_if = "Option::is_none")]
    pub tax_type: Option<String>,
    #[serde(
        rename = "TaxAmount",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub tax_amount: Option<Decimal>,
    #[serde(
        rename = "LineAmount",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub line_amount: Option<Decimal>,
    #[serde(
        rename = "DiscountAmount",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount_amount: Option<Decimal>,
}

/// An invoice as sent (the request fields) and as answered (plus totals and status).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(rename = "InvoiceID", default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    #[serde(rename = "Contact", default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactRef>,
    #[serde(rename = "Date", default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(rename = "DueDate", default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    #[serde(
        rename = "LineAmountTypes",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub line_amount_types: Option<String>,
    #[serde(
        rename = "InvoiceNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invoice_number: Option<String>,
    #[serde(rename = "Reference", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(
        rename = "CurrencyCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub currency_code: Option<String>,
    #[serde(rename = "Status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(rename = "LineItems", default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
    #[serde(
        rename = "Total",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<Decimal>,
    #[serde(
        rename = "AmountPaid",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount_paid: Option<Decimal>,
    #[serde(
        rename = "AmountCredited",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount_credited: Option<Decimal>,
    #[serde(
        rename = "AmountDue",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount_due: Option<Decimal>,
    #[serde(rename = "HasErrors", default, skip_serializing_if = "Option::is_none")]
    pub has_errors: Option<bool>,
    #[serde(
        rename = "ValidationErrors",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub validation_errors: Vec<ValidationError>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Invoices {
    #[serde(rename = "Invoices", default)]
    pub invoices: Vec<Invoice>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreditNote {
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(
        rename = "CreditNoteID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub credit_note_id: Option<String>,
    #[serde(
        rename = "CreditNoteNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub credit_note_number: Option<String>,
    #[serde(rename = "Contact", default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactRef>,
    #[serde(rename = "Date", default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(
        rename = "LineAmountTypes",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub line_amount_types: Option<String>,
    #[serde(rename = "Reference", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(
        rename = "CurrencyCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub currency_code: Option<String>,
    #[serde(rename = "Status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(rename = "LineItems", default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
    #[serde(
        rename = "Total",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<Decimal>,
    #[serde(
        rename = "RemainingCredit",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub remaining_credit: Option<Decimal>,
    #[serde(rename = "HasErrors", default, skip_serializing_if = "Option::is_none")]
    pub has_errors: Option<bool>,
    #[serde(
        rename = "ValidationErrors",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub validation_errors: Vec<ValidationError>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreditNotes {
    #[serde(rename = "CreditNotes", default)]
    pub credit_notes: Vec<CreditNote>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InvoiceRef {
    #[serde(rename = "InvoiceID")]
    pub invoice_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Allocation {
    #[serde(rename = "Invoice")]
    pub invoice: InvoiceRef,
    #[serde(rename = "Amount", with = "decimal_number")]
    pub amount: Decimal,
    #[serde(rename = "Date")]
    pub date: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Allocations {
    #[serde(rename = "Allocations")]
    pub allocations: Vec<Allocation>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaxRate {
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "TaxType", default)]
    pub tax_type: String,
    #[serde(rename = "Status", default)]
    pub status: String,
    #[serde(rename = "CanApplyToRevenue", default)]
    pub can_apply_to_revenue: bool,
    #[serde(rename = "CanApplyToLiabilities", default)]
    pub can_apply_to_liabilities: bool,
    #[serde(
        rename = "EffectiveRate",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub effective_rate: Option<Decimal>,
    #[serde(
        rename = "DisplayTaxRate",
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_tax_rate: Option<Decimal>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TaxRates {
    #[serde(rename = "TaxRates", default)]
    pub tax_rates: Vec<TaxRate>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Currency {
    #[serde(rename = "Code", default)]
    pub code: String,
    #[serde(rename = "Description", default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Currencies {
    #[serde(rename = "Currencies", default)]
    pub currencies: Vec<Currency>,
}

/// `400` body: `{"ErrorNumber", "Type", "Message", "Elements": [{.., "ValidationErrors"}]}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "Type", default)]
    pub kind: Option<String>,
    #[serde(rename = "Elements", default)]
    pub elements: Vec<ErrorElement>,
    /// 401/403 problem bodies (`{"Title", "Status", "Detail"}`).
    #[serde(rename = "Detail", default)]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorElement {
    #[serde(rename = "ValidationErrors", default)]
    pub validation_errors: Vec<ValidationError>,
}

/// Token endpoint answer.
#[derive(Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

pub use ordersync_sdk::decimal_number;
