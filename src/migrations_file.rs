//! Reading and extending a `migrations.rs` file as text.
//!
//! `migrate new` and `migrate import` append entries to the user's
//! `MIGRATIONS` array. The file is the user's source code, so it is edited as
//! text: everything outside the inserted entries stays byte-for-byte as it was
//! (formatting, comments, blank lines). A small Rust lexer finds the array and
//! its `version:` fields while skipping string literals and comments, so SQL
//! such as `'version: 99'` or a commented-out entry cannot mislead it.

use crate::import::split::block_comment_end;
use std::fmt::Write as _;

/// Why a `migrations.rs` text could not be read or extended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationsFileError {
    /// No `const MIGRATIONS ... = &[ ... ];` in the file.
    #[error(
        "no MIGRATIONS array found: expected `pub const MIGRATIONS: &[Migration] = &[ ... ];`"
    )]
    NoArray,
    /// Two definitions: appending to the wrong one would be worse than stopping.
    #[error("MIGRATIONS is defined twice (lines {first} and {second}); keep one definition")]
    Ambiguous { first: usize, second: usize },
    /// The `[` opened on `line` is never closed.
    #[error("the MIGRATIONS array opened on line {line} is never closed")]
    Unclosed { line: usize },
    /// A string literal or block comment runs to the end of the file.
    #[error("line {line}: unterminated {what}")]
    Unterminated { line: usize, what: &'static str },
    /// An element of the array with no `version: N` field to read.
    #[error("line {line}: an entry without a `version: N` field; write entries as `Migration {{ version: N, ... }}`")]
    EntryWithoutVersion { line: usize },
    /// `version:` is followed by something other than an integer literal, so
    /// the next version cannot be computed from the text.
    #[error("line {line}: `version: {text}` is not an integer literal; write the number itself")]
    VersionNotLiteral { line: usize, text: String },
}

/// The highest `version: N` inside the `MIGRATIONS` array (0 when it is empty),
/// so a new entry can take the next number.
pub fn last_version(source: &str) -> Result<i64, MigrationsFileError> {
    let tokens = lex(source)?;
    let array = find_array(source, &tokens)?;
    let inner = &tokens[array.open + 1..array.close];
    let mut highest = 0i64;
    for entry in entries(inner) {
        highest = highest.max(entry_version(source, entry)?);
    }
    Ok(highest)
}

/// The array's elements: tokens split on `,` outside any bracket.
fn entries(inner: &[Token]) -> impl Iterator<Item = &[Token]> {
    let mut depth = 0usize;
    inner
        .split(move |token| match token.kind {
            Kind::Punct(b'(' | b'[' | b'{') => {
                depth += 1;
                false
            }
            Kind::Punct(b')' | b']' | b'}') => {
                depth = depth.saturating_sub(1);
                false
            }
            Kind::Punct(b',') => depth == 0,
            _ => false,
        })
        .filter(|entry| !entry.is_empty())
}

/// The `version:` field of one `Migration { ... }` element. An element
/// without one (a helper call, a macro) is an error rather than a silent 0,
/// which would make the next version collide.
fn entry_version(source: &str, entry: &[Token]) -> Result<i64, MigrationsFileError> {
    let mut braces = 0usize;
    for (i, token) in entry.iter().enumerate() {
        match token.kind {
            Kind::Punct(b'{') => braces += 1,
            Kind::Punct(b'}') => braces = braces.saturating_sub(1),
            Kind::Ident if braces == 1 && token.text(source) == "version" => {
                let after_field_start =
                    i > 0 && matches!(entry[i - 1].kind, Kind::Punct(b'{' | b','));
                let colon = entry.get(i + 1).map(|t| t.kind);
                // `version::` would be a path, not a field.
                let path = entry.get(i + 2).map(|t| t.kind) == Some(Kind::Punct(b':'));
                if after_field_start && colon == Some(Kind::Punct(b':')) && !path {
                    return version_value(source, &entry[i + 2..], token.line);
                }
            }
            _ => {}
        }
    }
    Err(MigrationsFileError::EntryWithoutVersion {
        line: entry[0].line,
    })
}

