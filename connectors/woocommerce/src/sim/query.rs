//! The list query of `GET /orders` as WordPress reads it: PHP's `$_GET` (the last of repeated
//! keys wins, `key[]` collects), the REST schema's validation (`per_page` 1..=100, enums,
//! `date-time` formats) and the date query:
//!
//! - `after`/`before` filter `date_created`, `modified_after`/`modified_before` filter
//!   `date_modified`; all are exclusive and second-granular;
//! - the column compared is the site-local one unless `dates_are_gmt=true`;
//! - the value is read as WordPress's `WP_Date_Query::build_mysql_datetime` reads it: digits
//!   without an offset are taken as they are, a value with an offset is first converted to
//!   the site's timezone — so `…Z` with `dates_are_gmt=true` is off by the site's offset.

use super::order::Status;
use super::tz::SiteTz;
use std::collections::BTreeMap;

/// A request's query parameters, decoded.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(q: Option<&str>) -> Params {
        Params {
            pairs: url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// `$_GET[key]` of a scalar: the last occurrence.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// An array parameter: `key[]=a&key[]=b`, or `key=a,b` (`wp_parse_list`).
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        let arr = format!("{key}[]");
        let items: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| *k == arr)
            .map(|(_, v)| v.clone())
            .collect();
        if !items.is_empty() {
            return Some(items);
        }
        self.get(key).map(|v| {
            v.split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
    }

    /// `$_GET` flattened, last wins (what OAuth signs).
    pub fn flat(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for (k, v) in &self.pairs {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    Date,
    Modified,
    Id,
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub page: u64,
    pub per_page: u64,
    pub offset: Option<u64>,
    pub desc: bool,
    pub orderby: OrderBy,
    pub dates_are_gmt: bool,
    /// Bounds as naive wall-clock seconds of the compared column.
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub modified_after: Option<i64>,
    pub modified_before: Option<i64>,
    /// `None`: `any` (every status but the trash).
    pub statuses: Option<Vec<Status>>,
    pub include: Vec<u64>,
    pub exclude: Vec<u64>,
}

const ENUM: &str = "any, trash, pending, processing, on-hold, completed, cancelled, refunded, failed, checkout-draft";

fn int(p: &Params, key: &str, errs: &mut Vec<(String, String)>) -> Option<i64> {
    let v = p.get(key)?;
    match v.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push((key.into(), format!("{key} is not of type integer.")));
            None
        }
    }
}

/// `rest_parse_date` then `build_mysql_datetime`: the wall-clock seconds a value means.
pub fn wall_clock(v: &str, tz: SiteTz) -> Option<i64> {
    let v = v.trim();
    let b = v.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19))
    {
        return None;
    }
    let mut rest = &v[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let naive = crate::mapping::gmt(Some(&format!("{}T{}", &v[..10], &v[11..19])), "date")
        .ok()?
        .unix_timestamp();
    let offset = match rest {
        "" => return Some(naive),
        "Z" | "z" => 0,
        o => {
            let sign = match o.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let hm = o[1..].replace(':', "");
            if !(hm.len() == 2 || hm.len() == 4) || !hm.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i64 = hm[..2].parse().ok()?;
            let m: i64 = if hm.len() == 4 {
                hm[2..].parse().ok()?
            } else {
                0
            };
            sign * (h * 3600 + m * 60)
        }
    };
    // An instant: to the site's wall clock.
    Some(tz.local(naive - offset))
}

