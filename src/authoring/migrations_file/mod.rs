//! Reading and extending a `migrations.rs` file.
//!
//! `migrate new` and `migrate import` append entries to the user's
//! `MIGRATIONS` array. The file is the user's source code, so it is parsed
//! with syn (a string literal such as `'version: 99'` or a commented-out entry
//! cannot mislead it) and edited as text: the byte offsets of the array's
//! brackets and last entry (proc-macro2's span locations) say where the new
//! entries go, and every other byte stays as it was (formatting, comments,
//! blank lines).

mod render;

use std::ops::Range;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Item, Lit, Member};

pub use render::render_entry;

/// Why a `migrations.rs` text could not be read or extended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationsFileError {
    /// The file is not valid Rust.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// No `const MIGRATIONS ... = &[ ... ];` in the file.
    #[error(
        "no MIGRATIONS array found: expected `pub const MIGRATIONS: &[Migration] = &[ ... ];`"
    )]
    NoArray,
    /// Two definitions: appending to the wrong one would be worse than stopping.
    #[error("MIGRATIONS is defined twice (lines {first} and {second}); keep one definition")]
    Ambiguous {
        /// The line of the first definition.
        first: usize,
        /// The line of the second.
        second: usize,
    },
    /// `MIGRATIONS` is defined by something other than an array literal.
    #[error("line {line}: MIGRATIONS is not an array literal; write it as `&[ Migration {{ ... }}, ... ]`")]
    NotAnArray {
        /// Where it is defined.
        line: usize,
    },
    /// An element of the array with no `version: N` field to read.
    #[error("line {line}: an entry without a `version: N` field; write entries as `Migration {{ version: N, ... }}`")]
    EntryWithoutVersion {
        /// Where the entry starts.
        line: usize,
    },
    /// `version:` is followed by something other than an integer literal, so
    /// the next version cannot be computed from the text.
    #[error("line {line}: `version: {text}` is not an integer literal; write the number itself")]
    VersionNotLiteral {
        /// Where the field is.
        line: usize,
        /// What follows `version:`.
        text: String,
    },
}

/// One element of the `MIGRATIONS` array. The other fields are read when they
/// are literals (`None` otherwise, or when omitted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Its `version`.
    pub version: i64,
    /// 1-based line where the entry starts.
    pub line: usize,
    /// Its `description`, when a literal.
    pub description: Option<String>,
    /// Its `sql`, when literals.
    pub sql: Option<Vec<String>>,
    /// Its `down`, when literals.
    pub down: Option<Vec<String>>,
    /// Its `transaction`, when given as a literal.
    pub transaction: Option<bool>,
}

/// The entries of the `MIGRATIONS` array, in file order, with the values
/// rustc compiles them to.
pub fn entries(source: &str) -> Result<Vec<FileEntry>, MigrationsFileError> {
    // rustc reads CRLF as LF before anything else (so a raw literal written
    // across CRLF lines holds LF); syn does not.
    parse(&source.replace("\r\n", "\n")).map(|array| array.entries)
}

/// The highest `version: N` inside the `MIGRATIONS` array (0 when it is empty),
/// so a new entry can take the next number.
pub fn last_version(source: &str) -> Result<i64, MigrationsFileError> {
    Ok(parse(source)?
        .entries
        .iter()
        .map(|entry| entry.version)
        .max()
        .unwrap_or(0)
        .max(0))
}

