//! Parsing database URLs: which backend, where, and a form safe to print.

use std::path::{Path, PathBuf};

use crate::dialect::Dialect;
use crate::error::Error;

/// The embedded default: an SQLite file in the current directory.
pub const DEFAULT_DATABASE: &str = "app.db";

/// A database location, parsed once. `Display` prints it with any password
/// replaced by `***`; the original text is only handed to the driver.
#[derive(Clone)]
pub struct DatabaseUrl {
    raw: String,
    masked: String,
    password: Option<String>,
    target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    SqliteFile(PathBuf),
    SqliteMemory,
    Server {
        dialect: Dialect,
        host: Option<String>,
        port: u16,
    },
}

impl DatabaseUrl {
    pub fn parse(input: &str) -> Result<Self, Error> {
        let input = input.trim();
        if input.is_empty() {
            return Err(Error::InvalidUrl {
                url: String::from("\"\""),
                reason: String::from("it is empty"),
            });
        }
        let Some((scheme, rest)) = input.split_once("://") else {
            if input.contains(':') && !input.starts_with(":memory:") && looks_like_scheme(input) {
                let scheme = input.split(':').next().unwrap_or_default();
                return Err(Error::UnsupportedScheme {
                    scheme: scheme.to_string(),
                });
            }
            return Ok(Self::sqlite(input, input));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" | "file" => Ok(Self::sqlite(input, rest)),
            "postgres" | "postgresql" => Self::server(input, Dialect::Postgres, 5432),
            "mysql" | "mariadb" => Self::server(input, Dialect::Mysql, 3306),
            other => Err(Error::UnsupportedScheme {
                scheme: other.to_string(),
            }),
        }
    }

    fn sqlite(raw: &str, path: &str) -> Self {
        let target = if path == ":memory:" || path.is_empty() {
            Target::SqliteMemory
        } else {
            Target::SqliteFile(PathBuf::from(path))
        };
        DatabaseUrl {
            raw: raw.to_string(),
            masked: raw.to_string(),
            password: None,
            target,
        }
    }

    fn server(raw: &str, dialect: Dialect, default_port: u16) -> Result<Self, Error> {
        let parsed = url::Url::parse(raw).map_err(|e| Error::InvalidUrl {
            url: mask_unparsed(raw),
            reason: e.to_string(),
        })?;
        let password = parsed.password().map(|p| {
            match percent_encoding::percent_decode_str(p).decode_utf8() {
                Ok(decoded) => decoded.into_owned(),
                Err(_) => p.to_string(),
            }
        });
        let mut masked_url = parsed.clone();
        if parsed.password().is_some() {
            // Cannot fail: the URL has a host, since it has a password.
            let _ = masked_url.set_password(Some("***"));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .map(str::to_string);
        if dialect == Dialect::Mysql && parsed.path().trim_matches('/').is_empty() {
            return Err(Error::InvalidUrl {
                url: masked_url.to_string(),
                reason: String::from(
                    "no database name: use mysql://USER:PASSWORD@HOST:PORT/DATABASE",
                ),
            });
        }
        Ok(DatabaseUrl {
            raw: raw.to_string(),
            masked: masked_url.to_string(),
            password,
            target: Target::Server {
                dialect,
                host,
                port: parsed.port().unwrap_or(default_port),
            },
        })
    }

    pub fn dialect(&self) -> Dialect {
        match &self.target {
            Target::SqliteFile(_) | Target::SqliteMemory => Dialect::Sqlite,
            Target::Server { dialect, .. } => *dialect,
        }
    }

    /// The text handed to the driver (contains the password).
    pub fn as_driver_str(&self) -> &str {
        &self.raw
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.target {
            Target::SqliteFile(path) => Some(path),
            _ => None,
        }
    }

    pub fn is_sqlite_memory(&self) -> bool {
        self.target == Target::SqliteMemory
    }

    /// Host and port to probe before the driver connects (none for sockets).
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

    /// Removes the password from any text (e.g. a driver's message).
    pub fn redact(&self, text: &str) -> String {
        match &self.password {
            Some(password) if !password.is_empty() => text.replace(password.as_str(), "***"),
            _ => text.to_string(),
        }
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
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        DatabaseUrl::parse(s)
    }
}

/// `name:` at the start, like a URL scheme (but not a Windows drive `C:`).
fn looks_like_scheme(input: &str) -> bool {
    let scheme = input.split(':').next().unwrap_or_default();
    scheme.len() > 1
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
}

/// Masks `user:password@` in URL text without parsing it (for text the
/// parser rejects, and for templates with `${VAR}` in them).
pub(crate) fn mask_unparsed(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => raw.to_string(),
        },
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_backends() {
        assert_eq!(
            DatabaseUrl::parse("app.db").unwrap().dialect(),
            Dialect::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/app.db")
                .unwrap()
                .sqlite_path(),
            Some(Path::new("data/app.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db")
                .unwrap()
                .sqlite_path(),
            Some(Path::new("/tmp/x.db"))
        );
        assert!(DatabaseUrl::parse(":memory:").unwrap().is_sqlite_memory());
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().dialect(),
            Dialect::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("mysql://u@h/db").unwrap().dialect(),
            Dialect::Mysql
        );
    }

    #[test]
    fn masks_passwords() {
        let url = DatabaseUrl::parse("postgres://admin:s3cr%40t@db.example:6543/app").unwrap();
        assert_eq!(url.to_string(), "postgres://admin:***@db.example:6543/app");
        assert_eq!(url.redact("login s3cr@t failed"), "login *** failed");
        assert_eq!(url.tcp_endpoint(), Some(("db.example", 6543)));
        let bad = DatabaseUrl::parse("postgres://admin:hunter2@[bad/app").unwrap_err();
        assert!(!bad.to_string().contains("hunter2"), "{bad}");
    }

    #[test]
    fn rejects_unknown_schemes_and_bad_urls() {
        assert!(matches!(
            DatabaseUrl::parse("oracle://x/y"),
            Err(Error::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            DatabaseUrl::parse("redis:x"),
            Err(Error::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            DatabaseUrl::parse(""),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(
            DatabaseUrl::parse("mysql://root@localhost"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@host:99999/db"),
            Err(Error::InvalidUrl { .. })
        ));
    }
}
