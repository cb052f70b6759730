//! Recognising which tool a directory of migrations was written for, from
//! its file names alone, before any file is read; and each tool's version.

use std::fmt;
use std::path::{Path, PathBuf};

use super::order::{FlywayVersion, OrderKey};
use super::ImportError;

/// The directory layouts `migrate import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// diesel: `VERSION_name/up.sql`, optional `down.sql` and `metadata.toml`.
    Diesel,
    /// Flyway or refinery: `V{n}__name.sql`, optional Flyway undo
    /// `U{n}__name.sql` and script configuration `V{n}__name.sql.conf`.
    Flyway,
    /// sqlx (or golang-migrate) reversible: `N_name.up.sql` + `N_name.down.sql`.
    Sqlx,
    /// `NNN_description.sql`, which is also sqlx's simple form and goose's and
    /// dbmate's naming (their in-file sections are honoured).
    Flat,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Diesel => "diesel",
            Layout::Flyway => "Flyway",
            Layout::Sqlx => "sqlx",
            Layout::Flat => "file",
        })
    }
}

/// A version as written in a name, and what orders it (see [`OrderKey`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) text: String,
    pub(crate) key: OrderKey,
}

/// One recognised directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A diesel migration directory.
    Diesel {
        version: Version,
        name: String,
        path: PathBuf,
    },
    /// `V{n}__name.sql` (up), `U{n}__name.sql` (Flyway undo) or `.sql.conf`.
    Flyway {
        kind: FlywayKind,
        version: FlywayVersion,
        version_text: String,
        name: String,
        path: PathBuf,
    },
    /// `N_name.sql`, `N_name.up.sql` or `N_name.down.sql`.
    Numbered {
        direction: Direction,
        number: i64,
        version_text: String,
        name: String,
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlywayKind {
    Versioned,
    Undo,
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `N_name.sql`: up only, or goose/dbmate sections.
    Single,
    Up,
    Down,
}

/// What [`classify`] found: the layout, its entries sorted by name, and the
/// files skipped as the source tool skips them (one notice each).
pub(crate) struct Listing {
    pub(crate) layout: Layout,
    pub(crate) entries: Vec<Entry>,
    pub(crate) skipped: Vec<String>,
}

/// The directory's layout and its entries (hidden entries ignored). In a
/// diesel layout a file beside the migration directories is skipped with a
/// notice, as diesel skips it; in the others every entry must fit the layout,
/// or the error names it.
pub(crate) fn classify(dir: &Path) -> Result<Listing, ImportError> {
    let io = |source| ImportError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.is_dir() {
        return Err(ImportError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let mut listed = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(ImportError::Unrecognised {
                path,
                reason: "the name is not valid UTF-8".into(),
            });
        };
        if name.starts_with('.') {
            continue;
        }
        let is_dir = path.is_dir();
        listed.push((name, path, is_dir));
    }
    listed.sort();

    let layout = if listed.iter().any(|(_, _, is_dir)| *is_dir) {
        Layout::Diesel
    } else if listed.iter().any(|(name, _, _)| looks_like_flyway(name)) {
        Layout::Flyway
    } else if listed
        .iter()
        .any(|(name, _, _)| name.ends_with(".up.sql") || name.ends_with(".down.sql"))
    {
        Layout::Sqlx
    } else {
        Layout::Flat
    };

    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for (name, path, is_dir) in listed {
        let entry = match layout {
            Layout::Diesel if !is_dir => {
                skipped.push(format!(
                    "{name}: skipped, a file beside the migration directories (diesel reads directories only)"
                ));
                continue;
            }
            Layout::Diesel => diesel_entry(&name, path)?,
            Layout::Flyway => flyway_entry(&name, path)?,
            Layout::Sqlx | Layout::Flat => numbered_entry(&name, path, layout)?,
        };
        entries.push(entry);
    }
    Ok(Listing {
        layout,
        entries,
        skipped,
    })
}

/// `V`, `U` or `R` then digits or `_`/`.`, then `__`: Flyway's naming.
fn looks_like_flyway(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('V' | 'U' | 'R'))
        && name.contains("__")
        && chars.next().is_some_and(|c| c.is_ascii_digit() || c == '_')
}

