//! JSON snapshots of mappings: compared value by value, reported at the first JSON pointer that
//! differs; `ORDERSYNC_BLESS_GOLDEN=1` rewrites them instead (then read the diff and check the
//! amounts by eye before committing).

use serde_json::Value;
use std::path::Path;

/// Asserts `got` equals the snapshot at `path` (or writes it when blessing).
pub fn assert_snapshot(path: &Path, got: &Value) {
    if std::env::var("ORDERSYNC_BLESS_GOLDEN").is_ok_and(|v| v == "1") {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, serde_json::to_string_pretty(got).unwrap() + "\n").unwrap();
        return;
    }
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (bless with ORDERSYNC_BLESS_GOLDEN=1)",
            path.display()
        )
    });
    let want: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Some(diff) = first_diff("", got, &want) {
        panic!("{} differs from its snapshot: {diff}", path.display());
    }
}

/// The first place two JSON values differ, as a JSON pointer with both sides.
pub fn first_diff(at: &str, got: &Value, want: &Value) -> Option<String> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => g.keys().chain(w.keys()).find_map(|k| {
            let at = format!("{at}/{k}");
            match (g.get(k), w.get(k)) {
                (Some(g), Some(w)) => first_diff(&at, g, w),
                (g, _) => Some(format!(
                    "{at}: only in {}",
                    if g.is_some() { "ours" } else { "the snapshot" }
                )),
            }
        }),
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (g, w))| first_diff(&format!("{at}/{i}"), g, w)),
        _ if got == want => None,
        _ => Some(format!("{at}: ours {got}, snapshot {want}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_difference_is_named_by_pointer() {
        let a = json!({ "lines": [{ "price": "1.00" }], "x": 1 });
        assert_eq!(first_diff("", &a, &a), None);
        let b = json!({ "lines": [{ "price": "1.01" }], "x": 1 });
        assert_eq!(
            first_diff("", &a, &b).unwrap(),
            "/lines/0/price: ours \"1.00\", snapshot \"1.01\""
        );
        let c = json!({ "lines": [{ "price": "1.00" }] });
        assert_eq!(first_diff("", &a, &c).unwrap(), "/x: only in ours");
    }
}
