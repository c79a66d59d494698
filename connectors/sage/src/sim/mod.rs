pub const LEAD_BUSINESS: &str = "lead";
