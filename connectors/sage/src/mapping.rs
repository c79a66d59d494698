//! Pure mapping of the canonical [`Order`] into Sage bodies (no I/O): the sales invoice as
//! placed, one credit note per refund, the buyer's contact. Follows `docs/money.md`: amounts
//! in the order's basis, tax amounts from the order's tax lines (never recomputed from a rate),
//! goods / shipping / fees / tips / gift cards / marketplace-collected tax on their own ledger
//! accounts.

use crate::wire::{ContactBody, CreditNoteBody, InvoiceBody, Line};
use ordersync_sdk::money::{Basis, net_gross, tax_of};
use ordersync_sdk::tax_rate::{NoRate, TaxBase, infer_rate};
use ordersync_sdk::{
    Collector, ConnectorError, Decimal, FinancialStatus, LineKind, Order, OrderStatus, Pii, Refund,
    TaxLine,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Most lines one invoice or credit note may carry. Sage publishes no limit for v3.1; a cap
/// keeps a hostile order from producing a request Sage may half-process (unverified number:
/// see the crate docs). Over it the order is refused, never split into two invoices.
pub const MAX_LINES: usize = 200;

/// Longest description sent (Sage truncates nothing silently that we know of; titles are
/// merchant data and bounded here so a hostile one cannot bloat the request).
const MAX_DESCRIPTION: usize = 200;

/// Ledger account ids, resolved for the business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledgers {
    pub sales: String,
    pub shipping: String,
    pub fees: String,
    pub tips: String,
    pub gift_cards: Option<String>,
    pub rounding: String,
    pub marketplace_tax: Option<String>,
}

/// What a tax rate is for, from its id or name (Sage's `GB_ZERO`, `GB_EXEMPT`, `GB_NO_TAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKind {
    Standard,
    Zero,
    Exempt,
    NoTax,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    pub id: String,
    /// Percent (20 is 20 %).
    pub percentage: Decimal,
    pub kind: RateKind,
}

impl Rate {
    pub fn new(id: &str, name: Option<&str>, percentage: Decimal) -> Rate {
        Rate {
            id: id.to_string(),
            percentage: percentage.normalize(),
            kind: rate_kind(id, name),
        }
    }
}

/// Sage's zero / exempt / no-tax rates are told apart by id suffix or name.
pub fn rate_kind(id: &str, name: Option<&str>) -> RateKind {
    let id = id.to_ascii_uppercase();
    let name = name.unwrap_or("").to_ascii_lowercase();
    if id.ends_with("NO_TAX") || name.contains("no tax") || name.contains("no vat") {
        RateKind::NoTax
    } else if id.ends_with("EXEMPT") || name.contains("exempt") {
        RateKind::Exempt
    } else if id.ends_with("ZERO") || name.contains("zero") {
        RateKind::Zero
    } else {
        RateKind::Standard
    }
}

/// A business's chart as the mapping needs it (fetched once per sink instance).
#[derive(Debug, Clone)]
pub struct Chart {
    pub ledgers: Ledgers,
    pub rates: Vec<Rate>,
    /// `tax_rates` overrides of the config: percentage → id.
    pub overrides: BTreeMap<Decimal, String>,
    /// Currency ids the business knows (`GET /currencies`); empty = not checked.
    pub currencies: Vec<String>,
}

fn perm(reason: impl Into<String>) -> ConnectorError {
    ConnectorError::permanent(reason)
}

fn ck(v: Option<Decimal>) -> Result<Decimal, ConnectorError> {
    v.ok_or_else(|| perm("an amount overflows"))
}

impl Chart {
    fn first_of(&self, kinds: &[RateKind]) -> Option<&str> {
        kinds.iter().find_map(|k| {
            self.rates
                .iter()
                .find(|r| r.kind == *k && r.percentage.is_zero())
                .map(|r| r.id.as_str())
        })
    }

    /// For amounts with no tax at all (exempt buyer, untaxed shipping, tips, gift cards).
    pub fn exempt_rate(&self) -> Result<String, ConnectorError> {
        if let Some(id) = self.overrides.get(&Decimal::ZERO) {
            return Ok(id.clone());
        }
        self.first_of(&[
            RateKind::Exempt,
            RateKind::NoTax,
            RateKind::Zero,
            RateKind::Standard,
        ])
        .map(str::to_string)
        .ok_or_else(|| perm("the Sage business has no zero or exempt sales tax rate"))
    }

