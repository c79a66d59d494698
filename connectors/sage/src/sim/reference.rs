//! Read-only reference data of a business: tax rates, ledger accounts, currencies.

use super::SimState;
use super::lists::{Query, base, num, page};
use super::state::{LEDGERS, ledger_id};
use axum::extract::{Query as Q, State};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

/// `GET /tax_rates` (`usage=sales` and `purchase` list the same rates here).
pub async fn tax_rates(State(s): State<Arc<SimState>>, Q(q): Q<Query>) -> Response {
    let items = s
        .opts
        .tax_rates
        .iter()
        .map(|r| {
            let mut v = base(&r.id, &r.name, "/tax_rates");
            let m = v.as_object_mut().expect("object");
            m.insert("name".into(), json!(r.name));
            m.insert("agency".into(), json!("HMRC"));
            m.insert("percentage".into(), num(r.percentage));
            m.insert("is_visible".into(), json!(true));
            m.insert("retailer".into(), json!(false));
            m.insert("editable".into(), json!(false));
            m.insert("deletable".into(), json!(false));
            m.insert("is_combined_rate".into(), json!(false));
            v
        })
        .collect();
    page("/tax_rates", &q, items)
}

/// `GET /ledger_accounts`.
pub async fn ledger_accounts(Q(q): Q<Query>) -> Response {
    let items = LEDGERS
        .iter()
        .map(|(code, name, kind)| {
            let mut v = base(
                &ledger_id(*code),
                &format!("{name} ({code})"),
                "/ledger_accounts",
            );
            let m = v.as_object_mut().expect("object");
            m.insert("name".into(), json!(name));
            m.insert("display_name".into(), json!(name));
            m.insert("nominal_code".into(), json!(code));
            m.insert(
                "ledger_account_type".into(),
                base(kind, kind, "/ledger_account_types"),
            );
            m.insert("included_in_chart".into(), json!(true));
            m.insert("visible_in_sales".into(), json!(true));
            v
        })
        .collect();
    page("/ledger_accounts", &q, items)
}

/// `GET /currencies`.
pub async fn currencies(State(s): State<Arc<SimState>>, Q(q): Q<Query>) -> Response {
    let items = s
        .opts
        .currencies
        .iter()
        .map(|c| base(c, c, "/currencies"))
        .collect();
    page("/currencies", &q, items)
}
