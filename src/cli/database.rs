//! Where the database comes from, said every time: `--database-url`, else
//! `$DATABASE_URL`, else `DATABASE_URL` in `.env` in the current directory
//! (only there: a parent's `.env` is never read, so relative SQLite paths in
//! it mean the same directory), else the embedded default `app.db`.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The embedded default: an SQLite file in the current directory.
pub(crate) const DEFAULT_DATABASE: &str = "app.db";

/// Where a URL came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UrlSource {
    Flag,
    Environment,
    DotEnv(PathBuf),
    EmbeddedDefault,
    /// The scratch database `drift`, `roundtrip` and `check --schema`
    /// replay on (`--scratch-url`, or made for the run).
    Scratch {
        given: bool,
    },
}

impl UrlSource {
    /// For people: `from --database-url`, `from .env at /x/.env`, …
    pub(crate) fn describe(&self) -> String {
        match self {
            UrlSource::Flag => String::from("from --database-url"),
            UrlSource::Environment => String::from("from DATABASE_URL"),
            UrlSource::DotEnv(path) => format!("from .env at {}", path.display()),
            UrlSource::EmbeddedDefault => {
                String::from("embedded default: no --database-url, DATABASE_URL or .env")
            }
            UrlSource::Scratch { given: true } => {
                String::from("scratch database from --scratch-url")
            }
            UrlSource::Scratch { given: false } => {
                String::from("scratch database made for this run and removed after it")
            }
        }
    }

    /// For `--json`.
    pub(crate) fn json(&self) -> SourceJson {
        let (kind, path) = match self {
            UrlSource::Flag => ("flag", None),
            UrlSource::Environment => ("environment", None),
            UrlSource::DotEnv(path) => ("dotenv", Some(path.display().to_string())),
            UrlSource::EmbeddedDefault => ("embedded_default", None),
            UrlSource::Scratch { given: true } => ("scratch_flag", None),
            UrlSource::Scratch { given: false } => ("scratch_temporary", None),
        };
        SourceJson { kind, path }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct SourceJson {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

/// A `.env` that cannot be read as one.
#[derive(Debug, thiserror::Error)]
#[error("{path} line {line}: cannot parse {text:?} as NAME=VALUE")]
pub(crate) struct DotEnvError {
    pub path: String,
    pub line: usize,
    pub text: String,
}

/// The URL to use and where it came from. `flag` is the first
/// `--database-url`; `env` reads the process environment.
pub(crate) fn resolve(
    flag: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
    current_dir: &Path,
) -> Result<(String, UrlSource), DotEnvError> {
    if let Some(url) = flag {
        return Ok((url.to_string(), UrlSource::Flag));
    }
    if let Some(url) = env("DATABASE_URL") {
        return Ok((url, UrlSource::Environment));
    }
    let path = current_dir.join(".env");
    if let Some(url) = read_dotenv(&path)? {
        return Ok((url, UrlSource::DotEnv(path)));
    }
    Ok((DEFAULT_DATABASE.to_string(), UrlSource::EmbeddedDefault))
}

/// `DATABASE_URL` from the `.env` at `path`, if the file exists and sets it.
fn read_dotenv(path: &Path) -> Result<Option<String>, DotEnvError> {
    let entries = match dotenvy::from_path_iter(path) {
        Ok(entries) => entries,
        Err(e) if e.not_found() => return Ok(None),
        Err(e) => {
            return Err(DotEnvError {
                path: path.display().to_string(),
                line: 0,
                text: e.to_string(),
            })
        }
    };
    let mut found = None;
    for entry in entries {
        match entry {
            Ok((key, value)) if key == "DATABASE_URL" => found = Some(value),
            Ok(_) => {}
            Err(dotenvy::Error::LineParse(text, _)) => {
                return Err(DotEnvError {
                    path: path.display().to_string(),
                    line: line_of(path, &text),
                    text,
                })
            }
            Err(e) => {
                return Err(DotEnvError {
                    path: path.display().to_string(),
                    line: 0,
                    text: e.to_string(),
                })
            }
        }
    }
    Ok(found)
}

/// The 1-based line of the file where `text` starts (0 when not found).
fn line_of(path: &Path, text: &str) -> usize {
    let contents = std::fs::read_to_string(path).unwrap_or_default();
    let first = text.lines().next().unwrap_or(text).trim();
    contents
        .lines()
        .position(|line| line.trim() == first)
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn order_flag_env_dotenv_default() {
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path();
        assert_eq!(
            resolve(None, no_env, here).unwrap(),
            (String::from("app.db"), UrlSource::EmbeddedDefault)
        );
        std::fs::write(
            here.join(".env"),
            "# settings\nOTHER=1\nDATABASE_URL=sqlite://d.db\n",
        )
        .unwrap();
        assert_eq!(
            resolve(None, no_env, here).unwrap(),
            (
                String::from("sqlite://d.db"),
                UrlSource::DotEnv(here.join(".env"))
            )
        );
        let env = |_: &str| Some(String::from("e.db"));
        assert_eq!(resolve(None, env, here).unwrap().1, UrlSource::Environment);
        assert_eq!(resolve(Some("f.db"), env, here).unwrap().1, UrlSource::Flag);
    }

    #[test]
    fn a_parent_dotenv_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "DATABASE_URL=parent.db\n").unwrap();
        let child = dir.path().join("child");
        std::fs::create_dir(&child).unwrap();
        assert_eq!(
            resolve(None, no_env, &child).unwrap().1,
            UrlSource::EmbeddedDefault
        );
    }

    #[test]
    fn a_broken_dotenv_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".env"),
            "A=1\nthis is not an assignment\nDATABASE_URL=x.db\n",
        )
        .unwrap();
        let err = resolve(None, no_env, dir.path()).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.to_string().contains(".env line 2"), "{err}");
    }
}
