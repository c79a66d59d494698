//! The [`Sink`] implementation: pre-check by reference, create / update / void the sales
//! invoice, then one credit note per refund, each at most once.

use crate::client::Client;
use crate::config::{LedgerRef, SageConfig};
use crate::mapping::{
    self, Chart, Keys, Ledgers, Marker, Rate, contact_body, contact_reference, idempotency_id,
    is_void_case,
};
use crate::wire::{
    Artefact, ContactEnvelope, ContactOut, CreditNoteEnvelope, CurrencyOut, InvoiceEnvelope,
    LedgerOut, TaxRateOut,
};
use async_trait::async_trait;
use ordersync_sdk::{
    ConnectorError, DeliveryOutcome, DeliveryRequest, Order, OutcomeKind, Sink, SinkCaps, SinkRole,
};
use reqwest::Method;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::OnceCell;

/// Contacts remembered per sink instance (reference → id); cleared when it grows past this.
const CONTACT_CACHE: usize = 10_000;

/// What a voided invoice is told (no order data in it).
const VOID_REASON: &str = "Order cancelled on the marketplace before payment";

pub struct SageSink {
    client: Client,
    cfg: SageConfig,
    chart: OnceCell<Chart>,
    contacts: Mutex<HashMap<String, String>>,
}

fn perm(reason: impl Into<String>) -> ConnectorError {
    ConnectorError::permanent(reason)
}

fn to_body<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ConnectorError> {
    serde_json::to_vec(v).map_err(|_| perm("cannot serialise request"))
}

/// Ids go into paths: refuse anything that would need escaping.
fn segment(id: &str) -> Result<&str, ConnectorError> {
    if !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        Err(perm("id is not a valid Sage id"))
    }
}

fn status_of(a: &Artefact) -> &str {
    a.status.as_ref().map_or("", |s| s.id.as_str())
}

fn is_void(a: &Artefact) -> bool {
    status_of(a) == "VOID" || a.void_reason.as_deref().is_some_and(|r| !r.is_empty())
}

fn is_paid(a: &Artefact) -> bool {
    matches!(status_of(a), "PAID" | "PART_PAID") || a.total_paid.is_some_and(|p| !p.is_zero())
}

fn ours(a: &Artefact, object_key: &str) -> Option<Marker> {
    Marker::parse(a.notes.as_deref()?).filter(|m| m.object_key == object_key)
}

impl SageSink {
    pub(crate) fn new(client: Client, cfg: SageConfig) -> Self {
        Self {
            client,
            cfg,
            chart: OnceCell::new(),
            contacts: Mutex::new(HashMap::new()),
        }
    }

    /// Tax rates, ledger accounts and currencies of the business, read once per instance.
    async fn chart(&self) -> Result<&Chart, ConnectorError> {
        self.chart.get_or_try_init(|| self.load_chart()).await
    }

    async fn load_chart(&self) -> Result<Chart, ConnectorError> {
        let rates: Vec<TaxRateOut> = self
            .client
            .list(
                "/tax_rates",
                "/tax_rates",
                &[("usage", "sales"), ("attributes", "name,percentage")],
            )
            .await?;
        let l = &self.cfg.ledger_accounts;
        let needs_codes = [
            Some(&l.sales),
            Some(&l.shipping),
            Some(&l.fees),
            Some(&l.tips),
            l.gift_cards.as_ref(),
            Some(&l.rounding),
            l.marketplace_tax.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|r| r.nominal_code.is_some());
        let accounts: Vec<LedgerOut> = if needs_codes {
            self.client
                .list(
                    "/ledger_accounts",
                    "/ledger_accounts",
                    &[("attributes", "nominal_code")],
                )
                .await?
        } else {
            vec![]
        };
        let resolve = |name: &str, r: &LedgerRef| -> Result<String, ConnectorError> {
            if let Some(id) = &r.id {
                return Ok(id.clone());
            }
            let code = r.nominal_code.unwrap_or_default();
            accounts
                .iter()
                .find(|a| a.nominal_code == Some(u64::from(code)))
                .map(|a| a.id.clone())
                .ok_or_else(|| {
                    perm(format!(
                        "ledger_accounts.{name}: the Sage business has no ledger account with \
                         nominal code {code}"
                    ))
                })
        };
        let ledgers = Ledgers {
            sales: resolve("sales", &l.sales)?,
            shipping: resolve("shipping", &l.shipping)?,
            fees: resolve("fees", &l.fees)?,
            tips: resolve("tips", &l.tips)?,
            gift_cards: l
                .gift_cards
                .as_ref()
                .map(|r| resolve("gift_cards", r))
                .transpose()?,
            rounding: resolve("rounding", &l.rounding)?,
            marketplace_tax: l
                .marketplace_tax
                .as_ref()
                .map(|r| resolve("marketplace_tax", r))
                .transpose()?,
        };
        let currencies: Vec<CurrencyOut> =
            self.client.list("/currencies", "/currencies", &[]).await?;
        Ok(Chart {
            ledgers,
            rates: rates
                .iter()
                .filter_map(|r| Some(Rate::new(&r.id, r.name.as_deref(), r.percentage?)))
                .collect(),
            overrides: self.cfg.tax_rate_overrides()?,
            currencies: currencies.into_iter().map(|c| c.id).collect(),
        })
    }

