//! Builds an order's money bottom-up, the way Shopify does: unit prices × quantities → line
//! discount allocations (line-level first, then an order-level code spread across the lines
//! pro rata) → tax lines per line after discounts, rounded per tax line → shipping lines
//! (their discounts and taxes) → fees and duties → refunds and edits. Totals are only ever
//! summed from these parts (`order.rs`), never solved from a formula.

use super::money::{BP_ONE, mul_div_round, round_to, spread, tax_of, unit_share};
use super::order::{
    Alloc, Allocation, DiscountKind, DiscountValue, Financial, Fulfillment, LineKind, Profile,
    RestockType, SimDiscount, SimFee, SimLine, SimOrder, SimRefund, SimRefundLine, SimShipping,
    TargetSelection, Tax,
};
use ordersync_sdk::sim::FakeBuyer;

#[derive(Debug, Clone)]
pub struct LineSpec {
    pub title: &'static str,
    pub kind: LineKind,
    pub quantity: u32,
    /// Minor units, in the basis.
    pub unit: i64,
    pub taxable: bool,
    /// Added by an edit after payment: no checkout discount reaches it.
    pub added: bool,
    pub product_id: Option<u64>,
}

/// A line-level discount: a percentage of each entitled line (allocated `ACROSS` them) or a
/// fixed amount (`ONE`, explicitly on the first of them).
#[derive(Debug, Clone)]
pub struct LineDiscountSpec {
    pub lines: Vec<usize>,
    pub kind: DiscountKind,
    pub label: &'static str,
    pub value: DiscountValue,
}

/// An order-level code spread across every eligible line.
#[derive(Debug, Clone)]
pub struct CodeSpec {
    pub code: &'static str,
    pub value: DiscountValue,
}

#[derive(Debug, Clone)]
pub struct ShipSpec {
    pub title: &'static str,
    pub code: &'static str,
    pub price: i64,
}

#[derive(Debug, Clone)]
pub struct FeeSpec {
    pub name: &'static str,
    pub amount: i64,
    pub taxed: bool,
}

/// What happened after checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    Nothing,
    Pending,
    Authorized,
    /// `units` of line `line` refunded, and the first shipping line with them if `shipping`.
    PartialRefund {
        line: usize,
        units: u32,
        restock: RestockType,
        shipping: bool,
    },
    /// Every unit, shipping and duties refunded; the order stays open.
    FullRefund,
    /// Cancelled after payment: a refund with every line and all shipping.
    CancelRefund,
    /// Cancelled before payment: the authorization voided, nothing refunded.
    CancelVoid,
    /// One unit of `line` removed by an edit after payment (no refund).
    RemoveUnit {
        line: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub case: &'static str,
    pub profile: Profile,
    pub exempt: bool,
    pub lines: Vec<LineSpec>,
    pub line_discounts: Vec<LineDiscountSpec>,
    pub code: Option<CodeSpec>,
    /// A free-shipping code: 100 % of every shipping line.
    pub free_shipping: Option<&'static str>,
    pub shipping: Vec<ShipSpec>,
    pub fees: Vec<FeeSpec>,
    /// Duties as basis points of the goods after discounts (0: none).
    pub duties_bp: i64,
    /// Taxes remitted by a marketplace (`channelLiable: true`).
    pub channel_liable: bool,
    pub after: After,
}

/// Where an order's object ids come from: lines are `lines_from + j`, the rest are derived
/// from the order's sequence number (each range is apart, every id beyond 2^53).
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    pub seq: u64,
    pub lines_from: u64,
}

const SHIP_IDS: u64 = 200_000_000_000_000_000;
const REFUND_IDS: u64 = 300_000_000_000_000_000;
const REFUND_LINE_IDS: u64 = 400_000_000_000_000_000;
const FEE_IDS: u64 = 500_000_000_000_000_000;
/// Line ids of seeded orders: `LINE_IDS + seq × 1000 + j`.
pub const LINE_IDS: u64 = 100_000_000_000_000_000;

