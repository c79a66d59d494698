//! A batch of deliveries in a few calls. Xero's limits are per tenant and small (60 calls a
//! minute, 5,000 a day), and a new buyer's invoice costs five calls one at a time (pre-check,
//! contact by number, by name or email, create contact, create invoice). Batched, a batch of
//! new buyers costs four calls whatever its size:
//!
//! 1. `GET /Invoices?InvoiceNumbers=…`: one pre-check for the batch. An order whose number
//!    is already held (an earlier attempt, an update) or that cancels goes the one-by-one
//!    way (`deliver_known`), which handles every lifecycle case.
//! 2. `GET /Contacts?where=…`: the new orders' contacts by number, name and email at once.
//! 3. `PUT /Contacts` with the contacts still missing, one per buyer.
//! 4. `PUT /Invoices` with the new invoices.
//!
//! Both writes use `summarizeErrors=false`, so a rejected element fails its own delivery
//! with its own reason and the others land. A write's `Idempotency-Key` is derived from the
//! batch's delivery keys: a retried batch with the same members replays the first answer;
//! one with other members cannot create a second invoice, because the pre-check finds the
//! first one's invoices by number.

use crate::client::where_value;
use crate::mapping::{
    Ctx, contact_name, contact_number, idempotency_key, invoice_body, nothing_captured,
    suffixed_name,
};
use crate::sink::{Setup, XeroSink};
use crate::wire::{Contact, Invoice};
use ordersync_sdk::{ConnectorError, DeliveryOutcome, DeliveryRequest, OrderStatus, OutcomeKind};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

type Outcome = Result<DeliveryOutcome, ConnectorError>;

/// A new order of the batch: its index, invoice number and (once found) contact.
struct Fresh {
    i: usize,
    number: String,
    contact: String,
}

