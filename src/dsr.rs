//! Data-subject requests (compliance R14, R16–R18): a merchant (the controller) asks what we
//! hold about a buyer, or to erase it now, by email. One code path for the API
//! (`POST /api/v1/dsr`) and the CLI (`ordersync dsr export|erase`).
//!
//! The subject is found by the merchant's blind index of the normalised email across all its
//! connections (deleted ones too: their PII is still ours until purged), never by plaintext.
//! Each request is recorded with its DSR clock (due 30 days after receipt) and counts only;
//! the export is returned once and never stored. Audit records carry counts, never the email.

use crate::app::App;
use crate::crypto::{Crypto, CryptoError, PiiRow, SealedPii};
use crate::store::{DsrRow, EraseScope, Store, SubjectOrder};
use ordersync_sdk::clock::{from_micros, to_micros};
use ordersync_sdk::{Address, Clock, Pii};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

/// GDPR Art. 12(3) gives one month; Shopify asks for 30 days.
pub const DUE_DAYS: i64 = 30;
const DAY_US: i64 = 86_400_000_000;
/// Orders one erasure statement takes (as the marketplace privacy webhooks do).
const ERASE_BATCH: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DsrKind {
    /// Everything we hold about the subject, as JSON (Art. 15, 20).
    Export,
    /// Erase the subject's PII now, ahead of the retention schedule (Art. 17).
    Erase,
}

impl DsrKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DsrKind::Export => "export",
            DsrKind::Erase => "erase",
        }
    }
}

/// Why a request failed. Messages never carry the email.
#[derive(Debug, thiserror::Error)]
pub enum DsrError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("no such merchant, or it was terminated")]
    UnknownMerchant,
    #[error("database: {0}")]
    Store(#[from] sqlx::Error),
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
}

/// The blind-index input: trimmed and lower-cased, as ingest normalises (`Pii::normalized_email`).
pub fn normalize_email(email: &str) -> Result<Zeroizing<String>, DsrError> {
    let e = Zeroizing::new(email.trim().to_lowercase());
    if e.is_empty()
        || e.chars().count() > 320
        || !e.contains('@')
        || e.chars().any(char::is_control)
    {
        return Err(DsrError::Invalid(
            "email must be an email address (at most 320 characters)",
        ));
    }
    Ok(e)
}

/// A target an order of the subject was forwarded to (for Art. 19: the controller tells the
/// recipients of an erasure).
#[derive(Debug, Clone)]
pub struct Forwarded {
    pub connection_id: String,
    pub kind: String,
    pub status: String,
    /// The object's id at the target (not personal data).
    pub external_ref: Option<String>,
    pub updated_at: i64,
}

/// One order in an export. `pii` is `None` only when the stored PII cannot be opened
/// (`pii_readable: false`: its key was destroyed or the ciphertext is damaged).
pub struct ExportedOrder {
    pub order: SubjectOrder,
    pub pii: Option<Pii>,
    pub forwarded_to: Vec<Forwarded>,
}

/// What a completed request found and did.
pub struct Outcome {
    pub request: DsrRow,
    /// Export only: the subject's orders with their PII.
    pub data: Vec<ExportedOrder>,
    /// Targets that hold (or are receiving) one of the subject's orders: connection → orders.
    pub recipients: BTreeMap<String, (String, usize)>,
}

pub struct Dsr<'a> {
    pub store: &'a dyn Store,
    pub crypto: &'a Crypto,
    pub clock: &'a dyn Clock,
}

impl<'a> Dsr<'a> {
    pub fn of(app: &'a App) -> Self {
        Dsr {
            store: &*app.store,
            crypto: &app.crypto,
            clock: &*app.clock,
        }
    }

