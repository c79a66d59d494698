//! The named cases' worked examples, exactly (amounts as rendered on the wire).

use super::{case, node};
use crate::sim::gql_render::{RefundWindow, Windows, graphql_node_with};
use crate::sim::order::Financial;
use crate::sim::render::rest_order;
use serde_json::Value;

#[test]
fn uk_worked_example() {
    let (s, id) = case("uk_vat_inclusive");
    let n = node(s.get(id).unwrap());
    let amount = |v: &Value| v["shopMoney"]["amount"].as_str().unwrap().to_string();
    assert_eq!(n["currencyCode"], "GBP");
    assert_eq!(n["taxesIncluded"], true);
    let l = &n["lineItems"]["nodes"][0];
    assert_eq!(
        (l["quantity"].as_u64(), amount(&l["originalUnitPriceSet"])),
        (Some(2), "12.00".into())
    );
    assert_eq!(
        amount(&l["discountAllocations"][0]["allocatedAmountSet"]),
        "2.40"
    );
    assert_eq!(l["taxLines"][0]["rate"].to_string(), "0.2");
    assert_eq!(amount(&l["taxLines"][0]["priceSet"]), "3.60");
    let sh = &n["shippingLines"]["nodes"][0];
    assert_eq!(amount(&sh["originalPriceSet"]), "4.80");
    assert_eq!(amount(&sh["taxLines"][0]["priceSet"]), "0.80");
    assert_eq!(amount(&n["totalTaxSet"]), "4.40");
    assert_eq!(amount(&n["totalDiscountsSet"]), "2.40");
    assert_eq!(amount(&n["subtotalPriceSet"]), "21.60");
    assert_eq!(amount(&n["totalPriceSet"]), "26.40");
    assert_eq!(amount(&n["currentTotalPriceSet"]), "26.40");
    let d = &n["discountApplications"]["nodes"][0];
    assert_eq!(d["__typename"], "DiscountCodeApplication");
    assert_eq!(d["code"], "WELCOME10");
    assert_eq!(d["value"]["percentage"].to_string(), "10.0");
    let r = rest_order(s.get(id).unwrap());
    assert_eq!(r["total_price"], "26.40");
    assert_eq!(r["subtotal_price"], "21.60");
    assert_eq!(r["total_line_items_price"], "24.00");
    assert_eq!(r["tax_lines"][0]["price"], "4.40");
    assert_eq!(r["discount_applications"][0]["value"], "10.0");
    assert_eq!(r["discount_applications"][0]["value_type"], "percentage");
    assert_eq!(r["discount_codes"][0]["amount"], "2.40");
}

