//! One organisation's books and Xero's rules over them: unique contact names among active
//! contacts, unique ACCREC invoice numbers, line amounts and totals per `LineAmountTypes`,
//! tax types valid for the line's account, status transitions, credit allocations.

use super::{SimAccount, SimOptions};
use crate::wire::{Contact, CreditNote, Invoice, LineItem, TaxRate};
use ordersync_sdk::sim::{ObjectBook, eq_ci};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::HashMap;
use time::OffsetDateTime;

/// A limit window that starts with its first call (Xero's are rolling; a window aligned to
/// the clock would let a test straddle two).
pub struct Window {
    limit: u32,
    secs: i64,
    start: Option<OffsetDateTime>,
    used: u32,
}

/// What one call did to a [`Window`].
pub struct Hit {
    pub admitted: bool,
    pub remaining: u32,
    pub reset_secs: u64,
}

impl Window {
    pub fn new(limit: u32, secs: i64) -> Self {
        Self {
            limit,
            secs,
            start: None,
            used: 0,
        }
    }

    fn roll(&mut self, now: OffsetDateTime) -> OffsetDateTime {
        match self.start {
            Some(s) if (now - s).whole_seconds() < self.secs => s,
            _ => {
                self.start = Some(now);
                self.used = 0;
                now
            }
        }
    }

    pub fn remaining(&mut self, now: OffsetDateTime) -> u32 {
        self.roll(now);
        self.limit.saturating_sub(self.used)
    }

    pub fn hit(&mut self, now: OffsetDateTime) -> Hit {
        let start = self.roll(now);
        let admitted = self.used < self.limit;
        if admitted {
            self.used += 1;
        }
        let left = self.secs - (now - start).whole_seconds();
        Hit {
            admitted,
            remaining: self.limit.saturating_sub(self.used),
            reset_secs: u64::try_from(left.max(1)).unwrap_or(1),
        }
    }
}

pub struct StoredContact {
    pub c: Contact,
    pub updated: OffsetDateTime,
}

/// An invoice with Xero's computed figures.
#[derive(Clone)]
pub struct StoredInvoice {
    pub inv: Invoice,
    pub line_ids: Vec<String>,
    pub sub_total: Decimal,
    pub total_tax: Decimal,
    pub total: Decimal,
    pub paid: Decimal,
    pub credited: Decimal,
    pub updated: OffsetDateTime,
}

impl StoredInvoice {
    pub fn due(&self) -> Decimal {
        self.total - self.paid - self.credited
    }
}

#[derive(Clone)]
pub struct StoredCredit {
    pub cn: CreditNote,
    pub line_ids: Vec<String>,
    pub sub_total: Decimal,
    pub total_tax: Decimal,
    pub total: Decimal,
    pub remaining: Decimal,
    pub allocations: Vec<(String, Decimal, String, String)>,
    pub updated: OffsetDateTime,
}

/// A successful write's answer, replayed for the same `Idempotency-Key`.
#[derive(Clone)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: Vec<u8>,
}

pub struct Tenant {
    pub contacts: Vec<StoredContact>,
    /// Keyed by InvoiceNumber; `Entry::cancelled` marks VOIDED / DELETED.
    pub invoices: ObjectBook<StoredInvoice>,
    /// The Idempotency-Key that created each invoice (by number).
    pub invoice_keys: HashMap<u64, String>,
    pub credit_notes: Vec<StoredCredit>,
    pub answers: HashMap<String, StoredAnswer>,
    pub minute: Window,
    pub day: Window,
    pub inflight: u32,
}

impl Tenant {
    pub fn new(opts: &SimOptions) -> Self {
        Self {
            contacts: Vec::new(),
            invoices: ObjectBook::default(),
            invoice_keys: HashMap::new(),
            credit_notes: Vec::new(),
            answers: HashMap::new(),
            minute: Window::new(opts.per_minute, 60),
            day: Window::new(opts.per_day, 86_400),
            inflight: 0,
        }
    }

