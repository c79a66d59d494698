//! A small GraphQL document parser: operations, fragments, selection sets (fields with aliases,
//! arguments and directives, fragment spreads, inline fragments) and argument values
//! (variables, numbers, strings incl. block strings, enums, lists, objects). Comments and
//! commas are ignored, as the spec says. Enough to cost and route a query; there is no schema
//! validation. Nesting and size are bounded: the input is a client's.

use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// Deepest selection/value nesting accepted.
const MAX_DEPTH: usize = 64;
/// Largest document accepted, in bytes.
pub const MAX_DOCUMENT: usize = 256 * 1024;
/// Most selections an operation may expand to once fragments are inlined (fragments can
/// multiply: `A { ...B ...B }`, `B { ...C ...C }`, ...).
const MAX_EXPANDED: u64 = 50_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Var(String),
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
    Enum(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The JSON value, with `$variables` taken from `vars` (then the operation's defaults).
    pub fn resolve(&self, vars: &Json, defaults: &HashMap<String, Value>) -> Json {
        match self {
            Value::Var(v) => match vars.get(v) {
                Some(j) => j.clone(),
                None => defaults
                    .get(v)
                    .map_or(Json::Null, |d| d.resolve(&Json::Null, &HashMap::new())),
            },
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) | Value::Enum(s) => Json::String(s.clone()),
            Value::Bool(b) => Json::Bool(*b),
            Value::Null => Json::Null,
            Value::List(l) => Json::Array(l.iter().map(|v| v.resolve(vars, defaults)).collect()),
            Value::Object(o) => Json::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), v.resolve(vars, defaults)))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Query,
    Mutation,
    Subscription,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub kind: OpKind,
    pub name: Option<String>,
    /// Default values of the variable definitions.
    pub defaults: HashMap<String, Value>,
    pub selection: Vec<Selection>,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub alias: Option<String>,
    pub name: String,
    pub args: Vec<(String, Value)>,
    pub selection: Vec<Selection>,
}

