//! `migrate import DIR`: converting a directory of SQL-file migrations written
//! for another tool into `Migration` entries for `migrations.rs`.
//!
//! The work is split so the caller stays thin: [`scan`] reads the directory
//! (nothing is written), [`renumber`] decides the new versions and [`render`]
//! produces the Rust text that
//! [`append_entries`](super::migrations_file::append_entries) adds to the file.
//!
//! Versions are renumbered: the imported migrations follow the file's last
//! version consecutively, in the order the source tool runs them (see
//! [`order`]). Other tools' versions (diesel's timestamps, sqlx's
//! `20240101120000`) would leave huge gaps and could sort below existing
//! entries; keeping the order and telling the user the mapping (see
//! [`ImportedMigration::renumbering_notice`]) loses nothing.

mod convert;
mod layout;
pub mod order;
mod readers;
pub mod split;
mod tracking;

use std::path::{Path, PathBuf};

pub use layout::Layout;
pub use split::{split_statements, Split};

use super::migrations_file::render_entry;
use order::OrderKey;

/// One migration read from the directory, ready to become an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedMigration {
    /// The file or directory it came from (its name, not the whole path).
    pub source: String,
    /// The version as the previous tool wrote it (diesel's without `-`).
    pub source_version: String,
    /// From the name: underscores become spaces, the first letter upper case.
    pub description: String,
    /// The statements, split.
    pub up: Vec<String>,
    /// Empty when the source had no down migration, or an empty one: the
    /// entry is irreversible.
    pub down: Vec<String>,
    /// Whether it runs in a transaction (the source tool's setting).
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

/// What [`scan`] read from a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// The layout the directory was read as.
    pub layout: Layout,
    /// In the order the source tool runs them.
    pub migrations: Vec<ImportedMigration>,
    /// About the directory as a whole (the order's rule, skipped files).
    pub notices: Vec<String>,
}

/// Why a directory could not be imported. Nothing is written in any case.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The path is not a directory.
    #[error("{}: not a directory", .path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file is not UTF-8 text.
    #[error("{}: not valid UTF-8 text; save it as UTF-8 and import again", .path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A name or file that does not fit the directory's layout.
    #[error("{}: {reason}", .path.display())]
    Unrecognised {
        /// The file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// Two migrations with one version.
    #[error("version {version} appears twice: {} and {}", .first.display(), .second.display())]
    DuplicateVersion {
        /// The version.
        version: String,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// Flat files whose names and numbers order them differently: which
    /// order the previous tool used cannot be told from the directory.
    #[error(
        "{first} sorts before {second} by name but after it by number, so the order they ran in is unclear; \
         rename the files with zero-padded numbers (e.g. 002_name.sql) so both orders agree, and import again"
    )]
    AmbiguousOrder {
        /// The file first by name.
        first: String,
        /// The file first by number.
        second: String,
    },
    /// Statements that would break the runner's own bookkeeping.
    #[error("{}", touches_message(.dir, .table, .statements))]
    TouchesTrackingTable {
        /// The directory.
        dir: PathBuf,
        /// The tracking table's name.
        table: String,
        /// Each statement, with its file.
        statements: Vec<String>,
    },
    /// Nothing to import.
    #[error("no migrations found in {}{}", .dir.display(), skipped_note(.skipped))]
    NoMigrations {
        /// The directory.
        dir: PathBuf,
        /// What was skipped.
        skipped: Vec<String>,
    },
}

fn touches_message(dir: &Path, table: &str, statements: &[String]) -> String {
    let example = match table.eq_ignore_ascii_case("app_migrations") {
        true => "app_schema_migrations",
        false => "app_migrations",
    };
    let mut text = format!(
        "nothing imported: {} statement(s) create, change or write a table named {table}, \
         the table migrate records applied migrations in, so applying them would break that record:",
        statements.len()
    );
    for statement in statements {
        text.push_str("\n  ");
        text.push_str(statement);
    }
    text.push_str(&format!(
        "\nkeep the migrations' own {table} and give migrate's tracking table another name: \
         import again with `migrate --table {example} import {dir}`, then use that name wherever these \
         migrations run: `--table {example}` on every migrate command, and \
         `Migrator::new(MIGRATIONS).with_table(\"{example}\")` in the application",
        dir = dir.display()
    ));
    text
}