#[test]
fn an_order_code_spreads_remainders_to_the_first_lines() {
    let (s, id) = case("order_code_spread");
    let o = s.get(id).unwrap();
    let shares: Vec<i64> = o.lines.iter().map(|l| l.discount()).collect();
    assert_eq!(shares, vec![334, 333, 333]);
    let r = rest_order(o);
    let rest: Vec<&str> = (0..3)
        .map(|j| {
            r["line_items"][j]["discount_allocations"][0]["amount"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(rest, ["3.34", "3.33", "3.33"]);
    assert_eq!(r["discount_applications"][0]["value"], "10.0");
    assert_eq!(r["discount_applications"][0]["value_type"], "fixed_amount");
    assert_eq!(r["discount_applications"][0]["allocation_method"], "across");
    let n = node(o);
    assert_eq!(
        n["discountApplications"]["nodes"][0]["value"]["__typename"],
        "MoneyV2"
    );
    assert_eq!(
        n["discountApplications"]["nodes"][0]["value"]["amount"],
        "10.00"
    );
}

#[test]
fn nyc_has_three_tax_lines_rounded_each() {
    let (s, id) = case("nyc_three_taxes");
    let n = node(s.get(id).unwrap());
    let l = &n["lineItems"]["nodes"][0]["taxLines"];
    let got: Vec<(String, String)> = (0..3)
        .map(|i| {
            (
                l[i]["rate"].to_string(),
                l[i]["priceSet"]["shopMoney"]["amount"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    // 100.00 × 4 %, 4.5 %, 0.375 % (0.375 → 0.38 half-up).
    assert_eq!(
        got,
        [("0.04", "4.00"), ("0.045", "4.50"), ("0.00375", "0.38")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // Shipping 9.99 is taxed too: 0.40 + 0.45 + 0.04.
    let sh = &n["shippingLines"]["nodes"][0]["taxLines"];
    let ship: Vec<&str> = (0..3)
        .map(|i| sh[i]["priceSet"]["shopMoney"]["amount"].as_str().unwrap())
        .collect();
    assert_eq!(ship, ["0.40", "0.45", "0.04"]);
    // 100.00 + 9.99 + 8.88 + 0.89 = 119.76.
    assert_eq!(n["totalPriceSet"]["shopMoney"]["amount"], "119.76");
    assert_eq!(n["taxLines"].as_array().unwrap().len(), 3);
}

#[test]
fn jpy_and_kwd_render_with_their_decimals() {
    let (s, id) = case("jpy_zero_decimals");
    let n = node(s.get(id).unwrap());
    let l = &n["lineItems"]["nodes"][0];
    assert_eq!(l["originalUnitPriceSet"]["shopMoney"]["amount"], "1500");
    assert_eq!(
        l["originalUnitPriceSet"]["shopMoney"]["currencyCode"],
        "JPY"
    );
    // 3000 incl. 10 %: 272.7 → 273; shipping 800: 72.7 → 73.
    assert_eq!(l["taxLines"][0]["priceSet"]["shopMoney"]["amount"], "273");
    assert_eq!(n["totalTaxSet"]["shopMoney"]["amount"], "346");
    assert_eq!(n["totalPriceSet"]["shopMoney"]["amount"], "3800");
    let r = rest_order(s.get(id).unwrap());
    assert_eq!(r["total_price"], "3800");
    let (s, id) = case("kwd_three_decimals");
    let n = node(s.get(id).unwrap());
    assert_eq!(
        n["lineItems"]["nodes"][0]["originalUnitPriceSet"]["shopMoney"]["amount"],
        "12.345"
    );
    assert_eq!(n["totalShippingPriceSet"]["shopMoney"]["amount"], "1.500");
    assert_eq!(n["totalPriceSet"]["shopMoney"]["amount"], "26.190");
    assert_eq!(n["totalTaxSet"]["shopMoney"]["amount"], "0.000");
}

#[test]
fn chf_cash_rounding_adjusts_the_payment_not_the_total() {
    let (s, id) = case("chf_cash_rounding");
    let o = s.get(id).unwrap();
    let n = node(o);
    assert_eq!(n["totalPriceSet"]["shopMoney"]["amount"], "44.02");
    assert_eq!(
        n["totalCashRoundingAdjustment"]["paymentSet"]["shopMoney"]["amount"],
        "-0.02"
    );
    assert_eq!(
        n["totalCashRoundingAdjustment"]["refundSet"]["shopMoney"]["amount"],
        "0.00"
    );
    let r = rest_order(o);
    assert_eq!(
        r["total_cash_rounding_payment_adjustment_set"]["shop_money"]["amount"],
        "-0.02"
    );
}

#[test]
fn presentment_money_is_the_total_at_the_rate() {
    let (s, id) = case("presentment_usd");
    let n = node(s.get(id).unwrap());
    assert_eq!(n["currencyCode"], "EUR");
    assert_eq!(n["presentmentCurrencyCode"], "USD");
    // 26.40 EUR (19 % VAT inside) × 1.0837 = 28.6097 → 28.61 USD.
    assert_eq!(n["totalPriceSet"]["shopMoney"]["amount"], "26.40");
    assert_eq!(n["totalPriceSet"]["presentmentMoney"]["amount"], "28.61");
    assert_eq!(
        n["totalPriceSet"]["presentmentMoney"]["currencyCode"],
        "USD"
    );
    assert_eq!(
        n["currentTotalPriceSet"]["presentmentMoney"]["amount"],
        "28.61"
    );
    assert!(n["totalTaxSet"].get("presentmentMoney").is_none());
}

#[test]
fn cancellations_leave_nothing_current() {
    let (s, id) = case("cancelled_refunded");
    let o = s.get(id).unwrap();
    let n = node(o);
    assert_eq!(n["displayFinancialStatus"], "REFUNDED");
    assert!(!n["cancelledAt"].is_null() && n["closed"] == true);
    for bag in [
        "currentSubtotalPriceSet",
        "currentTotalDiscountsSet",
        "currentShippingPriceSet",
        "currentTotalTaxSet",
        "currentTotalPriceSet",
    ] {
        assert_eq!(n[bag]["shopMoney"]["amount"], "0.00", "{bag}");
    }
    let refund = &n["refunds"][0];
    assert_eq!(
        refund["totalRefundedSet"]["shopMoney"],
        n["totalPriceSet"]["shopMoney"]
    );
    assert_eq!(
        refund["refundLineItems"]["nodes"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        refund["refundLineItems"]["nodes"][0]["restockType"],
        "CANCEL"
    );
    assert_eq!(
        refund["refundShippingLines"]["nodes"][0]["subtotalAmountSet"]["shopMoney"]["amount"],
        "4.99"
    );
    assert!(
        n["lineItems"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["currentQuantity"] == 0)
    );
    let (s, id) = case("cancelled_voided");
    let n = node(s.get(id).unwrap());
    assert_eq!(n["displayFinancialStatus"], "VOIDED");
    assert_eq!(n["refunds"], serde_json::json!([]));
    assert_eq!(n["currentTotalPriceSet"]["shopMoney"]["amount"], "0.00");
    assert_ne!(n["totalPriceSet"]["shopMoney"]["amount"], "0.00");
    assert!(
        n["lineItems"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["currentQuantity"] == 0)
    );
}

#[test]
fn partial_refunds_take_a_unit_share_and_edits_keep_paid() {
    let (s, id) = case("shipping_refund");
    let o = s.get(id).unwrap();
    // 3 × 10.00 and 1 × 15.00 with 10 % across: 27.00 (tax 2.23) and 13.50 (tax 1.11).
    let r = &o.refunds[0];
    assert_eq!(
        (r.lines[0].quantity, r.lines[0].subtotal, r.lines[0].tax),
        (1, 900, 74)
    );
    assert_eq!((r.shipping, r.shipping_tax), (499, 0));
    assert_eq!(r.total, 900 + 74 + 499);
    assert_eq!(o.financial, Financial::PartiallyRefunded);
    assert_eq!(o.lines[0].current_quantity(), 2);
    let c = o.current();
    assert_eq!(c.subtotal, 1800 + 1350);
    assert_eq!(c.tax, 223 - 74 + 111);
    assert_eq!(c.shipping_discounted, 0);
    assert_eq!(c.discounts, 200 + 150);
    let rest = rest_order(o);
    let rf = &rest["refunds"][0];
    assert_eq!(rf["refund_line_items"][0]["subtotal"].to_string(), "9.0");
    assert_eq!(rf["order_adjustments"][0]["kind"], "shipping_refund");
    assert_eq!(rf["order_adjustments"][0]["amount"], "-4.99");
    assert_eq!(rf["transactions"][0]["amount"], "14.73");
    assert_eq!(rest["financial_status"], "partially_refunded");

    let (s, id) = case("edit_removed_unit");
    let o = s.get(id).unwrap();
    assert_eq!(o.financial, Financial::Paid);
    assert!(o.refunds.is_empty());
    assert_eq!(o.lines[1].current_quantity(), 1);
    assert!(o.current().total < o.totals().total);
    let (s, id) = case("edit_added_line");
    assert_eq!(
        node(s.get(id).unwrap())["displayFinancialStatus"],
        "PARTIALLY_PAID"
    );
}

#[test]
fn tips_gift_cards_duties_and_fees_render_as_shopify_does() {
    let (s, id) = case("tip");
    let n = node(s.get(id).unwrap());
    let tip = n["lineItems"]["nodes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(tip["title"], "Tip");
    assert!(tip["sku"].is_null() && tip["product"].is_null());
    assert_eq!(
        (
            tip["requiresShipping"] == false,
            tip["taxable"] == false,
            tip["isGiftCard"] == false
        ),
        (true, true, true)
    );
    assert_eq!(n["totalTipReceivedSet"]["shopMoney"]["amount"], "5.00");
    let (s, id) = case("gift_card");
    let n = node(s.get(id).unwrap());
    let g = n["lineItems"]["nodes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            g["isGiftCard"] == true,
            g["requiresShipping"] == false,
            g["taxable"] == false
        ),
        (true, true, true)
    );
    let (s, id) = case("duties");
    let n = node(s.get(id).unwrap());
    assert!(!n["originalTotalDutiesSet"].is_null());
    assert_eq!(n["originalTotalDutiesSet"], n["currentTotalDutiesSet"]);
    let (s, id) = case("us_sales_tax");
    let n = node(s.get(id).unwrap());
    assert!(n["originalTotalDutiesSet"].is_null() && n["currentTotalAdditionalFeesSet"].is_null());
    let (s, id) = case("additional_fees");
    let n = node(s.get(id).unwrap());
    let fee = &n["additionalFees"][0];
    assert_eq!(fee["name"], "Bottle deposit");
    // 0.75 incl. 19 %: 0.1197 → 0.12.
    assert_eq!(
        fee["taxLines"][0]["priceSet"]["shopMoney"]["amount"],
        "0.12"
    );
    assert_eq!(
        n["currentTotalAdditionalFeesSet"]["shopMoney"]["amount"],
        "0.75"
    );
}

#[test]
fn nested_pages_honour_first_and_say_what_is_left() {
    let (s, id) = case("multiple_shipping_lines");
    let o = s.get(id).unwrap();
    let w = Windows {
        shipping: Some(2),
        discounts: Some(5),
        ..Windows::default()
    };
    let n = serde_json::to_value(graphql_node_with(o, &w)).unwrap();
    assert_eq!(n["shippingLines"]["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(n["shippingLines"]["pageInfo"]["hasNextPage"], true);
    assert!(n.get("lineItems").is_none());
    let (s, id) = case("many_discounts");
    let o = s.get(id).unwrap();
    let n = serde_json::to_value(graphql_node_with(o, &w)).unwrap();
    assert_eq!(
        n["discountApplications"]["nodes"].as_array().unwrap().len(),
        5
    );
    assert_eq!(n["discountApplications"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(n["shippingLines"]["pageInfo"]["hasNextPage"], false);
    // The page's `refunds { id }` is ids only; the follow-up gets the detail.
    let (s, id) = case("partial_refund");
    let o = s.get(id).unwrap();
    let ids = serde_json::to_value(graphql_node_with(o, &w)).unwrap();
    assert_eq!(ids["refunds"][0].as_object().unwrap().len(), 1);
    let extras = Windows {
        refunds: RefundWindow {
            detail: true,
            lines_first: 100,
            shipping_first: 5,
            adjustments_first: 10,
        },
        ..w
    };
    let full = serde_json::to_value(graphql_node_with(o, &extras)).unwrap();
    assert_eq!(
        full["refunds"][0]["refundLineItems"]["pageInfo"]["hasNextPage"],
        false
    );
    assert_eq!(
        full["refunds"][0]["orderAdjustments"]["nodes"],
        serde_json::json!([])
    );
}

#[test]
fn the_connectors_documents_cost_what_queries_rs_says() {
    use crate::queries::{
        FETCH_LINE_PAGE, LINE_PAGE, ORDER_EXTRAS_QUERY, ORDER_QUERY, ORDERS_QUERY,
    };
    use crate::sim::cost::Coster;
    use crate::sim::gql_doc::parse;
    let cost = |q: &str, vars: Value| {
        let d = parse(q).unwrap();
        let op = d.operation(None).unwrap();
        Coster::new(&d, op, &vars).operation(op).unwrap()
    };
    assert_eq!(
        cost(
            ORDERS_QUERY,
            serde_json::json!({"first": 7, "lineFirst": LINE_PAGE})
        ),
        989.0
    );
    assert_eq!(
        cost(
            ORDERS_QUERY,
            serde_json::json!({"first": 8, "lineFirst": LINE_PAGE})
        ),
        1130.0
    );
    assert_eq!(
        cost(
            ORDER_QUERY,
            serde_json::json!({"id": "x", "lineFirst": FETCH_LINE_PAGE})
        ),
        966.0
    );
    assert_eq!(
        cost(
            ORDER_EXTRAS_QUERY,
            serde_json::json!({"id": "x", "first": crate::queries::EXTRAS_FIRST})
        ),
        crate::queries::EXTRAS_BASE + crate::queries::EXTRAS_PER_ITEM * 130.0
    );
    let bulk = crate::queries::bulk_orders_query("updated_at:>='2026-01-01T00:00:00Z'");
    assert!(parse(&bulk).is_ok());
}

#[test]
fn bulk_children_follow_their_order_in_shopify_order() {
    use crate::sim::gql_render::{BulkChildren, bulk_order_line, write_bulk_children};
    let (s, id) = case("multiple_shipping_lines");
    let o = s.get(id).unwrap();
    let mut out = Vec::new();
    let all = BulkChildren {
        shipping: true,
        discounts: true,
        lines: true,
    };
    let n = write_bulk_children(&mut out, o, all);
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(n as usize, rows.len());
    assert_eq!(rows.len(), 3 + o.discounts.len() + 2);
    assert!(rows[..3].iter().all(|r| {
        r["id"]
            .as_str()
            .unwrap()
            .starts_with("gid://shopify/ShippingLine/")
    }));
    assert!(rows[3..].iter().all(|r| {
        r["id"]
            .as_str()
            .unwrap()
            .starts_with("gid://shopify/LineItem/")
    }));
    let parent = format!("gid://shopify/Order/{}", o.id);
    assert!(rows.iter().all(|r| r["__parentId"] == parent.as_str()));
    let head = serde_json::to_value(bulk_order_line(o)).unwrap();
    assert!(head.get("shippingLines").is_none() && head.get("lineItems").is_none());
    let (s, id) = case("free_shipping");
    let mut out = Vec::new();
    write_bulk_children(&mut out, s.get(id).unwrap(), all);
    let text = String::from_utf8(out).unwrap();
    let d: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(d["__typename"], "DiscountCodeApplication");
    assert_eq!(d["targetType"], "SHIPPING_LINE");
    assert_eq!(d["value"]["percentage"].to_string(), "100.0");
}
