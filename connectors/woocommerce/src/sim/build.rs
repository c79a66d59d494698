//! Builds an order the way WooCommerce does at checkout (`WC_Discounts`, `WC_Cart_Totals`,
//! `WC_Abstract_Order::calculate_totals`), bottom-up, in cents with micros:
//!
//! 1. coupons take whole cents off the prices as entered (with tax in inclusive stores):
//!    percent coupons `floor` per line, then the remainder a cent per unit; fixed-cart
//!    coupons an equal share per unit, repeated for what is left; fixed-product coupons their
//!    amount per unit;
//! 2. each line's taxes are computed on its price before and after discounts, kept to micros,
//!    and rounded per line unless the store rounds at subtotal; in inclusive stores the net
//!    line amounts are the price less the *unrounded* taxes;
//! 3. shipping costs and fees are net; their taxes are added on top; a negative fee is taxed
//!    per tax class, each class's share of it at that class's rates;
//! 4. order totals: `total = Σ round(line totals) + fees + shipping + round(cart tax) +
//!    round(shipping tax)`, `discount_total = Σ round(subtotals) − Σ round(totals)`.
//!
//! Refunds are then taken the way the admin screen fills them: a line's share of its rounded
//! total and taxes per refunded unit, shipping in full, or an amount alone.

use super::money::{micros, mul_div, to_minor};
use super::order::{
    Coupon, CouponKind, Fee, Line, Poison, Refund, RefundItem, Shipping, SimOrder, Status, Tax,
    TaxLine, Totals,
};
use super::profiles::Profile;
use super::tax::{Rate, calc, round_line};
use ordersync_sdk::sim::FakeBuyer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Standard,
    Reduced,
    Zero,
}

#[derive(Debug, Clone)]
pub struct LineSpec {
    pub name: String,
    pub product_id: u64,
    pub sku: String,
    pub qty: u32,
    /// One unit as entered (with tax in inclusive stores), minor units.
    pub price: i64,
    pub class: Class,
}

#[derive(Debug, Clone, Copy)]
pub struct CouponSpec {
    pub code: &'static str,
    pub kind: CouponKind,
    pub free_shipping: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct ShipSpec {
    pub title: &'static str,
    pub method_id: &'static str,
    pub cost: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct FeeSpec {
    pub name: &'static str,
    /// Net, negative for a discount fee.
    pub amount: i64,
    pub taxable: bool,
}

/// What happened after checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Nothing,
    /// `units` of line `line` refunded, and the first shipping line if `shipping`.
    PartialRefund {
        line: usize,
        units: u32,
        shipping: bool,
    },
    /// Every line, shipping line and fee refunded item by item (status `refunded`).
    FullRefund,
    /// The whole amount refunded without items (status `refunded`).
    AmountRefund,
    /// A goodwill refund of this many minor units, without items.
    Goodwill(i64),
    /// The first shipping line refunded.
    ShippingRefund,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub profile: &'static Profile,
    pub lines: Vec<LineSpec>,
    pub coupons: Vec<CouponSpec>,
    pub shipping: Vec<ShipSpec>,
    pub fees: Vec<FeeSpec>,
    pub status: Status,
    pub after: After,
}

/// Ids and times of one order.
pub struct Meta {
    pub id: u64,
    /// Order item ids start here (WooCommerce numbers items across the store).
    pub first_item: u64,
    pub created: i64,
    pub updated: i64,
    pub buyer: FakeBuyer,
    pub note: Option<String>,
    pub poison: Option<Poison>,
}

fn rates(p: &Profile, class: Class) -> &'static [Rate] {
    match class {
        Class::Standard => p.standard,
        Class::Reduced => {
            if p.reduced.is_empty() {
                p.standard
            } else {
                p.reduced
            }
        }
        Class::Zero => &[],
    }
}

fn taxes(amount: i128, rates: &[Rate], inclusive: bool) -> Vec<Tax> {
    calc(amount, rates, inclusive)
        .into_iter()
        .zip(rates)
        .map(|(amount, rate)| Tax {
            rate: *rate,
            amount,
        })
        .collect()
}

fn rounded_sum(t: &[Tax], at_subtotal: bool) -> i128 {
    t.iter().map(|x| round_line(x.amount, at_subtotal)).sum()
}

