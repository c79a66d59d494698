//! `order.*` webhooks: `X-WC-Webhook-Signature = base64(HMAC-SHA256(key, raw body))` where the
//! key is the webhook secret after `wp_specialchars_decode(secret, ENT_QUOTES)` (WordPress
//! stores a typed `&` as `&amp;`; decoding an already plain secret changes nothing).
//!
//! When a webhook is created WooCommerce POSTs `webhook_id=N` (form-encoded, unsigned) and
//! disables the webhook unless the answer is exactly 200: that ping is acknowledged
//! ([`WebhookHint::ack`]) and asks for nothing. Anything else unsigned is refused.

use ordersync_sdk::{WebhookError, WebhookHint, webhooks};
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-wc-webhook-signature";

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// WordPress's `wp_specialchars_decode($s, ENT_QUOTES)`: one pass over `&amp; &lt; &gt;
/// &quot;` and the numeric forms of `& < > " '` (`&#038;`, `&#x26;`, `&#039;`, …).
pub fn specialchars_decode(s: &str) -> String {
    const NAMED: &[(&str, char)] = &[
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&quot;", '"'),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'scan: while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        for (e, c) in NAMED {
            if let Some(r) = rest.strip_prefix(e) {
                out.push(*c);
                rest = r;
                continue 'scan;
            }
        }
        if let Some((c, len)) = numeric_entity(rest) {
            out.push(c);
            rest = &rest[len..];
            continue;
        }
        out.push('&');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// `&#0*39;`-style entities of the five characters WordPress decodes: (char, length).
fn numeric_entity(s: &str) -> Option<(char, usize)> {
    let body = s.strip_prefix("&#")?;
    let end = body.find(';')?;
    let digits = &body[..end];
    let (hex, digits) = match digits.strip_prefix(['x', 'X']) {
        Some(d) => (true, d),
        None => (false, digits),
    };
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let v = u32::from_str_radix(digits, if hex { 16 } else { 10 }).ok()?;
    let c = match v {
        0x26 => '&',
        0x22 => '"',
        0x27 => '\'',
        // Only the decimal forms of `<` and `>` are in WordPress's table.
        0x3c if !hex => '<',
        0x3e if !hex => '>',
        _ => return None,
    };
    Some((c, 2 + end + 1))
}

/// The unsigned creation ping: a form body `webhook_id=<digits>` and nothing else.
fn ping_id(raw_body: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(raw_body).ok()?.trim();
    let id = s.strip_prefix("webhook_id=")?;
    (!id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// Verifies over the raw bytes before parsing anything. The dedupe key is a digest of topic
/// and signed body: `X-WC-Webhook-Delivery-ID` is not an event id and not signed, and the
/// body carries `date_modified_gmt`, so a replay is a duplicate and a new change is not.
pub fn verify(
    headers: &HeaderMap,
    raw_body: &[u8],
    secret: &[u8],
) -> Result<WebhookHint, WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    let Some(sig) = header(headers, SIGNATURE_HEADER) else {
        return match ping_id(raw_body) {
            Some(id) => Ok(WebhookHint::ack(format!("ping:{id}"))),
            None => Err(WebhookError::BadSignature),
        };
    };
    let key = specialchars_decode(&String::from_utf8_lossy(secret));
    if !webhooks::verify_base64(key.as_bytes(), raw_body, sig) {
        return Err(WebhookError::BadSignature);
    }
    if let Some(id) = ping_id(raw_body) {
        return Ok(WebhookHint::ack(format!("ping:{id}")));
    }
    let topic = header(headers, "x-wc-webhook-topic")
        .ok_or_else(|| WebhookError::Malformed("missing X-WC-Webhook-Topic".into()))?;
    let body: serde_json::Value = serde_json::from_slice(raw_body)
        .map_err(|_| WebhookError::Malformed("body is not JSON".into()))?;
    let external_id = match body.get("id") {
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let mut h = Sha256::new();
    h.update(topic.as_bytes());
    h.update([0]);
    h.update(raw_body);
    let dedupe_key = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(WebhookHint {
        dedupe_key,
        topic: topic.to_string(),
        external_id,
        privacy: None,
    })
}

/// What WooCommerce would send as `X-WC-Webhook-Signature` for `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    webhooks::sign_base64(specialchars_decode(secret).as_bytes(), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordpress_decodes_only_its_five_characters_once() {
        assert_eq!(specialchars_decode("a&amp;b"), "a&b");
        assert_eq!(specialchars_decode("&amp;amp;"), "&amp;");
        assert_eq!(specialchars_decode("&#039;&#39;&#x27;&#X0027;"), "''''");
        assert_eq!(
            specialchars_decode("&#060;&lt;&#x3c;&quot;&#034;"),
            "<<&#x3c;\"\""
        );
        assert_eq!(specialchars_decode("&copy; & &#;"), "&copy; & &#;");
        assert_eq!(specialchars_decode("plain-secret"), "plain-secret");
    }

    #[test]
    fn pings_are_acknowledged_orders_must_be_signed() {
        let none = HeaderMap::new();
        let hint = verify(&none, b"webhook_id=42", b"s").unwrap();
        assert!(hint.is_ack());
        assert_eq!(hint.dedupe_key, "ping:42");
        for body in [
            &b"webhook_id="[..],
            b"webhook_id=4x",
            b"{\"id\":1}",
            b"webhook_id=1&x=2",
        ] {
            assert_eq!(verify(&none, body, b"s"), Err(WebhookError::BadSignature));
        }
        assert_eq!(
            verify(&none, b"webhook_id=42", b""),
            Err(WebhookError::BadSignature)
        );
    }
}
