//! `migrate import DIR`: converting a directory of SQL-file migrations written
//! for another tool into `Migration` entries for `migrations.rs`.
//!
//! The work is split so the CLI stays thin: [`scan`] reads the directory
//! (nothing is written), [`renumber`] decides the new versions and [`render`]
//! produces the Rust text that
//! [`migrations_file::append_entries`](crate::migrations_file::append_entries)
//! adds to the file.
//!
//! Versions are renumbered: the imported migrations follow the file's last
//! version consecutively, in the source's order. Other tools' versions
//! (diesel's timestamps, sqlx's `20240101120000`) would leave huge gaps and
//! could sort below existing entries; keeping the order and telling the user
//! the mapping (see [`ImportedMigration::renumbering_notice`]) loses nothing.

mod convert;
mod layout;
pub mod split;

use std::path::{Path, PathBuf};

pub use layout::Layout;
pub use split::{split_statements, Split};

use crate::migrations_file::render_entry;
use layout::{Direction, Entry, FlywayKind, Version};

/// One migration read from the directory, ready to become an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedMigration {
    /// The file or directory it came from (its name, not the whole path).
    pub source: String,
    /// The version as the previous tool wrote it (diesel's without `-`).
    pub source_version: String,
    /// From the name: underscores become spaces, the first letter upper case.
    pub description: String,
    pub up: Vec<String>,
    /// Empty when the source had no down migration.
    pub down: Vec<String>,
    pub transaction: bool,
    /// What the conversion changed or could not decide, one line each, each
    /// naming the file.
    pub notices: Vec<String>,
    /// The layout it was read as.
    pub layout: Layout,
}

impl ImportedMigration {
    /// Tells the user which new version replaces the old one, e.g.
    /// "20240101120000_create_users: diesel version 20240101120000 becomes 7".
    pub fn renumbering_notice(&self, version: i64) -> String {
        format!(
            "{}: {} version {} becomes {version}",
            self.source, self.layout, self.source_version
        )
    }
}

/// Why a directory could not be imported. Nothing is written in any case.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: not a directory", .path.display())]
    NotADirectory { path: PathBuf },
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not valid UTF-8 text; save it as UTF-8 and import again", .path.display())]
    NotUtf8 { path: PathBuf },
    /// A name or file that does not fit the directory's layout.
    #[error("{}: {reason}", .path.display())]
    Unrecognised { path: PathBuf, reason: String },
    #[error("version {version} appears twice: {} and {}", .first.display(), .second.display())]
    DuplicateVersion {
        version: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("no migrations found in {}{}", .dir.display(), skipped_note(.skipped))]
    NoMigrations { dir: PathBuf, skipped: Vec<String> },
}

fn skipped_note(skipped: &[String]) -> String {
    if skipped.is_empty() {
        String::new()
    } else {
        format!(" (skipped {})", skipped.join(", "))
    }
}

/// The name of diesel's setup migration, which `scan` skips.
const DIESEL_SETUP: &str = "00000000000000_diesel_initial_setup";

/// Statement used for a migration whose file has no statements, so the entry
/// still compiles (an empty `sql` is a build error) and changes nothing.
const NO_OP: &str = "SELECT 1";

