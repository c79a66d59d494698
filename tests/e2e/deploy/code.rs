//! The code's side: the subcommands and flags the binary accepts, the variables it reads.

use super::{BIN, ROOT, files::read};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The subcommands `ordersync --help` lists.
pub fn subcommands() -> BTreeSet<String> {
    let out = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let subs: BTreeSet<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect();
    assert!(subs.contains("migrate"), "parsed the command list: {help}");
    subs
}

/// `ordersync <argv>` names a real subcommand and clap accepts every argument of it: with
/// `--help` appended it prints that subcommand's help instead of running it.
pub fn assert_argv(argv: &[String], whence: &str, subs: &BTreeSet<String>) {
    let sub = argv
        .first()
        .unwrap_or_else(|| panic!("{whence}: no subcommand"));
    assert!(
        subs.contains(sub),
        "{whence}: `ordersync {sub}` is not a subcommand (ordersync --help lists {subs:?})"
    );
    let out = std::process::Command::new(BIN)
        .args(argv)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{whence}: `ordersync {}` does not parse: {}",
        argv.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `ORDERSYNC_*` variables the service reads: the string literals of src/ and of the
/// connectors' sources (app credentials), and `<VAR>_FILE` of every key read through
/// `key_source` (src/config.rs). Test code does not count.
pub fn known_variables() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() && name != "tests" {
                walk(&p, out);
            } else if name.ends_with(".rs") && name != "tests.rs" {
                out.push(p);
            }
        }
    }
    let root = Path::new(ROOT);
    let mut files = vec![];
    walk(&root.join("src"), &mut files);
    for c in std::fs::read_dir(root.join("connectors"))
        .unwrap()
        .flatten()
    {
        if c.path().join("src").is_dir() {
            walk(&c.path().join("src"), &mut files);
        }
    }
    let literals = |text: &str, prefix: &str| -> Vec<String> {
        text.match_indices(prefix)
            .filter_map(|(i, _)| {
                let rest = &text[i + prefix.len() - "ORDERSYNC_".len()..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))?;
                rest[end..]
                    .starts_with('"')
                    .then(|| rest[..end].to_string())
            })
            .collect()
    };
    let mut known = BTreeSet::new();
    for f in &files {
        known.extend(literals(
            &std::fs::read_to_string(f).unwrap(),
            "\"ORDERSYNC_",
        ));
    }
    let config = read("src/config.rs");
    let file_forms = literals(&config, "key_source(\"ORDERSYNC_");
    assert!(
        !file_forms.is_empty(),
        "src/config.rs reads the master key through key_source"
    );
    known.extend(file_forms.iter().map(|v| format!("{v}_FILE")));
    assert!(known.contains("ORDERSYNC_DATABASE_URL"), "{known:?}");
    known
}

/// `ORDERSYNC_*` words of a text (the README).
pub fn variables_in(text: &str) -> BTreeSet<String> {
    text.match_indices("ORDERSYNC_")
        .map(|(i, _)| {
            let rest = &text[i..];
            let end = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches('_').to_string()
        })
        .collect()
}
