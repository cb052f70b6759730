//! The house rules, checked on the source: no cycles between the library's
//! modules, no file over ~400 lines of non-test code, and SQL written only
//! in the dialect.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            (relative, std::fs::read_to_string(&path).expect("readable"))
        })
        .collect()
}

/// The top-level module a file belongs to (`plan/rollback.rs` → `plan`).
fn module_of(relative: &str) -> String {
    let first = relative.split('/').next().unwrap_or(relative);
    first.trim_end_matches(".rs").to_string()
}

/// The text before the file's test module, without comment lines.
fn code_only(text: &str) -> String {
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or(text);
    before_tests
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !t.starts_with("//")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Top-level modules each module refers to through `crate::`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (relative, text) in all_sources() {
        let from = module_of(&relative);
        if from == "lib" || from == "main" {
            continue;
        }
        let code = code_only(&text);
        let entry = edges.entry(from.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // `crate::Migration` and other root re-exports name an item, not a module.
            if name.is_empty()
                || name.chars().next().is_some_and(char::is_uppercase)
                || name == from
            {
                continue;
            }
            if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                continue;
            }
            entry.insert(name);
        }
    }
    edges
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, edges, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_module_cycles() {
    let edges = graph();
    assert!(
        edges.contains_key("plan") && edges.contains_key("executor"),
        "the graph was read: {edges:?}"
    );
    if let Some(cycle) = find_cycle(&edges) {
        panic!("module cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn the_cycle_check_finds_cycles() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&edges), None);
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn no_file_has_more_than_400_lines_of_code() {
    let long: Vec<String> = all_sources()
        .into_iter()
        .filter(|(relative, _)| !relative.ends_with("tests.rs"))
        .filter_map(|(relative, text)| {
            let lines = code_only(&text)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count();
            (lines > 400).then(|| format!("{relative}: {lines} lines"))
        })
        .collect();
    assert!(long.is_empty(), "split these by concern: {long:?}");
}

/// SQL the runner sends is written in `dialect/` only. (The import and the
/// lint read SQL written by users, so they hold SQL words by nature.)
#[test]
fn sql_is_written_in_the_dialect_only() {
    let keywords = [
        "\"COMMIT",
        "\"ROLLBACK",
        "\"BEGIN",
        "\"PRAGMA",
        "\"SELECT ",
        "\"INSERT INTO",
        "\"UPDATE ",
        "\"DELETE FROM",
        "\"VACUUM",
        "\"SET ",
    ];
    let allowed = ["dialect/", "authoring/", "lint/"];
    let mut found = Vec::new();
    for (relative, text) in all_sources() {
        if allowed.iter().any(|dir| relative.starts_with(dir)) {
            continue;
        }
        // The placeholder `new` writes is text for people, not SQL the runner sends.
        let code: String = code_only(&text)
            .lines()
            .filter(|l| !l.contains("PLACEHOLDER_SQL"))
            .collect::<Vec<_>>()
            .join("\n");
        for keyword in keywords {
            if code.contains(keyword) {
                found.push(format!("{relative}: {}", keyword.trim_start_matches('"')));
            }
        }
    }
    assert!(found.is_empty(), "SQL outside the dialect: {found:?}");
}