    /// Runs one request to its end: recorded as `pending` first (so its clock exists even if
    /// the work fails), then `completed` with its counts, or `failed`; audited either way.
    /// `actor` is who asked (`merchant`, `operator`).
    pub async fn run(
        &self,
        merchant: &str,
        kind: DsrKind,
        email: &str,
        actor: &str,
    ) -> Result<Outcome, DsrError> {
        let email = normalize_email(email)?;
        // Checked first: a blind index for an unknown id would create keys for it.
        if !self.store.merchant_active(merchant).await? {
            return Err(DsrError::UnknownMerchant);
        }
        let now = self.clock.now();
        let bidx = self.crypto.blind_index(merchant, &email, now).await?;
        drop(email);
        let at = to_micros(now);
        let mut row = DsrRow {
            id: uuid::Uuid::now_v7().to_string(),
            merchant_id: merchant.to_string(),
            kind: kind.as_str().to_string(),
            status: "pending".into(),
            actor: Some(actor.to_string()),
            created_at: at,
            due_at: Some(at.saturating_add(DUE_DAYS * DAY_US)),
            completed_at: None,
            orders: None,
            erased: None,
            held: None,
        };
        self.store.insert_dsr(&row, &bidx).await?;
        let work = match kind {
            DsrKind::Export => self.export(merchant, &bidx, &mut row).await,
            DsrKind::Erase => self.erase(merchant, &bidx, &mut row).await,
        };
        let done = to_micros(self.clock.now());
        row.completed_at = Some(done);
        let (data, recipients) = match work {
            Ok(w) => {
                row.status = "completed".into();
                w
            }
            Err(e) => {
                row.status = "failed".into();
                // Best effort: the request stays `pending` if even this fails, and the
                // merchant can ask again (both kinds are safe to repeat).
                if let Err(u) = self.store.update_dsr(&row).await {
                    tracing::warn!(dsr = %row.id, error = %u, "Could not record a failed data-subject request.");
                }
                tracing::warn!(dsr = %row.id, kind = kind.as_str(), error = %e, "Data-subject request failed.");
                let _ = self
                    .store
                    .audit(
                        Some(merchant),
                        actor,
                        audit_action(kind),
                        Some(&row.id),
                        Some(&json!({ "status": "failed" }).to_string()),
                        done,
                    )
                    .await;
                return Err(e);
            }
        };
        self.store.update_dsr(&row).await?;
        let unreadable = data.iter().filter(|o| o.pii.is_none()).count();
        let mut detail = json!({ "status": row.status, "orders": row.orders });
        match kind {
            DsrKind::Export => detail["unreadable"] = json!(unreadable),
            DsrKind::Erase => {
                detail["erased"] = json!(row.erased);
                detail["held"] = json!(row.held);
            }
        }
        self.store
            .audit(
                Some(merchant),
                actor,
                audit_action(kind),
                Some(&row.id),
                Some(&detail.to_string()),
                done,
            )
            .await?;
        metrics::counter!("ordersync_dsr_total", "kind" => kind.as_str()).increment(1);
        Ok(Outcome {
            request: row,
            data,
            recipients,
        })
    }

    async fn export(
        &self,
        merchant: &str,
        bidx: &str,
        row: &mut DsrRow,
    ) -> Result<(Vec<ExportedOrder>, Recipients), DsrError> {
        let orders = self.store.orders_of_subject(merchant, bidx).await?;
        let (forwarded, recipients) = self.forwarded(merchant, &orders).await?;
        let mut data = Vec::with_capacity(orders.len());
        for (o, fw) in orders.into_iter().zip(forwarded) {
            let pii = self.open(merchant, &o).await?;
            data.push(ExportedOrder {
                order: o,
                pii,
                forwarded_to: fw,
            });
        }
        row.orders = Some(data.len() as i64);
        Ok((data, recipients))
    }

    async fn erase(
        &self,
        merchant: &str,
        bidx: &str,
        row: &mut DsrRow,
    ) -> Result<(Vec<ExportedOrder>, Recipients), DsrError> {
        let found = self.store.orders_of_subject(merchant, bidx).await?;
        let (_, recipients) = self.forwarded(merchant, &found).await?;
        let scope = EraseScope::Orders {
            external_ids: vec![],
            email_bidx: Some(bidx.to_string()),
            buyer_bidx: None,
        };
        let now = to_micros(self.clock.now());
        let mut erased = 0i64;
        for c in self.store.list_connections(merchant).await? {
            loop {
                let ids = self
                    .store
                    .erase_pii(&c.id, &scope, now, ERASE_BATCH)
                    .await?;
                erased += ids.len() as i64;
                if (ids.len() as i64) < ERASE_BATCH {
                    break;
                }
            }
        }
        // What is left holds PII because a legal hold keeps it (erase_pii honours holds), or
        // arrived while this ran.
        let left = self.store.orders_of_subject(merchant, bidx).await?;
        let held = left
            .iter()
            .filter(|o| o.legal_hold_until.is_some_and(|u| u > now))
            .count() as i64;
        row.orders = Some(erased + left.len() as i64);
        row.erased = Some(erased);
        row.held = Some(held);
        Ok((vec![], recipients))
    }

