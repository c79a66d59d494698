//! Shopify's calculated query cost, computed from the query received (worst case, as
//! documented; there is no schema, so a field's kind is read from its shape):
//!
//! - a field without a selection (scalar, enum): 0;
//! - a field with a selection (object, or a list of objects that is not a connection): 1 plus
//!   its selection;
//! - a connection (a field with `first`/`last`, or whose selection has `edges`/`nodes`):
//!   2 + `first` (or `last`) × one child, where one child is 1 plus the selection of its
//!   `node` / `nodes` (its `pageInfo` and `cursor` are part of the 2); nested connections
//!   multiply;
//! - a list sized by `first` without `edges`/`nodes` (`Order.fulfillments(first:)`): the
//!   same, its items being the children (Shopify documents no rule for these; charging them
//!   as a connection of their items is the worst case, and never less than their selection);
//! - an inline fragment on a type is one possible shape: the costliest counts;
//! - each root field of a mutation: 10.
//!
//! The actual cost ([`ConnCost::actual`]) is the same sum over what was returned, which is how
//! Shopify refunds the unused capacity of a page.

use super::gql_doc::{Document, Field, OpKind, Operation, Selection, Value};
use serde_json::Value as Json;
use std::collections::HashMap;

pub const MUTATION_COST: f64 = 10.0;
pub const CONNECTION_BASE: f64 = 2.0;
const MAX_DEPTH: usize = 32;

/// Why a query cannot be costed (answered as a GraphQL error).
#[derive(Debug, Clone, PartialEq)]
pub enum CostError {
    /// A connection without `first`/`last` (Shopify: "you must provide one of first or last").
    MissingFirst(String),
    TooDeep,
}

/// Costs fields of one operation.
pub struct Coster<'a> {
    doc: &'a Document,
    vars: &'a Json,
    defaults: &'a HashMap<String, Value>,
}

/// The cost split of one connection field: what one child costs besides its nested
/// connections, and those nested connections.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnCost {
    pub first: u64,
    /// One child's cost without its nested connections (1 + objects + scalars).
    pub child_fixed: f64,
    /// Nested connections of one child, by field name.
    pub nested: Vec<(String, ConnCost)>,
}

impl ConnCost {
    pub fn requested(&self) -> f64 {
        CONNECTION_BASE + self.first as f64 * self.child_requested()
    }

    /// One child's requested cost, its nested connections included.
    pub fn child_requested(&self) -> f64 {
        self.child_fixed + self.nested.iter().map(|(_, c)| c.requested()).sum::<f64>()
    }

    /// The cost of what was returned: `returned` children, the `i`-th of which returned
    /// `nested_returned(i, name)` children of its nested connection `name` (their own nested
    /// connections are charged as requested).
    pub fn actual(&self, returned: usize, nested_returned: impl Fn(usize, &str) -> u64) -> f64 {
        let mut total = CONNECTION_BASE;
        for i in 0..returned {
            total += self.child_fixed;
            for (name, c) in &self.nested {
                let n = nested_returned(i, name).min(c.first);
                total += CONNECTION_BASE + n as f64 * c.child_requested();
            }
        }
        total
    }
}

impl<'a> Coster<'a> {
    pub fn new(doc: &'a Document, op: &'a Operation, vars: &'a Json) -> Self {
        Self {
            doc,
            vars,
            defaults: &op.defaults,
        }
    }

    /// Requested cost of the whole operation.
    pub fn operation(&self, op: &Operation) -> Result<f64, CostError> {
        if op.kind == OpKind::Mutation {
            return Ok(MUTATION_COST * self.doc.fields(&op.selection).len() as f64);
        }
        self.selection(&op.selection, 0)
    }

    /// Requested cost of one field.
    pub fn field(&self, f: &Field, depth: usize) -> Result<f64, CostError> {
        if depth > MAX_DEPTH {
            return Err(CostError::TooDeep);
        }
        if f.selection.is_empty() || f.name == "pageInfo" {
            return Ok(0.0);
        }
        if is_connection(self.doc, f) {
            return Ok(self.connection(f, depth)?.requested());
        }
        Ok(1.0 + self.selection(&f.selection, depth + 1)?)
    }

    /// The cost split of a connection field.
    pub fn connection(&self, f: &Field, depth: usize) -> Result<ConnCost, CostError> {
        if depth > MAX_DEPTH {
            return Err(CostError::TooDeep);
        }
        let first = ["first", "last"]
            .iter()
            .find_map(|a| f.arg(a))
            .map(|v| v.resolve(self.vars, self.defaults))
            .and_then(|v| v.as_u64())
            .ok_or_else(|| CostError::MissingFirst(f.name.clone()))?;
        // One child: the node (1) and what is selected inside it.
        let mut fixed = 1.0;
        let mut nested = Vec::new();
        let mut best: Option<(f64, Vec<(String, ConnCost)>)> = None;
        let fields = self.doc.fields(&f.selection);
        let relay = fields
            .iter()
            .any(|x| x.name == "nodes" || x.name == "edges");
        // A sized list: its own selection is one item's.
        let shapes: Vec<Vec<&Field>> = if relay {
            fields
                .iter()
                .filter_map(|wrapper| match wrapper.name.as_str() {
                    "nodes" => Some(self.doc.fields(&wrapper.selection)),
                    "edges" => Some(
                        self.doc
                            .fields(&wrapper.selection)
                            .into_iter()
                            .filter(|e| e.name == "node")
                            .flat_map(|n| self.doc.fields(&n.selection))
                            .collect(),
                    ),
                    _ => None,
                })
                .collect()
        } else {
            vec![fields]
        };
        for inner in shapes {
            let mut c = 0.0;
            let mut n = Vec::new();
            for field in inner {
                if !field.selection.is_empty() && is_connection(self.doc, field) {
                    n.push((field.name.clone(), self.connection(field, depth + 1)?));
                } else {
                    c += self.field(field, depth + 1)?;
                }
            }
            // `edges { node }` and `nodes` select the same children: the costlier counts.
            let total = c + n.iter().map(|(_, x)| x.requested()).sum::<f64>();
            if best.as_ref().is_none_or(|(t, _)| total > *t) {
                best = Some((total, n));
                fixed = 1.0 + c;
            }
        }
        if let Some((_, n)) = best {
            nested = n;
        }
        Ok(ConnCost {
            first,
            child_fixed: fixed,
            nested,
        })
    }

