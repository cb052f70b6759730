//! The SQLite forms of a database URL, read into one model (a file and an
//! open mode, or memory) that every command opens the same way.

use std::path::PathBuf;

use super::UrlError;

/// How an SQLite file may be opened, from `?mode=` (SQLite's own names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SqliteMode {
    /// Read and write; a missing file is created by commands that write.
    #[default]
    ReadWriteCreate,
    /// Read and write an existing file; a missing one is an error.
    ReadWrite,
    /// Read only: commands that write refuse.
    ReadOnly,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Location {
    File { path: PathBuf, mode: SqliteMode },
    Memory,
}

impl Location {
    pub(super) fn bare(path: &str) -> Location {
        match path {
            ":memory:" => Location::Memory,
            _ => Location::File {
                path: PathBuf::from(path),
                mode: SqliteMode::default(),
            },
        }
    }
}

/// `Some` when `input` is one of the SQLite forms (`:memory:`,
/// `sqlite::memory:`, `sqlite://PATH`, `sqlite3://PATH`, `sqlite:PATH`,
/// `file:PATH`); `None` for anything else.
pub(super) fn parse(input: &str) -> Result<Option<Location>, UrlError> {
    let lower = input.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        ":memory:" | "sqlite::memory:" | "sqlite://:memory:"
    ) {
        return Ok(Some(Location::Memory));
    }
    let rest = ["sqlite://", "sqlite3://", "sqlite:"]
        .iter()
        .find(|prefix| lower.starts_with(*prefix))
        .map(|prefix| &input[prefix.len()..]);
    if let Some(rest) = rest {
        return match strip_file_scheme(rest) {
            Some(uri) => uri_location(input, uri).map(Some),
            None => path_location(input, rest).map(Some),
        };
    }
    match strip_file_scheme(input) {
        Some(uri) => uri_location(input, uri).map(Some),
        None => Ok(None),
    }
}

fn strip_file_scheme(text: &str) -> Option<&str> {
    match text.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("file:") => Some(&text[5..]),
        _ => None,
    }
}

fn invalid(url: &str, reason: impl Into<String>) -> UrlError {
    UrlError::Invalid {
        url: url.to_string(),
        reason: reason.into(),
    }
}

/// `sqlite://PATH[?mode=…]`: the path as written (relative to the current
/// directory unless it starts with `/`).
fn path_location(url: &str, rest: &str) -> Result<Location, UrlError> {
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path == ":memory:" {
        return Ok(Location::Memory);
    }
    if path.is_empty() {
        return Err(invalid(
            url,
            "no file path: use sqlite://PATH, e.g. sqlite://app.db",
        ));
    }
    let mode = options(url, query)?;
    Ok(Location::File {
        path: PathBuf::from(path),
        mode,
    })
}

/// An SQLite URI (`file:PATH`, `file:///abs/path`, `file://localhost/…`):
/// the path percent-decoded, the query read for `mode`.
fn uri_location(url: &str, uri: &str) -> Result<Location, UrlError> {
    let uri = uri.split_once('#').map_or(uri, |(before, _)| before);
    let (path, query) = match uri.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (uri, None),
    };
    let path = match path.strip_prefix("//") {
        Some(authority_and_path) => {
            let slash = authority_and_path
                .find('/')
                .unwrap_or(authority_and_path.len());
            let authority = &authority_and_path[..slash];
            if !authority.is_empty() && !authority.eq_ignore_ascii_case("localhost") {
                return Err(invalid(
                    url,
                    format!("SQLite cannot open a file on host `{authority}`"),
                ));
            }
            &authority_and_path[slash..]
        }
        None => path,
    };
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| invalid(url, "the path is not valid UTF-8 once decoded"))?;
    if decoded == ":memory:" {
        return Ok(Location::Memory);
    }
    if decoded.is_empty() {
        return Err(invalid(url, "no file path"));
    }
    let mode = options(url, query)?;
    Ok(Location::File {
        path: PathBuf::from(decoded.into_owned()),
        mode,
    })
}

/// Reads `mode=ro|rw|rwc`; refuses every option this tool does not honour
/// the same way for every command, rather than ignoring it.
fn options(url: &str, query: Option<&str>) -> Result<SqliteMode, UrlError> {
    let mut mode = SqliteMode::default();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key.to_ascii_lowercase().as_str(), value.to_ascii_lowercase().as_str()) {
            ("mode", "rwc") => mode = SqliteMode::ReadWriteCreate,
            ("mode", "rw") => mode = SqliteMode::ReadWrite,
            ("mode", "ro") => mode = SqliteMode::ReadOnly,
            ("mode", "memory") => {
                return Err(invalid(
                    url,
                    "mode=memory keeps nothing once the command ends; migrate a file, or use :memory: from the library",
                ))
            }
            _ => {
                return Err(invalid(
                    url,
                    format!("unsupported SQLite URL option `{pair}` (supported: mode=ro, mode=rw, mode=rwc)"),
                ))
            }
        }
    }
    Ok(mode)
}