    /// The order's PII; `None` when it cannot be opened (already lost for every purpose). A
    /// keystore outage fails the request instead: the PII is still there to export.
    async fn open(&self, merchant: &str, o: &SubjectOrder) -> Result<Option<Pii>, DsrError> {
        let (Some(ct), Some(dek), Some(epoch)) = (&o.pii_ct, &o.pii_dek, &o.pii_epoch) else {
            return Ok(None);
        };
        let row = PiiRow {
            merchant_id: merchant,
            marketplace: &o.marketplace,
            external_id: &o.external_id,
            connection_id: &o.connection_id,
            order_id: &o.id,
        };
        let sealed = SealedPii {
            pii_ct: ct.clone(),
            dek: dek.clone(),
        };
        match self
            .crypto
            .open_pii(row, epoch, &sealed, self.clock.now())
            .await
        {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.is_transient() => Err(e.into()),
            Err(e) => {
                tracing::warn!(order = %o.id, error = %e, "Stored PII cannot be opened for an export.");
                metrics::counter!("ordersync_pii_unreadable_total", "stage" => "dsr").increment(1);
                Ok(None)
            }
        }
    }

    /// Per order, the targets it went to; and per target, how many of these orders.
    async fn forwarded(
        &self,
        merchant: &str,
        orders: &[SubjectOrder],
    ) -> Result<(Vec<Vec<Forwarded>>, Recipients), DsrError> {
        let mut per_order = Vec::with_capacity(orders.len());
        let mut recipients = Recipients::new();
        if orders.is_empty() {
            return Ok((per_order, recipients));
        }
        let kinds: HashMap<String, String> = self
            .store
            .list_connections(merchant)
            .await?
            .into_iter()
            .map(|c| (c.id, c.kind))
            .collect();
        for o in orders {
            let mut fw = vec![];
            for d in self.store.deliveries_of_order(merchant, &o.id).await? {
                // The target holds an object once it has a ref (an update re-arms the
                // delivery and keeps it); an in-flight one may be receiving it now. A
                // skipped delivery (empty ref) sent nothing.
                let sent = d.external_ref.as_deref().is_some_and(|r| !r.is_empty())
                    || d.status == "in_flight";
                if !sent {
                    continue;
                }
                let kind = kinds
                    .get(&d.sink_connection_id)
                    .cloned()
                    .unwrap_or_default();
                recipients
                    .entry(d.sink_connection_id.clone())
                    .or_insert_with(|| (kind.clone(), 0))
                    .1 += 1;
                fw.push(Forwarded {
                    connection_id: d.sink_connection_id,
                    kind,
                    status: d.status,
                    external_ref: d.external_ref,
                    updated_at: d.updated_at,
                });
            }
            per_order.push(fw);
        }
        Ok((per_order, recipients))
    }
}

type Recipients = BTreeMap<String, (String, usize)>;

fn audit_action(kind: DsrKind) -> &'static str {
    match kind {
        DsrKind::Export => "dsr.export",
        DsrKind::Erase => "dsr.erase",
    }
}

/// RFC 3339 of a µs timestamp.
pub fn rfc3339(us: i64) -> String {
    from_micros(us).format(&Rfc3339).unwrap_or_default()
}

/// A request as `GET /api/v1/dsr/{id}` shows it: its clock and counts, never the export.
pub fn request_json(r: &DsrRow) -> Value {
    json!({
        "id": r.id,
        "kind": r.kind,
        "status": r.status,
        "actor": r.actor,
        "created_at": rfc3339(r.created_at),
        "due_at": r.due_at.map(rfc3339),
        "completed_at": r.completed_at.map(rfc3339),
        "orders": r.orders,
        "erased": r.erased,
        "held": r.held,
    })
}

impl Outcome {
    /// The answer to the request: [`request_json`], the recipients and, for an export, the
    /// data (the only place PII leaves the service, apart from deliveries to targets).
    pub fn to_json(&self) -> Value {
        let mut v = request_json(&self.request);
        v["recipients"] = self
            .recipients
            .iter()
            .map(|(id, (kind, n))| json!({ "connection_id": id, "kind": kind, "orders": n }))
            .collect();
        if self.request.kind == DsrKind::Export.as_str() {
            v["data"] = self.data.iter().map(exported_json).collect();
        }
        v
    }
}