impl ListQuery {
    pub fn parse(p: &Params, tz: SiteTz) -> Result<ListQuery, Vec<(String, String)>> {
        let mut errs = Vec::new();
        let per_page = int(p, "per_page", &mut errs).unwrap_or(10);
        if !(1..=100).contains(&per_page) {
            errs.push((
                "per_page".into(),
                "per_page must be between 1 (inclusive) and 100 (inclusive)".into(),
            ));
        }
        let page = int(p, "page", &mut errs).unwrap_or(1);
        if page < 1 {
            errs.push((
                "page".into(),
                "page must be greater than or equal to 1".into(),
            ));
        }
        let offset = int(p, "offset", &mut errs).map(|o| o.unsigned_abs());
        let desc = match p.get("order").unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            _ => {
                errs.push(("order".into(), "order is not one of asc and desc.".into()));
                true
            }
        };
        let orderby = match p.get("orderby").unwrap_or("date") {
            "date" => OrderBy::Date,
            "modified" => OrderBy::Modified,
            "id" | "include" | "title" | "slug" => OrderBy::Id,
            _ => {
                errs.push((
                    "orderby".into(),
                    "orderby is not one of date, id, include, title, slug, and modified.".into(),
                ));
                OrderBy::Date
            }
        };
        let dates_are_gmt = match p.get("dates_are_gmt").map(str::trim) {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(_) => {
                errs.push((
                    "dates_are_gmt".into(),
                    "dates_are_gmt is not of type boolean.".into(),
                ));
                false
            }
        };
        let mut date = |key: &str| {
            let v = p.get(key)?;
            match wall_clock(v, tz) {
                Some(s) => Some(s),
                None => {
                    errs.push((key.to_string(), "Invalid date.".into()));
                    None
                }
            }
        };
        let (after, before) = (date("after"), date("before"));
        let (modified_after, modified_before) = (date("modified_after"), date("modified_before"));
        let statuses = match p.list("status") {
            None => None,
            Some(list) => {
                let mut out = Vec::new();
                let mut any = list.is_empty();
                for (i, s) in list.iter().enumerate() {
                    if s == "any" {
                        // `any` short-circuits whatever else is listed.
                        any = true;
                    } else if let Some(st) = Status::from_slug(s) {
                        out.push(st);
                    } else {
                        errs.push((
                            "status".into(),
                            format!("status[{i}] is not one of {ENUM}."),
                        ));
                    }
                }
                (!any).then_some(out)
            }
        };
        let ids = |key: &str| -> Vec<u64> {
            p.list(key)
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s.parse::<u64>().ok())
                .collect()
        };
        let q = ListQuery {
            page: page.max(1).unsigned_abs(),
            per_page: per_page.clamp(1, 100).unsigned_abs(),
            offset,
            desc,
            orderby,
            dates_are_gmt,
            after,
            before,
            modified_after,
            modified_before,
            statuses,
            include: ids("include"),
            exclude: ids("exclude"),
        };
        if errs.is_empty() { Ok(q) } else { Err(errs) }
    }

    /// Whether an order matches the status and date filters.
    pub fn matches(
        &self,
        status: Status,
        created: i64,
        modified: i64,
        id: u64,
        tz: SiteTz,
    ) -> bool {
        let status_ok = match &self.statuses {
            None => status != Status::Trash,
            Some(list) => list.contains(&status),
        };
        let col = |t: i64| if self.dates_are_gmt { t } else { tz.local(t) };
        status_ok
            && self.after.is_none_or(|a| col(created) > a)
            && self.before.is_none_or(|b| col(created) < b)
            && self.modified_after.is_none_or(|a| col(modified) > a)
            && self.modified_before.is_none_or(|b| col(modified) < b)
            && (self.include.is_empty() || self.include.contains(&id))
            && !self.exclude.contains(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_get_semantics() {
        let p = Params::parse(Some(
            "per_page=5&a=1&per_page=7&status[]=trash&status[]=pending&x=a%2Cb",
        ));
        assert_eq!(p.get("per_page"), Some("7"));
        assert_eq!(p.list("status").unwrap(), vec!["trash", "pending"]);
        assert_eq!(p.list("x").unwrap(), vec!["a", "b"]);
        assert_eq!(p.flat().get("per_page").map(String::as_str), Some("7"));
    }

    #[test]
    fn dates_are_read_as_wordpress_reads_them() {
        let tz = SiteTz::Fixed(3600);
        let base = wall_clock("2026-12-01T10:00:00", SiteTz::Fixed(0)).unwrap();
        // Digits are taken as they are; an offset converts the instant to site time.
        assert_eq!(wall_clock("2026-12-01T10:00:00", tz), Some(base));
        assert_eq!(wall_clock("2026-12-01 10:00:00.5", tz), Some(base));
        assert_eq!(wall_clock("2026-12-01T10:00:00Z", tz), Some(base + 3600));
        assert_eq!(
            wall_clock("2026-12-01T10:00:00+02:00", tz),
            Some(base - 3600)
        );
        for bad in [
            "2026-12-01",
            "yesterday",
            "2026-12-01T10:00",
            "2026-12-01T10:00:00+2",
        ] {
            assert_eq!(wall_clock(bad, tz), None, "{bad}");
        }
    }

    #[test]
    fn validation_names_every_bad_parameter() {
        let p = Params::parse(Some(
            "per_page=101&status=processing,shipped&orderby=price&modified_after=soon",
        ));
        let errs = ListQuery::parse(&p, SiteTz::Berlin).unwrap_err();
        let names: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["per_page", "orderby", "modified_after", "status"]);
        let q = ListQuery::parse(&Params::parse(Some("status=any,trash")), SiteTz::Berlin).unwrap();
        assert!(q.statuses.is_none(), "any short-circuits");
    }
}