/// `WC_Discounts`: each coupon's cents off each line (prices as entered).
fn discounts(prices: &[i64], qty: &[u32], coupons: &[CouponSpec]) -> Vec<Vec<i64>> {
    let n = prices.len();
    let mut taken = vec![vec![0i64; n]; coupons.len()];
    let left =
        |taken: &Vec<Vec<i64>>, j: usize| prices[j] - taken.iter().map(|c| c[j]).sum::<i64>();
    for (k, c) in coupons.iter().enumerate() {
        match c.kind {
            CouponKind::Percent(p) => {
                let mut total = 0;
                for j in 0..n {
                    let d = (i128::from(prices[j]) * i128::from(p) / 10_000) as i64;
                    let d = d.min(left(&taken, j)).max(0);
                    taken[k][j] += d;
                    total += d;
                }
                // WC_DISCOUNT_ROUNDING_MODE is half down.
                let cart = prices.iter().sum::<i64>();
                let want = {
                    let x = i128::from(cart) * i128::from(p);
                    let (q, r) = (x / 10_000, x % 10_000);
                    (if r > 5_000 { q + 1 } else { q }) as i64
                };
                remainder(&mut taken, k, qty, prices, want - total);
            }
            CouponKind::FixedProduct(a) => {
                for j in 0..n {
                    let d = (a * i64::from(qty[j])).min(left(&taken, j)).max(0);
                    taken[k][j] += d;
                }
            }
            CouponKind::FixedCart(a) => {
                let units: i64 = qty.iter().map(|q| i64::from(*q)).sum();
                let mut amount = a;
                for _ in 0..16 {
                    if amount <= 0 || units == 0 {
                        break;
                    }
                    let per = amount / units;
                    if per == 0 {
                        remainder(&mut taken, k, qty, prices, amount);
                        break;
                    }
                    let mut got = 0;
                    for j in 0..n {
                        let d = (per * i64::from(qty[j])).min(left(&taken, j)).max(0);
                        taken[k][j] += d;
                        got += d;
                    }
                    if got == 0 {
                        break;
                    }
                    amount -= got;
                }
            }
        }
    }
    taken
}

/// `apply_coupon_remainder`: a cent per unit, lines in order, while price is left.
fn remainder(taken: &mut [Vec<i64>], k: usize, qty: &[u32], prices: &[i64], mut amount: i64) {
    for j in 0..prices.len() {
        for _ in 0..qty[j] {
            if amount <= 0 {
                return;
            }
            let left = prices[j] - taken.iter().map(|c| c[j]).sum::<i64>();
            if left >= 1 {
                taken[k][j] += 1;
                amount -= 1;
            }
        }
    }
}

