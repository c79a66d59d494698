//! The list query of a pull window and its page tokens.
//!
//! **Why not `page=2, 3, …`.** Offset pages over a live set shift: when an order of page 1 is
//! modified while page 2 is read, it leaves the window (its new `date_modified` is after the
//! window's end) and every later order moves up one place, so the first order of page 2 slides
//! onto page 1 and is never read. So every request is page 1 of a query that starts where the
//! last page ended (a keyset): the token carries the last `date_modified_gmt` second seen and
//! the ids already read at that second. The next query asks for `modified_after = that second
//! − 1 s` (`after` is exclusive and second-granular, so this includes the second itself) and
//! `exclude`s the ids already read there. Nothing an edit does can shift an unread order past
//! the token: unread orders are all at or after its second and none is excluded.
//!
//! A second holding more orders than [`MAX_EXCLUDE`] (a bulk edit) switches to `offset` within
//! that second, which keeps the URL short; only there an edit of that very second can shift.
//!
//! Dates go out as naive UTC digits (`2026-11-20T10:00:00`) with `dates_are_gmt=true`:
//! without it WooCommerce compares them with the site-local column, and with an offset it
//! converts them to site time first, so only this form means UTC in every version.

use crate::config::WooConfig;
use ordersync_sdk::ConnectorError;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// Most ids one query excludes before switching to an offset.
pub const MAX_EXCLUDE: usize = 500;

/// Where the next page of a window starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Unix second of the last `date_modified_gmt` read.
    pub second: i64,
    /// Orders already read at that second: their ids, or (`offset` mode) how many.
    pub seen: Seen,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Ids(Vec<u64>),
    Count(u64),
}

impl Token {
    pub fn encode(&self) -> String {
        match &self.seen {
            Seen::Ids(ids) => {
                let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
                format!("k1:{}:{}", self.second, ids.join(","))
            }
            Seen::Count(n) => format!("k1:{}:+{n}", self.second),
        }
    }

