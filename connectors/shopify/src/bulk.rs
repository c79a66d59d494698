//! Reading a bulk operation's result: a JSONL stream where each order is one line and each of
//! its line items a later line carrying `__parentId` (the order's gid). With
//! `groupObjects: true` the children follow their parent directly, so an order is complete
//! when the next order (or the end) arrives: the stream is read line by line with bounded
//! memory (one order and its lines, and lines of at most [`MAX_LINE`] bytes).

use ordersync_sdk::ConnectorError;
use serde_json::{Map, Value};
use std::time::Duration;

/// Longest JSONL line accepted (an order line is a few KiB).
pub const MAX_LINE: usize = 1 << 20;
/// A download that sends nothing for this long is dropped (and re-opened by the next pull).
const CHUNK_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a bulk result cannot be used as it is.
#[derive(Debug)]
pub enum ReadError {
    /// The transfer broke: re-open and skip to where we were.
    Transport(ConnectorError),
    /// The file is not what we asked for (ungrouped children, bad JSON, a huge line): use the
    /// paged pull instead. The reason names no content.
    Unusable(&'static str),
}

/// Lines of a streamed HTTP body.
pub struct Lines {
    resp: reqwest::Response,
    buf: Vec<u8>,
    start: usize,
    eof: bool,
}

impl Lines {
    pub fn new(resp: reqwest::Response) -> Self {
        Self {
            resp,
            buf: Vec::new(),
            start: 0,
            eof: false,
        }
    }

    /// The next non-empty line, without its newline; `None` at the end.
    pub async fn next_line(&mut self) -> Result<Option<Vec<u8>>, ReadError> {
        loop {
            if let Some(i) = self.buf[self.start..].iter().position(|b| *b == b'\n') {
                let line = self.buf[self.start..self.start + i].to_vec();
                self.start += i + 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(line));
            }
            if self.buf.len() - self.start > MAX_LINE {
                return Err(ReadError::Unusable("bulk result line too long"));
            }
            if self.eof {
                let rest = self.buf.split_off(self.start);
                self.buf.clear();
                self.start = 0;
                return Ok((!rest.iter().all(u8::is_ascii_whitespace)).then_some(rest));
            }
            // Keep the buffer to one partial line.
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            match tokio::time::timeout(CHUNK_TIMEOUT, self.resp.chunk()).await {
                Err(_) => {
                    return Err(ReadError::Transport(ConnectorError::retriable(
                        "bulk download stalled",
                    )));
                }
                Ok(Err(e)) => return Err(ReadError::Transport(ConnectorError::from_transport(&e))),
                Ok(Ok(None)) => self.eof = true,
                Ok(Ok(Some(chunk))) => self.buf.extend_from_slice(&chunk),
            }
        }
    }
}

/// Orders of a bulk result, each reassembled into the shape of a paged `orders` node
/// (`lineItems: { nodes: [...] }`), so one mapping serves both.
pub struct BulkReader {
    /// The operation's gid.
    pub id: String,
    /// Orders handed out so far.
    pub offset: u64,
    lines: Lines,
    pending: Option<(Map<String, Value>, Children)>,
    done: bool,
}

const LINE_ITEM_GID: &str = "gid://shopify/LineItem/";
const SHIPPING_LINE_GID: &str = "gid://shopify/ShippingLine/";

/// An order's child objects of a bulk result, by connection.
#[derive(Default)]
struct Children {
    lines: Vec<Value>,
    shipping: Vec<Value>,
    discounts: Vec<Value>,
}

impl BulkReader {
    pub fn new(id: String, resp: reqwest::Response) -> Self {
        Self {
            id,
            offset: 0,
            lines: Lines::new(resp),
            pending: None,
            done: false,
        }
    }

    /// Whether every order has been handed out.
    pub fn finished(&self) -> bool {
        self.done && self.pending.is_none()
    }

