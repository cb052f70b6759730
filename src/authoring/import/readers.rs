//! Reading each layout's files into migrations, each with the key its
//! source tool orders it by (see [`super::order`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::convert::{self, Statements};
use super::layout::{Direction, Entry, FlywayKind, Layout, Version};
use super::order::{FlywayVersion, OrderKey};
use super::{description, file_name, read_text, ImportError, ImportedMigration};

/// Statement used for a migration whose file has no statements, so the entry
/// still compiles (an empty `sql` is a build error) and changes nothing.
const NO_OP: &str = "SELECT 1";

/// One migration read, with what orders it and what it must not do.
pub(crate) struct Found {
    pub(crate) key: OrderKey,
    /// The path to name in errors.
    pub(crate) path: PathBuf,
    pub(crate) migration: ImportedMigration,
    /// See [`Statements::conflicts`].
    pub(crate) conflicts: Vec<String>,
}

/// The parts of a migration before [`assemble`] puts them together.
struct Parts {
    source: String,
    version_text: String,
    name: String,
    up: Statements,
    down: Vec<String>,
    transaction: bool,
}

/// Assembles a migration, turning an empty `up` into a no-op.
fn assemble(layout: Layout, key: OrderKey, path: PathBuf, parts: Parts) -> Found {
    let Parts {
        source,
        version_text,
        name,
        up,
        down,
        transaction,
    } = parts;
    let Statements {
        statements: mut up,
        mut notices,
        conflicts,
    } = up;
    if up.is_empty() {
        up.push(NO_OP.to_string());
        notices.push(format!(
            "{source}: no statements to import; the entry runs `{NO_OP}` so its place in the order is kept"
        ));
    }
    let migration = ImportedMigration {
        description: description(&name, &version_text),
        source,
        source_version: version_text,
        up,
        down,
        transaction,
        notices,
        layout,
    };
    Found {
        key,
        path,
        migration,
        conflicts,
    }
}

fn layout_mixup(layout: Layout) -> ImportError {
    // classify gives each reader only its own layout's entries.
    ImportError::Unrecognised {
        path: PathBuf::new(),
        reason: format!("an entry that does not belong in a {layout} layout"),
    }
}

/// Reads the statements of `path`, and adds its notices and conflicts to `into`.
fn read_into(
    into: &mut Statements,
    path: &Path,
    file: &str,
    ours: &str,
) -> Result<Vec<String>, ImportError> {
    let read = convert::statements(&read_text(path)?, file, ours);
    into.notices.extend(read.notices);
    into.conflicts.extend(read.conflicts);
    Ok(read.statements)
}

pub(crate) fn diesel(entries: Vec<Entry>, ours: &str) -> Result<Vec<Found>, ImportError> {
    let mut found = Vec::new();
    for entry in entries {
        let Entry::Diesel {
            version,
            name,
            path,
        } = entry
        else {
            return Err(layout_mixup(Layout::Diesel));
        };
        found.push(diesel_directory(version, name, path, ours)?);
    }
    Ok(found)
}

/// diesel's reading of `metadata.toml` (`TomlMetadata` in diesel's
/// migrations_internals): a valid file without the key means `false`
/// (serde's default for a `bool`), while a missing file, or one that is
/// not valid TOML, means diesel's default, a transaction.
#[derive(serde::Deserialize)]
struct Metadata {
    #[serde(default)]
    run_in_transaction: bool,
}

/// Reads `up.sql`, `down.sql` and `metadata.toml` of one diesel directory;
/// anything else in it is skipped with a notice, as diesel skips it.
fn diesel_directory(
    version: Version,
    name: String,
    dir: PathBuf,
    ours: &str,
) -> Result<Found, ImportError> {
    let source = file_name(&dir);
    let io = |source| ImportError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    let mut skipped = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io)? {
        let file = entry
            .map_err(io)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        match file.as_str() {
            "up.sql" | "down.sql" | "metadata.toml" => names.push(file),
            _ if file.starts_with('.') => {}
            _ => skipped.push(file),
        }
    }
    if !names.iter().any(|n| n == "up.sql") {
        return Err(ImportError::Unrecognised {
            path: dir.to_path_buf(),
            reason: "a diesel migration directory without up.sql".into(),
        });
    }
    let mut up = Statements::default();
    skipped.sort();
    for file in skipped {
        up.notices.push(format!(
            "{source}/{file}: skipped (diesel reads only up.sql, down.sql and metadata.toml)"
        ));
    }
    up.statements = read_into(
        &mut up,
        &dir.join("up.sql"),
        &format!("{source}/up.sql"),
        ours,
    )?;
    let down = match names.iter().any(|n| n == "down.sql") {
        true => read_into(
            &mut up,
            &dir.join("down.sql"),
            &format!("{source}/down.sql"),
            ours,
        )?,
        false => Vec::new(),
    };
    let mut transaction = true;
    if names.iter().any(|n| n == "metadata.toml") {
        let text = read_text(&dir.join("metadata.toml"))?;
        let file = format!("{source}/metadata.toml");
        match toml::from_str::<Metadata>(&text) {
            Ok(metadata) => {
                transaction = metadata.run_in_transaction;
                if !transaction {
                    let why = match text.contains("run_in_transaction") {
                        true => "run_in_transaction = false",
                        false => "no run_in_transaction setting, which diesel reads as false",
                    };
                    up.notices
                        .push(format!("{file}: {why}: transaction: false"));
                }
            }
            Err(error) => up.notices.push(format!(
                "{file}: not valid TOML, so diesel ignores it and so does the import ({})",
                error.message()
            )),
        }
    }
    let parts = Parts {
        source,
        version_text: version.text,
        name,
        up,
        down,
        transaction,
    };
    Ok(assemble(Layout::Diesel, version.key, dir, parts))
}