impl Ids {
    pub fn seeded(seq: u64) -> Self {
        Self {
            seq,
            lines_from: LINE_IDS.saturating_add(seq.saturating_mul(1_000)),
        }
    }
    fn ship(&self, k: usize) -> u64 {
        SHIP_IDS + self.seq.saturating_mul(100) + k as u64
    }
    fn refund(&self, k: usize) -> u64 {
        REFUND_IDS + self.seq.saturating_mul(100) + k as u64
    }
    fn refund_line(&self, k: usize) -> u64 {
        REFUND_LINE_IDS + self.seq.saturating_mul(1_000) + k as u64
    }
    fn fee(&self, k: usize) -> u64 {
        FEE_IDS + self.seq.saturating_mul(100) + k as u64
    }
}

/// The order's identity and timestamps, decided by the store.
pub struct Meta {
    pub id: u64,
    pub number: u64,
    pub created: i64,
    pub updated: i64,
    pub fulfillment: Fulfillment,
    /// Closed (archived) at `updated`.
    pub closed: bool,
    pub buyer: FakeBuyer,
    pub note: Option<String>,
}

/// The tax lines of `amount` (after discounts) at the profile's rates.
fn taxes(p: &Profile, amount: i64, channel_liable: bool) -> Vec<Tax> {
    let sum: i64 = p.rates.iter().map(|r| r.rate).sum();
    p.rates
        .iter()
        .map(|r| Tax {
            title: r.title,
            rate: r.rate,
            amount: tax_of(amount, r.rate, sum, p.taxes_included),
            channel_liable: channel_liable.then_some(true),
        })
        .collect()
}

fn value_of(v: DiscountValue, base: i64) -> i64 {
    match v {
        DiscountValue::Percentage(bp) => mul_div_round(base, bp, BP_ONE),
        DiscountValue::Fixed(a) => a.min(base),
    }
    .max(0)
}

/// Takes `k` more units of a line: their share of the discounted line and of its tax, by
/// cumulative unit share (the last unit gets the remainder).
fn take(l: &mut SimLine, k: u32) -> (i64, i64) {
    let (q, before) = (l.quantity, l.taken.units);
    let after = (before + k).min(q);
    let sub = unit_share(l.discounted(), after, q) - unit_share(l.discounted(), before, q);
    let tax = unit_share(l.tax(), after, q) - unit_share(l.tax(), before, q);
    l.taken.units = after;
    l.taken.subtotal += sub;
    l.taken.tax += tax;
    (sub, tax)
}