impl Field {
    /// The key of this field in the response.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    pub fn arg(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

#[derive(Debug, Clone)]
pub enum Selection {
    Field(Field),
    Spread(String),
    Inline {
        on: Option<String>,
        selection: Vec<Selection>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Document {
    pub operations: Vec<Operation>,
    /// Fragment name → (type condition, selection).
    pub fragments: HashMap<String, (String, Vec<Selection>)>,
}

impl Document {
    /// The operation to run: the named one, or the only one.
    pub fn operation(&self, name: Option<&str>) -> Result<&Operation, String> {
        match name {
            Some(n) => self
                .operations
                .iter()
                .find(|o| o.name.as_deref() == Some(n))
                .ok_or_else(|| format!("No operation named \"{n}\"")),
            None if self.operations.len() == 1 => Ok(&self.operations[0]),
            None if self.operations.is_empty() => Err("No operations in query document".into()),
            None => Err("An operation name is required".into()),
        }
    }

    /// The fields of a selection with fragment spreads and inline fragments flattened (one
    /// level of the response object).
    pub fn fields<'a>(&'a self, sel: &'a [Selection]) -> Vec<&'a Field> {
        let mut out = Vec::new();
        self.collect(sel, &mut out, 0);
        out
    }

    fn collect<'a>(&'a self, sel: &'a [Selection], out: &mut Vec<&'a Field>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for s in sel {
            match s {
                Selection::Field(f) => out.push(f),
                Selection::Spread(n) => {
                    if let Some((_, fs)) = self.fragments.get(n) {
                        self.collect(fs, out, depth + 1);
                    }
                }
                Selection::Inline { selection, .. } => self.collect(selection, out, depth + 1),
            }
        }
    }

    /// The first field called `name` in a selection (fragments included).
    pub fn field<'a>(&'a self, sel: &'a [Selection], name: &str) -> Option<&'a Field> {
        self.fields(sel).into_iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Punct(char),
    Spread,
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
}

/// A parse error in Shopify's words ("syntax error, unexpected ...").
pub type ParseError = String;

fn lex(src: &str) -> Result<Vec<Tok>, ParseError> {
    if src.len() > MAX_DOCUMENT {
        return Err("Query is too large".into());
    }
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            // A UTF-8 BOM.
            0xEF if b.get(i..i + 3) == Some(&[0xEF, 0xBB, 0xBF]) => i += 3,
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'.' => {
                if b.get(i..i + 3) == Some(b"...") {
                    out.push(Tok::Spread);
                    i += 3;
                } else {
                    return Err("syntax error, unexpected \".\"".into());
                }
            }
            b'!' | b'$' | b'&' | b'(' | b')' | b':' | b'=' | b'@' | b'[' | b']' | b'{' | b'|'
            | b'}' => {
                out.push(Tok::Punct(c as char));
                i += 1;
            }
            b'"' => {
                let (s, n) = if b.get(i..i + 3) == Some(b"\"\"\"") {
                    block_string(&src[i + 3..])?
                } else {
                    string(&src[i + 1..])?
                };
                out.push(Tok::Str(s));
                i += n + if b.get(i..i + 3) == Some(b"\"\"\"") {
                    3
                } else {
                    1
                };
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                let mut float = false;
                while i < b.len()
                    && (b[i].is_ascii_digit()
                        || b[i] == b'.'
                        || b[i] == b'e'
                        || b[i] == b'E'
                        || ((b[i] == b'+' || b[i] == b'-') && matches!(b[i - 1], b'e' | b'E')))
                {
                    float |= !b[i].is_ascii_digit();
                    i += 1;
                }
                let text = &src[start..i];
                let tok = if float {
                    text.parse().map(Tok::Float).ok()
                } else {
                    text.parse().map(Tok::Int).ok()
                };
                out.push(tok.ok_or_else(|| format!("syntax error, unexpected number \"{text}\""))?);
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                out.push(Tok::Name(src[start..i].to_string()));
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(format!("syntax error, unexpected character {ch:?}"));
            }
        }
    }
    Ok(out)
}

/// A `"…"` string body; returns the value and the bytes consumed including the closing quote.
fn string(rest: &str) -> Result<(String, usize), ParseError> {
    let mut out = String::new();
    let mut it = rest.char_indices();
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\n' | '\r' => break,
            '\\' => match it.next().map(|(_, e)| e) {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('/') => out.push('/'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = (0..4).filter_map(|_| it.next().map(|(_, h)| h)).collect();
                    let ch = u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or("syntax error, bad unicode escape")?;
                    out.push(ch);
                }
                _ => return Err("syntax error, bad escape in string".into()),
            },
            c => out.push(c),
        }
    }
    Err("syntax error, unterminated string".into())
}

/// A `"""…"""` body (after the opening quotes): raw text, `\"""` escapes the delimiter,
/// common indentation removed.
fn block_string(rest: &str) -> Result<(String, usize), ParseError> {
    let mut raw = String::new();
    let mut i = 0;
    let b = rest.as_bytes();
    while i < b.len() {
        if rest[i..].starts_with("\\\"\"\"") {
            raw.push_str("\"\"\"");
            i += 4;
        } else if rest[i..].starts_with("\"\"\"") {
            return Ok((dedent(&raw), i + 3));
        } else {
            let ch = rest[i..].chars().next().unwrap_or(' ');
            raw.push(ch);
            i += ch.len_utf8();
        }
    }
    Err("syntax error, unterminated block string".into())
}

fn dedent(raw: &str) -> String {
    let lines: Vec<&str> = raw.lines().collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            if n == 0 {
                l.to_string()
            } else {
                l.get(indent..).unwrap_or("").to_string()
            }
        })
        .collect();
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