/// Inserts already-rendered entries (see [`render_entry`]) just before the
/// closing `]` of the `MIGRATIONS` array. Adds the comma a last entry may lack
/// and handles `&[]`; every other byte of `source` is kept.
pub fn append_entries(source: &str, entries: &str) -> Result<String, MigrationsFileError> {
    let tokens = lex(source)?;
    let array = find_array(source, &tokens)?;
    if entries.trim().is_empty() {
        return Ok(source.to_string());
    }
    let close = tokens[array.close].start;
    let previous = &tokens[array.close - 1];
    let needs_comma = array.close - 1 != array.open && previous.kind != Kind::Punct(b',');

    let mut text = entries.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if source.contains("\r\n") {
        // Keep a CRLF file CRLF (rustc reads CRLF as LF, so literals are unchanged).
        text = text.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    let line_start = source[..close].rfind('\n').map_or(0, |i| i + 1);
    let (at, insertion) = if source[line_start..close].trim().is_empty() {
        // `]` starts its line: the entries become the lines before it.
        (line_start, text)
    } else {
        // `&[]` or `...}]` on one line: the entries go on lines of their own.
        let newline = if source.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        };
        (close, format!("{newline}{text}"))
    };

    let mut out = String::with_capacity(source.len() + insertion.len() + 1);
    let comma_at = if needs_comma { previous.end } else { at };
    out.push_str(&source[..comma_at]);
    if needs_comma {
        out.push(',');
    }
    out.push_str(&source[comma_at..at]);
    out.push_str(&insertion);
    out.push_str(&source[at..]);
    Ok(out)
}

/// The Rust text of one `Migration { ... },` entry, indented like the entries
/// of a `migrations.rs` array and ending with a newline.
///
/// SQL is written as raw string literals with as many `#` as needed, so the
/// compiled string equals `sql` exactly whatever quotes, `"#` or backslashes it
/// holds. `down` and `transaction` appear only when they differ from
/// `Migration::DEFAULT`.
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
    let _ = writeln!(
        out,
        "        description: {},",
        escaped_literal(description)
    );
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