pub fn build(spec: &Spec, ids: Ids, meta: Meta) -> SimOrder {
    let p = spec.profile;
    let mut lines: Vec<SimLine> = spec
        .lines
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let id = ids.lines_from.saturating_add(j as u64);
            let goods = matches!(s.kind, LineKind::Product | LineKind::Custom);
            SimLine {
                id,
                sku: match s.kind {
                    LineKind::Product => Some(format!("SKU-{}", id % 9973)),
                    LineKind::GiftCard => Some("GIFT-CARD".to_string()),
                    LineKind::Custom | LineKind::Tip => None,
                },
                title: s.title,
                kind: s.kind,
                product_id: match s.kind {
                    LineKind::Product | LineKind::GiftCard => s.product_id,
                    LineKind::Custom | LineKind::Tip => None,
                },
                quantity: s.quantity.max(1),
                unit: s.unit.max(0),
                requires_shipping: goods,
                taxable: goods && s.taxable,
                discounts: Vec::new(),
                taxes: Vec::new(),
                refunded: 0,
                removed: 0,
                taken: Default::default(),
            }
        })
        .collect();

    // Discounts: line-level first, then the order-level code over what is left.
    let mut discounts = Vec::new();
    for d in &spec.line_discounts {
        let index = discounts.len() as u32;
        let (allocation, selection) = match d.value {
            DiscountValue::Percentage(_) => (Allocation::Across, TargetSelection::Entitled),
            DiscountValue::Fixed(_) => (Allocation::One, TargetSelection::Explicit),
        };
        discounts.push(SimDiscount {
            index,
            kind: d.kind,
            label: d.label,
            shipping: false,
            value: d.value,
            allocation,
            selection,
        });
        let targets = match d.value {
            DiscountValue::Percentage(_) => &d.lines[..],
            DiscountValue::Fixed(_) => &d.lines[..d.lines.len().min(1)],
        };
        for j in targets {
            let Some(l) = lines.get_mut(*j) else {
                continue;
            };
            let amount = value_of(d.value, l.discounted());
            if amount > 0 {
                l.discounts.push(Alloc { app: index, amount });
            }
        }
    }
    if let Some(c) = &spec.code {
        let index = discounts.len() as u32;
        discounts.push(SimDiscount {
            index,
            kind: DiscountKind::Code,
            label: c.code,
            shipping: false,
            value: c.value,
            allocation: Allocation::Across,
            selection: TargetSelection::All,
        });
        let eligible = |l: &SimLine, s: &LineSpec| {
            matches!(l.kind, LineKind::Product | LineKind::Custom) && !s.added
        };
        let weights: Vec<i64> = lines
            .iter()
            .zip(&spec.lines)
            .map(|(l, s)| if eligible(l, s) { l.discounted() } else { 0 })
            .collect();
        let amount = value_of(c.value, weights.iter().sum());
        for (l, share) in lines.iter_mut().zip(spread(amount, &weights)) {
            if share > 0 {
                l.discounts.push(Alloc {
                    app: index,
                    amount: share,
                });
            }
        }
    }
    let mut shipping: Vec<SimShipping> = spec
        .shipping
        .iter()
        .enumerate()
        .map(|(k, s)| SimShipping {
            id: ids.ship(k),
            title: s.title,
            code: s.code,
            price: s.price.max(0),
            discounts: Vec::new(),
            taxes: Vec::new(),
            refunded: 0,
            refunded_tax: 0,
        })
        .collect();
    if let Some(code) = spec.free_shipping {
        let index = discounts.len() as u32;
        discounts.push(SimDiscount {
            index,
            kind: DiscountKind::Code,
            label: code,
            shipping: true,
            value: DiscountValue::Percentage(BP_ONE),
            allocation: Allocation::Each,
            selection: TargetSelection::All,
        });
        for s in shipping.iter_mut().filter(|s| s.price > 0) {
            s.discounts.push(Alloc {
                app: index,
                amount: s.price,
            });
        }
    }

    // Taxes, after discounts, per tax line.
    if !spec.exempt {
        for l in lines.iter_mut().filter(|l| l.taxable) {
            l.taxes = taxes(&p, l.discounted(), spec.channel_liable);
        }
        if p.ship_taxed {
            for s in shipping.iter_mut().filter(|s| s.discounted() > 0) {
                s.taxes = taxes(&p, s.discounted(), spec.channel_liable);
            }
        }
    }
    let fees: Vec<SimFee> = spec
        .fees
        .iter()
        .enumerate()
        .map(|(k, f)| SimFee {
            id: ids.fee(k),
            name: f.name,
            amount: f.amount.max(0),
            taxes: if f.taxed && !spec.exempt {
                taxes(&p, f.amount.max(0), spec.channel_liable)
            } else {
                Vec::new()
            },
        })
        .collect();
    let goods: i64 = lines
        .iter()
        .filter(|l| matches!(l.kind, LineKind::Product | LineKind::Custom))
        .map(SimLine::discounted)
        .sum();
    let duties = mul_div_round(goods, spec.duties_bp.max(0), BP_ONE);

    let added = spec.lines.iter().any(|l| l.added);
    let paid = if added {
        Financial::PartiallyPaid
    } else {
        Financial::Paid
    };
    let mut o = SimOrder {
        id: meta.id,
        number: meta.number,
        created: meta.created,
        updated: meta.updated,
        cancelled: None,
        closed: meta.closed.then_some(meta.updated),
        fulfillment: meta.fulfillment,
        parcels: Vec::new(),
        money: p,
        tax_exempt: spec.exempt,
        financial: paid,
        lines,
        shipping,
        fees,
        duties,
        duties_refunded: 0,
        discounts,
        refunds: Vec::new(),
        case: spec.case,
        buyer: meta.buyer,
        note: meta.note,
        poison: None,
    };
    after(&mut o, &spec.after, ids);
    // Shipped between placing and the last update.
    let shipped = o.created + (o.updated - o.created) / 2;
    super::parcels::sync(&mut o, shipped);
    o
}

