//! Case-insensitive matching for the simulators' searches, which visit every object of a book
//! per request: no allocation for ASCII text (the common case), the same answer as comparing
//! `to_lowercase()` copies otherwise.

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
}