    /// For taxed amounts whose rate is 0 %.
    fn zero_rate(&self) -> Result<String, ConnectorError> {
        if let Some(id) = self.overrides.get(&Decimal::ZERO) {
            return Ok(id.clone());
        }
        self.first_of(&[
            RateKind::Zero,
            RateKind::Standard,
            RateKind::Exempt,
            RateKind::NoTax,
        ])
        .map(str::to_string)
        .ok_or_else(|| perm("the Sage business has no zero-rated sales tax rate"))
    }

    /// The Sage rate of an amount's merchant tax lines: their combined rate × 100 matched to
    /// a rate's percentage (or the config's override).
    pub fn rate_for(&self, taxes: &[&TaxLine], exempt: bool) -> Result<String, ConnectorError> {
        self.rate_of(taxes, exempt, None)
    }

    /// [`rate_for`](Self::rate_for), and when a platform sends tax amounts without rates
    /// (Amazon), the rate whose percentage of `on.net` comes closest to the tax, within a
    /// minor unit per unit sold. The tax amount stays the platform's; only the id is chosen.
    pub fn rate_of(
        &self,
        taxes: &[&TaxLine],
        exempt: bool,
        on: Option<TaxBase>,
    ) -> Result<String, ConnectorError> {
        if exempt || taxes.is_empty() {
            return self.exempt_rate();
        }
        let mut rate = Decimal::ZERO;
        let mut unrated = false;
        for t in taxes {
            match t.rate {
                Some(r) => rate = ck(rate.checked_add(r))?,
                // The amount is what counts; a zero tax without a rate is a zero rate.
                None if t.amount.is_zero() => {}
                None => unrated = true,
            }
        }
        if unrated {
            return self.inferred(taxes, on);
        }
        let pct = ck(rate.checked_mul(Decimal::ONE_HUNDRED))?.normalize();
        if let Some(id) = self.overrides.get(&pct) {
            return Ok(id.clone());
        }
        if pct.is_zero() {
            return self.zero_rate();
        }
        self.rates
            .iter()
            .find(|r| r.percentage == pct && r.kind == RateKind::Standard)
            .map(|r| r.id.clone())
            .ok_or_else(|| {
                perm(format!(
                    "no Sage sales tax rate of {pct} %: create it in Sage or map it in the \
                     tax_rates setting"
                ))
            })
    }

    fn inferred(&self, taxes: &[&TaxLine], on: Option<TaxBase>) -> Result<String, ConnectorError> {
        let tax = ck(ordersync_sdk::money::sum(taxes.iter().map(|t| &t.amount)))?;
        let Some(on) = on else {
            return Err(perm("a tax line has an amount but no rate"));
        };
        let candidates = self.overrides.iter().map(|(p, id)| (*p, id.clone())).chain(
            self.rates
                .iter()
                .filter(|r| r.kind == RateKind::Standard)
                .map(|r| (r.percentage, r.id.clone())),
        );
        infer_rate(tax, on, candidates).map_err(|e| match e {
            NoRate::NoBase => perm("a tax line has an amount but no rate"),
            NoRate::Unexplained { effective } => perm(format!(
                "the platform sent tax without a rate and no Sage sales tax rate matches its \
                 {effective} %: map it in the tax_rates setting"
            )),
        })
    }
}

/// The keys of one delivery.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    pub object_key: &'a str,
    pub idempotency_key: &'a str,
}

/// 32 lower-case hex characters of SHA-256 over the parts (an `idempotency_id`).
pub fn hex32(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `idempotency_id` of one write of one delivery version.
pub fn idempotency_id(idempotency_key: &str, operation: &str) -> String {
    hex32(&[idempotency_key, operation])
}

/// Sage's limit on a contact's `reference` (swagger `Contact.reference.maxLength`).
pub const CONTACT_REFERENCE_LEN: usize = 10;
/// Sage's limit on an invoice's or credit note's `reference`.
pub const REFERENCE_LEN: usize = 25;

/// The buyer's contact reference: `O` + 9 base-36 characters of SHA-256 of the normalised
/// email, or of the object key when there is none (one contact per order then). Sage allows
/// 10 characters, so this is ~46 bits, not a full hash: the sink checks the email of a
/// contact it finds and falls back to the order's own reference on a mismatch. No PII in it.
pub fn contact_reference(pii: &Pii, object_key: &str) -> String {
    match pii.normalized_email() {
        Some(e) => short_reference(&e),
        None => short_reference(object_key),
    }
}

/// The contact reference of one order (`O` + 9 base-36 of SHA-256 of the object key).
pub fn short_reference(src: &str) -> String {
    let d = Sha256::digest(src.as_bytes());
    let mut n = d
        .iter()
        .take(8)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        % 36u64.pow(9);
    let mut out = vec![b'0'; 9];
    for c in out.iter_mut().rev() {
        *c = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(n % 36) as usize];
        n /= 36;
    }
    format!("O{}", String::from_utf8_lossy(&out))
}

