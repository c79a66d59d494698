//! Amazon's fulfillment statuses and what they mean for the canonical order.

use ordersync_sdk::{FinancialStatus, FulfillmentStatus, OrderStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    PendingAvailability,
    Pending,
    Unshipped,
    PartiallyShipped,
    Shipped,
    Cancelled,
    Unfulfillable,
    Unknown,
}

impl Status {
    pub fn parse(s: &str) -> Self {
        match s {
            "PENDING_AVAILABILITY" => Status::PendingAvailability,
            "PENDING" => Status::Pending,
            "UNSHIPPED" => Status::Unshipped,
            "PARTIALLY_SHIPPED" => Status::PartiallyShipped,
            "SHIPPED" => Status::Shipped,
            "CANCELLED" => Status::Cancelled,
            "UNFULFILLABLE" => Status::Unfulfillable,
            _ => Status::Unknown,
        }
    }

    pub fn pending(self) -> bool {
        matches!(self, Status::Pending | Status::PendingAvailability)
    }

    pub fn order_status(self) -> OrderStatus {
        match self {
            Status::PendingAvailability
            | Status::Pending
            | Status::Unshipped
            | Status::PartiallyShipped => OrderStatus::Open,
            Status::Shipped => OrderStatus::Closed,
            Status::Cancelled | Status::Unfulfillable => OrderStatus::Cancelled,
            Status::Unknown => OrderStatus::Unknown,
        }
    }

    /// Amazon authorizes the buyer's payment at checkout and charges it as units ship.
    pub fn financial(self) -> FinancialStatus {
        match self {
            Status::PendingAvailability | Status::Pending => FinancialStatus::Pending,
            Status::Unshipped => FinancialStatus::Authorized,
            Status::PartiallyShipped => FinancialStatus::PartiallyPaid,
            Status::Shipped => FinancialStatus::Paid,
            Status::Cancelled | Status::Unfulfillable => FinancialStatus::Voided,
            Status::Unknown => FinancialStatus::Unknown,
        }
    }

    pub fn fulfillment(self) -> FulfillmentStatus {
        match self {
            Status::PendingAvailability
            | Status::Pending
            | Status::Unshipped
            | Status::Cancelled
            | Status::Unfulfillable => FulfillmentStatus::Unfulfilled,
            Status::PartiallyShipped => FulfillmentStatus::Partial,
            Status::Shipped => FulfillmentStatus::Fulfilled,
            Status::Unknown => FulfillmentStatus::Unknown,
        }
    }
}
