//! Validating simulator bodies against a platform's copied OpenAPI (3.0) or Swagger (2.0)
//! document: a simulator is only as faithful as the bodies it answers.
//!
//! The document's schemas are turned into one JSON Schema (draft 4, which both formats are
//! based on): OpenAPI's `nullable: true` and Swagger's `x-nullable: true` become a `"null"`
//! type, everything else is passed through; `$ref`s resolve inside the document.

use serde_json::{Map, Value, json};
use std::path::Path;

/// A loaded OpenAPI/Swagger document.
pub struct Spec {
    /// `definitions` (Swagger 2.0) or `components` (OpenAPI 3.x), nullables rewritten.
    defs: Value,
    /// Where schemas live: `#/definitions/` or `#/components/schemas/`.
    prefix: &'static str,
    name: String,
}

impl Spec {
    /// Loads a JSON document (a fixture of the connector's crate).
    pub fn load(path: impl AsRef<Path>) -> Spec {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        Spec::from_value(doc, &path.display().to_string())
    }

    pub fn from_value(doc: Value, name: &str) -> Spec {
        let (defs, prefix) = if let Some(d) = doc.get("definitions") {
            (
                json!({ "definitions": rewrite(d.clone()) }),
                "#/definitions/",
            )
        } else if let Some(c) = doc.get("components") {
            (
                json!({ "components": rewrite(c.clone()) }),
                "#/components/schemas/",
            )
        } else {
            panic!("{name}: neither `definitions` nor `components`");
        };
        Spec {
            defs,
            prefix,
            name: name.to_string(),
        }
    }

    /// The names of the document's schemas.
    pub fn schema_names(&self) -> Vec<String> {
        let map = match self.prefix {
            "#/definitions/" => &self.defs["definitions"],
            _ => &self.defs["components"]["schemas"],
        };
        map.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every way `value` fails the named schema (empty when it validates).
    pub fn errors(&self, schema: &str, value: &Value) -> Vec<String> {
        assert!(
            self.schema_names().iter().any(|n| n == schema),
            "{}: no schema named {schema:?}",
            self.name
        );
        let mut root = self.defs.clone();
        if let Some(m) = root.as_object_mut() {
            m.insert(
                "$ref".into(),
                Value::String(format!("{}{schema}", self.prefix)),
            );
        }
        let validator = jsonschema::draft4::new(&root)
            .unwrap_or_else(|e| panic!("{}: the schema does not compile: {e}", self.name));
        validator
            .iter_errors(value)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }

    /// Panics with every violation when `value` does not validate against `schema`.
    pub fn assert_valid(&self, schema: &str, value: &Value) {
        let errors = self.errors(schema, value);
        assert!(
            errors.is_empty(),
            "{}: body is not a valid {schema}:\n  {}",
            self.name,
            errors.join("\n  ")
        );
    }
}

/// Rewrites OpenAPI's nullable markers into JSON Schema, recursively.
fn rewrite(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out: Map<String, Value> = m.into_iter().map(|(k, v)| (k, rewrite(v))).collect();
            let nullable = [out.remove("nullable"), out.remove("x-nullable")]
                .iter()
                .any(|n| n.as_ref().and_then(Value::as_bool) == Some(true));
            if nullable {
                make_nullable(&mut out);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(rewrite).collect()),
        other => other,
    }
}

fn make_nullable(schema: &mut Map<String, Value>) {
    match schema.get("type").cloned() {
        Some(Value::String(t)) => {
            schema.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(mut ts)) => {
            if !ts.iter().any(|t| t == "null") {
                ts.push(json!("null"));
            }
            schema.insert("type".into(), Value::Array(ts));
        }
        _ => {
            // A `$ref` or a composition: null, or what it was.
            let inner = Value::Object(std::mem::take(schema));
            schema.insert("anyOf".into(), json!([{ "type": "null" }, inner]));
        }
    }
    if let Some(Value::Array(e)) = schema.get_mut("enum")
        && !e.iter().any(Value::is_null)
    {
        e.push(Value::Null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swagger() -> Spec {
        Spec::from_value(
            json!({
                "swagger": "2.0",
                "definitions": {
                    "Money": {
                        "type": "object",
                        "required": ["amount", "currencyCode"],
                        "properties": {
                            "amount": { "type": "string" },
                            "currencyCode": { "type": "string", "enum": ["USD", "EUR"] }
                        }
                    },
                    "Order": {
                        "type": "object",
                        "required": ["id"],
                        "properties": {
                            "id": { "type": "string" },
                            "total": { "$ref": "#/definitions/Money" },
                            "note": { "type": "string", "x-nullable": true }
                        }
                    }
                }
            }),
            "test",
        )
    }

    #[test]
    fn references_resolve_and_violations_are_named() {
        let s = swagger();
        s.assert_valid(
            "Order",
            &json!({ "id": "1", "total": { "amount": "1.00", "currencyCode": "USD" } }),
        );
        let errors = s.errors(
            "Order",
            &json!({ "total": { "amount": 1, "currencyCode": "XXX" } }),
        );
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors.iter().any(|e| e.starts_with("/total/amount")),
            "{errors:?}"
        );
    }

    #[test]
    fn nullable_fields_accept_null_and_others_do_not() {
        let s = swagger();
        assert!(
            s.errors("Order", &json!({ "id": "1", "note": null }))
                .is_empty()
        );
        assert!(!s.errors("Order", &json!({ "id": null })).is_empty());
    }

    #[test]
    fn openapi_three_components_and_nullable_refs() {
        let s = Spec::from_value(
            json!({
                "openapi": "3.0.0",
                "components": { "schemas": {
                    "Amount": { "type": "object", "properties": { "value": { "type": "string" } } },
                    "Line": { "type": "object", "properties": {
                        "cost": { "$ref": "#/components/schemas/Amount" },
                        "tax": { "allOf": [{ "$ref": "#/components/schemas/Amount" }], "nullable": true }
                    } }
                } }
            }),
            "test",
        );
        assert!(
            s.errors("Line", &json!({ "cost": { "value": "1.00" }, "tax": null }))
                .is_empty()
        );
        assert!(
            !s.errors("Line", &json!({ "cost": { "value": 1 } }))
                .is_empty()
        );
        assert!(s.schema_names().contains(&"Amount".to_string()));
    }
}
