//! getOrders' `filter` parameter, with eBay's rules and error ids:
//! `creationdate:[from..to]`, `lastmodifieddate:[from..to]` (inclusive, ISO 8601 UTC with
//! milliseconds, the end optional) and `orderfulfillmentstatus:{A|B}`, comma-separated.
//! **If both dates are given only `creationdate` is used** (the spec's trap). A range may span
//! at most two years and may not reach into the future.

use crate::client::parse_millis;

/// One `lastmodifieddate` or `creationdate` range, in milliseconds, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: i64,
    pub to: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFilter {
    /// No date criterion: orders created in the last 90 days.
    Default,
    Created(Range),
    Modified(Range),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub dates: DateFilter,
    /// `orderfulfillmentstatus`: the statuses asked for.
    pub fulfillment: Option<Vec<String>>,
}

/// A request error: eBay's `errorId` and the parameter it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub id: i64,
    pub message: &'static str,
    pub parameter: String,
}

const TWO_YEARS_MS: i64 = 730 * 86_400_000;

fn err(id: i64, message: &'static str, parameter: &str) -> FilterError {
    FilterError {
        id,
        message,
        parameter: parameter.to_string(),
    }
}

/// `[from..to]` or `[from..]`.
fn range(name: &str, v: &str, now: i64) -> Result<Range, FilterError> {
    let inner = v
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| err(30800, "Invalid filter value", name))?;
    let (from, to) = inner
        .split_once("..")
        .ok_or_else(|| err(30800, "Invalid filter value", name))?;
    if from.is_empty() {
        return Err(err(30820, "Start date is missing", name));
    }
    let from = parse_millis(from).ok_or_else(|| err(30810, "Invalid date format", name))?;
    let to = if to.is_empty() {
        now
    } else {
        parse_millis(to).ok_or_else(|| err(30810, "Invalid date format", name))?
    };
    if from > to {
        return Err(err(30840, "Start date should be before end date", name));
    }
    if from > now || to > now {
        return Err(err(
            30850,
            "Start and end dates can't be in the future",
            name,
        ));
    }
    if to - from > TWO_YEARS_MS {
        return Err(err(
            30830,
            "Time range between start date and end date must be within '2' years.",
            name,
        ));
    }
    Ok(Range { from, to })
}

/// Parses the decoded `filter` value.
pub fn parse(filter: Option<&str>, now: i64) -> Result<Filter, FilterError> {
    let mut created = None;
    let mut modified = None;
    let mut fulfillment = None;
    for criterion in filter
        .unwrap_or("")
        .split(',')
        .filter(|c| !c.trim().is_empty())
    {
        let (name, value) = criterion
            .trim()
            .split_once(':')
            .ok_or_else(|| err(30700, "Invalid filter name", criterion))?;
        match name {
            "creationdate" => created = Some(range(name, value, now)?),
            "lastmodifieddate" => modified = Some(range(name, value, now)?),
            "orderfulfillmentstatus" => {
                let set = value
                    .strip_prefix('{')
                    .and_then(|v| v.strip_suffix('}'))
                    .ok_or_else(|| err(30800, "Invalid filter value", name))?;
                let statuses: Vec<String> = set.split('|').map(str::to_string).collect();
                let ok = |s: &str| matches!(s, "NOT_STARTED" | "IN_PROGRESS" | "FULFILLED");
                if statuses.iter().any(|s| !ok(s)) {
                    return Err(err(30800, "Invalid filter value", name));
                }
                fulfillment = Some(statuses);
            }
            _ => return Err(err(30700, "Invalid filter name", name)),
        }
    }
    let dates = match (created, modified) {
        // The trap: with both, eBay silently drops the modification filter.
        (Some(c), _) => DateFilter::Created(c),
        (None, Some(m)) => DateFilter::Modified(m),
        (None, None) => DateFilter::Default,
    };
    Ok(Filter { dates, fulfillment })
}

/// Whether a raw query string has characters eBay requires percent-encoded in `filter`.
pub fn has_unencoded(raw_query: &str) -> bool {
    raw_query
        .split('&')
        .filter(|p| p.starts_with("filter="))
        .any(|p| p.contains(['[', ']', '{', '}', '|']))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000_000;

    #[test]
    fn creationdate_wins_over_lastmodifieddate() {
        let f = parse(
            Some("creationdate:[2026-11-01T00:00:00.000Z..],lastmodifieddate:[2026-11-10T00:00:00.000Z..]"),
            NOW,
        )
        .unwrap();
        assert!(matches!(f.dates, DateFilter::Created(_)));
        let f = parse(
            Some("lastmodifieddate:[2026-11-10T00:00:00.000Z..2026-11-11T00:00:00.000Z]"),
            NOW,
        )
        .unwrap();
        assert_eq!(
            f.dates,
            DateFilter::Modified(Range {
                from: 1_794_268_800_000,
                to: 1_794_355_200_000
            })
        );
        assert_eq!(parse(None, NOW).unwrap().dates, DateFilter::Default);
    }

    #[test]
    fn bad_filters_have_ebays_error_ids() {
        let id = |f: &str| parse(Some(f), NOW).unwrap_err().id;
        assert_eq!(id("modifieddate:[2026-11-10T00:00:00.000Z..]"), 30700);
        assert_eq!(id("lastmodifieddate:[yesterday..]"), 30810);
        assert_eq!(id("lastmodifieddate:[..2026-11-10T00:00:00.000Z]"), 30820);
        assert_eq!(id("lastmodifieddate:[2022-11-10T00:00:00.000Z..]"), 30830);
        assert_eq!(
            id("lastmodifieddate:[2026-11-12T00:00:00.000Z..2026-11-10T00:00:00.000Z]"),
            30840
        );
        assert_eq!(id("lastmodifieddate:[2027-11-10T00:00:00.000Z..]"), 30840);
        assert_eq!(id("lastmodifieddate:2026-11-10"), 30800);
        assert_eq!(id("orderfulfillmentstatus:{SHIPPED}"), 30800);
        assert!(has_unencoded(
            "filter=lastmodifieddate:[2026-11-10T00:00:00.000Z..]&limit=5"
        ));
        assert!(!has_unencoded(
            "filter=lastmodifieddate:%5B2026-11-10T00:00:00.000Z..%5D"
        ));
    }
}