    fn name_taken(&self, name: &str, except: Option<&str>) -> bool {
        let n = name.trim();
        self.contacts.iter().any(|s| {
            s.c.contact_status.as_deref() == Some("ACTIVE")
                && s.c.name.as_deref().is_some_and(|x| eq_ci(x.trim(), n))
                && s.c.contact_id.as_deref() != except
        })
    }

    pub fn contact(&self, id: &str) -> Option<&StoredContact> {
        self.contacts.iter().find(|s| {
            s.c.contact_id.as_deref() == Some(id) || s.c.contact_number.as_deref() == Some(id)
        })
    }

    /// `PUT /Contacts` (and POST without a match): a new ACTIVE contact.
    pub fn create_contact(
        &mut self,
        mut c: Contact,
        id: String,
        now: OffsetDateTime,
    ) -> Result<Contact, Vec<String>> {
        let name = c.name.clone().unwrap_or_default();
        if name.trim().is_empty() {
            return Err(vec!["Contact Name cannot be empty.".into()]);
        }
        if name.chars().count() > 255 {
            return Err(vec![
                "The Contact Name must not exceed 255 characters.".into(),
            ]);
        }
        if self.name_taken(&name, None) {
            return Err(vec![format!(
                "The contact name {name} is already assigned to another contact. The contact name must be unique across all active contacts."
            )]);
        }
        if c.contact_number.as_deref().is_some_and(|n| n.len() > 50) {
            return Err(vec![
                "The ContactNumber must not exceed 50 characters.".into(),
            ]);
        }
        if let Some(n) = &c.contact_number
            && self.contact(n).is_some()
        {
            return Err(vec![
                "Account Number already exists. Please enter a different Account Number.".into(),
            ]);
        }
        c.contact_id = Some(id);
        c.contact_status = Some("ACTIVE".into());
        c.is_customer = Some(true);
        c.has_validation_errors = None;
        c.validation_errors.clear();
        self.contacts.push(StoredContact {
            c: c.clone(),
            updated: now,
        });
        Ok(c)
    }

    /// `POST /Contacts`: update by ContactID (or ContactNumber).
    pub fn update_contact(
        &mut self,
        c: Contact,
        now: OffsetDateTime,
    ) -> Option<Result<Contact, Vec<String>>> {
        let key = c.contact_id.clone().or_else(|| c.contact_number.clone())?;
        let idx = self.contacts.iter().position(|s| {
            s.c.contact_id.as_deref() == Some(&key) || s.c.contact_number.as_deref() == Some(&key)
        })?;
        let id = self.contacts[idx].c.contact_id.clone();
        if let Some(n) = &c.name
            && self.name_taken(n, id.as_deref())
        {
            return Some(Err(vec![format!(
                "The contact name {n} is already assigned to another contact. The contact name must be unique across all active contacts."
            )]));
        }
        let s = &mut self.contacts[idx];
        if c.name.is_some() {
            s.c.name = c.name;
        }
        if c.email_address.is_some() {
            s.c.email_address = c.email_address;
        }
        if let Some(st) = c.contact_status {
            s.c.contact_status = Some(st);
        }
        s.updated = now;
        Some(Ok(s.c.clone()))
    }

    /// The invoice with this id or (ACCREC) number.
    pub fn find_invoice(&self, id: Option<&str>, number: Option<&str>) -> Option<u64> {
        if let Some(id) = id {
            return self
                .invoices
                .iter()
                .find(|e| e.body.inv.invoice_id.as_deref() == Some(id))
                .map(|e| e.num());
        }
        number.and_then(|n| self.invoices.num_of(n))
    }
}

/// What validating lines needs from the organisation.
pub struct Chart<'a> {
    pub rates: &'a [TaxRate],
    pub accounts: &'a [SimAccount],
    pub currencies: &'a [String],
    pub period_lock: Option<&'a str>,
}