    /// The next complete order, `None` at the end.
    pub async fn next_order(&mut self) -> Result<Option<Value>, ReadError> {
        loop {
            if self.done {
                let out = self.pending.take().map(assemble);
                if out.is_some() {
                    self.offset += 1;
                }
                return Ok(out);
            }
            let Some(line) = self.lines.next_line().await? else {
                self.done = true;
                continue;
            };
            let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(&line) else {
                return Err(ReadError::Unusable("bulk result line is not a JSON object"));
            };
            match obj.remove("__parentId") {
                Some(Value::String(parent)) => {
                    let Some((order, children)) = self.pending.as_mut() else {
                        return Err(ReadError::Unusable("bulk result child before any parent"));
                    };
                    if order.get("id").and_then(Value::as_str) != Some(parent.as_str()) {
                        // Ungrouped output: the parent is not the order being read.
                        return Err(ReadError::Unusable("bulk result is not grouped"));
                    }
                    let id = obj.get("id").and_then(Value::as_str).unwrap_or("");
                    let typename = obj.get("__typename").and_then(Value::as_str).unwrap_or("");
                    if id.starts_with(LINE_ITEM_GID) {
                        children.lines.push(Value::Object(obj));
                    } else if id.starts_with(SHIPPING_LINE_GID) {
                        children.shipping.push(Value::Object(obj));
                    } else if typename.ends_with("DiscountApplication") {
                        children.discounts.push(Value::Object(obj));
                    }
                }
                Some(_) => {
                    return Err(ReadError::Unusable(
                        "bulk result __parentId is not a string",
                    ));
                }
                None => {
                    let prev = self.pending.replace((obj, Children::default()));
                    if let Some(p) = prev {
                        self.offset += 1;
                        return Ok(Some(assemble(p)));
                    }
                }
            }
        }
    }
}

fn assemble((mut order, c): (Map<String, Value>, Children)) -> Value {
    for (field, nodes) in [
        ("lineItems", c.lines),
        ("shippingLines", c.shipping),
        ("discountApplications", c.discounts),
    ] {
        order.insert(
            field.into(),
            serde_json::json!({ "nodes": nodes, "pageInfo": { "hasNextPage": false, "endCursor": null } }),
        );
    }
    Value::Object(order)
}

/// A page token of a bulk read: `bulk:{offset}:{operation gid}`.
pub fn token(offset: u64, id: &str) -> String {
    format!("bulk:{offset}:{id}")
}

pub fn parse_token(t: &str) -> Option<(u64, &str)> {
    let (offset, id) = t.strip_prefix("bulk:")?.split_once(':')?;
    if !id.starts_with("gid://shopify/BulkOperation/") {
        return None;
    }
    Some((offset.parse().ok()?, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let id = "gid://shopify/BulkOperation/42";
        assert_eq!(parse_token(&token(250, id)), Some((250, id)));
        assert_eq!(parse_token("bulk:x:gid://shopify/BulkOperation/1"), None);
        assert_eq!(parse_token("bulk:1:gid://shopify/Order/1"), None);
        assert_eq!(parse_token("eyJsYXN0X2lkIjo0fQ"), None);
    }

    fn reader(body: &'static str) -> BulkReader {
        let resp = reqwest::Response::from(http::Response::new(body));
        BulkReader::new("gid://shopify/BulkOperation/1".into(), resp)
    }

    #[tokio::test]
    async fn children_are_reassembled_under_their_parent() {
        let mut r = reader(concat!(
            "{\"id\":\"gid://shopify/Order/1\",\"name\":\"#1\"}\n",
            "{\"id\":\"gid://shopify/LineItem/10\",\"__parentId\":\"gid://shopify/Order/1\"}\n",
            "{\"id\":\"gid://shopify/LineItem/11\",\"__parentId\":\"gid://shopify/Order/1\"}\n",
            "\n",
            "{\"id\":\"gid://shopify/Order/2\"}\n",
            "{\"id\":\"gid://shopify/LineItem/20\",\"__parentId\":\"gid://shopify/Order/2\"}"
        ));
        let a = r.next_order().await.unwrap().unwrap();
        assert_eq!(a["lineItems"]["nodes"].as_array().unwrap().len(), 2);
        assert!(a["lineItems"]["nodes"][0].get("__parentId").is_none());
        let b = r.next_order().await.unwrap().unwrap();
        assert_eq!(b["id"], "gid://shopify/Order/2");
        assert_eq!(
            b["lineItems"]["nodes"][0]["id"],
            "gid://shopify/LineItem/20"
        );
        assert!(r.next_order().await.unwrap().is_none());
        assert!(r.finished());
        assert_eq!(r.offset, 2);
    }

    #[tokio::test]
    async fn ungrouped_or_broken_output_is_unusable() {
        let mut r = reader(concat!(
            "{\"id\":\"gid://shopify/Order/1\"}\n",
            "{\"id\":\"gid://shopify/Order/2\"}\n",
            "{\"id\":\"gid://shopify/LineItem/10\",\"__parentId\":\"gid://shopify/Order/1\"}\n",
        ));
        assert!(r.next_order().await.unwrap().is_some());
        assert!(matches!(r.next_order().await, Err(ReadError::Unusable(_))));
        let mut r = reader("{\"id\":\"gid://shopify/Order/1\"}\nnot json\n");
        assert!(matches!(r.next_order().await, Err(ReadError::Unusable(_))));
    }
}
