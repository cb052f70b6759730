//! The Rust text of new `Migration` entries.

use std::fmt::Write as _;

/// The Rust text of one `Migration { ... },` entry, indented like the entries
/// of a `migrations.rs` array and ending with a newline.
///
/// Each string compiles to exactly the text given, whatever quotes, `"#`,
/// backslashes or line breaks it holds (see `string_literal`). `down` and
/// `transaction` appear only when they differ from `Migration::DEFAULT`.
pub fn render_entry(
    version: i64,
    description: &str,
    sql: &[String],
    down: &[String],
    transaction: bool,
) -> String {
    let mut out = String::new();
    out.push_str("    Migration {\n");
    let _ = writeln!(out, "        version: {version},");
    // A description is one line in `status` and `history`: escaped, never raw.
    let _ = writeln!(out, "        description: {description:?},");
    render_statements(&mut out, "sql", sql);
    if !down.is_empty() {
        render_statements(&mut out, "down", down);
    }
    if !transaction {
        out.push_str("        transaction: false,\n");
    }
    out.push_str("        ..Migration::DEFAULT\n");
    out.push_str("    },\n");
    out
}

/// `field: &["one"],` on one line, or one statement per line when several.
fn render_statements(out: &mut String, field: &str, statements: &[String]) {
    match statements {
        [] => {
            let _ = writeln!(out, "        {field}: &[],");
        }
        [single] => {
            let _ = writeln!(out, "        {field}: &[{}],", string_literal(single));
        }
        many => {
            let _ = writeln!(out, "        {field}: &[");
            for statement in many {
                let _ = writeln!(out, "            {},", string_literal(statement));
            }
            out.push_str("        ],\n");
        }
    }
}

/// rustc accepts at most this many `#` around a raw string.
const MAX_RAW_HASHES: usize = 255;

/// A literal whose value is exactly `text`. SQL reads best as written, so a
/// text with quotes, backslashes or line breaks becomes a raw literal
/// (`r"…"`, `r#"…"#`, …) with as many `#` as it needs; anything else, and
/// what a raw literal cannot hold (a carriage return, other control
/// characters, more than 255 `#`), is Rust's own escaped form (`{:?}`).
pub(crate) fn string_literal(text: &str) -> String {
    let plain = !text.contains(['"', '\\', '\n']);
    let raw_cannot = text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t');
    if plain || raw_cannot {
        return format!("{text:?}");
    }
    let hashes = raw_hashes_needed(text);
    if hashes > MAX_RAW_HASHES {
        return format!("{text:?}");
    }
    let fence = "#".repeat(hashes);
    format!("r{fence}\"{text}\"{fence}")
}

/// The fewest `#` such that `"` followed by that many `#` never occurs in
/// `text` (0 when `text` has no `"` at all).
fn raw_hashes_needed(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut needed = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' {
            let run = bytes[i + 1..].iter().take_while(|&&c| c == b'#').count();
            needed = needed.max(run + 1);
        }
    }
    needed
}
