//! Pure mapping of a canonical [`Order`] to Xero documents (no I/O): the invoice as placed,
//! one credit note per refund, the contact's number and name, and the tax-type table.
//!
//! Rules (`docs/money.md`): post in the order's basis (`LineAmountTypes` `Inclusive` when
//! `taxes_included`, else `Exclusive`; `NoTax` for an exempt buyer), send each line's tax
//! **amount** from its tax lines (never `rate × net`), and prove before sending that Xero's
//! own sum (Σ `LineAmount`, plus Σ `TaxAmount` when exclusive) is exactly `totals.total`.

use crate::config::{AccountCodes, DocumentStatus, XeroConfig};
use crate::wire::{ContactRef, CreditNote, Invoice, LineItem, TaxRate};
use ordersync_sdk::money::{Collector, TaxLine, net_gross, refund_tax_split};
use ordersync_sdk::tax_rate::{NoRate, TaxBase, infer_rate};
use ordersync_sdk::{ConnectorError, Decimal, FeeKind, LineItem as OrderLine, LineKind, Order};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Xero refuses a POST above 3.5 MB; an order that large is refused whole, never split.
pub const MAX_BODY_BYTES: usize = 3_500_000;
/// `InvoiceNumber` is at most 255 characters.
pub const MAX_NUMBER_LEN: usize = 255;
/// The marker in `Reference` that says which order (object key) an invoice belongs to.
pub const MARKER: &str = " os:";

/// Xero's tax types for this organisation: rate percentage → `TaxType`.
#[derive(Debug, Clone, Default)]
pub struct TaxTable {
    overrides: Vec<(Decimal, String)>,
    rates: Vec<(Decimal, String)>,
    zero: Option<String>,
}

impl TaxTable {
    /// From `GET /TaxRates` (ACTIVE rates that can apply to revenue) and the config's
    /// `tax_types` (which win).
    pub fn new(rates: &[TaxRate], overrides: &BTreeMap<String, String>) -> Self {
        let overrides = overrides
            .iter()
            .filter_map(|(k, v)| Some((ordersync_sdk::money::parse(k)?.normalize(), v.clone())))
            .collect();
        let usable: Vec<&TaxRate> = rates
            .iter()
            .filter(|r| r.status == "ACTIVE" && r.can_apply_to_revenue)
            .collect();
        let rates: Vec<(Decimal, String)> = usable
            .iter()
            .filter_map(|r| Some((r.effective_rate?.normalize(), r.tax_type.clone())))
            .collect();
        // The untaxed type: `NONE` where the organisation has it, else any 0 % rate.
        let zero = usable
            .iter()
            .find(|r| r.tax_type == "NONE")
            .map(|r| r.tax_type.clone())
            .or_else(|| {
                rates
                    .iter()
                    .find(|(p, _)| p.is_zero())
                    .map(|(_, t)| t.clone())
            });
        Self {
            overrides,
            rates,
            zero,
        }
    }

    /// The tax type of a rate given as a percentage (`8.875`).
    pub fn for_percent(&self, pct: Decimal) -> Result<String, ConnectorError> {
        let pct = pct.normalize();
        if let Some((_, t)) = self.overrides.iter().find(|(p, _)| *p == pct) {
            return Ok(t.clone());
        }
        if pct.is_zero() {
            return self.zero();
        }
        self.rates
            .iter()
            .find(|(p, _)| *p == pct)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                ConnectorError::permanent(format!(
                    "no Xero tax rate of {pct} %: add one or map it in tax_types"
                ))
            })
    }

    /// The type of a tax the platform sent without a rate (Amazon): the rate whose percentage
    /// of what it was charged on explains it (`ordersync_sdk::tax_rate`). The amount posted
    /// stays the platform's; only the type is chosen.
    pub fn inferred(&self, tax: Decimal, on: Option<TaxBase>) -> Result<String, ConnectorError> {
        let unmapped = || {
            ConnectorError::permanent(
                "a tax line has no rate, so it has no Xero tax type: map it in tax_types",
            )
        };
        let on = on.ok_or_else(unmapped)?;
        let candidates = self
            .overrides
            .iter()
            .chain(self.rates.iter())
            .map(|(p, t)| (*p, t.clone()));
        infer_rate(tax, on, candidates).map_err(|e| match e {
            NoRate::NoBase => unmapped(),
            NoRate::Unexplained { effective } => ConnectorError::permanent(format!(
                "a tax line has no rate and no Xero tax rate explains its {effective} %: add \
                 one or map it in tax_types"
            )),
        })
    }

    /// The type of untaxed lines (gift cards, tips, rounding, exempt orders).
    pub fn zero(&self) -> Result<String, ConnectorError> {
        let zero = Decimal::ZERO;
        if let Some((_, t)) = self.overrides.iter().find(|(p, _)| *p == zero) {
            return Ok(t.clone());
        }
        self.zero.clone().ok_or_else(|| {
            ConnectorError::permanent(
                "no zero-rated Xero tax rate (NONE): add one or map \"0\" in tax_types",
            )
        })
    }
}