/// Applies what happened after checkout: refunds take units by unit share, edits remove
/// them, cancellations take everything.
fn after(o: &mut SimOrder, a: &After, ids: Ids) {
    match a {
        After::Nothing => {}
        After::Pending => o.financial = Financial::Pending,
        After::Authorized => o.financial = Financial::Authorized,
        After::PartialRefund {
            line,
            units,
            restock,
            shipping,
        } => {
            let mut r = refund_of(o, ids, 0);
            if let Some(l) = o.lines.get_mut(*line) {
                let k = (*units).min(l.current_quantity());
                if k > 0 {
                    let (subtotal, tax) = take(l, k);
                    l.refunded += k;
                    r.lines.push(SimRefundLine {
                        id: ids.refund_line(0),
                        line: *line,
                        quantity: k,
                        restock: *restock,
                        subtotal,
                        tax,
                    });
                }
            }
            if *shipping && let Some(s) = o.shipping.first_mut() {
                r.shipping = s.discounted() - s.refunded;
                r.shipping_tax = s.tax() - s.refunded_tax;
                s.refunded += r.shipping;
                s.refunded_tax += r.shipping_tax;
            }
            finish_refund(o, r);
            o.financial = Financial::PartiallyRefunded;
        }
        After::FullRefund | After::CancelRefund => {
            let cancel = *a == After::CancelRefund;
            let mut r = refund_of(o, ids, 0);
            for (j, l) in o.lines.iter_mut().enumerate() {
                let k = l.current_quantity();
                if k == 0 {
                    continue;
                }
                let (subtotal, tax) = take(l, k);
                l.refunded += k;
                let restock = match (cancel, l.kind) {
                    (true, _) => RestockType::Cancel,
                    (false, LineKind::Product) => RestockType::Return,
                    (false, _) => RestockType::NoRestock,
                };
                r.lines.push(SimRefundLine {
                    id: ids.refund_line(r.lines.len()),
                    line: j,
                    quantity: k,
                    restock,
                    subtotal,
                    tax,
                });
            }
            for s in &mut o.shipping {
                let (amount, tax) = (s.discounted() - s.refunded, s.tax() - s.refunded_tax);
                r.shipping += amount;
                r.shipping_tax += tax;
                s.refunded += amount;
                s.refunded_tax += tax;
            }
            r.duties = o.duties - o.duties_refunded;
            o.duties_refunded = o.duties;
            finish_refund(o, r);
            o.financial = Financial::Refunded;
            if cancel {
                o.cancelled = Some(o.updated);
                o.closed = Some(o.updated);
                o.fulfillment = Fulfillment::Unfulfilled;
            }
        }
        After::CancelVoid => {
            for l in &mut o.lines {
                let k = l.current_quantity();
                take(l, k);
                l.removed += k;
            }
            o.financial = Financial::Voided;
            o.cancelled = Some(o.updated);
            o.closed = Some(o.updated);
            o.fulfillment = Fulfillment::Unfulfilled;
        }
        After::RemoveUnit { line } => {
            if let Some(l) = o.lines.get_mut(*line)
                && l.current_quantity() > 0
            {
                take(l, 1);
                l.removed += 1;
            }
        }
    }
}

fn refund_of(o: &SimOrder, ids: Ids, k: usize) -> SimRefund {
    SimRefund {
        id: ids.refund(k),
        created: o.updated,
        lines: Vec::new(),
        shipping: 0,
        shipping_tax: 0,
        duties: 0,
        total: 0,
        rounding: 0,
    }
}

/// Totals a refund from its parts (what goes back across its transactions) and its cash
/// rounding, and books it.
fn finish_refund(o: &mut SimOrder, mut r: SimRefund) {
    let sub: i64 = r.lines.iter().map(|l| l.subtotal).sum();
    let tax: i64 = r.lines.iter().map(|l| l.tax).sum::<i64>() + r.shipping_tax;
    r.total = sub + r.shipping + r.duties + if o.included() { 0 } else { tax };
    if let Some(step) = o.money.cash_step {
        r.rounding = round_to(r.total, step) - r.total;
    }
    o.refunds.push(r);
}
