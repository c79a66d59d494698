//! V1's request validation, answered as ASP.NET `ModelState` (field path → messages): a JSON
//! array where an order is expected (or an object where a list is), booleans sent as `0`/`1`,
//! missing required fields, an unknown `orderStatus`.

use crate::v1::wire::OrderBody;
use serde_json::{Map, Value, json};

pub type ModelState = Map<String, Value>;

/// The `orderStatus` values V1 knows.
pub const STATUSES: [&str; 6] = [
    "awaiting_payment",
    "awaiting_shipment",
    "pending_fulfillment",
    "shipped",
    "on_hold",
    "cancelled",
];

/// Boolean fields of the order model (ASP.NET refuses `0`/`1` for them).
const BOOLEANS: [&str; 9] = [
    "gift",
    "billTo.residential",
    "shipTo.residential",
    "advancedOptions.nonMachinable",
    "advancedOptions.saturdayDelivery",
    "advancedOptions.containsAlcohol",
    "advancedOptions.mergedOrSplit",
    "insuranceOptions.insureShipment",
    "externallyFulfilled",
];

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

/// The 400 body.
pub fn invalid(state: ModelState) -> Value {
    json!({ "Message": "The request is invalid.", "ModelState": state })
}

/// One order of a request (`prefix` is `apiOrder`, or `apiOrders[i]` in a bulk request).
pub fn order(v: &Value, prefix: &str) -> Result<OrderBody, ModelState> {
    let mut ms = ModelState::new();
    if !v.is_object() {
        let kind = if v.is_array() {
            "JSON array (e.g. [1,2,3])"
        } else {
            "JSON value"
        };
        ms.insert(
            prefix.to_string(),
            json!([format!(
                "Cannot deserialize the current {kind} into type 'ShipStation.Api.Models.Order' \
                 because the type requires a JSON object (e.g. {{\"name\":\"value\"}}) to \
                 deserialize correctly."
            )]),
        );
        return Err(ms);
    }
    let mut booleans: Vec<String> = BOOLEANS.iter().map(|s| s.to_string()).collect();
    if let Some(items) = v.get("items").and_then(Value::as_array) {
        booleans.extend((0..items.len()).map(|i| format!("items.{i}.adjustment")));
    }
    for path in &booleans {
        let field = path
            .split('.')
            .try_fold(v, |v, k| match k.parse::<usize>() {
                Ok(i) => v.get(i),
                Err(_) => v.get(k),
            });
        if let Some(x) = field.filter(|x| !x.is_boolean() && !x.is_null()) {
            ms.insert(
                format!("{prefix}.{path}"),
                json!([format!(
                    "Error converting value {x} to type 'System.Boolean'. Path '{path}'."
                )]),
            );
        }
    }
    for required in [
        "orderNumber",
        "orderDate",
        "orderStatus",
        "billTo",
        "shipTo",
    ] {
        if at(v, required).is_none_or(Value::is_null) {
            ms.insert(
                format!("{prefix}.{required}"),
                json!([format!("The {required} field is required.")]),
            );
        }
    }
    if let Some(st) = v.get("orderStatus").and_then(Value::as_str)
        && !STATUSES.contains(&st)
    {
        ms.insert(
            format!("{prefix}.orderStatus"),
            json!(["The orderStatus field is not a valid order status."]),
        );
    }
    if !ms.is_empty() {
        return Err(ms);
    }
    serde_json::from_value::<OrderBody>(v.clone()).map_err(|_| {
        let mut ms = ModelState::new();
        ms.insert(prefix.to_string(), json!(["The order could not be read."]));
        ms
    })
}