/// What the mapping needs besides the order.
pub struct Ctx<'a> {
    pub accounts: &'a AccountCodes,
    pub taxes: &'a TaxTable,
    pub status: DocumentStatus,
    pub contact_id: &'a str,
    pub invoice_number: &'a str,
    pub object_key: &'a str,
}

/// `prefix + order_number`, the invoice's number in Xero.
pub fn invoice_number(cfg: &XeroConfig, order: &Order) -> Result<String, ConnectorError> {
    let n = format!(
        "{}{}",
        cfg.prefix_for(&order.marketplace),
        order.order_number.trim()
    );
    if order.order_number.trim().is_empty() {
        return Err(ConnectorError::permanent("the order has no order number"));
    }
    if n.chars().count() > MAX_NUMBER_LEN - 4 || n.chars().any(char::is_control) {
        return Err(ConnectorError::permanent(
            "the order number does not fit a Xero invoice number",
        ));
    }
    Ok(n)
}

/// Which order an invoice belongs to: `<external id> os:<object key>`.
pub fn reference(order: &Order, object_key: &str) -> String {
    format!("{}{MARKER}{object_key}", order.external_id)
}

/// The object key recorded in an invoice's `Reference`, if it is one of ours.
pub fn marker_of(reference: Option<&str>) -> Option<&str> {
    reference?.rsplit_once(MARKER).map(|(_, k)| k)
}

/// `os-` + the first 24 hex of SHA-256 of the normalised email, or of the object key when
/// the buyer left none: stable per buyer, not reversible to the address.
pub fn contact_number(order: &Order, object_key: &str) -> String {
    let seed = order
        .pii
        .normalized_email()
        .unwrap_or_else(|| format!("key:{object_key}"));
    let h = Sha256::digest(seed.as_bytes());
    let hex: String = h.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("os-{hex}")
}

/// The contact's name: the buyer's, else `Marketplace customer <order number>`.
pub fn contact_name(order: &Order) -> String {
    order
        .pii
        .buyer_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(240).collect())
        .unwrap_or_else(|| format!("Marketplace customer {}", order.order_number.trim()))
}

/// A different person with the same name: `Name (xxxx)`, the suffix from the contact
/// number, so the same buyer always gets the same name.
pub fn suffixed_name(name: &str, number: &str, len: usize) -> String {
    let tail = number.trim_start_matches("os-");
    format!("{name} ({})", &tail[..len.min(tail.len())])
}

