//! Parsing database URLs, once for every command: which backend, where,
//! with which SQLite open mode, and a form safe to print.

mod secrets;
mod sqlite;

use std::path::{Path, PathBuf};

use crate::dialect::Dialect;

pub use sqlite::SqliteMode;

/// A database location, parsed once. `Display` prints it with every
/// password replaced by `***`; the original text is only handed to the
/// driver.
#[derive(Clone)]
pub struct DatabaseUrl {
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    raw: String,
    masked: String,
    /// Every password-like part of the URL, scrubbed from messages.
    secrets: Vec<String>,
    target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    SqliteFile {
        path: PathBuf,
        mode: SqliteMode,
    },
    SqliteMemory,
    Server {
        dialect: Dialect,
        host: Option<String>,
        port: u16,
    },
}

/// Why a URL was refused. Messages never hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Nothing was given.
    #[error("the database URL is empty")]
    Empty,
    /// A scheme this tool does not speak.
    #[error(
        "unsupported database URL scheme `{scheme}`: use sqlite://PATH (or a bare path), postgres://, postgresql://, mysql:// or mariadb://"
    )]
    UnsupportedScheme {
        /// The scheme as written.
        scheme: String,
    },
    /// Malformed, or missing a part the backend needs.
    #[error("invalid database URL {url}: {reason}")]
    Invalid {
        /// The URL, passwords masked.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

impl DatabaseUrl {
    /// Parses a URL: `sqlite://PATH`, `sqlite:PATH`, `sqlite3://PATH`,
    /// `file:PATH` (SQLite URI), a bare path, `:memory:` or
    /// `sqlite::memory:`; `postgres://` / `postgresql://`; `mysql://` /
    /// `mariadb://`. SQLite URLs accept `?mode=ro|rw|rwc`.
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(UrlError::Empty);
        }
        if let Some(location) = sqlite::parse(input)? {
            return Ok(Self::sqlite(input, location));
        }
        let Some((scheme, _)) = input.split_once("://") else {
            if looks_like_scheme(input) {
                let scheme = input.split(':').next().unwrap_or_default();
                return Err(UrlError::UnsupportedScheme {
                    scheme: scheme.to_string(),
                });
            }
            return Ok(Self::sqlite(input, sqlite::Location::bare(input)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Self::server(input, Dialect::Postgres, 5432),
            "mysql" | "mariadb" => Self::server(input, Dialect::Mysql, 3306),
            other => Err(UrlError::UnsupportedScheme {
                scheme: other.to_string(),
            }),
        }
    }

    fn sqlite(raw: &str, location: sqlite::Location) -> Self {
        let target = match location {
            sqlite::Location::Memory => Target::SqliteMemory,
            sqlite::Location::File { path, mode } => Target::SqliteFile { path, mode },
        };
        DatabaseUrl {
            raw: raw.to_string(),
            masked: raw.to_string(),
            secrets: Vec::new(),
            target,
        }
    }

    fn server(raw: &str, dialect: Dialect, default_port: u16) -> Result<Self, UrlError> {
        let found = secrets::find(raw);
        let masked = found.masked.clone();
        let parsed = url::Url::parse(raw).map_err(|e| UrlError::Invalid {
            url: masked.clone(),
            reason: e.to_string(),
        })?;
        if dialect == Dialect::Mysql && parsed.path().trim_matches('/').is_empty() {
            return Err(UrlError::Invalid {
                url: masked,
                reason: String::from(
                    "no database name: use mysql://USER:PASSWORD@HOST:PORT/DATABASE",
                ),
            });
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .map(str::to_string);
        Ok(DatabaseUrl {
            raw: raw.to_string(),
            masked,
            secrets: found.secrets,
            target: Target::Server {
                dialect,
                host,
                port: parsed.port().unwrap_or(default_port),
            },
        })
    }

    /// The backend this URL names.
    pub fn dialect(&self) -> Dialect {
        match &self.target {
            Target::SqliteFile { .. } | Target::SqliteMemory => Dialect::Sqlite,
            Target::Server { dialect, .. } => *dialect,
        }
    }

    /// The text handed to the driver (contains the password).
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) fn as_driver_str(&self) -> &str {
        &self.raw
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.target {
            Target::SqliteFile { path, .. } => Some(path),
            _ => None,
        }
    }

    /// How an SQLite file may be opened (`?mode=`); `rwc` unless given.
    pub fn sqlite_mode(&self) -> Option<SqliteMode> {
        match &self.target {
            Target::SqliteFile { mode, .. } => Some(*mode),
            _ => None,
        }
    }

    /// Whether this is an in-memory SQLite database (gone when the
    /// connection closes).
    pub fn is_sqlite_memory(&self) -> bool {
        self.target == Target::SqliteMemory
    }

    /// Host and port to probe before the driver connects (none for sockets:
    /// MySQL's client reads `localhost` as its Unix socket).
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) fn tcp_endpoint(&self) -> Option<(&str, u16)> {
        match &self.target {
            Target::Server {
                host: Some(host),
                port,
                ..
            } if host != "localhost" || self.dialect() == Dialect::Postgres => {
                Some((host.trim_start_matches('[').trim_end_matches(']'), *port))
            }
            _ => None,
        }
    }

    /// The same server, user and options, another database: how scratch
    /// databases are reached. `None` for SQLite.
    pub fn with_database(&self, name: &str) -> Option<DatabaseUrl> {
        if !matches!(self.target, Target::Server { .. }) {
            return None;
        }
        let mut url = url::Url::parse(&self.raw).ok()?;
        url.set_path(&format!("/{name}"));
        DatabaseUrl::parse(url.as_str()).ok()
    }

    /// Removes every password-like part of this URL from `text` (e.g. a
    /// driver's message that echoes part of the URL).
    pub fn redact(&self, text: &str) -> String {
        secrets::scrub(text, &self.secrets)
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.masked)
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Self, UrlError> {
        DatabaseUrl::parse(s)
    }
}

/// `name:` at the start, like a URL scheme (but not a Windows drive `C:`).
fn looks_like_scheme(input: &str) -> bool {
    let Some((scheme, _)) = input.split_once(':') else {
        return false;
    };
    scheme.len() > 1
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
}

/// Masks passwords in URL text without parsing it fully (for text the
/// parser rejects, and for templates with `${VAR}` in them).
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn mask_unparsed(raw: &str) -> String {
    secrets::find(raw).masked
}

#[cfg(test)]
mod tests;