pub fn build(spec: &Spec, meta: Meta) -> SimOrder {
    let p = spec.profile;
    let inc = p.inclusive;
    let at_sub = p.at_subtotal;
    let mut next_item = meta.first_item;
    let mut item_id = || {
        let id = next_item;
        next_item += 1;
        id
    };
    let prices: Vec<i64> = spec
        .lines
        .iter()
        .map(|l| l.price * i64::from(l.qty))
        .collect();
    let qty: Vec<u32> = spec.lines.iter().map(|l| l.qty).collect();
    let taken = discounts(&prices, &qty, &spec.coupons);

    let mut lines = Vec::with_capacity(spec.lines.len());
    for (j, l) in spec.lines.iter().enumerate() {
        let r = rates(p, l.class);
        let gross = micros(prices[j]);
        let after = micros(prices[j] - taken.iter().map(|c| c[j]).sum::<i64>());
        let subtotal_taxes = taxes(gross, r, inc);
        let line_taxes = taxes(after, r, inc);
        let raw_sum = |t: &[Tax]| t.iter().map(|x| x.amount).sum::<i128>();
        let (subtotal, total) = if inc {
            (
                gross - raw_sum(&subtotal_taxes),
                after - raw_sum(&line_taxes),
            )
        } else {
            (gross, after)
        };
        lines.push(Line {
            id: item_id(),
            name: l.name.clone(),
            product_id: l.product_id,
            variation_id: 0,
            sku: l.sku.clone(),
            qty: l.qty,
            tax_class: match l.class {
                Class::Standard => "",
                Class::Reduced => "reduced-rate",
                Class::Zero => "zero-rate",
            },
            subtotal,
            total,
            subtotal_tax: rounded_sum(&subtotal_taxes, at_sub),
            total_tax: rounded_sum(&line_taxes, at_sub),
            subtotal_taxes,
            taxes: line_taxes,
        });
    }

    let ship_rates: Vec<Rate> = p.standard.iter().copied().filter(|r| r.shipping).collect();
    let mut shipping = Vec::with_capacity(spec.shipping.len());
    for s in &spec.shipping {
        let t = taxes(micros(s.cost), &ship_rates, false);
        shipping.push(Shipping {
            id: item_id(),
            title: s.title,
            method_id: s.method_id,
            cost: s.cost,
            total_tax: rounded_sum(&t, at_sub),
            taxes: t,
        });
    }

    // Costs by tax class, for the tax of negative fees (`get_tax_class_costs`): lines under
    // their class, taxed shipping and taxable fees under the standard class (the rates they
    // are taxed at here), the rest non-taxable; negative items count for nothing.
    let mut class_cost = [
        (Class::Standard, 0i128),
        (Class::Reduced, 0),
        (Class::Zero, 0),
    ];
    let mut add = |class: Class, cost: i128| {
        if let Some(c) = class_cost.iter_mut().find(|(k, _)| *k == class) {
            c.1 += cost.max(0);
        }
    };
    for (l, spec_line) in lines.iter().zip(&spec.lines) {
        add(spec_line.class, l.total);
    }
    let mut untaxed_cost: i128 = 0;
    for s in &shipping {
        if s.taxes.is_empty() {
            untaxed_cost += micros(s.cost).max(0);
        } else {
            add(Class::Standard, micros(s.cost));
        }
    }
    for f in spec.fees.iter().filter(|f| f.amount > 0) {
        if f.taxable {
            add(Class::Standard, micros(f.amount));
        } else {
            untaxed_cost += micros(f.amount);
        }
    }
    let all_cost = class_cost.iter().map(|c| c.1).sum::<i128>() + untaxed_cost;
    let mut fees = Vec::with_capacity(spec.fees.len());
    for f in &spec.fees {
        let t = if f.amount < 0 {
            // Each class's share of the discount at that class's rates, merged by rate.
            let mut t: Vec<Tax> = vec![];
            for (class, cost) in class_cost.iter().filter(|c| c.1 > 0 && all_cost > 0) {
                let share = mul_div(micros(f.amount), *cost, all_cost);
                for x in taxes(share, rates(p, *class), false) {
                    match t.iter_mut().find(|y| y.rate.id == x.rate.id) {
                        Some(y) => y.amount += x.amount,
                        None => t.push(x),
                    }
                }
            }
            t
        } else if f.taxable {
            taxes(micros(f.amount), p.standard, false)
        } else {
            vec![]
        };
        fees.push(Fee {
            id: item_id(),
            name: f.name,
            taxable: f.taxable || f.amount < 0,
            total: f.amount,
            total_tax: rounded_sum(&t, at_sub),
            taxes: t,
        });
    }

    // Coupons: what each took, without tax, and its tax.
    let mut coupons = Vec::with_capacity(spec.coupons.len());
    for (k, c) in spec.coupons.iter().enumerate() {
        let (mut net, mut tax) = (0i128, 0i128);
        for (j, l) in spec.lines.iter().enumerate() {
            let d = micros(taken[k][j]);
            let t: i128 = calc(d, rates(p, l.class), inc).iter().sum();
            if inc {
                net += d - t;
            } else {
                net += d;
            }
            tax += t;
        }
        coupons.push(Coupon {
            id: item_id(),
            code: c.code,
            kind: c.kind,
            free_shipping: c.free_shipping,
            discount: net,
            discount_tax: tax,
        });
    }

    // Order tax lines: per rate, the rounded-per-line taxes of lines and fees, and of
    // shipping.
    let mut tax_lines: Vec<TaxLine> = Vec::new();
    let add_tax = |rate: Rate, amount: i128, ship: bool, tax_lines: &mut Vec<TaxLine>| {
        let i = match tax_lines.iter().position(|t| t.rate.id == rate.id) {
            Some(i) => i,
            None => {
                tax_lines.push(TaxLine {
                    id: 0,
                    rate,
                    tax_total: 0,
                    shipping_tax_total: 0,
                });
                tax_lines.len() - 1
            }
        };
        let a = round_line(amount, at_sub);
        if ship {
            tax_lines[i].shipping_tax_total += a;
        } else {
            tax_lines[i].tax_total += a;
        }
    };
    for t in lines
        .iter()
        .flat_map(|l| &l.taxes)
        .chain(fees.iter().flat_map(|f| &f.taxes))
    {
        add_tax(t.rate, t.amount, false, &mut tax_lines);
    }
    for t in shipping.iter().flat_map(|s| &s.taxes) {
        add_tax(t.rate, t.amount, true, &mut tax_lines);
    }
    for t in &mut tax_lines {
        t.id = item_id();
    }

    let cart_subtotal: i64 = lines.iter().map(|l| to_minor(l.subtotal)).sum();
    let cart_total: i64 = lines.iter().map(|l| to_minor(l.total)).sum();
    let shipping_total: i64 = shipping.iter().map(|s| s.cost).sum();
    let fees_total: i64 = fees.iter().map(|f| f.total).sum();
    let cart_tax = to_minor(tax_lines.iter().map(|t| t.tax_total).sum());
    let shipping_tax = to_minor(tax_lines.iter().map(|t| t.shipping_tax_total).sum());
    let raw =
        |f: fn(&Line) -> &Vec<Tax>| -> i128 { lines.iter().flat_map(&f).map(|t| t.amount).sum() };
    let totals = Totals {
        discount_total: cart_subtotal - cart_total,
        discount_tax: to_minor(raw(|l| &l.subtotal_taxes) - raw(|l| &l.taxes)),
        shipping_total,
        shipping_tax,
        cart_tax,
        total: cart_total + fees_total + shipping_total + cart_tax + shipping_tax,
        total_tax: cart_tax + shipping_tax,
    };

    let paid = spec
        .status
        .paid()
        .then(|| (meta.created + 60).min(meta.updated));
    let mut o = SimOrder {
        id: meta.id,
        profile: p,
        status: spec.status,
        created: meta.created,
        updated: meta.updated,
        paid,
        completed: (spec.status == Status::Completed).then_some(meta.updated),
        lines,
        shipping,
        fees,
        coupons,
        tax_lines,
        totals,
        refunds: vec![],
        buyer: meta.buyer,
        note: meta.note,
        payment_method: if paid.is_some() {
            ("stripe", "Credit Card (Stripe)")
        } else {
            ("bacs", "Direct bank transfer")
        },
        poison: meta.poison,
        edits: 0,
    };
    let refund_at = (meta.created + 120).min(meta.updated);
    let refund = refund_of(&o, spec.after, item_id(), refund_at, &mut item_id);
    if let Some(r) = refund {
        o.refunds.push(r);
        if matches!(spec.after, After::FullRefund | After::AmountRefund) {
            o.status = Status::Refunded;
        }
    }
    o
}