/// Reads the migrations in `dir`, sorted by their version (numerically).
///
/// Layouts, checked in this order: diesel (any subdirectory), Flyway/refinery
/// (`V{n}__name.sql`), sqlx reversible (`N_name.up.sql`/`.down.sql`), flat
/// (`NNN_description.sql`). Hidden entries are ignored; anything else that
/// does not fit the layout is an error naming it. diesel's
/// `00000000000000_diesel_initial_setup` is skipped (a notice on the first
/// migration says so).
///
/// diesel directories are read directly rather than through
/// `diesel_migrations::FileBasedMigrations`: that type only runs migrations
/// against a connection and never exposes their SQL text, and reading
/// `up.sql`, `down.sql` and `metadata.toml`'s `run_in_transaction` ourselves
/// needs no extra dependency.
pub fn scan(dir: &Path) -> Result<Vec<ImportedMigration>, ImportError> {
    let (layout, entries) = layout::classify(dir)?;
    let mut skipped = Vec::new();
    let mut found = match layout {
        Layout::Diesel => diesel(entries, &mut skipped)?,
        Layout::Flyway => flyway(entries)?,
        Layout::Sqlx | Layout::Flat => numbered(entries, layout)?,
    };
    found.sort_by_key(|(version, _, _)| version.value);
    for pair in found.windows(2) {
        if pair[0].0.value == pair[1].0.value {
            return Err(ImportError::DuplicateVersion {
                version: pair[1].0.text.clone(),
                first: pair[0].1.clone(),
                second: pair[1].1.clone(),
            });
        }
    }
    let mut migrations: Vec<ImportedMigration> = found.into_iter().map(|(_, _, m)| m).collect();
    if migrations.is_empty() {
        return Err(ImportError::NoMigrations {
            dir: dir.to_path_buf(),
            skipped,
        });
    }
    if !skipped.is_empty() {
        for migration in &mut migrations {
            let calls_helper = migration.up.iter().chain(&migration.down).any(|s| {
                let lower = s.to_ascii_lowercase();
                lower.contains("diesel_manage_updated_at")
                    || lower.contains("diesel_set_updated_at")
            });
            if calls_helper {
                migration.notices.push(format!(
                    "{}: calls diesel_manage_updated_at/diesel_set_updated_at, defined by the skipped {DIESEL_SETUP}; import that up.sql as a migration first unless the database already has them",
                    migration.source
                ));
            }
        }
        if let Some(first) = migrations.first_mut() {
            first.notices.insert(
                0,
                format!("skipped {DIESEL_SETUP}: diesel's own setup (its updated_at helper functions), not part of the schema"),
            );
        }
    }
    Ok(migrations)
}

/// The new version of each migration: `after + 1`, `after + 2`, … in the
/// given (source) order. `after` is the last version in `migrations.rs`.
pub fn renumber(imported: &[ImportedMigration], after: i64) -> Vec<(i64, &ImportedMigration)> {
    let mut next = after;
    imported
        .iter()
        .map(|migration| {
            // Saturating: near i64::MAX the duplicates are caught by the
            // compile-time check rather than wrapping to negative versions.
            next = next.saturating_add(1);
            (next, migration)
        })
        .collect()
}

/// The entries text for `migrations.rs`, renumbered after `after`, each with a
/// `// imported from …` comment naming its source and old version.
pub fn render(imported: &[ImportedMigration], after: i64) -> String {
    let mut out = String::new();
    for (version, migration) in renumber(imported, after) {
        out.push_str(&format!(
            "    // imported from {} ({} version {})\n",
            comment_safe(&migration.source),
            migration.layout,
            comment_safe(&migration.source_version)
        ));
        out.push_str(&render_entry(
            version,
            &migration.description,
            &migration.up,
            &migration.down,
            migration.transaction,
        ));
    }
    out
}

/// Text for a `//` comment: a line break in a file name must not end it.
fn comment_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// `create_users` → `Create users`; a missing name falls back to the version.
fn description(name: &str, version: &Version) -> String {
    let words: Vec<&str> = name.split(['_', ' ']).filter(|w| !w.is_empty()).collect();
    let joined = words.join(" ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => format!("Imported migration {}", version.text),
    }
}

/// A file's text: UTF-8, without a byte-order mark, CRLF read as LF (the
/// checksum ignores the difference, and raw string literals cannot hold CR).
fn read_text(path: &Path) -> Result<String, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| ImportError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(text.replace("\r\n", "\n"))
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// What each layout reader returns: the version, the path to name in errors.
type Found = Vec<(Version, PathBuf, ImportedMigration)>;

/// Assembles a migration, turning an empty `up` into a no-op and noting an
/// empty down file.
#[allow(clippy::too_many_arguments)]
fn assemble(
    layout: Layout,
    source: String,
    version: &Version,
    name: &str,
    mut up: Vec<String>,
    down: Vec<String>,
    had_down_file: bool,
    transaction: bool,
    mut notices: Vec<String>,
) -> ImportedMigration {
    if up.is_empty() {
        up.push(NO_OP.to_string());
        notices.push(format!(
            "{source}: no statements to import; the entry runs `{NO_OP}` so its place in the order is kept"
        ));
    }
    if had_down_file && down.is_empty() {
        notices.push(format!(
            "{source}: the down migration has no statements; the entry is irreversible"
        ));
    }
    ImportedMigration {
        description: description(name, version),
        source,
        source_version: version.text.clone(),
        up,
        down,
        transaction,
        notices,
        layout,
    }
}