fn skipped_note(skipped: &[String]) -> String {
    if skipped.is_empty() {
        String::new()
    } else {
        format!(" (skipped {})", skipped.join(", "))
    }
}

/// Reads the migrations in `dir`, in the order the source tool runs them
/// (see [`order`]). `tracking_table` is the runner's tracking table: a
/// statement creating, changing or writing a table of that name stops the
/// import ([`ImportError::TouchesTrackingTable`]); writes to the previous
/// tool's tracking table are dropped with a notice.
///
/// Layouts, checked in this order: diesel (any subdirectory), Flyway/refinery
/// (`V{n}__name.sql`), sqlx reversible (`N_name.up.sql`/`.down.sql`), flat
/// (`NNN_description.sql`). Hidden entries are ignored. In a diesel layout,
/// files beside the migration directories, and files other than `up.sql`,
/// `down.sql` and `metadata.toml` inside them, are skipped with a notice as
/// diesel skips them; diesel's `00000000000000_diesel_initial_setup` is a
/// migration like the others (its functions are part of the schema).
/// Anything else that does not fit the layout is an error naming it.
///
/// diesel directories are read directly rather than through
/// `diesel_migrations::FileBasedMigrations`: that type only runs migrations
/// against a connection and never exposes their SQL text.
pub fn scan(dir: &Path, tracking_table: &str) -> Result<Scanned, ImportError> {
    let listing = layout::classify(dir)?;
    let layout = listing.layout;
    let ours = tracking_table;
    let mut found = match layout {
        Layout::Diesel => readers::diesel(listing.entries, ours)?,
        Layout::Flyway => readers::flyway(listing.entries, ours)?,
        Layout::Sqlx | Layout::Flat => readers::numbered(listing.entries, layout, ours)?,
    };
    found.sort_by(|a, b| a.key.cmp(&b.key));
    for pair in found.windows(2) {
        if pair[0].key == pair[1].key {
            return Err(ImportError::DuplicateVersion {
                version: pair[1].migration.source_version.clone(),
                first: pair[0].path.clone(),
                second: pair[1].path.clone(),
            });
        }
        if layout == Layout::Flat && number(&pair[0].key) > number(&pair[1].key) {
            return Err(ImportError::AmbiguousOrder {
                first: pair[0].migration.source.clone(),
                second: pair[1].migration.source.clone(),
            });
        }
    }
    let conflicts: Vec<String> = found.iter().flat_map(|f| f.conflicts.clone()).collect();
    if !conflicts.is_empty() {
        return Err(ImportError::TouchesTrackingTable {
            dir: dir.to_path_buf(),
            table: tracking_table.to_string(),
            statements: conflicts,
        });
    }
    if found.is_empty() {
        return Err(ImportError::NoMigrations {
            dir: dir.to_path_buf(),
            skipped: listing.skipped,
        });
    }
    let mut notices = vec![format!(
        "{} {layout} migration(s), ordered {}",
        found.len(),
        order::rule(layout)
    )];
    notices.extend(listing.skipped);
    Ok(Scanned {
        layout,
        migrations: found.into_iter().map(|f| f.migration).collect(),
        notices,
    })
}

/// A flat file's number, from its name (`Name` keys only).
fn number(key: &OrderKey) -> Option<i64> {
    let OrderKey::Name(name) = key else {
        return None;
    };
    name.split(['_', '.']).next()?.parse().ok()
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
fn description(name: &str, version: &str) -> String {
    let words: Vec<&str> = name.split(['_', ' ']).filter(|w| !w.is_empty()).collect();
    let joined = words.join(" ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => format!("Imported migration {version}"),
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

#[cfg(test)]
mod tests;