pub fn contact_body(order: &Order, reference: &str) -> ContactBody {
    let name = order
        .pii
        .buyer_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(100).collect())
        .unwrap_or_else(|| format!("Marketplace customer {}", order.order_number));
    ContactBody {
        name,
        contact_type_ids: vec!["CUSTOMER".into()],
        reference: Some(reference.to_string()),
        // Sage takes at most 100 characters; a longer address is left out, not cut.
        email: order.pii.normalized_email().filter(|e| e.len() <= 100),
        currency_id: None,
        idempotency_id: Some(hex32(&["contact", reference])),
    }
}

/// The invoice reference: the marketplace's prefix + the order number.
pub fn reference(prefix: &str, order: &Order) -> String {
    format!("{prefix}{}", order.order_number)
}

/// Our marker in an artefact's `notes`: which order (object key, marketplace id) it is, and a
/// hash of the content it was written with. The pre-check reads it to tell our invoice from
/// another order's, and an unchanged order from an edited one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub object_key: String,
    /// `H<12 hex>` for an invoice's content, `R<n>` for a credit note.
    pub tag: String,
    pub external_id: String,
}

const MARKER: &str = "ordersync:";

impl Marker {
    pub fn render(&self) -> String {
        format!(
            "{MARKER}{}:{}:{}",
            self.object_key, self.tag, self.external_id
        )
    }

    pub fn parse(notes: &str) -> Option<Marker> {
        let line = notes.lines().rev().find_map(|l| l.strip_prefix(MARKER))?;
        let mut parts = line.splitn(3, ':');
        Some(Marker {
            object_key: parts.next()?.to_string(),
            tag: parts.next()?.to_string(),
            external_id: parts.next()?.to_string(),
        })
    }
}

/// A cancelled order for which nothing was captured: its invoice is voided, not credited.
pub fn is_void_case(order: &Order) -> bool {
    order.status == OrderStatus::Cancelled
        && matches!(
            order.financial_status,
            FinancialStatus::Pending
                | FinancialStatus::Authorized
                | FinancialStatus::Voided
                | FinancialStatus::Expired
        )
}

/// A line's amounts before they become a Sage line.
struct Amounts {
    quantity: u32,
    /// In the order's basis.
    unit_price: Decimal,
    discount: Decimal,
    net: Decimal,
    tax: Decimal,
    rate_id: String,
    includes_tax: bool,
}

fn description(title: &str, fallback: &str) -> String {
    let t = title.trim();
    let t = if t.is_empty() { fallback } else { t };
    t.chars().take(MAX_DESCRIPTION).collect()
}

/// Builds a Sage line whose `quantity × unit_price − discount_amount` equals its total
/// (inclusive) or net (exclusive) exactly; when the order's figures cannot say that per unit
/// (marketplace tax taken out of an inclusive price, a refund of units at an uneven price),
/// the line becomes one unit of the whole amount, described as `n × title`.
fn line(desc: String, ledger: &str, a: Amounts) -> Result<Line, ConnectorError> {
    let total = ck(a.net.checked_add(a.tax))?;
    let target = if a.includes_tax { total } else { a.net };
    let lhs = a
        .unit_price
        .checked_mul(Decimal::from(a.quantity))
        .and_then(|g| g.checked_sub(a.discount));
    let (quantity, unit_price, desc) = if lhs == Some(target) {
        (Decimal::from(a.quantity), a.unit_price, desc)
    } else {
        let unit = ck(target.checked_add(a.discount))?;
        let d = if a.quantity == 1 {
            desc
        } else {
            format!("{} × {desc}", a.quantity)
        };
        (Decimal::ONE, unit, d)
    };
    Ok(Line {
        description: desc,
        ledger_account_id: ledger.to_string(),
        quantity,
        unit_price,
        discount_amount: Some(a.discount),
        net_amount: Some(a.net),
        tax_rate_id: Some(a.rate_id),
        tax_amount: Some(a.tax),
        total_amount: Some(total),
        unit_price_includes_tax: a.includes_tax,
    })
}