/// `<delivery idempotency key>:<operation>`, hashed when longer than Xero's 128 characters.
pub fn idempotency_key(delivery_key: &str, op: &str) -> String {
    let k = format!("{delivery_key}:{op}");
    if k.len() <= 128 && k.bytes().all(|b| b.is_ascii_graphic()) {
        return k;
    }
    Sha256::digest(k.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `Inclusive`, `Exclusive` or `NoTax`.
pub fn line_amount_types(order: &Order) -> &'static str {
    if order.tax_exempt {
        "NoTax"
    } else if order.taxes_included {
        "Inclusive"
    } else {
        "Exclusive"
    }
}

fn overflow() -> ConnectorError {
    ConnectorError::permanent("amounts overflow")
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, ConnectorError> {
    a.checked_add(b).ok_or_else(overflow)
}

fn sub(a: Decimal, b: Decimal) -> Result<Decimal, ConnectorError> {
    a.checked_sub(b).ok_or_else(overflow)
}

/// A line's tax split: its type (from the merchant's rates), the merchant's tax and the
/// marketplace-collected tax (booked on its own line).
struct Tax {
    tax_type: String,
    merchant: Decimal,
    marketplace: Decimal,
}

/// What an unrated tax among `lines` was charged on: the amount after discounts without
/// its taxes; `units` for a line, `None` for an order-level charge (shipping, fees).
fn base_of(
    order: &Order,
    after_discounts: Decimal,
    lines: &[TaxLine],
    units: Option<u32>,
) -> Result<TaxBase, ConnectorError> {
    let tax = ordersync_sdk::money::tax_of(lines).ok_or_else(overflow)?;
    let (net, _) = net_gross(order.basis(), after_discounts, tax).ok_or_else(overflow)?;
    Ok(match units {
        Some(q) => TaxBase::line(order, net, q),
        None => TaxBase::charge(order, net),
    })
}

fn tax_of(
    lines: &[TaxLine],
    taxes: &TaxTable,
    exempt: bool,
    on: Option<TaxBase>,
) -> Result<Tax, ConnectorError> {
    let (mine, theirs): (Vec<&TaxLine>, Vec<&TaxLine>) = lines
        .iter()
        .partition(|t| t.collector == Collector::Merchant);
    let sum = |ts: &[&TaxLine]| {
        ts.iter()
            .try_fold(Decimal::ZERO, |a, t| a.checked_add(t.amount))
            .ok_or_else(overflow)
    };
    let merchant = sum(&mine)?;
    let marketplace = sum(&theirs)?;
    if exempt || mine.is_empty() {
        return Ok(Tax {
            tax_type: taxes.zero()?,
            merchant,
            marketplace,
        });
    }
    let rate = mine
        .iter()
        .try_fold(Decimal::ZERO, |a, t| a.checked_add(t.rate?));
    let tax_type = match rate {
        Some(r) => taxes.for_percent(r.checked_mul(Decimal::ONE_HUNDRED).ok_or_else(overflow)?)?,
        None if merchant.is_zero() => taxes.zero()?,
        None => taxes.inferred(merchant, on)?,
    };
    Ok(Tax {
        tax_type,
        merchant,
        marketplace,
    })
}

/// One posted line.
struct Post<'a> {
    description: String,
    account: &'a str,
    quantity: Decimal,
    unit: Decimal,
    discount: Decimal,
    /// In the basis, after discounts.
    amount: Decimal,
    tax: Tax,
}

/// Turns posts into Xero lines, moving marketplace-collected tax to its own line.
struct Builder<'a> {
    order: &'a Order,
    ctx: &'a Ctx<'a>,
    items: Vec<LineItem>,
    marketplace_tax: Decimal,
}

impl<'a> Builder<'a> {
    fn new(order: &'a Order, ctx: &'a Ctx<'a>) -> Self {
        Self {
            order,
            ctx,
            items: Vec::new(),
            marketplace_tax: Decimal::ZERO,
        }
    }

    fn push(&mut self, p: Post<'_>) -> Result<(), ConnectorError> {
        let exempt = self.order.tax_exempt;
        let mut amount = p.amount;
        let (mut quantity, mut unit, mut discount) = (p.quantity, p.unit, p.discount);
        if !p.tax.marketplace.is_zero() {
            self.marketplace_tax = add(self.marketplace_tax, p.tax.marketplace)?;
            if self.order.taxes_included {
                // The gross holds the marketplace's tax too: take it out, and post the
                // remainder as one unit (Q × U − D no longer describes it).
                amount = sub(amount, p.tax.marketplace)?;
                (quantity, unit, discount) = (Decimal::ONE, amount, Decimal::ZERO);
            }
        }
        self.items.push(LineItem {
            description: Some(p.description),
            quantity: Some(quantity),
            unit_amount: Some(unit),
            account_code: Some(p.account.to_string()),
            tax_type: Some(p.tax.tax_type),
            tax_amount: (!exempt).then_some(p.tax.merchant),
            line_amount: Some(amount),
            discount_amount: (!discount.is_zero()).then_some(discount),
            ..Default::default()
        });
        Ok(())
    }

