//! WooCommerce's order statuses as the canonical order status, payment state and
//! fulfillment.
//!
//! | WooCommerce | status | money |
//! |---|---|---|
//! | `pending` (awaiting payment), `on-hold` (awaiting confirmation), `checkout-draft` | open | pending |
//! | `processing` (paid, to ship) | open | paid, or pending without `date_paid` (cash on delivery) |
//! | `completed` | closed, fulfilled | as `processing` |
//! | `refunded` | closed, nothing left to ship | refunded |
//! | `cancelled`, `failed`, `trash` | cancelled | voided, unless money moved |
//! | a plugin's status | unknown | from the payment facts |

use ordersync_sdk::{Decimal, FinancialStatus, FulfillmentStatus, OrderStatus};

pub fn order_status(s: &str) -> OrderStatus {
    match s {
        "pending" | "on-hold" | "checkout-draft" | "processing" => OrderStatus::Open,
        "completed" | "refunded" => OrderStatus::Closed,
        "cancelled" | "failed" | "trash" => OrderStatus::Cancelled,
        _ => OrderStatus::Unknown,
    }
}

/// The payment state from the status and the facts: refunds and `date_paid`.
pub fn financial(s: &str, paid: bool, total: Decimal, refunded: Decimal) -> FinancialStatus {
    if s == "refunded" || (refunded > Decimal::ZERO && refunded >= total) {
        return FinancialStatus::Refunded;
    }
    if refunded > Decimal::ZERO {
        return FinancialStatus::PartiallyRefunded;
    }
    if paid {
        return FinancialStatus::Paid;
    }
    match s {
        "cancelled" | "failed" | "trash" => FinancialStatus::Voided,
        "pending" | "on-hold" | "checkout-draft" | "processing" | "completed" => {
            FinancialStatus::Pending
        }
        _ => FinancialStatus::Unknown,
    }
}

pub fn fulfillment(s: &str) -> FulfillmentStatus {
    match s {
        "completed" => FulfillmentStatus::Fulfilled,
        "pending" | "on-hold" | "checkout-draft" | "processing" | "cancelled" | "failed"
        | "trash" | "refunded" => FulfillmentStatus::Unfulfilled,
        _ => FulfillmentStatus::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let d = |n: i64| Decimal::new(n, 0);
        assert_eq!(order_status("trash"), OrderStatus::Cancelled);
        assert_eq!(order_status("shipped"), OrderStatus::Unknown);
        assert_eq!(
            financial("processing", true, d(10), d(0)),
            FinancialStatus::Paid
        );
        assert_eq!(
            financial("processing", false, d(10), d(0)),
            FinancialStatus::Pending
        );
        assert_eq!(
            financial("completed", true, d(10), d(3)),
            FinancialStatus::PartiallyRefunded
        );
        assert_eq!(
            financial("completed", true, d(10), d(10)),
            FinancialStatus::Refunded
        );
        assert_eq!(
            financial("refunded", true, d(10), d(0)),
            FinancialStatus::Refunded
        );
        assert_eq!(
            financial("failed", false, d(10), d(0)),
            FinancialStatus::Voided
        );
        assert_eq!(
            financial("shipped", false, d(10), d(0)),
            FinancialStatus::Unknown
        );
        assert_eq!(fulfillment("completed"), FulfillmentStatus::Fulfilled);
    }
}
