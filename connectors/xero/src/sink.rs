//! The [`Sink`]: contact find-or-create, the invoice (pre-checked by number, created or
//! updated), its lifecycle (void on cancellation), and credit notes for refunds.

use crate::client::{Client, where_value};
use crate::config::{DocumentStatus, XeroConfig};
use crate::mapping::{
    Ctx, TaxTable, checked, contact_name, contact_number, credit_note_bodies, fingerprint,
    idempotency_key, invoice_body, invoice_number, marker_of, nothing_captured, suffixed_name,
};
use crate::wire::{Allocation, Contact, Invoice, InvoiceRef};
use async_trait::async_trait;
use ordersync_sdk::{
    ConnectorError, Decimal, DeliveryOutcome, DeliveryRequest, Order, OrderStatus, OutcomeKind,
    Sink, SinkCaps, SinkRole,
};
use reqwest::Method;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use tokio::sync::OnceCell;

/// Deliveries the engine hands over at once: new invoices go out in one `PUT /Invoices`
/// (`summarizeErrors=false`: each element answers for itself; see `batch.rs`).
pub const BATCH_SIZE: usize = 10;
/// Contact ids remembered per instance (by contact number), to spare lookups.
const CONTACT_CACHE: usize = 10_000;

/// What is read once per sink instance.
pub(crate) struct Setup {
    pub(crate) taxes: TaxTable,
    currencies: BTreeSet<String>,
}

pub struct XeroSink {
    pub(crate) client: Client,
    pub(crate) cfg: XeroConfig,
    setup: OnceCell<Setup>,
    contacts: Mutex<HashMap<String, String>>,
}

pub(crate) fn outcome(
    id: Option<String>,
    kind: OutcomeKind,
) -> Result<DeliveryOutcome, ConnectorError> {
    let external_ref = id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ConnectorError::permanent("Xero answered an invoice without InvoiceID"))?;
    Ok(DeliveryOutcome { external_ref, kind })
}

fn is_dead(status: Option<&str>) -> bool {
    matches!(status, Some("VOIDED" | "DELETED"))
}

fn positive(d: Option<Decimal>) -> bool {
    d.is_some_and(|d| d > Decimal::ZERO)
}