fn diesel(entries: Vec<Entry>, skipped: &mut Vec<String>) -> Result<Found, ImportError> {
    let mut found = Vec::new();
    for entry in entries {
        match entry {
            Entry::DieselSetup { name } => skipped.push(name),
            Entry::Diesel {
                version,
                name,
                path,
            } => {
                let migration = diesel_directory(&version, &name, &path)?;
                found.push((version, path, migration));
            }
            other => return Err(layout_mixup(entry_path(other), Layout::Diesel)),
        }
    }
    Ok(found)
}

/// The path to name when an entry does not belong (classify prevents it).
fn entry_path(entry: Entry) -> PathBuf {
    match entry {
        Entry::Diesel { path, .. } | Entry::Flyway { path, .. } | Entry::Numbered { path, .. } => {
            path
        }
        Entry::DieselSetup { name } => PathBuf::from(name),
    }
}

fn layout_mixup(path: PathBuf, layout: Layout) -> ImportError {
    ImportError::Unrecognised {
        path,
        reason: format!("does not belong in a {layout} layout"),
    }
}

/// Reads `up.sql`, `down.sql` and `metadata.toml` of one diesel directory.
fn diesel_directory(
    version: &Version,
    name: &str,
    dir: &Path,
) -> Result<ImportedMigration, ImportError> {
    let source = file_name(dir);
    let io = |source| ImportError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with('.') {
            continue;
        }
        if !matches!(file.as_str(), "up.sql" | "down.sql" | "metadata.toml") {
            return Err(ImportError::Unrecognised {
                path: entry.path(),
                reason:
                    "a diesel migration directory holds only up.sql, down.sql and metadata.toml"
                        .into(),
            });
        }
        names.push(file);
    }
    if !names.iter().any(|n| n == "up.sql") {
        return Err(ImportError::Unrecognised {
            path: dir.to_path_buf(),
            reason: "a diesel migration directory without up.sql".into(),
        });
    }
    let up_file = format!("{source}/up.sql");
    let up = convert::statements(&read_text(&dir.join("up.sql"))?, &up_file);
    let mut notices = up.notices;
    let has_down = names.iter().any(|n| n == "down.sql");
    let down = if has_down {
        let read = convert::statements(
            &read_text(&dir.join("down.sql"))?,
            &format!("{source}/down.sql"),
        );
        notices.extend(read.notices);
        read.statements
    } else {
        Vec::new()
    };
    let mut transaction = true;
    if names.iter().any(|n| n == "metadata.toml") {
        let metadata = read_text(&dir.join("metadata.toml"))?;
        if setting_is_false(&metadata, "run_in_transaction") {
            transaction = false;
            notices.push(format!(
                "{source}/metadata.toml: run_in_transaction = false: transaction: false"
            ));
        }
    }
    Ok(assemble(
        Layout::Diesel,
        source,
        version,
        name,
        up.statements,
        down,
        has_down,
        transaction,
        notices,
    ))
}

/// Whether `key = false` appears in a TOML or Java-properties style text
/// (diesel's `metadata.toml`, Flyway's `.sql.conf`). These files hold a
/// handful of flat settings, so a line match is enough.
fn setting_is_false(text: &str, key: &str) -> bool {
    text.lines().any(|line| {
        let line = line.split('#').next().unwrap_or_default();
        line.split_once('=').is_some_and(|(k, v)| {
            k.trim() == key && v.trim().trim_matches('"').eq_ignore_ascii_case("false")
        })
    })
}