/// Merchant tax lines, their sum, and the marketplace-collected sum.
fn split(taxes: &[TaxLine]) -> Result<(Vec<&TaxLine>, Decimal, Decimal), ConnectorError> {
    let merchant: Vec<&TaxLine> = taxes
        .iter()
        .filter(|t| t.collector == Collector::Merchant)
        .collect();
    let m = ck(ordersync_sdk::money::sum(
        merchant.iter().map(|t| &t.amount),
    ))?;
    let all = ck(tax_of(taxes))?;
    Ok((merchant, m, ck(all.checked_sub(m))?))
}

/// A refunded tax as (merchant's, marketplace's), after the taxes of what it refunds.
fn refund_split(taxes: &[TaxLine], tax: Decimal) -> Result<(Decimal, Decimal), ConnectorError> {
    ordersync_sdk::money::refund_tax_split(taxes, tax).ok_or_else(|| {
        perm("a refunded line carries both merchant and marketplace tax: split it by hand")
    })
}

/// (net, merchant tax, marketplace tax) of an amount after discounts, in the basis.
fn net_of(
    basis: Basis,
    after_discounts: Decimal,
    taxes: &[TaxLine],
) -> Result<(Decimal, Decimal, Decimal), ConnectorError> {
    let (_, m, market) = split(taxes)?;
    let all = ck(m.checked_add(market))?;
    let (net, _) =
        net_gross(basis, after_discounts, all).ok_or_else(|| perm("an amount overflows"))?;
    Ok((net, m, market))
}

/// The invoice and credit notes of an order, as Sage will get them.
#[derive(Debug, Clone)]
pub struct Plan {
    pub invoice: InvoiceBody,
    /// `H<12 hex>`: the invoice's content (without ids that change per version).
    pub content_tag: String,
    /// One per refund with something to credit, in the order's refund order, numbered
    /// `R1, R2…` by the refund's position.
    pub credit_notes: Vec<CreditNoteBody>,
}

fn ledger_of(chart: &Chart, kind: LineKind) -> Result<&str, ConnectorError> {
    match kind {
        LineKind::Product | LineKind::Custom => Ok(&chart.ledgers.sales),
        LineKind::Tip => Ok(&chart.ledgers.tips),
        LineKind::GiftCard => chart.ledgers.gift_cards.as_deref().ok_or_else(|| {
            perm(
                "the order sells a gift card: set ledger_accounts.gift_cards (a liability account)",
            )
        }),
    }
}

fn marketplace_ledger(chart: &Chart) -> Result<&str, ConnectorError> {
    chart.ledgers.marketplace_tax.as_deref().ok_or_else(|| {
        perm("the order has marketplace-collected tax: set ledger_accounts.marketplace_tax")
    })
}

fn check_currency(order: &Order, chart: &Chart) -> Result<(), ConnectorError> {
    if !chart.currencies.is_empty() && !chart.currencies.iter().any(|c| c == &order.currency) {
        return Err(perm(format!(
            "currency {} is not enabled in the Sage business",
            order.currency
        )));
    }
    Ok(())
}

/// The shipping of an artefact: on Sage's own shipping fields when one tax rate covers it,
/// else as lines on the shipping ledger account.
struct ShippingPart {
    net: Decimal,
    tax: Decimal,
    rate_id: Option<String>,
    lines: Vec<Line>,
}