/// One key for a write of the batch: the same members give the same key.
fn batch_key(reqs: &[&DeliveryRequest<'_>], op: &str) -> String {
    let mut h = Sha256::new();
    for r in reqs {
        h.update(r.idempotency_key.as_bytes());
        h.update([0]);
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    idempotency_key(&format!("batch-{hex}"), op)
}

impl XeroSink {
    pub(crate) async fn deliver_many(&self, reqs: &[DeliveryRequest<'_>]) -> Vec<Outcome> {
        let mut out: Vec<Option<Outcome>> = (0..reqs.len()).map(|_| None).collect();
        let mut numbered: Vec<(usize, String)> = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            match self.admit(r.order).await {
                Ok(n) => numbered.push((i, n)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        // A comma would split a number in the filter; one order alone gains nothing.
        if numbered.len() < 2 || numbered.iter().any(|(_, n)| n.contains(',')) {
            for (i, n) in numbered {
                out[i] = Some(self.one(&reqs[i], &n).await);
            }
            return finish(out);
        }
        let numbers: Vec<String> = numbered.iter().map(|(_, n)| n.clone()).collect();
        let held = match self.client.invoices_by_numbers(&numbers).await {
            Ok(v) => v,
            Err(e) => {
                for (i, _) in numbered {
                    out[i] = Some(Err(e.clone()));
                }
                return finish(out);
            }
        };
        let mut by_number: HashMap<String, Invoice> = HashMap::new();
        for inv in held {
            if let Some(n) = inv.invoice_number.clone() {
                by_number.entry(n).or_insert(inv);
            }
        }
        let mut fresh = Vec::new();
        for (i, number) in numbered {
            let r = &reqs[i];
            let existing = by_number.remove(&number);
            let cancels = r.order.status == OrderStatus::Cancelled && nothing_captured(r.order);
            if existing.is_some() || cancels {
                out[i] = Some(self.deliver_known(r, &number, existing).await);
            } else {
                fresh.push(Fresh {
                    i,
                    number,
                    contact: String::new(),
                });
            }
        }
        let fresh = self.contacts_of(reqs, fresh, &mut out).await;
        self.create(reqs, fresh, &mut out).await;
        finish(out)
    }

    /// The mapping context of a new order of the batch.
    fn ctx<'a>(&'a self, setup: &'a Setup, f: &'a Fresh, r: &'a DeliveryRequest<'_>) -> Ctx<'a> {
        Ctx {
            accounts: &self.cfg.accounts,
            taxes: &setup.taxes,
            status: self.cfg.status,
            contact_id: &f.contact,
            invoice_number: &f.number,
            object_key: r.object_key,
        }
    }

    /// The one-by-one way for an order whose number is known.
    async fn one(&self, r: &DeliveryRequest<'_>, number: &str) -> Outcome {
        let existing = self.client.invoice_by_number(number).await?;
        self.deliver_known(r, number, existing).await
    }

    /// Finds or creates the contacts of the new orders; an order whose contact fails gets
    /// its error in `out` and leaves the batch.
    async fn contacts_of(
        &self,
        reqs: &[DeliveryRequest<'_>],
        mut fresh: Vec<Fresh>,
        out: &mut [Option<Outcome>],
    ) -> Vec<Fresh> {
        let mut wanted: BTreeMap<String, usize> = BTreeMap::new(); // number → first order
        for f in &mut fresh {
            let r = &reqs[f.i];
            let number = contact_number(r.order, r.object_key);
            match self.cached_contact(&number) {
                Some(id) => f.contact = id,
                None => {
                    wanted.entry(number).or_insert(f.i);
                }
            }
        }
        if wanted.is_empty() {
            return fresh;
        }
        let mut terms = Vec::new();
        for (number, i) in &wanted {
            let o = reqs[*i].order;
            terms.push(format!("ContactNumber=={}", where_value(number)));
            terms.push(format!("Name=={}", where_value(&contact_name(o))));
            if let Some(e) = o.pii.normalized_email() {
                terms.push(format!("EmailAddress=={}", where_value(&e)));
            }
        }
        let found: Vec<Contact> = match self.client.contacts_where(&terms.join(" OR ")).await {
            Ok(v) => v
                .into_iter()
                .filter(|c| c.contact_status.as_deref().is_none_or(|s| s == "ACTIVE"))
                .collect(),
            Err(e) => {
                for f in &fresh {
                    if f.contact.is_empty() {
                        out[f.i] = Some(Err(e.clone()));
                    }
                }
                return fresh
                    .into_iter()
                    .filter(|f| !f.contact.is_empty())
                    .collect();
            }
        };
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut names: Vec<String> = found
            .iter()
            .filter_map(|c| c.name.as_deref())
            .map(|n| n.trim().to_lowercase())
            .collect();
        let mut create: Vec<(String, Contact)> = Vec::new();
        for (number, i) in &wanted {
            let o = reqs[*i].order;
            let email = o.pii.normalized_email();
            let same_email = |c: &&Contact| {
                email.is_some()
                    && c.email_address.as_deref().map(|e| e.trim().to_lowercase()) == email
            };
            let hit = found
                .iter()
                .find(|c| c.contact_number.as_deref() == Some(number.as_str()))
                .or_else(|| found.iter().find(same_email))
                .and_then(|c| c.contact_id.clone());
            if let Some(id) = hit {
                ids.insert(number.clone(), id);
                continue;
            }
            let name = contact_name(o);
            let taken = names.contains(&name.trim().to_lowercase());
            let name = if taken {
                suffixed_name(&name, number, 4)
            } else {
                name
            };
            names.push(name.trim().to_lowercase());
            create.push((
                number.clone(),
                Contact {
                    name: Some(name),
                    contact_number: Some(number.clone()),
                    email_address: email,
                    ..Default::default()
                },
            ));
        }
        if !create.is_empty() {
            let members: Vec<&DeliveryRequest<'_>> =
                create.iter().map(|(n, _)| &reqs[wanted[n]]).collect();
            let key = batch_key(&members, "contacts");
            let numbers: Vec<String> = create.iter().map(|(n, _)| n.clone()).collect();
            let bodies = create.into_iter().map(|(_, c)| c).collect();
            match self.client.create_contacts(bodies, &key).await {
                Ok(results) => {
                    for (number, r) in numbers.into_iter().zip(results) {
                        if let Some(id) =
                            r.ok().and_then(|c| c.contact_id).filter(|s| !s.is_empty())
                        {
                            ids.insert(number, id);
                        }
                        // A rejected element (a name taken meanwhile, …) is found or made
                        // one by one below, with its own error handling.
                    }
                }
                Err(e) => {
                    for f in &fresh {
                        if f.contact.is_empty() {
                            out[f.i] = Some(Err(e.clone()));
                        }
                    }
                    return fresh
                        .into_iter()
                        .filter(|f| !f.contact.is_empty())
                        .collect();
                }
            }
        }
        let mut kept = Vec::with_capacity(fresh.len());
        for mut f in fresh {
            if f.contact.is_empty() {
                let r = &reqs[f.i];
                let number = contact_number(r.order, r.object_key);
                match ids.get(&number) {
                    Some(id) => {
                        self.remember(&number, id);
                        f.contact = id.clone();
                    }
                    None => match self.contact(r.order, r.object_key, r.idempotency_key).await {
                        Ok(id) => f.contact = id,
                        Err(e) => {
                            out[f.i] = Some(Err(e));
                            continue;
                        }
                    },
                }
            }
            kept.push(f);
        }
        kept
    }

    /// Creates the new orders' invoices in one `PUT /Invoices` (more when they exceed the
    /// request size), then their credit notes.
    async fn create(
        &self,
        reqs: &[DeliveryRequest<'_>],
        fresh: Vec<Fresh>,
        out: &mut [Option<Outcome>],
    ) {
        let setup = match self.setup().await {
            Ok(s) => s,
            Err(e) => {
                for f in &fresh {
                    out[f.i] = Some(Err(e.clone()));
                }
                return;
            }
        };
        let mut chunks: Vec<Vec<(Fresh, Invoice)>> = vec![Vec::new()];
        let mut size = 0usize;
        for f in fresh {
            let r = &reqs[f.i];
            let ctx = self.ctx(setup, &f, r);
            let body = match invoice_body(r.order, &ctx) {
                Ok(b) => b,
                Err(e) => {
                    out[f.i] = Some(Err(e));
                    continue;
                }
            };
            let len = serde_json::to_vec(&body).map_or(usize::MAX, |v| v.len());
            if len > crate::mapping::MAX_BODY_BYTES - 64 {
                out[f.i] = Some(Err(ConnectorError::permanent(
                    "the invoice exceeds Xero's 3.5 MB request limit (it is never split)",
                )));
                continue;
            }
            if size + len > crate::mapping::MAX_BODY_BYTES - 64 {
                chunks.push(Vec::new());
                size = 0;
            }
            size += len + 1;
            if let Some(c) = chunks.last_mut() {
                c.push((f, body));
            }
        }
        for chunk in chunks.into_iter().filter(|c| !c.is_empty()) {
            let members: Vec<&DeliveryRequest<'_>> =
                chunk.iter().map(|(f, _)| &reqs[f.i]).collect();
            let key = batch_key(&members, "invoices");
            let (fs, bodies): (Vec<Fresh>, Vec<Invoice>) = chunk.into_iter().unzip();
            match self.client.create_invoices(bodies, &key).await {
                Ok(results) => {
                    for (f, res) in fs.into_iter().zip(results) {
                        out[f.i] = Some(match res {
                            Ok(inv) => self.after_create(&reqs[f.i], &f, inv).await,
                            Err(e) => Err(e),
                        });
                    }
                }
                Err(e) => {
                    for f in fs {
                        out[f.i] = Some(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// A created invoice's credit notes (for the order's refunds), then its outcome.
    async fn after_create(&self, r: &DeliveryRequest<'_>, f: &Fresh, invoice: Invoice) -> Outcome {
        let setup = self.setup().await?;
        let ctx = self.ctx(setup, f, r);
        // Nothing to call when the order has no refunds.
        self.credit_notes(r.order, &ctx, &invoice, r.idempotency_key)
            .await?;
        crate::sink::outcome(invoice.invoice_id, OutcomeKind::Created)
    }
}

fn finish(out: Vec<Option<Outcome>>) -> Vec<Outcome> {
    out.into_iter()
        .map(|o| o.unwrap_or_else(|| Err(ConnectorError::permanent("delivery not attempted"))))
        .collect()
}