/// Inserts already-rendered entries (see [`render_entry`]) just before the
/// closing `]` of the `MIGRATIONS` array. Adds the comma a last entry may lack
/// and handles `&[]`; every other byte of `source` is kept.
pub fn append_entries(source: &str, entries: &str) -> Result<String, MigrationsFileError> {
    let array = parse(source)?;
    if entries.trim().is_empty() {
        return Ok(source.to_string());
    }
    let crlf = source.contains("\r\n");
    let newline = if crlf { "\r\n" } else { "\n" };
    let mut text = entries.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if crlf {
        // Keep a CRLF file CRLF (rustc reads CRLF as LF, so literals are unchanged).
        text = text.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    let close = array.close;
    let line_start = source[..close].rfind('\n').map_or(0, |i| i + 1);
    let (at, insertion) = if source[line_start..close].trim().is_empty() {
        // `]` starts its line: the entries become the lines before it.
        (line_start, text)
    } else {
        // `&[]` or `...}]` on one line: the entries go on lines of their own.
        (close, format!("{newline}{text}"))
    };
    let comma_at = array.needs_comma_at;
    let mut out = String::with_capacity(source.len() + insertion.len() + 1);
    match comma_at {
        Some(comma_at) => {
            out.push_str(&source[..comma_at]);
            out.push(',');
            out.push_str(&source[comma_at..at]);
        }
        None => out.push_str(&source[..at]),
    }
    out.push_str(&insertion);
    out.push_str(&source[at..]);
    Ok(out)
}

/// What [`parse`] learns about the array.
struct Array {
    entries: Vec<FileEntry>,
    /// Byte offset of the closing `]`.
    close: usize,
    /// Where a comma must go after the last entry, when it has none.
    needs_comma_at: Option<usize>,
}

/// Parses `source` and finds its one `MIGRATIONS` array.
fn parse(source: &str) -> Result<Array, MigrationsFileError> {
    // syn's spans count from the text it was given: a byte-order mark or a
    // `#!` line (which it cannot parse) is left out and its length added back.
    let mut offset = if source.starts_with('\u{feff}') { 3 } else { 0 };
    if source[offset..].starts_with("#!") && !source[offset + 2..].trim_start().starts_with('[') {
        offset = source[offset..]
            .find('\n')
            .map_or(source.len(), |i| offset + i);
    }
    let result = syn::parse_str::<syn::File>(&source[offset..])
        .map_err(|error| {
            let start = error.span().start();
            MigrationsFileError::Syntax {
                line: start.line + source[..offset].matches('\n').count(),
                column: start.column + 1,
                message: error.to_string(),
            }
        })
        .and_then(|file| find_array(source, offset, &file.items));
    // Spans live in a per-thread table that would otherwise grow with every
    // file read; nothing holds one past this point.
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

fn byte_range(span: Span, offset: usize) -> Range<usize> {
    let range = span.byte_range();
    range.start + offset..range.end + offset
}

/// The one `const`/`static MIGRATIONS` holding an array, at the top level or
/// in an inline module.
fn find_array(source: &str, offset: usize, items: &[Item]) -> Result<Array, MigrationsFileError> {
    let mut found: Vec<(usize, &Expr)> = Vec::new();
    collect(items, &mut found);
    match found.as_slice() {
        [] => Err(MigrationsFileError::NoArray),
        [(_, expr)] => read_array(source, offset, expr),
        [(first, _), (second, _), ..] => Err(MigrationsFileError::Ambiguous {
            first: *first,
            second: *second,
        }),
    }
}

fn collect<'a>(items: &'a [Item], found: &mut Vec<(usize, &'a Expr)>) {
    for item in items {
        match item {
            Item::Const(c) if c.ident == "MIGRATIONS" => {
                found.push((c.ident.span().start().line, &c.expr));
            }
            Item::Static(s) if s.ident == "MIGRATIONS" => {
                found.push((s.ident.span().start().line, &s.expr));
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect(items, found);
                }
            }
            _ => {}
        }
    }
}

fn read_array(source: &str, offset: usize, expr: &Expr) -> Result<Array, MigrationsFileError> {
    let not_an_array = || MigrationsFileError::NotAnArray {
        line: expr.span().start().line,
    };
    let Expr::Reference(reference) = expr else {
        return Err(not_an_array());
    };
    let Expr::Array(array) = &*reference.expr else {
        return Err(not_an_array());
    };
    let mut entries = Vec::new();
    for element in &array.elems {
        entries.push(read_entry(source, offset, element)?);
    }
    let needs_comma_at = match array.elems.last() {
        Some(last) if !array.elems.trailing_punct() => Some(byte_range(last.span(), offset).end),
        _ => None,
    };
    Ok(Array {
        entries,
        close: byte_range(array.bracket_token.span.close(), offset).start,
        needs_comma_at,
    })
}

/// One `Migration { version: N, ... }`. An element without a literal
/// version (a helper call, a macro) is an error rather than a silent 0,
/// which would make the next version collide.
fn read_entry(
    source: &str,
    offset: usize,
    element: &Expr,
) -> Result<FileEntry, MigrationsFileError> {
    let line = element.span().start().line;
    let Expr::Struct(entry) = element else {
        return Err(MigrationsFileError::EntryWithoutVersion { line });
    };
    let field = |name: &str| {
        entry.fields.iter().find_map(|field| match &field.member {
            Member::Named(ident) if ident == name => Some(&field.expr),
            _ => None,
        })
    };
    let Some(version) = field("version") else {
        return Err(MigrationsFileError::EntryWithoutVersion { line });
    };
    let not_literal = || MigrationsFileError::VersionNotLiteral {
        line: version.span().start().line,
        text: source[byte_range(version.span(), offset)]
            .trim()
            .to_string(),
    };
    let (negative, literal) = match version {
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => (true, &*unary.expr),
        other => (false, other),
    };
    let Expr::Lit(syn::ExprLit {
        lit: Lit::Int(int), ..
    }) = literal
    else {
        return Err(not_literal());
    };
    let value: i64 = int.base10_parse().map_err(|_| not_literal())?;
    Ok(FileEntry {
        version: if negative { -value } else { value },
        line,
        description: field("description").and_then(string),
        sql: field("sql").and_then(strings),
        down: field("down").and_then(strings),
        transaction: field("transaction").and_then(|expr| match expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Bool(b), ..
            }) => Some(b.value),
            _ => None,
        }),
    })
}

fn string(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// `&["a", r"b"]` → `["a", "b"]`.
fn strings(expr: &Expr) -> Option<Vec<String>> {
    let Expr::Reference(reference) = expr else {
        return None;
    };
    let Expr::Array(array) = &*reference.expr else {
        return None;
    };
    array.elems.iter().map(string).collect()
}

#[cfg(test)]
mod tests;