fn shipping_part(order: &Order, chart: &Chart) -> Result<(ShippingPart, Decimal), ConnectorError> {
    let basis = order.basis();
    let mut rates = Vec::new();
    let mut parts = Vec::new();
    let mut market = Decimal::ZERO;
    for s in &order.shipping_lines {
        let discounted = ck(s.discounted())?;
        let (net, tax, mk) = net_of(basis, discounted, &s.tax_lines)?;
        market = ck(market.checked_add(mk))?;
        let (merchant, _, _) = split(&s.tax_lines)?;
        let rate_id = chart.rate_of(
            &merchant,
            order.tax_exempt,
            Some(TaxBase::charge(order, net)),
        )?;
        rates.push(rate_id.clone());
        parts.push((s, net, tax, rate_id, ck(s.discount())?));
    }
    rates.dedup();
    if parts.is_empty() {
        return Ok((
            ShippingPart {
                net: Decimal::ZERO,
                tax: Decimal::ZERO,
                rate_id: None,
                lines: vec![],
            },
            market,
        ));
    }
    if rates.len() == 1 {
        let mut net = Decimal::ZERO;
        let mut tax = Decimal::ZERO;
        for (_, n, t, _, _) in &parts {
            net = ck(net.checked_add(*n))?;
            tax = ck(tax.checked_add(*t))?;
        }
        return Ok((
            ShippingPart {
                net,
                tax,
                rate_id: rates.pop(),
                lines: vec![],
            },
            market,
        ));
    }
    // Several rates: Sage's shipping fields take one, so each shipping line is a line.
    let mut lines = Vec::new();
    for (s, net, tax, rate_id, discount) in parts {
        let title = s.title.as_deref().unwrap_or("");
        lines.push(line(
            format!("Shipping: {}", description(title, "delivery")),
            &chart.ledgers.shipping,
            Amounts {
                quantity: 1,
                unit_price: s.price,
                discount,
                net,
                tax,
                rate_id,
                includes_tax: order.taxes_included,
            },
        )?);
    }
    Ok((
        ShippingPart {
            net: Decimal::ZERO,
            tax: Decimal::ZERO,
            rate_id: None,
            lines,
        },
        market,
    ))
}

fn sum_lines(lines: &[Line]) -> Result<Decimal, ConnectorError> {
    ck(ordersync_sdk::money::sum(
        lines.iter().filter_map(|l| l.total_amount.as_ref()),
    ))
}

fn date_of(t: time::OffsetDateTime) -> String {
    t.date().to_string()
}

