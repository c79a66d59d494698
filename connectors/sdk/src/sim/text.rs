//! Case-insensitive matching for the simulators' searches, which visit every object of a book
//! per request: no allocation for ASCII text (the common case), the same answer as comparing
//! `to_lowercase()` copies otherwise. [`GramIndex`] narrows a substring search to the objects
//! that can match, so a search costs what it costs on the platform, not a scan of the book.

use std::collections::HashMap;

/// `hay.to_lowercase().contains(&needle.to_lowercase())`.
pub fn contains_ci(hay: &str, needle: &str) -> bool {
    if hay.is_ascii() && needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
    } else {
        hay.to_lowercase().contains(&needle.to_lowercase())
    }
}

/// `a.to_lowercase() == b.to_lowercase()`.
pub fn eq_ci(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// The objects (by number) whose text may contain a needle: a trigram index of lowercased
/// text. A number stays listed under the grams of every text it was given (an edited text adds
/// its new grams), so [`GramIndex::candidates`] may name objects that no longer match, never
/// miss one that does: callers check each candidate with their full predicate.
#[derive(Default)]
pub struct GramIndex {
    grams: HashMap<u64, Vec<u64>>,
}

fn grams(text: &str) -> Vec<u64> {
    let cs: Vec<u64> = text.to_lowercase().chars().map(u64::from).collect();
    // Three chars (21 bits each) packed: exact, no hashing.
    cs.windows(3)
        .map(|w| (w[0] << 42) | (w[1] << 21) | w[2])
        .collect()
}

impl GramIndex {
    /// Lists object `num` under the grams of `text` (call it for every text an object gets).
    pub fn add(&mut self, num: u64, text: &str) {
        for g in grams(text) {
            let list = self.grams.entry(g).or_default();
            if list.last() != Some(&num) {
                list.push(num);
            }
        }
    }

    /// The numbers, ascending, that may contain `needle` (case-insensitively); `None` when the
    /// needle is too short to narrow anything (under three chars): then every object may.
    pub fn candidates(&self, needle: &str) -> Option<Vec<u64>> {
        let gs = grams(needle);
        if gs.is_empty() {
            return None;
        }
        let mut best: &[u64] = &[];
        for (i, g) in gs.iter().enumerate() {
            let list = self.grams.get(g).map(Vec::as_slice).unwrap_or(&[]);
            if i == 0 || list.len() < best.len() {
                best = list;
            }
        }
        let mut out = best.to_vec();
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_as_lowercased_copies_do() {
        for (h, n) in [
            ("OS-1A2B", "os-1a"),
            ("os-1a2b", "1A2B"),
            ("abc", ""),
            ("ab", "abc"),
            ("Ärger GmbH", "ärger"),
            ("Straße", "STRASSE"),
            ("x", "y"),
        ] {
            assert_eq!(
                contains_ci(h, n),
                h.to_lowercase().contains(&n.to_lowercase()),
                "{h} / {n}"
            );
            assert_eq!(
                eq_ci(h, n),
                h.to_lowercase() == n.to_lowercase(),
                "{h} / {n}"
            );
        }
        assert!(eq_ci("Jane@Example.COM", "jane@example.com"));
    }

    #[test]
    fn a_gram_index_never_misses_a_match() {
        let texts = [
            "OS-1a2b3c",
            "os-9f9f9f",
            "Jane Doe",
            "Ärger GmbH",
            "OS-1A2B3D",
        ];
        let mut ix = GramIndex::default();
        for (i, t) in texts.iter().enumerate() {
            ix.add(i as u64 + 1, t);
        }
        // An edit adds its grams; the old ones may still name the object.
        ix.add(3, "John Roe");
        let now = |n: u64| {
            if n == 3 {
                "John Roe"
            } else {
                texts[n as usize - 1]
            }
        };
        for needle in [
            "os-1a2b", "1A2B3", "9f9", "ärg", "roe", "doe", "zzz", "GMBH",
        ] {
            let c = ix.candidates(needle).expect("long enough");
            for n in 1..=5u64 {
                if contains_ci(now(n), needle) {
                    assert!(c.contains(&n), "{needle} misses {n}");
                }
            }
        }
        assert_eq!(ix.candidates("os-1a2b3c"), Some(vec![1]));
        assert_eq!(ix.candidates("zzz"), Some(vec![]));
        assert_eq!(ix.candidates("os"), None, "too short to narrow");
    }
}