impl XeroSink {
    pub(crate) fn new(client: Client, cfg: XeroConfig) -> Self {
        Self {
            client,
            cfg,
            setup: OnceCell::new(),
            contacts: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) async fn setup(&self) -> Result<&Setup, ConnectorError> {
        self.setup
            .get_or_try_init(|| async {
                let rates = self.client.tax_rates().await?;
                let cur = self.client.currencies().await?;
                Ok(Setup {
                    taxes: TaxTable::new(&rates.tax_rates, &self.cfg.tax_types),
                    currencies: cur.currencies.into_iter().map(|c| c.code).collect(),
                })
            })
            .await
    }

    pub(crate) fn cached_contact(&self, number: &str) -> Option<String> {
        self.contacts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(number)
            .cloned()
    }

    pub(crate) fn remember(&self, number: &str, id: &str) {
        let mut m = self.contacts.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= CONTACT_CACHE {
            m.clear();
        }
        m.insert(number.to_string(), id.to_string());
    }

    /// Finds the buyer's contact by ContactNumber, then by exact name or email, else creates
    /// it. A different person holding the name gets `Name (xxxx)`.
    pub(crate) async fn contact(
        &self,
        order: &Order,
        object_key: &str,
        key: &str,
    ) -> Result<String, ConnectorError> {
        let number = contact_number(order, object_key);
        if let Some(id) = self.cached_contact(&number) {
            return Ok(id);
        }
        if let Some(id) = self.by_number(&number).await? {
            return Ok(id);
        }
        let name = contact_name(order);
        let email = order.pii.normalized_email();
        let mut filter = format!("Name=={}", where_value(&name));
        if let Some(e) = &email {
            filter.push_str(&format!(" OR EmailAddress=={}", where_value(e)));
        }
        let found: Vec<Contact> = self
            .client
            .contacts_where(&filter)
            .await?
            .into_iter()
            .filter(|c| c.contact_status.as_deref().is_none_or(|s| s == "ACTIVE"))
            .collect();
        let same_email = |c: &Contact| {
            email.is_some() && c.email_address.as_deref().map(|e| e.trim().to_lowercase()) == email
        };
        if let Some(id) = found
            .iter()
            .find(|c| same_email(c))
            .and_then(|c| c.contact_id.clone())
        {
            self.remember(&number, &id);
            return Ok(id);
        }
        let taken = found.iter().any(|c| {
            c.name
                .as_deref()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(name.trim()))
        });
        let first = if taken {
            suffixed_name(&name, &number, 4)
        } else {
            name.clone()
        };
        let make = |n: String| Contact {
            name: Some(n),
            contact_number: Some(number.clone()),
            email_address: email.clone(),
            ..Default::default()
        };
        let created = match self
            .client
            .create_contact(&make(first), &idempotency_key(key, "contact"))
            .await
        {
            Ok(c) => c,
            Err(ConnectorError::Permanent { reason }) if reason.contains("contact name") => {
                // A concurrent delivery created it, or the short suffix collides too.
                if let Some(id) = self.by_number(&number).await? {
                    return Ok(id);
                }
                self.client
                    .create_contact(
                        &make(suffixed_name(&name, &number, 12)),
                        &idempotency_key(key, "contact-2"),
                    )
                    .await?
            }
            Err(e) => return Err(e),
        };
        let id = created
            .contact_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ConnectorError::permanent("Xero created a contact without ContactID"))?;
        self.remember(&number, &id);
        Ok(id)
    }

    async fn by_number(&self, number: &str) -> Result<Option<String>, ConnectorError> {
        let found = self.client.contact_by_number(number).await?;
        Ok(found
            .and_then(|c| c.contact_id)
            .inspect(|id| self.remember(number, id)))
    }

    /// What every delivery passes before any write: the order is sound, its currency is
    /// enabled, and its invoice number fits. Returns the invoice number.
    pub(crate) async fn admit(&self, order: &Order) -> Result<String, ConnectorError> {
        checked(order)?;
        let setup = self.setup().await?;
        if !setup.currencies.contains(&order.currency) {
            return Err(ConnectorError::permanent(format!(
                "the order's currency {} is not enabled in this Xero organisation",
                if ordersync_sdk::money::is_currency(&order.currency) {
                    order.currency.as_str()
                } else {
                    "(invalid)"
                }
            )));
        }
        invoice_number(&self.cfg, order)
    }

    /// The delivery once the pre-check has run: `existing` is the invoice holding the
    /// order's number, if any (an earlier attempt whose answer may have been lost).
    pub(crate) async fn deliver_known(
        &self,
        req: &DeliveryRequest<'_>,
        number: &str,
        existing: Option<Invoice>,
    ) -> Result<DeliveryOutcome, ConnectorError> {
        let order = req.order;
        let key = req.idempotency_key;
        let setup = self.setup().await?;
        if let Some(inv) = &existing
            && marker_of(inv.reference.as_deref()) != Some(req.object_key)
        {
            return Err(ConnectorError::permanent(format!(
                "invoice number {number} is held by another order's invoice in Xero: set \
                 invoice_prefix for marketplace {:?}",
                order.marketplace
            )));
        }
        if order.status == OrderStatus::Cancelled && nothing_captured(order) {
            return self.cancel(existing, key).await;
        }
        let contact_id = match existing
            .as_ref()
            .and_then(|i| i.contact.as_ref())
            .and_then(|c| c.contact_id.clone())
        {
            Some(id) => id,
            None => self.contact(order, req.object_key, key).await?,
        };
        let ctx = Ctx {
            accounts: &self.cfg.accounts,
            taxes: &setup.taxes,
            status: self.cfg.status,
            contact_id: &contact_id,
            invoice_number: number,
            object_key: req.object_key,
        };
        let mut body = invoice_body(order, &ctx)?;
        let (invoice, kind) = match existing {
            None => {
                let inv = self
                    .client
                    .save_invoice(&body, Method::PUT, &idempotency_key(key, "invoice"))
                    .await?;
                (inv, OutcomeKind::Created)
            }
            Some(inv) if is_dead(inv.status.as_deref()) => {
                return Err(ConnectorError::permanent(format!(
                    "invoice {number} is voided or deleted in Xero: it is not re-created"
                )));
            }
            Some(inv) => {
                let editable = matches!(
                    inv.status.as_deref(),
                    Some("DRAFT" | "SUBMITTED" | "AUTHORISED")
                ) && !positive(inv.amount_paid)
                    && !positive(inv.amount_credited);
                if editable {
                    body.invoice_id = inv.invoice_id.clone();
                    let saved = self
                        .client
                        .save_invoice(&body, Method::POST, &idempotency_key(key, "invoice-update"))
                        .await?;
                    (saved, OutcomeKind::Updated)
                } else if fingerprint(&body, Some(order.totals.total))
                    == fingerprint(&inv, inv.total)
                {
                    (inv, OutcomeKind::Unchanged)
                } else {
                    return Err(ConnectorError::permanent(format!(
                        "the order changed but invoice {number} has payments or credit in \
                         Xero and cannot be edited: adjust it there"
                    )));
                }
            }
        };
        let credited = self.credit_notes(order, &ctx, &invoice, key).await?;
        let kind = if credited && kind == OutcomeKind::Unchanged {
            OutcomeKind::Updated
        } else {
            kind
        };
        outcome(invoice.invoice_id, kind)
    }

    /// A cancellation with nothing captured: void (or delete a draft of) the invoice.
    async fn cancel(
        &self,
        existing: Option<Invoice>,
        key: &str,
    ) -> Result<DeliveryOutcome, ConnectorError> {
        let Some(inv) = existing else {
            return Ok(DeliveryOutcome {
                external_ref: String::new(),
                kind: OutcomeKind::Skipped,
            });
        };
        let status = inv.status.as_deref();
        if is_dead(status) {
            return outcome(inv.invoice_id, OutcomeKind::Unchanged);
        }
        if status == Some("PAID") || positive(inv.amount_paid) || positive(inv.amount_credited) {
            return Err(ConnectorError::permanent(
                "the order was cancelled but its invoice has payments or credit in Xero: \
                 remove them there, then replay",
            ));
        }
        let to = if status == Some("AUTHORISED") {
            "VOIDED"
        } else {
            "DELETED"
        };
        let body = Invoice {
            invoice_id: inv.invoice_id.clone(),
            status: Some(to.into()),
            ..Default::default()
        };
        let saved = self
            .client
            .save_invoice(&body, Method::POST, &idempotency_key(key, "void"))
            .await?;
        outcome(saved.invoice_id.or(inv.invoice_id), OutcomeKind::Updated)
    }

    /// Credit notes of the refunds not yet in Xero, allocated to an approved invoice.
    pub(crate) async fn credit_notes(
        &self,
        order: &Order,
        ctx: &Ctx<'_>,
        invoice: &Invoice,
        key: &str,
    ) -> Result<bool, ConnectorError> {
        let mut changed = false;
        let mut due = invoice.amount_due.unwrap_or_default();
        let invoice_id = invoice.invoice_id.clone().unwrap_or_default();
        let allocatable = invoice.status.as_deref() == Some("AUTHORISED")
            && self.cfg.status == DocumentStatus::Authorised;
        for (i, body) in credit_note_bodies(order, ctx)?.into_iter().enumerate() {
            let Some(body) = body else { continue };
            let n = i + 1;
            let number = body.credit_note_number.clone().unwrap_or_default();
            let existing = self
                .client
                .credit_notes_numbered(&number)
                .await?
                .into_iter()
                .find(|c| !is_dead(c.status.as_deref()));
            let cn = match existing {
                Some(c) => c,
                None => {
                    changed = true;
                    self.client
                        .create_credit_note(&body, &idempotency_key(key, &format!("cn-{n}")))
                        .await?
                }
            };
            let remaining = cn.remaining_credit.or(cn.total).unwrap_or_default();
            let amount = remaining.min(due);
            if allocatable && cn.status.as_deref() == Some("AUTHORISED") && amount > Decimal::ZERO {
                let id = cn.credit_note_id.clone().ok_or_else(|| {
                    ConnectorError::permanent("Xero answered a credit note without CreditNoteID")
                })?;
                self.client
                    .allocate(
                        &id,
                        Allocation {
                            invoice: InvoiceRef {
                                invoice_id: invoice_id.clone(),
                            },
                            amount,
                            date: body.date.clone().unwrap_or_default(),
                        },
                        &idempotency_key(key, &format!("alloc-{n}")),
                    )
                    .await?;
                due -= amount;
                changed = true;
            }
        }
        Ok(changed)
    }
}