/// The order as placed, and its refunds as credit notes. Runs `balance()` on a copy first.
pub fn plan(
    order: &Order,
    chart: &Chart,
    contact_id: &str,
    reference: &str,
    keys: Keys<'_>,
) -> Result<Plan, ConnectorError> {
    if reference.chars().count() > REFERENCE_LEN {
        return Err(perm(format!(
            "the invoice reference would be {} characters; Sage allows {REFERENCE_LEN}: shorten \
             the reference_prefix of marketplace {:?}",
            reference.chars().count(),
            order.marketplace
        )));
    }
    let mut copy = order.clone();
    copy.balance()
        .map_err(|e| perm(format!("order does not balance: {e}")))?;
    // The balanced copy carries `totals.rounding` as `balance()` measured it.
    let order = &copy;
    check_currency(order, chart)?;
    let basis = order.basis();
    let mut lines = Vec::new();
    let mut market = Decimal::ZERO;
    for l in &order.lines {
        if l.quantity == 0 && ck(l.gross())?.is_zero() {
            continue;
        }
        let discounted = ck(l.discounted())?;
        let (net, tax, mk) = net_of(basis, discounted, &l.tax_lines)?;
        market = ck(market.checked_add(mk))?;
        let (merchant, _, _) = split(&l.tax_lines)?;
        let rate_id = chart.rate_of(
            &merchant,
            order.tax_exempt,
            Some(TaxBase::line(order, net, l.quantity)),
        )?;
        lines.push(line(
            description(&l.title, &l.external_line_id),
            ledger_of(chart, l.kind)?,
            Amounts {
                quantity: l.quantity,
                unit_price: l.unit_price,
                discount: ck(l.discount())?,
                net,
                tax,
                rate_id,
                includes_tax: order.taxes_included,
            },
        )?);
    }
    for f in &order.fees {
        let (net, tax, mk) = net_of(basis, f.amount, &f.tax_lines)?;
        market = ck(market.checked_add(mk))?;
        let (merchant, _, _) = split(&f.tax_lines)?;
        let (ledger, fallback) = match f.kind {
            ordersync_sdk::FeeKind::Duty => (&chart.ledgers.fees, "Duties"),
            ordersync_sdk::FeeKind::AdditionalFee => (&chart.ledgers.fees, "Fee"),
            ordersync_sdk::FeeKind::Tip => (&chart.ledgers.tips, "Tip"),
        };
        lines.push(line(
            description(f.title.as_deref().unwrap_or(""), fallback),
            ledger,
            Amounts {
                quantity: 1,
                unit_price: f.amount,
                discount: Decimal::ZERO,
                net,
                tax,
                rate_id: chart.rate_of(
                    &merchant,
                    order.tax_exempt,
                    Some(TaxBase::charge(order, net)),
                )?,
                includes_tax: order.taxes_included,
            },
        )?);
    }
    let (ship, ship_market) = shipping_part(order, chart)?;
    market = ck(market.checked_add(ship_market))?;
    lines.extend(ship.lines);
    if !market.is_zero() {
        lines.push(untaxed(
            "Tax collected by the marketplace",
            marketplace_ledger(chart)?,
            market,
            chart,
            order,
        )?);
    }
    if !order.totals.rounding.is_zero() {
        lines.push(untaxed(
            "Rounding",
            &chart.ledgers.rounding,
            order.totals.rounding,
            chart,
            order,
        )?);
    }
    if lines.is_empty() {
        return Err(perm("the order has no lines to invoice"));
    }
    if lines.len() > MAX_LINES {
        return Err(perm(format!(
            "the invoice would have {} lines; at most {MAX_LINES} are sent to Sage",
            lines.len()
        )));
    }
    // Sage's own sum must be the order's total to the minor unit.
    let shipping_total = ck(ship.net.checked_add(ship.tax))?;
    let sage_total = ck(sum_lines(&lines)?.checked_add(shipping_total))?;
    if sage_total != order.totals.total {
        return Err(perm(format!(
            "the Sage invoice would total {sage_total} but the order totals {}",
            order.totals.total
        )));
    }
    let mut human = format!(
        "{} order {} ({})",
        order.marketplace, order.order_number, order.external_id
    );
    if let Some(m) = order.shipping_method.as_deref().filter(|m| !m.is_empty()) {
        let m: String = m.chars().take(100).collect();
        human.push_str(&format!(", shipped via {m}"));
    }
    let mut invoice = InvoiceBody {
        contact_id: contact_id.to_string(),
        date: date_of(order.created_at),
        reference: Some(reference.to_string()),
        currency_id: Some(order.currency.clone()),
        notes: Some(human.clone()),
        shipping_net_amount: ship.rate_id.as_ref().map(|_| ship.net),
        shipping_tax_rate_id: ship.rate_id.clone(),
        shipping_tax_amount: ship.rate_id.as_ref().map(|_| ship.tax),
        invoice_lines: lines,
        idempotency_id: None,
    };
    let content = serde_json::to_vec(&invoice).map_err(|_| perm("cannot serialise the invoice"))?;
    let content_tag = format!("H{}", &hex32(&[&String::from_utf8_lossy(&content)])[..12]);
    let marker = Marker {
        object_key: keys.object_key.to_string(),
        tag: content_tag.clone(),
        external_id: order.external_id.clone(),
    };
    invoice.notes = Some(format!("{human}\n{}", marker.render()));
    invoice.idempotency_id = Some(idempotency_id(keys.idempotency_key, "sales_invoice"));
    let mut credit_notes = Vec::new();
    for (i, r) in order.refunds.iter().enumerate() {
        if let Some(c) = credit_note(order, chart, &invoice, i + 1, r, keys)? {
            credit_notes.push(c);
        }
    }
    Ok(Plan {
        invoice,
        content_tag,
        credit_notes,
    })
}

/// A line of an amount without tax (marketplace tax, rounding, duties refunded).
fn untaxed(
    desc: &str,
    ledger: &str,
    amount: Decimal,
    chart: &Chart,
    order: &Order,
) -> Result<Line, ConnectorError> {
    line(
        desc.to_string(),
        ledger,
        Amounts {
            quantity: 1,
            unit_price: amount,
            discount: Decimal::ZERO,
            net: amount,
            tax: Decimal::ZERO,
            rate_id: chart.exempt_rate()?,
            includes_tax: order.taxes_included,
        },
    )
}

/// The reference of refund `n` (1-based) of an invoice.
pub fn credit_reference(invoice_reference: &str, n: usize) -> String {
    format!("{invoice_reference}-R{n}")
}