/// Computed lines and totals of a document.
pub struct Figures {
    pub lines: Vec<LineItem>,
    pub sub_total: Decimal,
    pub total_tax: Decimal,
    pub total: Decimal,
}

fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// Validates a document's lines against the chart and computes Xero's figures: line amount
/// `Quantity × UnitAmount − DiscountAmount` at the currency's decimals (a different
/// `LineAmount` is refused), tax as sent (or from the rate when absent), totals per
/// `LineAmountTypes`.
pub fn figures(
    chart: &Chart<'_>,
    currency: &str,
    lat: &str,
    date: Option<&str>,
    lines: &[LineItem],
) -> Result<Figures, Vec<String>> {
    let mut errs = Vec::new();
    if !chart.currencies.iter().any(|c| c == currency) {
        errs.push(format!(
            "Organisation is not subscribed to currency {currency}"
        ));
    }
    if !matches!(lat, "Exclusive" | "Inclusive" | "NoTax") {
        errs.push("LineAmountTypes must be Exclusive, Inclusive or NoTax".into());
    }
    if let (Some(lock), Some(d)) = (chart.period_lock, date)
        && d < lock
    {
        errs.push(format!(
            "The document date cannot be before the period lock date ({lock})."
        ));
    }
    if lines.is_empty() {
        errs.push("At least one line item is required.".into());
    }
    let dp = ordersync_sdk::money::minor_units(currency);
    let mut out = Vec::with_capacity(lines.len());
    let (mut sum, mut tax_sum) = (Decimal::ZERO, Decimal::ZERO);
    for l in lines {
        let q = l.quantity.unwrap_or(Decimal::ONE);
        let Some(u) = l.unit_amount else {
            errs.push("Unit amount must be specified.".into());
            continue;
        };
        let disc = l.discount_amount.unwrap_or_default();
        let amount = round(q * u - disc, dp);
        if let Some(sent) = l.line_amount
            && sent != amount
        {
            errs.push(format!(
                "The line total {sent} does not match the quantity × unit amount less discount ({amount})."
            ));
        }
        let code = l.account_code.clone().unwrap_or_default();
        let account = chart.accounts.iter().find(|a| a.code == code);
        if account.is_none() {
            errs.push(format!(
                "Account code '{code}' is not a valid code for this document."
            ));
        }
        let tt = l.tax_type.clone().unwrap_or_else(|| "NONE".into());
        let rate = chart
            .rates
            .iter()
            .find(|r| r.tax_type == tt && r.status == "ACTIVE");
        let fits = match (rate, account) {
            (Some(r), Some(a)) => match a.class {
                "REVENUE" => r.can_apply_to_revenue,
                "LIABILITY" => r.can_apply_to_liabilities,
                _ => true,
            },
            (None, _) => false,
            (Some(_), None) => true,
        };
        if !fits {
            errs.push(format!(
                "The TaxType code '{tt}' does not exist or cannot be used with account code '{code}'."
            ));
        }
        let pct = rate.and_then(|r| r.effective_rate).unwrap_or_default();
        let tax = if lat == "NoTax" {
            Decimal::ZERO
        } else {
            match l.tax_amount {
                Some(t) => t,
                None if lat == "Inclusive" => {
                    round(amount * pct / (Decimal::ONE_HUNDRED + pct), dp)
                }
                None => round(amount * pct / Decimal::ONE_HUNDRED, dp),
            }
        };
        sum += amount;
        tax_sum += tax;
        out.push(LineItem {
            quantity: Some(q),
            line_amount: Some(amount),
            tax_amount: Some(tax),
            tax_type: Some(tt),
            ..l.clone()
        });
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let (sub_total, total) = match lat {
        "Inclusive" => (sum - tax_sum, sum),
        _ => (sum, sum + tax_sum),
    };
    Ok(Figures {
        lines: out,
        sub_total,
        total_tax: tax_sum,
        total,
    })
}