pub fn parse(src: &str) -> Result<Document, ParseError> {
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
    };
    let mut doc = Document::default();
    while p.pos < p.toks.len() {
        match p.peek() {
            Some(Tok::Punct('{')) => {
                let selection = p.selection_set(0)?;
                doc.operations.push(Operation {
                    kind: OpKind::Query,
                    name: None,
                    defaults: HashMap::new(),
                    selection,
                });
            }
            Some(Tok::Name(n)) if n == "fragment" => {
                p.pos += 1;
                let name = p.name()?;
                p.keyword("on")?;
                let on = p.name()?;
                p.directives(0)?;
                let sel = p.selection_set(0)?;
                doc.fragments.insert(name, (on, sel));
            }
            Some(Tok::Name(n)) => {
                let kind = match n.as_str() {
                    "query" => OpKind::Query,
                    "mutation" => OpKind::Mutation,
                    "subscription" => OpKind::Subscription,
                    other => {
                        return Err(format!("syntax error, unexpected IDENTIFIER (\"{other}\")"));
                    }
                };
                p.pos += 1;
                let name = match p.peek() {
                    Some(Tok::Name(_)) => Some(p.name()?),
                    _ => None,
                };
                let defaults = if p.eat('(') {
                    p.variable_defs()?
                } else {
                    HashMap::new()
                };
                p.directives(0)?;
                let selection = p.selection_set(0)?;
                doc.operations.push(Operation {
                    kind,
                    name,
                    defaults,
                    selection,
                });
            }
            _ => return Err(p.unexpected()),
        }
    }
    validate(&doc)?;
    Ok(doc)
}

/// Refuses fragment cycles and documents that expand beyond [`MAX_EXPANDED`], so everything
/// that walks a document later is bounded.
fn validate(doc: &Document) -> Result<(), ParseError> {
    let mut memo: HashMap<&str, u64> = HashMap::new();
    let mut visiting: Vec<&str> = Vec::new();
    for op in &doc.operations {
        if expanded(doc, &op.selection, &mut memo, &mut visiting)? > MAX_EXPANDED {
            return Err("Query is too complex".into());
        }
    }
    for name in doc.fragments.keys() {
        fragment_size(doc, name, &mut memo, &mut visiting)?;
    }
    // As Shopify's validation: every fragment must be used by an operation.
    let mut used = Vec::new();
    for op in &doc.operations {
        spreads(doc, &op.selection, &mut used);
    }
    if let Some(unused) = doc.fragments.keys().find(|n| !used.contains(n)) {
        return Err(format!("Fragment {unused} was defined, but not used"));
    }
    Ok(())
}

/// Names of the fragments a selection reaches (cycles were refused before).
fn spreads<'a>(doc: &'a Document, sel: &'a [Selection], out: &mut Vec<&'a String>) {
    for s in sel {
        match s {
            Selection::Field(f) => spreads(doc, &f.selection, out),
            Selection::Spread(name) => {
                if let Some((k, (_, fs))) = doc.fragments.get_key_value(name)
                    && !out.contains(&k)
                {
                    out.push(k);
                    spreads(doc, fs, out);
                }
            }
            Selection::Inline { selection, .. } => spreads(doc, selection, out),
        }
    }
}

fn fragment_size<'a>(
    doc: &'a Document,
    name: &'a str,
    memo: &mut HashMap<&'a str, u64>,
    visiting: &mut Vec<&'a str>,
) -> Result<u64, ParseError> {
    if let Some(n) = memo.get(name) {
        return Ok(*n);
    }
    if visiting.contains(&name) {
        return Err(format!("Fragment {name} contains an infinite loop"));
    }
    let Some((_, sel)) = doc.fragments.get(name) else {
        return Err(format!("Fragment {name} was used, but not defined"));
    };
    visiting.push(name);
    let n = expanded(doc, sel, memo, visiting)?;
    visiting.pop();
    memo.insert(name, n);
    Ok(n)
}