/// Refund `n` of the order as a credit note: its lines' subtotal and tax, shipping and its
/// tax, duties, adjustments (`docs/money.md` "Refunds"). `None` when it credits nothing.
fn credit_note(
    order: &Order,
    chart: &Chart,
    invoice: &InvoiceBody,
    n: usize,
    r: &Refund,
    keys: Keys<'_>,
) -> Result<Option<CreditNoteBody>, ConnectorError> {
    let basis = order.basis();
    let mut lines = Vec::new();
    // Refunded marketplace-collected tax: on its own untaxed line, as on the invoice.
    let mut market = Decimal::ZERO;
    for rl in &r.lines {
        let Some(l) = order
            .lines
            .iter()
            .find(|l| l.external_line_id == rl.line_id)
        else {
            return Err(perm(format!(
                "refund {} names line {} the order does not have",
                r.external_id, rl.line_id
            )));
        };
        let (net, _) = net_gross(basis, rl.subtotal, rl.tax).ok_or_else(|| perm("overflow"))?;
        let (mine, theirs) = refund_split(&l.tax_lines, rl.tax)?;
        market = ck(market.checked_add(theirs))?;
        let (merchant, _, _) = split(&l.tax_lines)?;
        let (line_net, _, _) = net_of(basis, ck(l.discounted())?, &l.tax_lines)?;
        let qty = rl.quantity.max(1);
        let unit = rl
            .subtotal
            .checked_div(Decimal::from(qty))
            .unwrap_or(rl.subtotal);
        lines.push(line(
            description(&l.title, &l.external_line_id),
            ledger_of(chart, l.kind)?,
            Amounts {
                quantity: qty,
                unit_price: unit.round_dp(ordersync_sdk::money::minor_units(&order.currency)),
                discount: Decimal::ZERO,
                net,
                tax: mine,
                rate_id: chart.rate_of(
                    &merchant,
                    order.tax_exempt,
                    Some(TaxBase::line(order, line_net, l.quantity)),
                )?,
                includes_tax: order.taxes_included,
            },
        )?);
    }
    let mut ship_net = None;
    let mut ship_tax = None;
    let mut ship_rate = None;
    if !r.shipping.is_zero() || !r.shipping_tax.is_zero() {
        let (net, _) =
            net_gross(basis, r.shipping, r.shipping_tax).ok_or_else(|| perm("overflow"))?;
        // The refund says one tax amount: the first taxed shipping line says whose it is.
        let first = order
            .shipping_lines
            .iter()
            .find(|s| s.tax_lines.iter().any(|t| !t.amount.is_zero()));
        let (mine, theirs) = refund_split(first.map_or(&[][..], |s| &s.tax_lines), r.shipping_tax)?;
        market = ck(market.checked_add(theirs))?;
        match &invoice.shipping_tax_rate_id {
            Some(rate) => {
                ship_net = Some(net);
                ship_tax = Some(mine);
                ship_rate = Some(rate.clone());
            }
            None => {
                // The invoice had shipping lines at several rates: booked at the rate of the
                // first taxed shipping line.
                let merchant: Vec<&TaxLine> = first
                    .map(|s| {
                        s.tax_lines
                            .iter()
                            .filter(|t| t.collector == Collector::Merchant)
                            .collect()
                    })
                    .unwrap_or_default();
                let on = match first {
                    Some(s) => Some(TaxBase::charge(
                        order,
                        net_of(basis, ck(s.discounted())?, &s.tax_lines)?.0,
                    )),
                    None => None,
                };
                let rate_id = chart.rate_of(&merchant, order.tax_exempt, on)?;
                lines.push(line(
                    "Shipping refunded".into(),
                    &chart.ledgers.shipping,
                    Amounts {
                        quantity: 1,
                        unit_price: r.shipping,
                        discount: Decimal::ZERO,
                        net,
                        tax: mine,
                        rate_id,
                        includes_tax: order.taxes_included,
                    },
                )?);
            }
        }
    }
    if !r.duties.is_zero() {
        lines.push(untaxed(
            "Duties refunded",
            &chart.ledgers.fees,
            r.duties,
            chart,
            order,
        )?);
    }
    for a in &r.adjustments {
        if a.amount.is_zero() && a.tax.is_zero() {
            continue;
        }
        let (net, _) = net_gross(basis, a.amount, a.tax).ok_or_else(|| perm("overflow"))?;
        // An adjustment's tax has no rate of its own: the first taxed goods line's rate
        // (and collector).
        let first = order
            .lines
            .iter()
            .find(|l| l.tax_lines.iter().any(|t| !t.amount.is_zero()));
        let (mine, theirs) = refund_split(first.map_or(&[][..], |l| &l.tax_lines), a.tax)?;
        market = ck(market.checked_add(theirs))?;
        let rate_id = if mine.is_zero() {
            chart.exempt_rate()?
        } else {
            let merchant: Vec<&TaxLine> = first
                .map(|l| {
                    l.tax_lines
                        .iter()
                        .filter(|t| t.collector == Collector::Merchant)
                        .collect()
                })
                .unwrap_or_default();
            let on = match first {
                Some(l) => Some(TaxBase::line(
                    order,
                    net_of(basis, ck(l.discounted())?, &l.tax_lines)?.0,
                    l.quantity,
                )),
                None => None,
            };
            chart.rate_of(&merchant, order.tax_exempt, on)?
        };
        lines.push(line(
            "Refund adjustment".into(),
            &chart.ledgers.sales,
            Amounts {
                quantity: 1,
                unit_price: a.amount,
                discount: Decimal::ZERO,
                net,
                tax: mine,
                rate_id,
                includes_tax: order.taxes_included,
            },
        )?);
    }
    if !market.is_zero() {
        lines.push(untaxed(
            "Tax collected by the marketplace refunded",
            marketplace_ledger(chart)?,
            market,
            chart,
            order,
        )?);
    }
    if lines.is_empty() && ship_rate.is_none() {
        return Ok(None);
    }
    // Sage requires at least one credit note line: a refund of shipping alone is one line
    // on the shipping ledger account instead of the shipping fields.
    if lines.is_empty()
        && let (Some(net), Some(tax), Some(rate_id)) =
            (ship_net.take(), ship_tax.take(), ship_rate.take())
    {
        let gross = if order.taxes_included {
            ck(net.checked_add(tax))?
        } else {
            net
        };
        lines.push(line(
            "Shipping refunded".into(),
            &chart.ledgers.shipping,
            Amounts {
                quantity: 1,
                unit_price: gross,
                discount: Decimal::ZERO,
                net,
                tax,
                rate_id,
                includes_tax: order.taxes_included,
            },
        )?);
    }
    if lines.len() > MAX_LINES {
        return Err(perm(format!(
            "a credit note would have {} lines; at most {MAX_LINES} are sent to Sage",
            lines.len()
        )));
    }
    let invoice_ref = invoice.reference.as_deref().unwrap_or("");
    let reference = credit_reference(invoice_ref, n);
    if reference.chars().count() > REFERENCE_LEN {
        return Err(perm(format!(
            "credit note reference {reference} is longer than Sage's {REFERENCE_LEN} \
             characters: shorten the reference_prefix of marketplace {:?}",
            order.marketplace
        )));
    }
    let marker = Marker {
        object_key: keys.object_key.to_string(),
        tag: format!("R{n}"),
        external_id: order.external_id.clone(),
    };
    Ok(Some(CreditNoteBody {
        contact_id: invoice.contact_id.clone(),
        date: date_of(r.created_at),
        original_invoice_date: Some(invoice.date.clone()),
        reference: Some(reference),
        currency_id: invoice.currency_id.clone(),
        notes: Some(format!(
            "Refund {} of {} order {}\n{}",
            r.external_id,
            order.marketplace,
            order.order_number,
            marker.render()
        )),
        shipping_net_amount: ship_net,
        shipping_tax_rate_id: ship_rate,
        shipping_tax_amount: ship_tax,
        credit_note_lines: lines,
        // Stable across order versions: the refund is the same refund.
        idempotency_id: Some(hex32(&[
            keys.object_key,
            "sales_credit_note",
            &r.external_id,
        ])),
    }))
}

/// Sage's sum of an artefact: Σ line totals + shipping net + shipping tax.
pub fn artefact_total(
    lines: &[Line],
    ship_net: Option<Decimal>,
    ship_tax: Option<Decimal>,
) -> Option<Decimal> {
    let mut t = ordersync_sdk::money::sum(lines.iter().filter_map(|l| l.total_amount.as_ref()))?;
    t = t.checked_add(ship_net.unwrap_or_default())?;
    t.checked_add(ship_tax.unwrap_or_default())
}