/// A literal whose value is exactly `text`: raw (`r"…"`, `r#"…"#`, …) so SQL
/// reads as written in the file, or escaped when a raw literal cannot hold it
/// (a carriage return, which rustc rejects bare, or more than 255 `#`).
fn string_literal(text: &str) -> String {
    if text.contains('\r') {
        return escaped_literal(text);
    }
    let hashes = raw_hashes_needed(text);
    if hashes > 255 {
        return escaped_literal(text);
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

/// A normal `"…"` Rust string literal for `text`, on one line.
fn escaped_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The integer after `version:`; `rest` starts just after the colon.
fn version_value(source: &str, rest: &[Token], line: usize) -> Result<i64, MigrationsFileError> {
    let not_literal = |text: String| MigrationsFileError::VersionNotLiteral { line, text };
    let (negative, number) = match rest {
        [minus, number, ..] if minus.kind == Kind::Punct(b'-') => (true, number),
        [number, ..] => (false, number),
        [] => return Err(not_literal(String::new())),
    };
    // A literal followed by more expression (`6 + 1`) is not a plain number.
    let next = rest.get(if negative { 2 } else { 1 }).map(|t| t.kind);
    let shown = || {
        let end = rest
            .iter()
            .find(|t| matches!(t.kind, Kind::Punct(b',') | Kind::Punct(b'}')))
            .map_or(number.end, |t| t.start);
        source[rest[0].start..end].trim().to_string()
    };
    if number.kind != Kind::Number || !matches!(next, Some(Kind::Punct(b',' | b'}')) | None) {
        return Err(not_literal(shown()));
    }
    let value = parse_int(number.text(source)).ok_or_else(|| not_literal(shown()))?;
    Ok(if negative { -value } else { value })
}

/// Parses a Rust integer literal: `7`, `1_000`, `0x1F`, `7i64`.
fn parse_int(text: &str) -> Option<i64> {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let (radix, body) = match digits.get(..2) {
        Some("0x") => (16, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0b") => (2, &digits[2..]),
        _ => (10, digits.as_str()),
    };
    let suffixes = [
        "i128", "u128", "isize", "usize", "i64", "u64", "i32", "u32", "i16", "u16", "i8", "u8",
    ];
    let body = suffixes
        .iter()
        .find_map(|s| body.strip_suffix(s))
        .unwrap_or(body);
    i64::from_str_radix(body, radix).ok()
}

/// Token positions of the `[` and `]` of the `MIGRATIONS` array value.
struct Array {
    open: usize,
    close: usize,
}

fn find_array(source: &str, tokens: &[Token]) -> Result<Array, MigrationsFileError> {
    let mut found: Option<(Array, usize)> = None;
    for (i, token) in tokens.iter().enumerate() {
        let is_item = token.kind == Kind::Ident
            && token.text(source) == "MIGRATIONS"
            && i > 0
            && matches!(tokens[i - 1].text(source), "const" | "static");
        if !is_item {
            continue;
        }
        let Some(array) = array_after(source, tokens, i)? else {
            continue;
        };
        if let Some((_, first)) = &found {
            return Err(MigrationsFileError::Ambiguous {
                first: *first,
                second: token.line,
            });
        }
        found = Some((array, token.line));
    }
    found
        .map(|(array, _)| array)
        .ok_or(MigrationsFileError::NoArray)
}

/// For `const MIGRATIONS` at `name`: skips the type to the `=`, expects `&[`
/// and finds the matching `]`.
fn array_after(
    source: &str,
    tokens: &[Token],
    name: usize,
) -> Result<Option<Array>, MigrationsFileError> {
    let mut i = name + 1;
    let mut depth = 0i32;
    while let Some(token) = tokens.get(i) {
        match token.kind {
            Kind::Punct(b'[' | b'(' | b'<') => depth += 1,
            Kind::Punct(b']' | b')' | b'>') => depth -= 1,
            Kind::Punct(b'=') if depth <= 0 => break,
            Kind::Punct(b';') => return Ok(None),
            _ => {}
        }
        i += 1;
    }
    let value_starts = tokens.get(i + 1).map(|t| t.kind) == Some(Kind::Punct(b'&'))
        && tokens.get(i + 2).map(|t| t.kind) == Some(Kind::Punct(b'['));
    if !value_starts {
        let _ = source;
        return Ok(None);
    }
    let open = i + 2;
    let mut depth = 0usize;
    for (j, token) in tokens.iter().enumerate().skip(open) {
        match token.kind {
            Kind::Punct(b'[') => depth += 1,
            Kind::Punct(b']') => {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(Array { open, close: j }));
                }
            }
            _ => {}
        }
    }
    Err(MigrationsFileError::Unclosed {
        line: tokens[open].line,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    Number,
    /// A string, byte string, raw string or char literal: content is opaque.
    Literal,
    Lifetime,
    Punct(u8),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    line: usize,
}

impl Token {
    fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }
}

/// Just enough of Rust's lexical grammar to see code apart from literals and
/// comments. Comments produce no tokens.
fn lex(source: &str) -> Result<Vec<Token>, MigrationsFileError> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let line_at = |from: usize, to: usize, line: usize| {
        line + bytes[from..to].iter().filter(|&&b| b == b'\n').count()
    };
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let start_line = line;
        let kind = match b {
            b'\n' => {
                line += 1;
                i += 1;
                continue;
            }
            _ if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = block_comment_end(bytes, i).ok_or(MigrationsFileError::Unterminated {
                    line,
                    what: "block comment",
                })?;
                line = line_at(start, i, line);
                continue;
            }
            b'"' => {
                i = quoted_end(bytes, i + 1, b'"').ok_or(MigrationsFileError::Unterminated {
                    line,
                    what: "string literal",
                })?;
                Kind::Literal
            }
            b'\'' => match char_literal_end(source, i) {
                Some(end) => {
                    i = end;
                    Kind::Literal
                }
                None => {
                    // A lifetime or label: `'static`.
                    i += 1;
                    while i < bytes.len() && is_ident_byte(bytes[i]) {
                        i += 1;
                    }
                    Kind::Lifetime
                }
            },
            b'0'..=b'9' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Kind::Number
            }
            _ if is_ident_byte(b) => {
                while i < bytes.len() && is_ident_byte(bytes[i]) {
                    i += 1;
                }
                let word = &source[start..i];
                let next = bytes.get(i).copied();
                match (word, next) {
                    ("r" | "br" | "cr", Some(b'"' | b'#')) => match raw_string_end(bytes, i) {
                        RawEnd::End(end) => {
                            i = end;
                            Kind::Literal
                        }
                        RawEnd::Unterminated => {
                            return Err(MigrationsFileError::Unterminated {
                                line,
                                what: "raw string literal",
                            })
                        }
                        // `r#ident`: a raw identifier.
                        RawEnd::NotRaw => {
                            i += 1;
                            while i < bytes.len() && is_ident_byte(bytes[i]) {
                                i += 1;
                            }
                            Kind::Ident
                        }
                    },
                    ("b" | "c", Some(b'"')) => {
                        i = quoted_end(bytes, i + 1, b'"').ok_or(
                            MigrationsFileError::Unterminated {
                                line,
                                what: "string literal",
                            },
                        )?;
                        Kind::Literal
                    }
                    ("b", Some(b'\'')) => match char_literal_end(source, i) {
                        Some(end) => {
                            i = end;
                            Kind::Literal
                        }
                        None => Kind::Ident,
                    },
                    _ => Kind::Ident,
                }
            }
            _ => {
                // Multi-byte characters outside literals are not Rust tokens we
                // care about; step over the whole character.
                i += source[i..].chars().next().map_or(1, char::len_utf8);
                Kind::Punct(if b.is_ascii() { b } else { 0 })
            }
        };
        line = line_at(start, i, start_line);
        tokens.push(Token {
            kind,
            start,
            end: i,
            line: start_line,
        });
    }
    Ok(tokens)
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// End (exclusive) of a `\`-escaped literal whose body starts at `from`.
fn quoted_end(bytes: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

enum RawEnd {
    End(usize),
    Unterminated,
    NotRaw,
}

/// `at` points just after the `r`: counts the `#`, expects `"`, finds the
/// closing `"` followed by as many `#`.
fn raw_string_end(bytes: &[u8], at: usize) -> RawEnd {
    let hashes = bytes[at..].iter().take_while(|&&b| b == b'#').count();
    if bytes.get(at + hashes) != Some(&b'"') {
        return RawEnd::NotRaw;
    }
    let mut i = at + hashes + 1;
    while i < bytes.len() {
        if bytes[i] == b'"'
            && bytes.len() >= i + 1 + hashes
            && bytes[i + 1..i + 1 + hashes].iter().all(|&b| b == b'#')
        {
            return RawEnd::End(i + 1 + hashes);
        }
        i += 1;
    }
    RawEnd::Unterminated
}

/// End (exclusive) of a char literal at `start` (`'a'`, `'\n'`, `'\u{1F600}'`),
/// or `None` when the quote starts a lifetime.
fn char_literal_end(source: &str, start: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    if bytes.get(start + 1) == Some(&b'\\') {
        let close = bytes[start + 2..].iter().position(|&b| b == b'\'')?;
        // `'\''`: the escaped quote is the character, the next one closes.
        let close = if close == 0 {
            start + 3 + bytes[start + 3..].iter().position(|&b| b == b'\'')?
        } else {
            start + 2 + close
        };
        return Some(close + 1);
    }
    let c = source.get(start + 1..)?.chars().next()?;
    let after = start + 1 + c.len_utf8();
    (bytes.get(after) == Some(&b'\'') && c != '\'').then_some(after + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r###"// Header comment: version: 1000
use versioned_migrations::Migration;

/* block /* nested version: 500 */ still comment */
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "Create \"users\" version: 77",
        sql: &["CREATE TABLE users (id INTEGER)"],
        ..Migration::DEFAULT
    },
    // Migration { version: 300, description: "old", sql: &["x"], ..Migration::DEFAULT },
    Migration {
        version: 2,
        description: "Notes",
        sql: &[r##"INSERT INTO notes VALUES ('version: 99', "a"#b")"##],
        down: &['x' as u8; 0],
        ..Migration::DEFAULT
    },
];

const OTHER: &[i64] = &[version_of(400)];
"###;

    fn s(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn last_version_ignores_strings_and_comments() {
        assert_eq!(last_version(FILE), Ok(2));
    }

    #[test]
    fn last_version_of_empty_arrays_is_zero() {
        for source in [
            "pub const MIGRATIONS: &[Migration] = &[];",
            "pub const MIGRATIONS: &[Migration] = &[\n];\n",
            "pub const MIGRATIONS: &[Migration] = &[\n    // none yet\n];\n",
        ] {
            assert_eq!(last_version(source), Ok(0), "{source}");
        }
    }

    #[test]
    fn last_version_reads_literal_forms() {
        let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 1_000i64, ..Migration::DEFAULT },\n    Migration { version: 0x10, ..Migration::DEFAULT }\n];";
        assert_eq!(last_version(source), Ok(1000));
    }

    #[test]
    fn last_version_refuses_expressions() {
        let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: BASE + 1, ..Migration::DEFAULT },\n];";
        assert_eq!(
            last_version(source),
            Err(MigrationsFileError::VersionNotLiteral {
                line: 2,
                text: "BASE + 1".into()
            })
        );
        let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 6 + 1, ..Migration::DEFAULT },\n];";
        assert!(matches!(
            last_version(source),
            Err(MigrationsFileError::VersionNotLiteral { .. })
        ));
    }

    #[test]
    fn entries_without_a_readable_version_are_errors() {
        let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 1, ..Migration::DEFAULT },\n    m(2, \"b\", &[\"x\"]),\n];";
        assert_eq!(
            last_version(source),
            Err(MigrationsFileError::EntryWithoutVersion { line: 3 })
        );
        let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { sql: &[\"x\"], ..Migration::DEFAULT },\n];";
        assert_eq!(
            last_version(source),
            Err(MigrationsFileError::EntryWithoutVersion { line: 2 })
        );
        // A nested struct's `version` field is not the entry's.
        let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 3, meta: Meta { version: 50 }, ..Migration::DEFAULT },\n];";
        assert_eq!(last_version(source), Ok(3));
    }

    #[test]
    fn missing_or_duplicate_array_is_an_error() {
        assert_eq!(
            last_version("// pub const MIGRATIONS: &[Migration] = &[];\nfn main() {}"),
            Err(MigrationsFileError::NoArray)
        );
        assert_eq!(
            append_entries("const X: &[u8] = &[];", "    x,\n"),
            Err(MigrationsFileError::NoArray)
        );
        let twice = "#[cfg(a)]\nconst MIGRATIONS: &[Migration] = &[];\n#[cfg(b)]\nconst MIGRATIONS: &[Migration] = &[];\n";
        assert_eq!(
            last_version(twice),
            Err(MigrationsFileError::Ambiguous {
                first: 2,
                second: 4
            })
        );
        assert_eq!(
            last_version("const MIGRATIONS: &[Migration] = &[\n    Migration {"),
            Err(MigrationsFileError::Unclosed { line: 1 })
        );
        assert_eq!(
            last_version("const MIGRATIONS: &[Migration] = &[\n    \"open"),
            Err(MigrationsFileError::Unterminated {
                line: 2,
                what: "string literal"
            })
        );
    }

    #[test]
    fn append_keeps_everything_else_and_round_trips() {
        let entry = render_entry(
            3,
            "Add bio",
            &s(&["ALTER TABLE users ADD bio TEXT"]),
            &[],
            true,
        );
        let out = append_entries(FILE, &entry).expect("appends");
        let close = FILE.find("];\n\nconst OTHER").expect("close");
        assert_eq!(&out[..close], &FILE[..close]);
        assert_eq!(&out[close..close + entry.len()], entry);
        assert_eq!(&out[close + entry.len()..], &FILE[close..]);
        assert_eq!(last_version(&out), Ok(3));
    }

    #[test]
    fn append_adds_a_missing_trailing_comma() {
        let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 4, ..Migration::DEFAULT } // last\n];\n";
        let entry = render_entry(5, "Five", &s(&["SELECT 5"]), &[], true);
        let out = append_entries(source, &entry).expect("appends");
        assert_eq!(
            out,
            format!("const MIGRATIONS: &[Migration] = &[\n    Migration {{ version: 4, ..Migration::DEFAULT }}, // last\n{entry}];\n")
        );
        assert_eq!(last_version(&out), Ok(5));

        let one_line =
            "const MIGRATIONS: &[Migration] = &[Migration { version: 1, ..Migration::DEFAULT }];";
        let out = append_entries(one_line, &entry).expect("appends");
        assert_eq!(
            out,
            format!("const MIGRATIONS: &[Migration] = &[Migration {{ version: 1, ..Migration::DEFAULT }},\n{entry}];")
        );
    }

    #[test]
    fn append_to_empty_arrays() {
        let entry = render_entry(1, "First", &s(&["SELECT 1"]), &[], true);
        let out =
            append_entries("pub const MIGRATIONS: &[Migration] = &[];\n", &entry).expect("appends");
        assert_eq!(
            out,
            format!("pub const MIGRATIONS: &[Migration] = &[\n{entry}];\n")
        );
        let out = append_entries("pub const MIGRATIONS: &[Migration] = &[\n];\n", &entry)
            .expect("appends");
        assert_eq!(
            out,
            format!("pub const MIGRATIONS: &[Migration] = &[\n{entry}];\n")
        );
        assert_eq!(last_version(&out), Ok(1));
        // Appending again continues after the first entry.
        let second = render_entry(2, "Second", &s(&["SELECT 2"]), &[], true);
        let out = append_entries(&out, &second).expect("appends");
        assert_eq!(
            out,
            format!("pub const MIGRATIONS: &[Migration] = &[\n{entry}{second}];\n")
        );
    }

    #[test]
    fn append_keeps_crlf_files_crlf() {
        let source = "const MIGRATIONS: &[Migration] = &[\r\n];\r\n";
        let entry = render_entry(1, "First", &s(&["SELECT 1"]), &[], true);
        let out = append_entries(source, &entry).expect("appends");
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
        assert_eq!(last_version(&out), Ok(1));
    }

    #[test]
    fn empty_entries_change_nothing() {
        let source = "const MIGRATIONS: &[Migration] = &[\n    Migration { version: 4, ..Migration::DEFAULT }\n];\n";
        assert_eq!(append_entries(source, "").as_deref(), Ok(source));
    }

    #[test]
    fn render_entry_matches_the_file_style() {
        let entry = render_entry(
            7,
            "Add a bio to users",
            &s(&["ALTER TABLE users ADD COLUMN bio TEXT"]),
            &s(&["ALTER TABLE users DROP COLUMN bio"]),
            true,
        );
        assert_eq!(
            entry,
            "    Migration {
        version: 7,
        description: \"Add a bio to users\",
        sql: &[r\"ALTER TABLE users ADD COLUMN bio TEXT\"],
        down: &[r\"ALTER TABLE users DROP COLUMN bio\"],
        ..Migration::DEFAULT
    },
"
        );
        let entry = render_entry(8, "Two", &s(&["SELECT 1", "SELECT 2"]), &[], false);
        assert_eq!(
            entry,
            "    Migration {
        version: 8,
        description: \"Two\",
        sql: &[
            r\"SELECT 1\",
            r\"SELECT 2\",
        ],
        transaction: false,
        ..Migration::DEFAULT
    },
"
        );
    }

    #[test]
    fn raw_literals_get_enough_hashes() {
        assert_eq!(string_literal("SELECT 1"), "r\"SELECT 1\"");
        assert_eq!(string_literal(r#"SELECT "a""#), "r#\"SELECT \"a\"\"#");
        assert_eq!(
            string_literal(r###"SELECT '"#', '"##'"###),
            "r###\"SELECT '\"#', '\"##'\"###"
        );
        assert_eq!(string_literal(r"a\b\n"), "r\"a\\b\\n\"");
        assert_eq!(string_literal("a\r\nb"), "\"a\\r\\nb\"");
        let many = format!("\"{}", "#".repeat(300));
        assert!(string_literal(&many).starts_with("\"\\\""));
    }

    #[test]
    fn description_is_escaped() {
        assert_eq!(
            escaped_literal("say \"hi\" \\ now\nnext\u{7}é"),
            r#""say \"hi\" \\ now\nnext\u{7}é""#
        );
    }

    #[test]
    fn awkward_sql_survives_the_lexer() {
        // Text rendered into the file must lex back as literals only.
        let sql = s(&[
            r###"SELECT '"#', '"##', 'version: 99', '\', '//', '/*'"###,
            "INSERT INTO t VALUES ('it''s'); -- version: 98",
        ]);
        let entry = render_entry(1, "Tricky \"one\" // version: 97", &sql, &sql, false);
        let out =
            append_entries("pub const MIGRATIONS: &[Migration] = &[];", &entry).expect("appends");
        assert_eq!(last_version(&out), Ok(1));
        let out = append_entries(&out, &render_entry(2, "b", &sql, &[], true)).expect("appends");
        assert_eq!(last_version(&out), Ok(2));
    }

    #[test]
    fn never_panics_on_awkward_input() {
        let alphabet = [
            "'",
            "\"",
            "r#\"",
            "\"#",
            "#",
            "\\",
            "/*",
            "*/",
            "//",
            "\n",
            "b'",
            "'a",
            "é",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "version",
            "1",
            "-",
            "&[",
            "];",
            " ",
            "r",
            "const MIGRATIONS: &[M] = ",
        ];
        let entry = render_entry(1, "x", &s(&["SELECT 1"]), &[], true);
        for source in crate::import::split::tests::awkward_inputs(&alphabet, 5_000) {
            let _ = last_version(&source);
            if let Ok(out) = append_entries(&source, &entry) {
                assert!(out.len() > source.len(), "{source:?}");
            }
        }
    }

    #[test]
    fn lexer_handles_chars_lifetimes_and_raw_idents() {
        let source = "const A: char = '\"'; const B: char = '\\''; const C: &'static str = \"x\";\nconst r#type: u8 = b'\\\\'; const D: char = 'é';\nconst MIGRATIONS: &'static [Migration] = &[Migration { version: 9, ..Migration::DEFAULT }];";
        assert_eq!(last_version(source), Ok(9));
    }
}