#[async_trait]
impl Sink for XeroSink {
    fn kind(&self) -> &'static str {
        crate::KIND
    }

    fn capabilities(&self) -> SinkCaps {
        SinkCaps {
            role: SinkRole::Accounting,
            batch_size: BATCH_SIZE,
            // Twice the 5 calls a tenant may have in flight (the client gates those).
            concurrency: 10,
            // Invoice pre-check, contact lookup and create, invoice write (a batch shares
            // the pre-check and the writes, so it costs less).
            deliveries_per_minute: Some((self.cfg.requests_per_minute() / 4).max(1)),
            updates: true,
            tracks_delivery: false,
            delivery_feed: false,
        }
    }

    async fn deliver(&self, req: DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError> {
        let number = self.admit(req.order).await?;
        // The pre-check: the invoice an earlier attempt made (its answer may have been lost).
        let existing = self.client.invoice_by_number(&number).await?;
        self.deliver_known(&req, &number, existing).await
    }

    /// A batch: one pre-check for all, and the new invoices (with their new contacts) in
    /// one write each; see `batch.rs`.
    async fn deliver_batch(
        &self,
        reqs: &[DeliveryRequest<'_>],
    ) -> Vec<Result<DeliveryOutcome, ConnectorError>> {
        self.deliver_many(reqs).await
    }
}