fn flyway(entries: Vec<Entry>) -> Result<Found, ImportError> {
    use std::collections::BTreeMap;
    #[derive(Default)]
    struct Group {
        up: Option<(Version, String, PathBuf)>,
        undo: Option<PathBuf>,
        config: Option<PathBuf>,
    }
    let mut groups: BTreeMap<u128, Group> = BTreeMap::new();
    for entry in entries {
        let (kind, version, name, path) = match entry {
            Entry::Flyway {
                kind,
                version,
                name,
                path,
            } => (kind, version, name, path),
            other => return Err(layout_mixup(entry_path(other), Layout::Flyway)),
        };
        let group = groups.entry(version.value).or_default();
        let slot_taken = match kind {
            FlywayKind::Versioned => group.up.as_ref().map(|(_, _, p)| p.clone()),
            FlywayKind::Undo => group.undo.clone(),
            FlywayKind::Config => group.config.clone(),
        };
        if let Some(first) = slot_taken {
            return Err(ImportError::DuplicateVersion {
                version: version.text,
                first,
                second: path,
            });
        }
        match kind {
            FlywayKind::Versioned => group.up = Some((version, name, path)),
            FlywayKind::Undo => group.undo = Some(path),
            FlywayKind::Config => group.config = Some(path),
        }
    }
    let mut found = Vec::new();
    for group in groups.into_values() {
        let Some((version, name, path)) = group.up else {
            let orphan = group.undo.or(group.config).unwrap_or_default();
            return Err(ImportError::Unrecognised {
                path: orphan,
                reason: "has no matching V<n>__ migration (refinery's unversioned U migrations cannot be imported; rename it V<n>__)".into(),
            });
        };
        let source = file_name(&path);
        let up = convert::statements(&read_text(&path)?, &source);
        let mut notices = up.notices;
        let down = match &group.undo {
            Some(undo) => {
                let read = convert::statements(&read_text(undo)?, &file_name(undo));
                notices.extend(read.notices);
                read.statements
            }
            None => Vec::new(),
        };
        let mut transaction = true;
        if let Some(config) = &group.config {
            if setting_is_false(&read_text(config)?, "executeInTransaction") {
                transaction = false;
                notices.push(format!(
                    "{}: executeInTransaction=false: transaction: false",
                    file_name(config)
                ));
            }
        }
        let migration = assemble(
            Layout::Flyway,
            source,
            &version,
            &name,
            up.statements,
            down,
            group.undo.is_some(),
            transaction,
            notices,
        );
        found.push((version, path, migration));
    }
    Ok(found)
}

fn numbered(entries: Vec<Entry>, layout: Layout) -> Result<Found, ImportError> {
    use std::collections::BTreeMap;
    #[derive(Default)]
    struct Group {
        up: Option<(Direction, Version, String, PathBuf)>,
        down: Option<PathBuf>,
    }
    let mut groups: BTreeMap<u128, Group> = BTreeMap::new();
    for entry in entries {
        let (direction, version, name, path) = match entry {
            Entry::Numbered {
                direction,
                version,
                name,
                path,
            } => (direction, version, name, path),
            other => return Err(layout_mixup(entry_path(other), layout)),
        };
        let group = groups.entry(version.value).or_default();
        let taken = match direction {
            Direction::Down => group.down.clone(),
            Direction::Up | Direction::Single => group.up.as_ref().map(|(_, _, _, p)| p.clone()),
        };
        if let Some(first) = taken {
            return Err(ImportError::DuplicateVersion {
                version: version.text,
                first,
                second: path,
            });
        }
        match direction {
            Direction::Down => group.down = Some(path),
            _ => group.up = Some((direction, version, name, path)),
        }
    }
    let mut found = Vec::new();
    for group in groups.into_values() {
        let Some((direction, version, name, path)) = group.up else {
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
        let text = read_text(&path)?;
        let read = convert::single_file(&text, &source);
        let mut notices = read.notices;
        let mut down = read.down;
        let had_down = group.down.is_some() || !down.is_empty();
        if let Some(down_path) = &group.down {
            let read = convert::statements(&read_text(down_path)?, &file_name(down_path));
            notices.extend(read.notices);
            down = read.statements;
        }
        let migration = assemble(
            layout,
            source,
            &version,
            &name,
            read.up,
            down,
            had_down,
            read.transaction,
            notices,
        );
        found.push((version, path, migration));
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