/// Whether `key = false` appears in a Java-properties text (Flyway's
/// `.sql.conf`, a handful of flat settings).
fn setting_is_false(text: &str, key: &str) -> bool {
    text.lines().any(|line| {
        let line = line.split('#').next().unwrap_or_default();
        line.split_once('=').is_some_and(|(k, v)| {
            k.trim() == key && v.trim().trim_matches('"').eq_ignore_ascii_case("false")
        })
    })
}

pub(crate) fn flyway(entries: Vec<Entry>, ours: &str) -> Result<Vec<Found>, ImportError> {
    #[derive(Default)]
    struct Group {
        up: Option<(String, String, PathBuf)>,
        undo: Option<PathBuf>,
        config: Option<PathBuf>,
    }
    // Flyway's order, and its notion of one version (`1` and `1.0` are one).
    let mut groups: BTreeMap<FlywayVersion, Group> = BTreeMap::new();
    for entry in entries {
        let Entry::Flyway {
            kind,
            version,
            version_text,
            name,
            path,
        } = entry
        else {
            return Err(layout_mixup(Layout::Flyway));
        };
        let group = groups.entry(version).or_default();
        let slot = match kind {
            FlywayKind::Versioned => group.up.as_ref().map(|(_, _, p)| p.clone()),
            FlywayKind::Undo => group.undo.clone(),
            FlywayKind::Config => group.config.clone(),
        };
        if let Some(first) = slot {
            return Err(ImportError::DuplicateVersion {
                version: version_text,
                first,
                second: path,
            });
        }
        match kind {
            FlywayKind::Versioned => group.up = Some((version_text, name, path)),
            FlywayKind::Undo => group.undo = Some(path),
            FlywayKind::Config => group.config = Some(path),
        }
    }
    let mut found = Vec::new();
    for (version, group) in groups {
        let Some((version_text, name, path)) = group.up else {
            let orphan = group.undo.or(group.config).unwrap_or_default();
            return Err(ImportError::Unrecognised {
                path: orphan,
                reason: "has no matching V<n>__ migration (refinery's unversioned U migrations cannot be imported; rename it V<n>__)".into(),
            });
        };
        let source = file_name(&path);
        let mut up = Statements::default();
        up.statements = read_into(&mut up, &path, &source, ours)?;
        let down = match &group.undo {
            Some(undo) => read_into(&mut up, undo, &file_name(undo), ours)?,
            None => Vec::new(),
        };
        let mut transaction = true;
        if let Some(config) = &group.config {
            if setting_is_false(&read_text(config)?, "executeInTransaction") {
                transaction = false;
                up.notices.push(format!(
                    "{}: executeInTransaction=false: transaction: false",
                    file_name(config)
                ));
            }
        }
        let parts = Parts {
            source,
            version_text,
            name,
            up,
            down,
            transaction,
        };
        found.push(assemble(
            Layout::Flyway,
            OrderKey::Flyway(version),
            path,
            parts,
        ));
    }
    Ok(found)
}

/// sqlx (`N_name.up.sql` + `.down.sql`) and flat (`NNN_name.sql`) files,
/// paired by their version number.
pub(crate) fn numbered(
    entries: Vec<Entry>,
    layout: Layout,
    ours: &str,
) -> Result<Vec<Found>, ImportError> {
    #[derive(Default)]
    struct Group {
        up: Option<(Direction, String, String, PathBuf)>,
        down: Option<PathBuf>,
    }
    let mut groups: BTreeMap<i64, Group> = BTreeMap::new();
    for entry in entries {
        let Entry::Numbered {
            direction,
            number,
            version_text,
            name,
            path,
        } = entry
        else {
            return Err(layout_mixup(layout));
        };
        let group = groups.entry(number).or_default();
        let taken = match direction {
            Direction::Down => group.down.clone(),
            Direction::Up | Direction::Single => group.up.as_ref().map(|(_, _, _, p)| p.clone()),
        };
        if let Some(first) = taken {
            return Err(ImportError::DuplicateVersion {
                version: version_text,
                first,
                second: path,
            });
        }
        match direction {
            Direction::Down => group.down = Some(path),
            _ => group.up = Some((direction, version_text, name, path)),
        }
    }
    let mut found = Vec::new();
    for (number, group) in groups {
        let Some((direction, version_text, name, path)) = group.up else {
            return Err(ImportError::Unrecognised {
                path: group.down.unwrap_or_default(),
                reason: "a down migration without its .up.sql".into(),
            });
        };
        if direction == Direction::Single {
            if let Some(down) = group.down {
                return Err(ImportError::Unrecognised {
                    path: down,
                    reason: format!(
                        "pairs with {}, which is not named .up.sql",
                        file_name(&path)
                    ),
                });
            }
        }
        let source = file_name(&path);
        let read = convert::single_file(&read_text(&path)?, &source, ours);
        let mut up = Statements {
            statements: read.up,
            notices: read.notices,
            conflicts: read.conflicts,
        };
        let mut down = read.down;
        if let Some(down_path) = &group.down {
            down = read_into(&mut up, down_path, &file_name(down_path), ours)?;
        }
        let key = match layout {
            Layout::Sqlx => OrderKey::Integer(number),
            _ => OrderKey::Name(source.clone()),
        };
        let parts = Parts {
            source,
            version_text,
            name,
            up,
            down,
            transaction: read.transaction,
        };
        found.push(assemble(layout, key, path, parts));
    }
    Ok(found)
}