fn exported_json(e: &ExportedOrder) -> Value {
    let o = &e.order;
    json!({
        "order_id": o.id,
        "connection_id": o.connection_id,
        "marketplace": o.marketplace,
        "external_id": o.external_id,
        "order_number": o.order_number,
        "legal_hold_until": o.legal_hold_until.map(rfc3339),
        "pii_readable": e.pii.is_some(),
        "pii": e.pii.as_ref().map(pii_json),
        "forwarded_to": e.forwarded_to.iter().map(|f| json!({
            "connection_id": f.connection_id,
            "kind": f.kind,
            "status": f.status,
            "external_ref": f.external_ref,
            "updated_at": rfc3339(f.updated_at),
        })).collect::<Vec<_>>(),
    })
}

/// Every field of [`Pii`], named here rather than through its serde form (that one belongs to
/// the encryptor): the export's schema is ours to keep stable. A test checks it covers them.
pub fn pii_json(p: &Pii) -> Value {
    json!({
        "buyer_name": p.buyer_name,
        "email": p.email,
        "phone": p.phone,
        "shipping_address": p.shipping_address.as_ref().map(address_json),
        "billing_address": p.billing_address.as_ref().map(address_json),
        "notes": p.notes,
    })
}

fn address_json(a: &Address) -> Value {
    json!({
        "name": a.name,
        "company": a.company,
        "line1": a.line1,
        "line2": a.line2,
        "city": a.city,
        "region": a.region,
        "postal_code": a.postal_code,
        "country_code": a.country_code,
        "phone": a.phone,
    })
}

/// `ordersync dsr export|erase`.
#[derive(clap::Subcommand)]
pub enum DsrCommand {
    /// Print everything held about a buyer (JSON, with PII) and record the request.
    Export(DsrArgs),
    /// Erase a buyer's PII now (legal holds excepted) and print what was done (JSON).
    Erase(DsrArgs),
}

#[derive(clap::Args)]
pub struct DsrArgs {
    /// The merchant (controller) the buyer's orders belong to.
    #[arg(long)]
    pub merchant: String,
    /// The buyer's email; `-` reads it from stdin (keeps it out of shell history and `ps`).
    #[arg(long)]
    pub email: String,
}

/// Runs a CLI request as the operator and returns its JSON answer.
pub async fn run_cli(app: &App, cmd: DsrCommand) -> Result<Value, DsrError> {
    let (kind, args) = match cmd {
        DsrCommand::Export(a) => (DsrKind::Export, a),
        DsrCommand::Erase(a) => (DsrKind::Erase, a),
    };
    let email = if args.email == "-" {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|_| DsrError::Invalid("could not read the email from stdin"))?;
        line
    } else {
        Zeroizing::new(args.email)
    };
    Ok(Dsr::of(app)
        .run(&args.merchant, kind, &email, "operator")
        .await?
        .to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    /// The export names every field `Pii` (and `Address`) has: a field added to the SDK
    /// without being exported fails here.
    #[test]
    fn export_names_every_pii_field() {
        let a = Address {
            name: Some("n".into()),
            company: Some("c".into()),
            line1: Some("l1".into()),
            line2: Some("l2".into()),
            city: Some("c".into()),
            region: Some("r".into()),
            postal_code: Some("p".into()),
            country_code: Some("GB".into()),
            phone: Some("ph".into()),
        };
        let p = Pii {
            buyer_name: Some("b".into()),
            email: Some("e@x.test".into()),
            phone: Some("1".into()),
            shipping_address: Some(a.clone()),
            billing_address: Some(a.clone()),
            notes: Some("n".into()),
        };
        let full = serde_json::to_value(&p).unwrap();
        let ours = pii_json(&p);
        assert_eq!(keys(&ours), keys(&full));
        assert_eq!(
            keys(&ours["shipping_address"]),
            keys(&serde_json::to_value(&a).unwrap())
        );
        assert_eq!(ours, full, "every value is exported as held");
    }

    #[test]
    fn emails_are_normalised_and_checked_without_echoing_them() {
        assert_eq!(
            normalize_email("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in ["", "   ", "no-at-sign", "a@b\u{0}"] {
            let e = normalize_email(bad).unwrap_err().to_string();
            assert!(bad.trim().is_empty() || !e.contains(bad.trim()), "{e}");
        }
    }
}