    /// An untaxed one-unit line (marketplace tax, rounding, duties refunded).
    fn plain(
        &mut self,
        description: &str,
        account: &str,
        amount: Decimal,
    ) -> Result<(), ConnectorError> {
        self.items.push(LineItem {
            description: Some(description.to_string()),
            quantity: Some(Decimal::ONE),
            unit_amount: Some(amount),
            account_code: Some(account.to_string()),
            tax_type: Some(self.ctx.taxes.zero()?),
            tax_amount: (!self.order.tax_exempt).then_some(Decimal::ZERO),
            line_amount: Some(amount),
            ..Default::default()
        });
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<LineItem>, ConnectorError> {
        if !self.marketplace_tax.is_zero() {
            let t = self.marketplace_tax;
            self.plain(
                "Tax collected and remitted by the marketplace",
                &self.ctx.accounts.marketplace_tax.clone(),
                t,
            )?;
        }
        Ok(self.items)
    }
}

fn account_of(a: &AccountCodes, kind: LineKind) -> &str {
    match kind {
        LineKind::Product | LineKind::Custom => &a.sales,
        LineKind::Tip => &a.tips,
        LineKind::GiftCard => &a.gift_cards,
    }
}

fn describe(l: &OrderLine) -> String {
    let title: String = l.title.trim().chars().take(200).collect();
    match (l.kind, l.sku.as_deref().filter(|s| !s.is_empty())) {
        (LineKind::GiftCard, _) => format!("Gift card: {title}"),
        (LineKind::Tip, _) => "Tip".to_string(),
        (_, Some(sku)) => format!("{title} ({sku})"),
        (_, None) => title,
    }
}

/// Σ as Xero adds it: line amounts, plus their tax when the lines are exclusive.
pub fn xero_total(items: &[LineItem], line_amount_types: &str) -> Option<Decimal> {
    items.iter().try_fold(Decimal::ZERO, |acc, i| {
        let acc = acc.checked_add(i.line_amount.unwrap_or_default())?;
        if line_amount_types == "Exclusive" {
            acc.checked_add(i.tax_amount.unwrap_or_default())
        } else {
            Some(acc)
        }
    })
}

fn date(t: time::OffsetDateTime) -> String {
    let d = t.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Checks the order adds up before anything is built (a copy: `balance` fills `rounding`).
pub fn checked(order: &Order) -> Result<(), ConnectorError> {
    let mut copy = order.clone();
    copy.balance()
        .map_err(|e| ConnectorError::permanent(format!("order does not balance: {e}")))?;
    if copy.totals.rounding != order.totals.rounding {
        return Err(ConnectorError::permanent(
            "order totals differ from their parts beyond the recorded rounding",
        ));
    }
    Ok(())
}

/// The invoice of the order as placed (original quantities, `totals`).
pub fn invoice_body(order: &Order, ctx: &Ctx<'_>) -> Result<Invoice, ConnectorError> {
    checked(order)?;
    let a = ctx.accounts;
    let exempt = order.tax_exempt;
    let mut b = Builder::new(order, ctx);
    for l in &order.lines {
        let gross = l.gross().ok_or_else(overflow)?;
        let discount = l.discount().ok_or_else(overflow)?;
        if l.quantity == 0 && gross.is_zero() {
            continue;
        }
        b.push(Post {
            description: describe(l),
            account: account_of(a, l.kind),
            quantity: Decimal::from(l.quantity),
            unit: l.unit_price,
            discount,
            amount: l.discounted().ok_or_else(overflow)?,
            tax: tax_of(
                &l.tax_lines,
                ctx.taxes,
                exempt,
                Some(base_of(
                    order,
                    l.discounted().ok_or_else(overflow)?,
                    &l.tax_lines,
                    Some(l.quantity),
                )?),
            )?,
        })?;
    }
    for s in &order.shipping_lines {
        let title = s
            .title
            .as_deref()
            .or(order.shipping_method.as_deref())
            .unwrap_or("Shipping");
        b.push(Post {
            description: format!("Shipping: {}", title.chars().take(200).collect::<String>()),
            account: &a.shipping,
            quantity: Decimal::ONE,
            unit: s.price,
            // A free-shipping code is a full discount of the price (docs/money.md).
            discount: s.discount().ok_or_else(overflow)?,
            amount: s.discounted().ok_or_else(overflow)?,
            tax: tax_of(
                &s.tax_lines,
                ctx.taxes,
                exempt,
                Some(base_of(
                    order,
                    s.discounted().ok_or_else(overflow)?,
                    &s.tax_lines,
                    None,
                )?),
            )?,
        })?;
    }
    for f in &order.fees {
        let (account, default) = match f.kind {
            FeeKind::Duty => (&a.fees, "Duties"),
            FeeKind::AdditionalFee => (&a.fees, "Fee"),
            FeeKind::Tip => (&a.tips, "Tip"),
        };
        b.push(Post {
            description: f
                .title
                .as_deref()
                .map(|t| t.chars().take(200).collect())
                .unwrap_or_else(|| default.to_string()),
            account,
            quantity: Decimal::ONE,
            unit: f.amount,
            discount: Decimal::ZERO,
            amount: f.amount,
            tax: tax_of(
                &f.tax_lines,
                ctx.taxes,
                exempt,
                Some(base_of(order, f.amount, &f.tax_lines, None)?),
            )?,
        })?;
    }
    if !order.totals.rounding.is_zero() {
        b.plain("Rounding", &a.rounding, order.totals.rounding)?;
    }
    let items = b.finish()?;
    let lat = line_amount_types(order);
    let sum = xero_total(&items, lat).ok_or_else(overflow)?;
    if sum != order.totals.total {
        return Err(ConnectorError::permanent(format!(
            "the invoice would not balance in Xero ({sum} posted against a total of {}): not sent",
            order.totals.total
        )));
    }
    Ok(Invoice {
        kind: Some("ACCREC".into()),
        contact: Some(ContactRef {
            contact_id: Some(ctx.contact_id.to_string()),
            name: None,
        }),
        date: Some(date(order.created_at)),
        due_date: Some(date(order.created_at)),
        line_amount_types: Some(lat.into()),
        invoice_number: Some(ctx.invoice_number.to_string()),
        reference: Some(reference(order, ctx.object_key)),
        currency_code: Some(order.currency.clone()),
        status: Some(ctx.status.as_str().into()),
        line_items: items,
        ..Default::default()
    })
}

/// `InvoiceNumber-R<n>`, n = the refund's 1-based index.
pub fn credit_note_number(invoice_number: &str, n: usize) -> String {
    format!("{invoice_number}-R{n}")
}

/// The tax of a refunded amount whose line had `lines` taxes (charged on `on`): all the
/// merchant's, or all the marketplace's (a mix cannot be split without recomputing from rates).
fn refund_tax(
    lines: &[TaxLine],
    tax: Decimal,
    taxes: &TaxTable,
    exempt: bool,
    on: Option<TaxBase>,
) -> Result<Tax, ConnectorError> {
    let t = tax_of(lines, taxes, exempt, on)?;
    let (merchant, marketplace) = refund_tax_split(lines, tax).ok_or_else(|| {
        ConnectorError::permanent(
            "a refunded line carries both merchant and marketplace tax: split it by hand",
        )
    })?;
    Ok(Tax {
        merchant,
        marketplace,
        ..t
    })
}

/// One credit note per refund (`ACCRECCREDIT`), from the refund's own figures, in the
/// invoice's basis. Refunds that credit nothing are left out (`None` in their slot).
pub fn credit_note_bodies(
    order: &Order,
    ctx: &Ctx<'_>,
) -> Result<Vec<Option<CreditNote>>, ConnectorError> {
    let a = ctx.accounts;
    let exempt = order.tax_exempt;
    let lat = line_amount_types(order);
    let mut out = Vec::with_capacity(order.refunds.len());
    for (i, r) in order.refunds.iter().enumerate() {
        let mut b = Builder::new(order, ctx);
        for rl in &r.lines {
            let line = order
                .lines
                .iter()
                .find(|l| l.external_line_id == rl.line_id)
                .ok_or_else(|| ConnectorError::permanent("a refund names an unknown line"))?;
            let q = Decimal::from(rl.quantity);
            // Units when the unit price is exact at Xero's 4 places, else one line amount.
            let (quantity, unit) = match rl.subtotal.checked_div(q) {
                Some(u) if rl.quantity > 0 && u.round_dp(4) == u && u * q == rl.subtotal => (q, u),
                _ => (Decimal::ONE, rl.subtotal),
            };
            b.push(Post {
                description: describe(line),
                account: account_of(a, line.kind),
                quantity,
                unit,
                discount: Decimal::ZERO,
                amount: rl.subtotal,
                tax: refund_tax(
                    &line.tax_lines,
                    rl.tax,
                    ctx.taxes,
                    exempt,
                    Some(base_of(
                        order,
                        line.discounted().ok_or_else(overflow)?,
                        &line.tax_lines,
                        Some(line.quantity),
                    )?),
                )?,
            })?;
        }
        if !r.shipping.is_zero() || !r.shipping_tax.is_zero() {
            let taxed = order
                .shipping_lines
                .iter()
                .find(|s| !s.tax_lines.is_empty());
            let lines = taxed.map(|s| s.tax_lines.as_slice()).unwrap_or(&[]);
            let on = match taxed {
                Some(s) => Some(base_of(
                    order,
                    s.discounted().ok_or_else(overflow)?,
                    &s.tax_lines,
                    None,
                )?),
                None => None,
            };
            if lines.is_empty() && !r.shipping_tax.is_zero() {
                return Err(ConnectorError::permanent(
                    "a refund returns shipping tax of untaxed shipping",
                ));
            }
            b.push(Post {
                description: "Shipping refund".into(),
                account: &a.shipping,
                quantity: Decimal::ONE,
                unit: r.shipping,
                discount: Decimal::ZERO,
                amount: r.shipping,
                tax: refund_tax(lines, r.shipping_tax, ctx.taxes, exempt, on)?,
            })?;
        }
        if !r.duties.is_zero() {
            b.plain("Duties refund", &a.fees, r.duties)?;
        }
        for adj in &r.adjustments {
            if adj.amount.is_zero() && adj.tax.is_zero() {
                continue;
            }
            // The reason is staff free text: never copied.
            let (lines, on) = if adj.tax.is_zero() {
                (&[][..], None)
            } else {
                let l = order
                    .lines
                    .iter()
                    .find(|l| {
                        l.tax_lines
                            .iter()
                            .any(|t| t.collector == Collector::Merchant)
                    })
                    .ok_or_else(|| {
                        ConnectorError::permanent("a refund adjustment is taxed but no line is")
                    })?;
                let on = base_of(
                    order,
                    l.discounted().ok_or_else(overflow)?,
                    &l.tax_lines,
                    Some(l.quantity),
                )?;
                (l.tax_lines.as_slice(), Some(on))
            };
            b.push(Post {
                description: "Refund adjustment".into(),
                account: &a.sales,
                quantity: Decimal::ONE,
                unit: adj.amount,
                discount: Decimal::ZERO,
                amount: adj.amount,
                tax: refund_tax(lines, adj.tax, ctx.taxes, exempt, on)?,
            })?;
        }
        let items = b.finish()?;
        let total = xero_total(&items, lat).ok_or_else(overflow)?;
        if total.is_sign_negative() {
            return Err(ConnectorError::permanent(format!(
                "refund {} credits a negative amount",
                i + 1
            )));
        }
        if total.is_zero() {
            out.push(None);
            continue;
        }
        out.push(Some(CreditNote {
            kind: Some("ACCRECCREDIT".into()),
            credit_note_number: Some(credit_note_number(ctx.invoice_number, i + 1)),
            contact: Some(ContactRef {
                contact_id: Some(ctx.contact_id.to_string()),
                name: None,
            }),
            date: Some(date(r.created_at)),
            line_amount_types: Some(lat.into()),
            reference: Some(reference(order, ctx.object_key)),
            currency_code: Some(order.currency.clone()),
            status: Some(ctx.status.as_str().into()),
            line_items: items,
            ..Default::default()
        }));
    }
    Ok(out)
}

/// Whether nothing was ever captured: a cancelled order with this status voids its invoice.
pub fn nothing_captured(order: &Order) -> bool {
    use ordersync_sdk::FinancialStatus as F;
    matches!(
        order.financial_status,
        F::Voided | F::Pending | F::Authorized | F::Expired
    ) && order.refunds.is_empty()
}

/// The money of an invoice as Xero holds it, for "is this already what we would send":
/// (basis, total, per line: account, tax type, line amount, tax amount).
pub type Fingerprint = (Option<String>, Option<Decimal>, Vec<LineSig>);
pub type LineSig = (
    Option<String>,
    Option<String>,
    Option<Decimal>,
    Option<Decimal>,
);

pub fn fingerprint(inv: &Invoice, total: Option<Decimal>) -> Fingerprint {
    (
        inv.line_amount_types.clone(),
        total.map(|t| t.normalize()),
        inv.line_items
            .iter()
            .map(|l| {
                (
                    l.account_code.clone(),
                    l.tax_type.clone(),
                    l.line_amount.map(|d| d.normalize()),
                    // Xero answers 0 where an exempt (NoTax) line sent none.
                    Some(l.tax_amount.unwrap_or_default().normalize()),
                )
            })
            .collect(),
    )
}