    fn selection(&self, sel: &[Selection], depth: usize) -> Result<f64, CostError> {
        if depth > MAX_DEPTH {
            return Err(CostError::TooDeep);
        }
        let mut sum = 0.0;
        let mut typed = 0.0_f64;
        for s in sel {
            match s {
                Selection::Field(f) => sum += self.field(f, depth)?,
                Selection::Spread(name) => {
                    if let Some((_, fs)) = self.doc.fragments.get(name) {
                        sum += self.selection(fs, depth + 1)?;
                    }
                }
                Selection::Inline {
                    on: None,
                    selection,
                } => {
                    sum += self.selection(selection, depth + 1)?;
                }
                Selection::Inline {
                    on: Some(_),
                    selection,
                } => {
                    typed = typed.max(self.selection(selection, depth + 1)?);
                }
            }
        }
        Ok(sum + typed)
    }
}

/// A connection has a page size argument or Relay's `edges`/`nodes`.
pub fn is_connection(doc: &Document, f: &Field) -> bool {
    f.arg("first").is_some()
        || f.arg("last").is_some()
        || doc
            .fields(&f.selection)
            .iter()
            .any(|x| x.name == "edges" || x.name == "nodes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::gql_doc::parse;
    use serde_json::json;

    fn cost(q: &str, vars: Json) -> Result<f64, CostError> {
        let d = parse(q).unwrap();
        let op = d.operation(None).unwrap();
        Coster::new(&d, op, &vars).operation(op)
    }

    #[test]
    fn documented_examples() {
        // Shopify's: shop is an object, its fields scalars.
        assert_eq!(cost("{ shop { id name } }", json!({})), Ok(1.0));
        // products(first: 10) { title variants(first: 5) { price } } = 2 + 10·(1 + 2 + 5·1).
        let q = "{ products(first: 10) { edges { node { title variants(first: 5) { edges { node { price } } } } } } }";
        assert_eq!(cost(q, json!({})), Ok(82.0));
        assert_eq!(
            cost(
                "mutation { bulkOperationRunQuery(query: \"{ x }\") { bulkOperation { id } userErrors { message } } }",
                json!({})
            ),
            Ok(10.0)
        );
    }

    #[test]
    fn nested_connections_multiply_and_variables_count() {
        let q = "query($n: Int!) { orders(first: $n) { edges { node { id customer { id } lineItems(first: 100) { nodes { id originalUnitPriceSet { shopMoney { amount } } } } } } pageInfo { hasNextPage } } }";
        // One line: 1 + 2; one order: 1 + 1 + (2 + 100·3) = 304; 250 orders: 2 + 250·304.
        assert_eq!(cost(q, json!({"n": 250})), Ok(76_002.0));
        assert_eq!(cost(q, json!({"n": 1})), Ok(306.0));
        assert_eq!(
            cost("{ orders { edges { node { id } } } }", json!({})),
            Err(CostError::MissingFirst("orders".into()))
        );
    }

    #[test]
    fn sized_lists_charge_their_items() {
        // One fulfillment: 1 + trackingInfo 1; the list: 2 + 2 × 2; the order 1 + 6.
        let q = "{ orders(first: 1) { nodes { fulfillments(first: 2) { status createdAt trackingInfo { number company } } } } }";
        assert_eq!(cost(q, json!({})), Ok(9.0));
        // Without `first` it is a list: one object and its selection.
        let q =
            "{ orders(first: 1) { nodes { fulfillments { status trackingInfo { number } } } } }";
        assert_eq!(cost(q, json!({})), Ok(2.0 + 1.0 + 2.0));
    }

    #[test]
    fn fragments_and_type_conditions() {
        let q = "query($id: ID!) { node(id: $id) { ... on Order { customer { id } shippingAddress { id } } ... on BulkOperation { id url } } }";
        assert_eq!(cost(q, json!({})), Ok(3.0));
        let q = "{ orders(first: 2) { nodes { ...F } } } fragment F on Order { customer { id } }";
        assert_eq!(cost(q, json!({})), Ok(6.0));
    }

    #[test]
    fn actual_counts_what_was_returned() {
        let q = "{ orders(first: 10) { edges { node { customer { id } lineItems(first: 5) { nodes { id } } } } } }";
        let d = parse(q).unwrap();
        let op = d.operation(None).unwrap();
        let vars = json!({});
        let c = Coster::new(&d, op, &vars);
        let f = d.field(&op.selection, "orders").unwrap();
        let cc = c.connection(f, 0).unwrap();
        // requested: 2 + 10·(2 + 2 + 5) = 92; two orders with 1 and 7 (capped at 5) lines.
        assert_eq!(cc.requested(), 92.0);
        assert_eq!(
            cc.actual(2, |i, _| [1, 7][i]),
            2.0 + (2.0 + 2.0 + 1.0) + (2.0 + 2.0 + 5.0)
        );
    }
}
