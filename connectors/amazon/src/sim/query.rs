//! The query of a search: parameters (comma lists or repeated), dates, `includedData`, the
//! filters with Amazon's rules on them, and the pagination token that ties a page to them.

// Parsers answer early with the platform's own error response; boxing it gains nothing.
#![allow(clippy::result_large_err)]

use super::errors::invalid_input;
use super::order::SimOrder;
use super::render::Included;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Amazon's rule on `…Before`.
const MIN_AGE_SECS: i64 = 120;

/// Query parameters, each with every value given (comma lists split).
pub fn params(raw: Option<&str>) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let array = k_is_array(&k);
        let e = m.entry(k.into_owned()).or_default();
        if array {
            e.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            );
        } else {
            e.push(v.into_owned());
        }
    }
    m
}

pub fn k_is_array(k: &str) -> bool {
    matches!(
        k,
        "marketplaceIds" | "includedData" | "fulfillmentStatuses" | "fulfilledBy"
    )
}

pub fn one<'a>(p: &'a BTreeMap<String, Vec<String>>, k: &str) -> Option<&'a str> {
    p.get(k).and_then(|v| v.first()).map(String::as_str)
}

/// ISO 8601: RFC 3339, or a date-time without offset (taken as UTC, as Python's
/// `isoformat()` of a naive datetime sends it).
pub fn parse_date(s: &str) -> Option<i64> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

pub fn included(p: &BTreeMap<String, Vec<String>>) -> Result<Included, Response> {
    let mut inc = Included::default();
    for d in p.get("includedData").into_iter().flatten() {
        if !inc.set(d) {
            return Err(invalid_input(&format!(
                "{} is not a valid value for includedData.",
                safe(d)
            )));
        }
    }
    Ok(inc)
}

/// Echoes only harmless characters of a request value into a message.
pub fn safe(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_-:.".contains(*c))
        .take(40)
        .collect()
}

/// The filters of a search, and what a pagination token must repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub by_created: bool,
    pub after: i64,
    pub before: i64,
    pub marketplaces: Vec<String>,
    pub statuses: Vec<String>,
    pub fulfilled_by: Vec<String>,
}

impl Filter {
    pub fn fingerprint(&self) -> u64 {
        // FNV-1a: stable across runs, unlike std's hasher.
        let text = format!(
            "{}|{}|{}|{}|{}|{}",
            self.by_created,
            self.after,
            self.before,
            self.marketplaces.join(","),
            self.statuses.join(","),
            self.fulfilled_by.join(",")
        );
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    pub fn matches(&self, o: &SimOrder) -> bool {
        let t = if self.by_created {
            o.created
        } else {
            o.updated
        };
        t >= self.after
            && t <= self.before
            && self.marketplaces.iter().any(|m| m == o.market.id)
            && (self.statuses.is_empty() || self.statuses.iter().any(|s| s == o.status.as_str()))
            && (self.fulfilled_by.is_empty()
                || self
                    .fulfilled_by
                    .iter()
                    .any(|f| f == if o.afn { "AMAZON" } else { "MERCHANT" }))
    }
}

/// `nextToken`: position, filters and issue time, opaque to clients.
pub fn encode_token(fp: u64, key: (i64, u64), issued: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1.{fp:x}.{}.{}.{issued}", key.0, key.1))
}

pub fn decode_token(t: &str) -> Option<(u64, (i64, u64), i64)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')).ok()?).ok()?;
    let mut it = raw.split('.');
    if it.next()? != "v1" {
        return None;
    }
    let fp = u64::from_str_radix(it.next()?, 16).ok()?;
    let k0 = it.next()?.parse().ok()?;
    let k1 = it.next()?.parse().ok()?;
    let issued = it.next()?.parse().ok()?;
    Some((fp, (k0, k1), issued))
}

pub fn filter_of(p: &BTreeMap<String, Vec<String>>, now: i64) -> Result<Filter, Response> {
    let created_after = one(p, "createdAfter");
    let created_before = one(p, "createdBefore");
    let updated_after = one(p, "lastUpdatedAfter");
    let updated_before = one(p, "lastUpdatedBefore");
    let by_created = match (created_after, updated_after) {
        (Some(_), None) => true,
        (None, Some(_)) => false,
        _ => {
            return Err(invalid_input(
                "Exactly one of createdAfter and lastUpdatedAfter must be provided.",
            ));
        }
    };
    if by_created && updated_before.is_some() {
        return Err(invalid_input(
            "lastUpdatedBefore cannot be provided with createdAfter.",
        ));
    }
    if !by_created && created_before.is_some() {
        return Err(invalid_input(
            "createdBefore cannot be provided with lastUpdatedAfter.",
        ));
    }
    let (after_name, before_name, after, before) = if by_created {
        (
            "createdAfter",
            "createdBefore",
            created_after,
            created_before,
        )
    } else {
        (
            "lastUpdatedAfter",
            "lastUpdatedBefore",
            updated_after,
            updated_before,
        )
    };
    let after = after
        .and_then(parse_date)
        .ok_or_else(|| invalid_input(&format!("{after_name} must be an ISO 8601 date-time.")))?;
    let latest = now - MIN_AGE_SECS;
    let before = match before {
        None => latest,
        Some(b) => {
            let b = parse_date(b).ok_or_else(|| {
                invalid_input(&format!("{before_name} must be an ISO 8601 date-time."))
            })?;
            if b > latest {
                return Err(invalid_input(&format!(
                    "{before_name} must be at least two minutes before the time of the request."
                )));
            }
            b
        }
    };
    if before < after {
        return Err(invalid_input(&format!(
            "{before_name} must be equal to or after {after_name}."
        )));
    }
    let mut marketplaces = p.get("marketplaceIds").cloned().unwrap_or_default();
    if marketplaces.is_empty() {
        return Err(invalid_input("marketplaceIds is required."));
    }
    if marketplaces.len() > 50 {
        return Err(invalid_input("marketplaceIds accepts at most 50 values."));
    }
    if let Some(bad) = marketplaces
        .iter()
        .find(|m| crate::marketplaces::by_id(m).is_none())
    {
        return Err(invalid_input(&format!(
            "{} is not a valid marketplace id.",
            safe(bad)
        )));
    }
    marketplaces.sort();
    marketplaces.dedup();
    let mut statuses = p.get("fulfillmentStatuses").cloned().unwrap_or_default();
    const STATUSES: [&str; 7] = [
        "PENDING_AVAILABILITY",
        "PENDING",
        "UNSHIPPED",
        "PARTIALLY_SHIPPED",
        "SHIPPED",
        "CANCELLED",
        "UNFULFILLABLE",
    ];
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        return Err(invalid_input(&format!(
            "{} is not a valid value for fulfillmentStatuses.",
            safe(bad)
        )));
    }
    statuses.sort();
    let mut fulfilled_by = p.get("fulfilledBy").cloned().unwrap_or_default();
    if let Some(bad) = fulfilled_by
        .iter()
        .find(|s| !["MERCHANT", "AMAZON"].contains(&s.as_str()))
    {
        return Err(invalid_input(&format!(
            "{} is not a valid value for fulfilledBy.",
            safe(bad)
        )));
    }
    fulfilled_by.sort();
    Ok(Filter {
        by_created,
        after,
        before,
        marketplaces,
        statuses,
        fulfilled_by,
    })
}

pub fn has_filters(p: &BTreeMap<String, Vec<String>>) -> bool {
    ["createdAfter", "lastUpdatedAfter"]
        .iter()
        .any(|k| p.contains_key(*k))
}