    /// The buyer's contact: found by its unique reference, else created (with an
    /// `idempotency_id` derived from the reference, so a lost answer makes no second one).
    async fn contact(&self, order: &Order, object_key: &str) -> Result<String, ConnectorError> {
        let primary = contact_reference(&order.pii, object_key);
        if let Some(id) = self
            .contacts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&primary)
        {
            return Ok(id.clone());
        }
        // What contact_body sends: a contact we made carries exactly this email.
        let email = order.pii.normalized_email().filter(|e| e.len() <= 100);
        let reference = match self.find_contact(&primary).await? {
            Some((id, found)) if found == email => {
                self.remember(primary, id.clone());
                return Ok(id);
            }
            // Ten characters of hash can collide: a contact with another email is another
            // buyer, so this order gets a contact of its own.
            Some(_) => mapping::short_reference(&format!("order:{object_key}")),
            None => primary.clone(),
        };
        if reference != primary
            && let Some((id, _)) = self.find_contact(&reference).await?
        {
            return Ok(id);
        }
        let body = to_body(&ContactEnvelope {
            contact: contact_body(order, &reference),
        })?;
        let c: ContactOut = self
            .client
            .send("/contacts", Method::POST, "/contacts", Some(body))
            .await?;
        if reference == primary {
            self.remember(primary, c.id.clone());
        }
        Ok(c.id)
    }

    fn remember(&self, reference: String, id: String) {
        let mut cache = self.contacts.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CONTACT_CACHE {
            cache.clear();
        }
        cache.insert(reference, id);
    }

    /// (id, lower-cased email) of the contact with exactly this reference.
    async fn find_contact(
        &self,
        reference: &str,
    ) -> Result<Option<(String, Option<String>)>, ConnectorError> {
        let found: Vec<ContactOut> = self
            .client
            .list(
                "/contacts",
                "/contacts",
                &[("search", reference), ("attributes", "reference,email")],
            )
            .await?;
        Ok(found
            .into_iter()
            .find(|c| c.reference.as_deref() == Some(reference))
            .map(|c| (c.id, c.email.map(|e| e.trim().to_lowercase()))))
    }

    /// Artefacts whose reference is exactly `reference` (Sage's `search` also matches
    /// contact names and parts of references).
    async fn by_reference(
        &self,
        route: &'static str,
        reference: &str,
    ) -> Result<Vec<Artefact>, ConnectorError> {
        let found: Vec<Artefact> = self
            .client
            .list(
                route,
                route,
                &[("search", reference), ("attributes", "all")],
            )
            .await?;
        Ok(found
            .into_iter()
            .filter(|a| a.reference.as_deref() == Some(reference))
            .collect())
    }

    /// This order's invoice, if Sage has it: by the recorded id, else by reference (the
    /// pre-check that keeps a lost answer from making a second invoice).
    async fn find_invoice(
        &self,
        req: &DeliveryRequest<'_>,
        reference: &str,
    ) -> Result<Option<Artefact>, ConnectorError> {
        if let Some(id) = req.previous_ref {
            let path = format!("/sales_invoices/{}?attributes=all", segment(id)?);
            match self
                .client
                .send::<Artefact>("/sales_invoices/{key}", Method::GET, &path, None)
                .await
            {
                Ok(a) if ours(&a, req.object_key).is_some() => return Ok(Some(a)),
                Ok(_) | Err(ConnectorError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let found = self.by_reference("/sales_invoices", reference).await?;
        let mine: Vec<&Artefact> = found
            .iter()
            .filter(|a| ours(a, req.object_key).is_some())
            .collect();
        if let Some(a) = mine.iter().find(|a| !is_void(a)).or(mine.first()) {
            return Ok(Some((*a).clone()));
        }
        if !found.is_empty() {
            return Err(perm(format!(
                "invoice reference {reference} is already used by another Sage invoice: set \
                 reference_prefix for marketplace {:?}",
                req.order.marketplace
            )));
        }
        Ok(None)
    }

    async fn void(
        &self,
        req: &DeliveryRequest<'_>,
        reference: &str,
    ) -> Result<DeliveryOutcome, ConnectorError> {
        let Some(a) = self.find_invoice(req, reference).await? else {
            return Ok(DeliveryOutcome {
                external_ref: String::new(),
                kind: OutcomeKind::Skipped,
            });
        };
        if is_void(&a) {
            return Ok(DeliveryOutcome {
                external_ref: a.id,
                kind: OutcomeKind::Unchanged,
            });
        }
        if is_paid(&a) {
            return Err(perm(
                "the order was cancelled but its Sage invoice has payments recorded: it \
                 cannot be voided; refund the payment in Sage",
            ));
        }
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("void_reason", VOID_REASON)
            .finish();
        let path = format!("/sales_invoices/{}?{q}", segment(&a.id)?);
        self.client
            .send::<serde::de::IgnoredAny>("/sales_invoices/{key}", Method::DELETE, &path, None)
            .await?;
        Ok(DeliveryOutcome {
            external_ref: a.id,
            kind: OutcomeKind::Updated,
        })
    }
}

#[async_trait]
impl Sink for SageSink {
    fn kind(&self) -> &'static str {
        crate::KIND
    }

    fn capabilities(&self) -> SinkCaps {
        SinkCaps {
            role: SinkRole::Accounting,
            batch_size: 20,
            concurrency: 8,
            // Invoice lookup, contact search and create, invoice write.
            deliveries_per_minute: Some((self.cfg.requests_per_minute() / 4).max(1)),
            updates: true,
            tracks_delivery: false,
            delivery_feed: false,
        }
    }

    async fn deliver(&self, req: DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError> {
        let order = req.order;
        let reference = mapping::reference(self.cfg.prefix(&order.marketplace), order);
        if is_void_case(order) {
            return self.void(&req, &reference).await;
        }
        let chart = self.chart().await?;
        let keys = Keys {
            object_key: req.object_key,
            idempotency_key: req.idempotency_key,
        };
        // Refuse a bad order before anything is written (no contact for it either).
        mapping::plan(order, chart, "", &reference, keys)?;
        let existing = self.find_invoice(&req, &reference).await?;
        let contact_id = match existing.as_ref().and_then(|a| a.contact.as_ref()) {
            Some(c) if !c.id.is_empty() => c.id.clone(),
            _ => self.contact(order, req.object_key).await?,
        };
        let plan = mapping::plan(order, chart, &contact_id, &reference, keys)?;
        let (id, mut kind) = match existing {
            None => {
                let body = to_body(&InvoiceEnvelope {
                    sales_invoice: plan.invoice.clone(),
                })?;
                let a: Artefact = self
                    .client
                    .send(
                        "/sales_invoices",
                        Method::POST,
                        "/sales_invoices",
                        Some(body),
                    )
                    .await?;
                (a.id, OutcomeKind::Created)
            }
            Some(a) => {
                if is_void(&a) {
                    return Err(perm(
                        "the order's Sage invoice was voided; a reopened order needs a new \
                         invoice made in Sage",
                    ));
                }
                if ours(&a, req.object_key).is_some_and(|m| m.tag == plan.content_tag) {
                    (a.id, OutcomeKind::Unchanged)
                } else if is_paid(&a) {
                    return Err(perm(
                        "the order was edited after its Sage invoice was paid: Sage cannot \
                         update a paid invoice; correct it with a credit note in Sage",
                    ));
                } else {
                    let mut invoice = plan.invoice.clone();
                    invoice.idempotency_id =
                        Some(idempotency_id(req.idempotency_key, "sales_invoice_update"));
                    let body = to_body(&InvoiceEnvelope {
                        sales_invoice: invoice,
                    })?;
                    let path = format!("/sales_invoices/{}", segment(&a.id)?);
                    self.client
                        .send::<Artefact>("/sales_invoices/{key}", Method::PUT, &path, Some(body))
                        .await?;
                    (a.id, OutcomeKind::Updated)
                }
            }
        };
        for cn in &plan.credit_notes {
            let cref = cn.reference.clone().unwrap_or_default();
            let held = self.by_reference("/sales_credit_notes", &cref).await?;
            if held.iter().any(|a| ours(a, req.object_key).is_some()) {
                continue;
            }
            if !held.is_empty() {
                return Err(perm(format!(
                    "credit note reference {cref} is already used by another Sage credit note: \
                     set reference_prefix for marketplace {:?}",
                    order.marketplace
                )));
            }
            let body = to_body(&CreditNoteEnvelope {
                sales_credit_note: cn.clone(),
            })?;
            self.client
                .send::<Artefact>(
                    "/sales_credit_notes",
                    Method::POST,
                    "/sales_credit_notes",
                    Some(body),
                )
                .await?;
            if kind == OutcomeKind::Unchanged {
                kind = OutcomeKind::Updated;
            }
        }
        Ok(DeliveryOutcome {
            external_ref: id,
            kind,
        })
    }
}