/// A line's refund of `units`: its share of the line's rounded total and of each rounded tax.
fn line_refund(l: &Line, units: u32, id: u64) -> RefundItem {
    let share = |m: i128| {
        to_minor(mul_div(
            micros(to_minor(m)),
            i128::from(units),
            i128::from(l.qty.max(1)),
        ))
    };
    RefundItem {
        id,
        item: l.id,
        qty: units,
        total: share(l.total),
        taxes: l
            .taxes
            .iter()
            .map(|t| (t.rate, share(round_line(t.amount, false))))
            .collect(),
    }
}

fn ship_refund(s: &Shipping, id: u64) -> RefundItem {
    RefundItem {
        id,
        item: s.id,
        qty: 0,
        total: s.cost,
        taxes: s
            .taxes
            .iter()
            .map(|t| (t.rate, to_minor(t.amount)))
            .collect(),
    }
}

fn item_sum(items: &[RefundItem]) -> i64 {
    items
        .iter()
        .map(|i| i.total + i.taxes.iter().map(|t| t.1).sum::<i64>())
        .sum()
}

fn refund_of(
    o: &SimOrder,
    after: After,
    id: u64,
    at: i64,
    item_id: &mut impl FnMut() -> u64,
) -> Option<Refund> {
    let mut r = Refund {
        id,
        created: at,
        amount: 0,
        reason: String::new(),
        lines: vec![],
        shipping: vec![],
        fees: vec![],
    };
    match after {
        After::Nothing => return None,
        After::PartialRefund {
            line,
            units,
            shipping,
        } => {
            let l = o.lines.get(line)?;
            r.lines.push(line_refund(l, units.min(l.qty), item_id()));
            if shipping && let Some(s) = o.shipping.first() {
                r.shipping.push(ship_refund(s, item_id()));
            }
            r.reason = "Canary returned an item".into();
        }
        After::FullRefund => {
            for l in &o.lines {
                r.lines.push(line_refund(l, l.qty, item_id()));
            }
            for s in &o.shipping {
                r.shipping.push(ship_refund(s, item_id()));
            }
            for f in o.fees.iter().filter(|f| f.total > 0) {
                r.fees.push(RefundItem {
                    id: item_id(),
                    item: f.id,
                    qty: 0,
                    total: f.total,
                    taxes: f
                        .taxes
                        .iter()
                        .map(|t| (t.rate, to_minor(t.amount)))
                        .collect(),
                });
            }
        }
        After::AmountRefund => {
            r.amount = o.totals.total;
            return Some(r);
        }
        After::Goodwill(x) => {
            r.amount = x.min(o.totals.total);
            r.reason = "goodwill".into();
            return Some(r);
        }
        After::ShippingRefund => {
            r.shipping.push(ship_refund(o.shipping.first()?, item_id()));
        }
    }
    r.amount = item_sum(&r.lines) + item_sum(&r.shipping) + item_sum(&r.fees);
    Some(r)
}