fn unrecognised(path: PathBuf, reason: impl Into<String>) -> ImportError {
    ImportError::Unrecognised {
        path,
        reason: reason.into(),
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn diesel_entry(name: &str, path: PathBuf) -> Result<Entry, ImportError> {
    // diesel's version: the name up to the first `_`, without `-`
    // (`2024-01-01-120000_create_users` → `20240101120000`), compared as text.
    let (raw_version, rest) = name.split_once('_').unwrap_or((name, ""));
    let text: String = raw_version.chars().filter(|&c| c != '-').collect();
    if !all_digits(&text) {
        return Err(unrecognised(
            path,
            "not a diesel migration directory name (expected VERSION_name, e.g. 2024-01-01-120000_create_users)",
        ));
    }
    Ok(Entry::Diesel {
        version: Version {
            key: OrderKey::Text(text.clone()),
            text,
        },
        name: rest.to_string(),
        path,
    })
}

fn flyway_entry(name: &str, path: PathBuf) -> Result<Entry, ImportError> {
    const EXPECTED: &str = "expected V<n>__<name>.sql (or U<n>__<name>.sql for an undo)";
    if name.starts_with("R__") {
        return Err(unrecognised(
            path,
            "repeatable migrations (R__) have no version and cannot be imported; turn it into a versioned V<n>__ file",
        ));
    }
    let (stem, kind) = if let Some(stem) = name.strip_suffix(".sql.conf") {
        (stem, FlywayKind::Config)
    } else if let Some(stem) = name.strip_suffix(".sql") {
        (stem, FlywayKind::Versioned)
    } else if name.ends_with(".rs") {
        return Err(unrecognised(
            path,
            "a Rust migration; only SQL migrations can be imported (copy its SQL into a V<n>__ file)",
        ));
    } else {
        return Err(unrecognised(path, EXPECTED));
    };
    let kind = match (stem.chars().next(), kind) {
        (Some('V'), kind) => kind,
        (Some('U'), FlywayKind::Versioned) => FlywayKind::Undo,
        _ => return Err(unrecognised(path, EXPECTED)),
    };
    let Some((text, rest)) = stem[1..].split_once("__") else {
        return Err(unrecognised(path, EXPECTED));
    };
    let Some(version) = FlywayVersion::parse(text) else {
        return Err(unrecognised(
            path,
            format!("version `{text}` is not a Flyway version (digits separated by `.` or `_`)"),
        ));
    };
    Ok(Entry::Flyway {
        kind,
        version,
        version_text: text.to_string(),
        name: rest.to_string(),
        path,
    })
}

fn numbered_entry(name: &str, path: PathBuf, layout: Layout) -> Result<Entry, ImportError> {
    let expected = if layout == Layout::Sqlx {
        "expected N_name.up.sql and N_name.down.sql (or N_name.sql)"
    } else {
        "expected NNN_description.sql"
    };
    let (stem, direction) = if let Some(stem) = name.strip_suffix(".up.sql") {
        (stem, Direction::Up)
    } else if let Some(stem) = name.strip_suffix(".down.sql") {
        (stem, Direction::Down)
    } else if let Some(stem) = name.strip_suffix(".sql") {
        (stem, Direction::Single)
    } else {
        return Err(unrecognised(path, expected));
    };
    let (digits, rest) = stem.split_once('_').unwrap_or((stem, ""));
    if !all_digits(digits) {
        return Err(unrecognised(path, expected));
    }
    // sqlx reads the version as an i64; so does goose.
    let number = digits.parse::<i64>().map_err(|_| {
        unrecognised(
            path.clone(),
            format!("version `{digits}` is too large for a 64-bit integer"),
        )
    })?;
    Ok(Entry::Numbered {
        direction,
        number,
        version_text: digits.to_string(),
        name: rest.to_string(),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flyway_names() {
        let p = PathBuf::from;
        let version = |text: &str| FlywayVersion::parse(text).expect("version");
        assert!(matches!(
            flyway_entry("V12__add_users.sql", p("x")),
            Ok(Entry::Flyway { kind: FlywayKind::Versioned, version: ref v, ref name, .. })
                if *v == version("12") && name == "add_users"
        ));
        assert!(matches!(
            flyway_entry("V1_1__x.sql", p("x")),
            Ok(Entry::Flyway { version: ref v, ref version_text, .. })
                if *v == version("1.1") && version_text == "1_1"
        ));
        assert!(matches!(
            flyway_entry("U3__x.sql", p("x")),
            Ok(Entry::Flyway {
                kind: FlywayKind::Undo,
                ..
            })
        ));
        assert!(matches!(
            flyway_entry("V3__x.sql.conf", p("x")),
            Ok(Entry::Flyway {
                kind: FlywayKind::Config,
                ..
            })
        ));
        for bad in [
            "V1a__x.sql",
            "V1..2__x.sql",
            "R__views.sql",
            "V2__x.rs",
            "V2__x.txt",
            "X1__a.sql",
        ] {
            let err = flyway_entry(bad, p(bad)).expect_err(bad).to_string();
            assert!(err.starts_with(bad), "{err}");
        }
        assert!(looks_like_flyway("V1__a.sql") && looks_like_flyway("R__a.sql"));
        assert!(!looks_like_flyway("Vacation__notes.sql") && !looks_like_flyway("001_a.sql"));
    }

    #[test]
    fn diesel_names() {
        let p = PathBuf::from;
        assert!(matches!(
            diesel_entry("2024-01-01-120000_create_users", p("x")),
            Ok(Entry::Diesel { ref version, ref name, .. })
                if version.text == "20240101120000" && name == "create_users"
        ));
        // diesel's version ends at the first underscore.
        assert!(matches!(
            diesel_entry("2024-03-13_170000_x", p("x")),
            Ok(Entry::Diesel { ref version, ref name, .. })
                if version.text == "20240313" && name == "170000_x"
        ));
        assert!(matches!(
            diesel_entry("00000000000000_diesel_initial_setup", p("x")),
            Ok(Entry::Diesel { ref name, .. }) if name == "diesel_initial_setup"
        ));
        assert!(diesel_entry("create_users", p("x")).is_err());
    }
}
