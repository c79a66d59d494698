//! Page tokens of a pull window, and how slices of it are sized.
//!
//! getOrders pages by `offset` over a live result set, sorted by creation date (or however a
//! filter makes it vary). Both break a naive offset pager:
//!
//! - **rows shift**: an order modified while the window is read gets a `lastModifiedDate`
//!   after the window and leaves the result set; every row behind it moves up one place, and
//!   the next offset skips an order that never comes back (its date is inside the window,
//!   soon behind the watermark);
//! - **not oldest first**: rows come by creation, not modification, so pages are not in the
//!   `updated_at` order the engine's watermark needs.
//!
//! So a window is read as consecutive **slices** of `lastModifiedDate`, each small enough to
//! come back whole in one call at offset 0 (`total ≤ limit`): a slice read in one answer cannot
//! shift, and its orders are sorted here. The page token is the next slice (`s1:{start}:{span}`,
//! milliseconds), enough on its own to go on. A slice with more orders than a page is narrowed
//! and asked again, using the `lastModifiedDate`s of the orders that did come back to guess the
//! cut (`narrowed`). Only a single millisecond holding more than a page (a bulk import) is
//! read by offset (`o1:{at}:{offset}:{total}`); its orders all share one `updated_at`, so the
//! order within it does not matter, and when `total` has dropped between its pages (orders
//! left) the offset steps back by the drop: a few orders are read twice (the engine dedupes on
//! id and `updated_at`), none is skipped.

/// Where a window continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// The next slice: `lastModifiedDate` in `[start, start + span - 1]` ms.
    Slice { start: i64, span: i64 },
    /// Inside one crowded millisecond: `offset` of the `total` orders seen so far.
    Offset { at: i64, offset: u64, total: u64 },
}

impl Token {
    pub fn encode(&self) -> String {
        match self {
            Token::Slice { start, span } => format!("s1:{start}:{span}"),
            Token::Offset { at, offset, total } => format!("o1:{at}:{offset}:{total}"),
        }
    }

    pub fn decode(s: &str) -> Option<Token> {
        let mut parts = s.split(':');
        let token = match parts.next()? {
            "s1" => Token::Slice {
                start: parts.next()?.parse().ok()?,
                span: parts.next()?.parse().ok().filter(|s: &i64| *s >= 1)?,
            },
            "o1" => Token::Offset {
                at: parts.next()?.parse().ok()?,
                offset: parts.next()?.parse().ok()?,
                total: parts.next()?.parse().ok()?,
            },
            _ => return None,
        };
        parts.next().is_none().then_some(token)
    }
}

/// How many orders a slice aims at: a quarter of room below the page size, so a slice sized
/// from the last one's density still fits when orders are a little denser.
pub fn target(limit: u32) -> u64 {
    (u64::from(limit) * 3 / 4).max(1)
}

/// The span of the slice after one that held `found` orders in `span` ms.
pub fn grown(span: i64, found: u64, limit: u32) -> i64 {
    let span = span.max(1);
    if found == 0 {
        return span.saturating_mul(4);
    }
    let t = i128::from(target(limit));
    let next = i128::from(span) * t / i128::from(found);
    let next = next.clamp(i128::from(span / 2).max(1), i128::from(span) * 4);
    i64::try_from(next).unwrap_or(i64::MAX)
}

/// A narrower span for a slice `[start, start + span - 1]` that holds `total` orders, more than
/// a page. `seen` are the `lastModifiedDate`s (ms) of the orders that came back: at least
/// `target` of them lie at or before the `target`-th smallest, so cutting there usually fits
/// in one more call; the proportional guess keeps the cut from being needlessly small. From
/// the third narrowing of one pull on the span at least halves, so it always converges.
pub fn narrowed(start: i64, span: i64, total: u64, seen: &[i64], limit: u32, tries: u32) -> i64 {
    let span = span.max(2);
    let t = target(limit);
    let proportional = i128::from(span) * i128::from(t) / i128::from(total.max(1));
    let mut inside: Vec<i64> = seen
        .iter()
        .copied()
        .filter(|m| *m >= start && *m - start < span)
        .collect();
    inside.sort_unstable();
    let by_sample = usize::try_from(t)
        .ok()
        .and_then(|t| inside.get(t.saturating_sub(1)))
        .map_or(0, |m| i128::from(*m - start + 1));
    let mut next = proportional.max(by_sample);
    if tries >= 2 {
        next = next.min(i128::from(span / 2));
    }
    let next = next.clamp(1, i128::from(span - 1));
    i64::try_from(next).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        for t in [
            Token::Slice {
                start: 1_795_000_000_000,
                span: 3_600_000,
            },
            Token::Offset {
                at: 5,
                offset: 400,
                total: 612,
            },
        ] {
            assert_eq!(Token::decode(&t.encode()), Some(t));
        }
        for bad in [
            "",
            "s1:1",
            "s1:1:0",
            "s1:x:2",
            "o1:1:2",
            "s1:1:2:3",
            "q:1:2",
            "endCursor",
        ] {
            assert_eq!(Token::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn spans_grow_after_sparse_slices_and_narrow_towards_the_sample() {
        assert_eq!(grown(1000, 0, 200), 4000);
        assert_eq!(grown(1000, 150, 200), 1000);
        assert_eq!(grown(1000, 300, 200), 500);
        assert_eq!(grown(1000, 1, 200), 4000, "at most 4× per slice");
        assert_eq!(grown(i64::MAX, 0, 200), i64::MAX, "saturates");
        // 600 orders in the last 7 days of a 2-year slice: the sample points into them.
        let day = 86_400_000i64;
        let span = 730 * day;
        let start = 0;
        let seen: Vec<i64> = (0..200).map(|i| 723 * day + i * day / 100).collect();
        let n = narrowed(start, span, 600, &seen, 200, 0);
        assert_eq!(n, 723 * day + 149 * day / 100 + 1);
        // Nothing came back inside: the proportional guess.
        assert_eq!(narrowed(0, 1000, 300, &[], 200, 0), 500);
        // Converges: from the third try on it halves at least.
        assert_eq!(narrowed(0, 1000, 201, &[999; 200], 200, 2), 500);
        assert!(narrowed(0, 2, 10_000, &[], 200, 5) == 1);
    }
}