fn expanded<'a>(
    doc: &'a Document,
    sel: &'a [Selection],
    memo: &mut HashMap<&'a str, u64>,
    visiting: &mut Vec<&'a str>,
) -> Result<u64, ParseError> {
    let mut n: u64 = 0;
    for s in sel {
        let add = match s {
            Selection::Field(f) => 1 + expanded(doc, &f.selection, memo, visiting)?,
            Selection::Spread(name) => fragment_size(doc, name, memo, visiting)?,
            Selection::Inline { selection, .. } => expanded(doc, selection, memo, visiting)?,
        };
        n = n.saturating_add(add);
        if n > MAX_EXPANDED {
            return Err("Query is too complex".into());
        }
    }
    Ok(n)
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn unexpected(&self) -> ParseError {
        match self.peek() {
            None => "syntax error, unexpected end of file".into(),
            Some(Tok::Punct(c)) => format!("syntax error, unexpected {c}"),
            Some(Tok::Spread) => "syntax error, unexpected ELLIPSIS".into(),
            Some(Tok::Name(n)) => format!("syntax error, unexpected IDENTIFIER (\"{n}\")"),
            Some(Tok::Int(_) | Tok::Float(_)) => "syntax error, unexpected number".into(),
            Some(Tok::Str(_)) => "syntax error, unexpected STRING".into(),
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ParseError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn name(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(Tok::Name(n)) => {
                let n = n.clone();
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn keyword(&mut self, k: &str) -> Result<(), ParseError> {
        match self.peek() {
            Some(Tok::Name(n)) if n == k => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `($a: Int = 1, $b: [String!]!)`, after the `(`; returns the defaults.
    fn variable_defs(&mut self) -> Result<HashMap<String, Value>, ParseError> {
        let mut defaults = HashMap::new();
        while !self.eat(')') {
            self.expect('$')?;
            let name = self.name()?;
            self.expect(':')?;
            self.type_ref(0)?;
            if self.eat('=') {
                defaults.insert(name, self.value(0, true)?);
            }
            self.directives(0)?;
        }
        Ok(defaults)
    }

    fn type_ref(&mut self, depth: usize) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            return Err("Query is nested too deeply".into());
        }
        if self.eat('[') {
            self.type_ref(depth + 1)?;
            self.expect(']')?;
        } else {
            self.name()?;
        }
        self.eat('!');
        Ok(())
    }

    fn directives(&mut self, depth: usize) -> Result<(), ParseError> {
        while self.eat('@') {
            self.name()?;
            if self.eat('(') {
                self.arguments(depth)?;
            }
        }
        Ok(())
    }

    /// `name: value, ...)`, after the `(`.
    fn arguments(&mut self, depth: usize) -> Result<Vec<(String, Value)>, ParseError> {
        let mut args = Vec::new();
        while !self.eat(')') {
            let n = self.name()?;
            self.expect(':')?;
            args.push((n, self.value(depth, false)?));
        }
        Ok(args)
    }

    fn value(&mut self, depth: usize, constant: bool) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err("Query is nested too deeply".into());
        }
        let tok = self.peek().cloned().ok_or_else(|| self.unexpected())?;
        self.pos += 1;
        Ok(match tok {
            Tok::Punct('$') if !constant => Value::Var(self.name()?),
            Tok::Int(i) => Value::Int(i),
            Tok::Float(f) => Value::Float(f),
            Tok::Str(s) => Value::Str(s),
            Tok::Name(n) => match n.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => Value::Enum(n),
            },
            Tok::Punct('[') => {
                let mut l = Vec::new();
                while !self.eat(']') {
                    l.push(self.value(depth + 1, constant)?);
                }
                Value::List(l)
            }
            Tok::Punct('{') => {
                let mut o = Vec::new();
                while !self.eat('}') {
                    let k = self.name()?;
                    self.expect(':')?;
                    o.push((k, self.value(depth + 1, constant)?));
                }
                Value::Object(o)
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected());
            }
        })
    }

    fn selection_set(&mut self, depth: usize) -> Result<Vec<Selection>, ParseError> {
        if depth > MAX_DEPTH {
            return Err("Query is nested too deeply".into());
        }
        self.expect('{')?;
        let mut out = Vec::new();
        while !self.eat('}') {
            if self.peek() == Some(&Tok::Spread) {
                self.pos += 1;
                match self.peek() {
                    Some(Tok::Name(n)) if n != "on" => {
                        let n = self.name()?;
                        self.directives(depth)?;
                        out.push(Selection::Spread(n));
                    }
                    _ => {
                        let on = match self.peek() {
                            Some(Tok::Name(n)) if n == "on" => {
                                self.pos += 1;
                                Some(self.name()?)
                            }
                            _ => None,
                        };
                        self.directives(depth)?;
                        let selection = self.selection_set(depth + 1)?;
                        out.push(Selection::Inline { on, selection });
                    }
                }
                continue;
            }
            let first = self.name()?;
            let (alias, name) = if self.eat(':') {
                (Some(first), self.name()?)
            } else {
                (None, first)
            };
            let args = if self.eat('(') {
                self.arguments(depth)?
            } else {
                Vec::new()
            };
            self.directives(depth)?;
            let selection = if self.peek() == Some(&Tok::Punct('{')) {
                self.selection_set(depth + 1)?
            } else {
                Vec::new()
            };
            out.push(Selection::Field(Field {
                alias,
                name,
                args,
                selection,
            }));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_operations_fragments_arguments_and_ignores_comments() {
        let q = r#"
            # a comment with { braces } and "quotes"
            query Orders($first: Int = 7, $q: String) @dir {
              o: orders(first: $first, query: $q, sortKey: UPDATED_AT, reverse: true) {
                edges { cursor node { ...F } }
              }
            }
            fragment F on Order { id note(x: "a \"}\" b", y: """ block "quoted" """, z: [1, 2.5, {k: null}]) ... on Order { name } }
        "#;
        let d = parse(q).unwrap();
        let op = d.operation(None).unwrap();
        assert_eq!(op.kind, OpKind::Query);
        let f = d.field(&op.selection, "orders").unwrap();
        assert_eq!(f.key(), "o");
        let vars = json!({ "q": "updated_at:>x" });
        assert_eq!(
            f.arg("first").unwrap().resolve(&vars, &op.defaults),
            json!(7)
        );
        assert_eq!(
            f.arg("query").unwrap().resolve(&vars, &op.defaults),
            json!("updated_at:>x")
        );
        assert_eq!(f.arg("sortKey").unwrap(), &Value::Enum("UPDATED_AT".into()));
        let node = d
            .field(&d.field(&f.selection, "edges").unwrap().selection, "node")
            .unwrap();
        let names: Vec<_> = d
            .fields(&node.selection)
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names, ["id", "note", "name"]);
        let note = d.field(&node.selection, "note").unwrap();
        assert_eq!(note.arg("x"), Some(&Value::Str("a \"}\" b".into())));
        // A one-line block string keeps its spaces (only lines after the first are dedented).
        assert_eq!(
            note.arg("y"),
            Some(&Value::Str(" block \"quoted\" ".into()))
        );
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        for bad in [
            "{ orders(first: 1 }",
            "{ orders",
            "query { a(b: \"unterminated) }",
            "{ a(b: $) }",
            "…",
            "{ a ... }",
            "mutation",
            "fragment F on { a }",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}{}", "{ a ".repeat(200), "}".repeat(200));
        assert!(parse(&deep).is_err());
        // Fragment cycles and fragments that multiply are refused before anything walks them.
        assert!(parse("{ ...A } fragment A on Q { a { ...A } }").is_err());
        assert!(parse("{ ...Missing }").is_err());
        assert_eq!(
            parse("{ a } fragment F on Q { b }").unwrap_err(),
            "Fragment F was defined, but not used"
        );
        let mut bomb = String::from("{ ...F0 }");
        for i in 0..40 {
            bomb.push_str(&format!(
                " fragment F{i} on Q {{ x ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        bomb.push_str(" fragment F40 on Q { y }");
        assert_eq!(parse(&bomb).unwrap_err(), "Query is too complex");
        assert!(
            parse("query A { a } query B { b }")
                .unwrap()
                .operation(None)
                .is_err()
        );
    }
}