    pub fn decode(s: &str) -> Result<Token, ConnectorError> {
        let bad = || ConnectorError::permanent("invalid page token");
        let rest = s.strip_prefix("k1:").ok_or_else(bad)?;
        let (second, seen) = rest.split_once(':').ok_or_else(bad)?;
        let second: i64 = second.parse().map_err(|_| bad())?;
        let seen = match seen.strip_prefix('+') {
            Some(n) => Seen::Count(n.parse().map_err(|_| bad())?),
            None if seen.is_empty() => Seen::Ids(vec![]),
            None => Seen::Ids(
                seen.split(',')
                    .map(|x| x.parse::<u64>().map_err(|_| bad()))
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Token { second, seen })
    }

    /// The token after a page whose orders had these `(modified second, id)` keys, oldest
    /// first; `None` for an empty page (the token stays).
    pub fn after_page(prev: Option<&Token>, keys: &[(i64, u64)]) -> Option<Token> {
        let last = keys.last()?.0;
        let here = keys.iter().filter(|k| k.0 == last).map(|k| k.1);
        let seen = match prev {
            Some(p) if p.second == last => match &p.seen {
                Seen::Ids(ids) => {
                    let mut all = ids.clone();
                    all.extend(here);
                    Seen::Ids(all)
                }
                Seen::Count(n) => Seen::Count(n + here.count() as u64),
            },
            _ => Seen::Ids(here.collect()),
        };
        let seen = match seen {
            Seen::Ids(ids) if ids.len() > MAX_EXCLUDE => Seen::Count(ids.len() as u64),
            s => s,
        };
        Some(Token { second: last, seen })
    }
}

/// `2026-11-20T10:00:00`: UTC digits, no offset (see the module docs).
pub fn wp_time(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.to_offset(UtcOffset::UTC).format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00".into())
}

/// The query of one page of the window `[since, until]` after `token`.
pub fn list_query(
    cfg: &WooConfig,
    since: Option<OffsetDateTime>,
    until: OffsetDateTime,
    token: Option<&Token>,
) -> Vec<(&'static str, String)> {
    // `after`/`before` are exclusive and whole seconds: one second of slack on each side.
    let from = token
        .map(|t| t.second)
        .or_else(|| since.map(|s| s.unix_timestamp()));
    let mut q = Vec::with_capacity(12);
    if let Some(f) = from {
        q.push(("modified_after", wp_time(f.saturating_sub(1))));
    }
    q.push((
        "modified_before",
        wp_time(until.unix_timestamp().saturating_add(1)),
    ));
    q.push(("dates_are_gmt", "true".into()));
    q.push(("orderby", "modified".into()));
    q.push(("order", "asc".into()));
    q.push(("per_page", cfg.page_size.to_string()));
    q.push(("page", "1".into()));
    q.push(("status", cfg.statuses().join(",")));
    match token.map(|t| &t.seen) {
        Some(Seen::Ids(ids)) if !ids.is_empty() => {
            let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
            q.push(("exclude", ids.join(",")));
        }
        Some(Seen::Count(n)) => q.push(("offset", n.to_string())),
        _ => {}
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        for t in [
            Token {
                second: 1_795_000_000,
                seen: Seen::Ids(vec![1001, 1002]),
            },
            Token {
                second: 5,
                seen: Seen::Count(700),
            },
            Token {
                second: 5,
                seen: Seen::Ids(vec![]),
            },
        ] {
            assert_eq!(Token::decode(&t.encode()).unwrap(), t);
        }
        for bad in ["", "k1:", "k1:x:1", "k1:5:a,b", "page:2", "k1:5:+x"] {
            assert!(Token::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_tokens_accumulate_ids_of_one_second_then_count() {
        let t = Token::after_page(None, &[(10, 1), (11, 2), (11, 3)]).unwrap();
        assert_eq!(t.seen, Seen::Ids(vec![2, 3]));
        let t2 = Token::after_page(Some(&t), &[(11, 4)]).unwrap();
        assert_eq!(t2.seen, Seen::Ids(vec![2, 3, 4]));
        let t3 = Token::after_page(Some(&t2), &[(11, 5), (12, 6)]).unwrap();
        assert_eq!((t3.second, t3.seen), (12, Seen::Ids(vec![6])));
        let many: Vec<(i64, u64)> = (0..=MAX_EXCLUDE as u64).map(|i| (20, i)).collect();
        let big = Token::after_page(None, &many).unwrap();
        assert_eq!(big.seen, Seen::Count(MAX_EXCLUDE as u64 + 1));
        let more = Token::after_page(Some(&big), &[(20, 9999)]).unwrap();
        assert_eq!(more.seen, Seen::Count(MAX_EXCLUDE as u64 + 2));
        assert!(Token::after_page(Some(&big), &[]).is_none());
    }

    #[test]
    fn queries_use_naive_utc_with_a_second_of_slack() {
        let cfg: WooConfig = serde_json::from_value(
            serde_json::json!({"store_url": "https://s.example", "page_size": 50}),
        )
        .unwrap();
        let until = OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
            + time::Duration::milliseconds(700);
        let since = until - time::Duration::hours(1);
        let q = list_query(&cfg, Some(since), until, None);
        let get = |k: &str| q.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("modified_after"), Some("2026-11-18T10:06:39"));
        assert_eq!(get("modified_before"), Some("2026-11-18T11:06:41"));
        assert_eq!(get("dates_are_gmt"), Some("true"));
        assert_eq!(get("per_page"), Some("50"));
        assert!(get("status").unwrap().contains("trash"));
        assert_eq!(get("exclude"), None);
        let tok = Token {
            second: 1_795_000_100,
            seen: Seen::Ids(vec![7, 8]),
        };
        let q = list_query(&cfg, Some(since), until, Some(&tok));
        let get = |k: &str| q.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("modified_after"), Some("2026-11-18T11:08:19"));
        assert_eq!(get("exclude"), Some("7,8"));
        let full = list_query(&cfg, None, until, None);
        assert!(!full.iter().any(|(k, _)| *k == "modified_after"));
    }
}
