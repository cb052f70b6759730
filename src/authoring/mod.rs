//! Writing `migrations.rs`: `migrate new` and `migrate import`. Both edit the
//! file as text, keeping its formatting, and never touch a database.
//!
//! Compiled with the `cli` feature only: an application that migrates at
//! start-up (`default-features = false`) builds none of this, nor its
//! dependencies (syn, toml).
//!
//! The command line uses [`find_migrations_file`], [`new_migration`] and
//! [`import()`]; [`migrations_file`] and [`import`](mod@import) hold the parts.

pub mod import;
pub mod init;
pub mod migrations_file;

use std::path::{Path, PathBuf};

use crate::migration::PLACEHOLDER_SQL;
use import::{ImportError, ImportedMigration};
use migrations_file::MigrationsFileError;

/// Why `migrate new` or `migrate import` could not do its work. Nothing was
/// written in any case.
#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    /// No `migrations.rs` in the directory or above it.
    #[error("no migrations.rs found in {} or any directory above it; pass --file PATH", .start.display())]
    NotFound {
        /// Where the search started.
        start: PathBuf,
    },

    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// `migrations.rs` could not be read as a MIGRATIONS list.
    #[error("cannot use {}: {source}", .path.display())]
    MigrationsFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: MigrationsFileError,
    },

    /// The directory could not be imported.
    #[error(transparent)]
    Import(#[from] ImportError),

    /// `init` refused: the project, or a file in it, is not as it needs to be.
    #[error("{}: {reason}", .path.display())]
    Init {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

type Result<T, E = AuthoringError> = std::result::Result<T, E>;

/// `migrations.rs` in `start` or the nearest directory above it.
pub fn find_migrations_file(start: &Path) -> Result<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join("migrations.rs"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| AuthoringError::NotFound {
            start: start.to_path_buf(),
        })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| AuthoringError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    // Write beside, then rename: a crash never leaves a half-written file.
    let temporary = path.with_extension("rs.tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|source| AuthoringError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        })
}

fn file_error(path: &Path) -> impl Fn(MigrationsFileError) -> AuthoringError + '_ {
    move |source| AuthoringError::MigrationsFile {
        path: path.to_path_buf(),
        source,
    }
}

/// Appends a new entry with the next version; returns that version. Without
/// `sql` the entry holds [`PLACEHOLDER_SQL`], which `apply` refuses to run.
pub fn new_migration(
    path: &Path,
    description: &str,
    sql: &[String],
    down: &[String],
) -> Result<i64> {
    let source = read(path)?;
    let version = migrations_file::last_version(&source).map_err(file_error(path))? + 1;
    let sql = match sql.is_empty() {
        true => vec![PLACEHOLDER_SQL.to_string()],
        false => sql.to_vec(),
    };
    let entry = migrations_file::render_entry(version, description, &sql, down, true);
    let updated = migrations_file::append_entries(&source, &entry).map_err(file_error(path))?;
    write(path, &updated)?;
    Ok(version)
}

/// What `import` did or would do.
#[derive(Debug)]
pub struct ImportPlan {
    /// In the order the source tool runs them.
    pub migrations: Vec<ImportedMigration>,
    /// The version the first imported migration gets.
    pub first_version: i64,
    /// The Rust entries appended to the file.
    pub rendered: String,
    /// Everything worth telling the user, one line each: the order's rule,
    /// the old → new version of each migration, what the conversion changed,
    /// and one line for the irreversible entries.
    pub notices: Vec<String>,
}

/// Converts a directory of SQL-file migrations into entries after the file's
/// last version; writes them unless `dry_run`. `tracking_table` is the table
/// the runner will record migrations in (`--table`): a statement that
/// creates, changes or writes a table of that name stops the import.
pub fn import(dir: &Path, path: &Path, tracking_table: &str, dry_run: bool) -> Result<ImportPlan> {
    let scanned = import::scan(dir, tracking_table)?;
    let source = read(path)?;
    let after = migrations_file::last_version(&source).map_err(file_error(path))?;
    let migrations = scanned.migrations;
    let rendered = import::render(&migrations, after);
    let mut notices = scanned.notices;
    let mut irreversible = Vec::new();
    for (version, migration) in import::renumber(&migrations, after) {
        notices.push(migration.renumbering_notice(version));
        notices.extend(migration.notices.iter().cloned());
        if migration.down.is_empty() {
            irreversible.push(version);
        }
    }
    notices.extend(irreversible_summary(&irreversible, migrations.len()));
    if !dry_run {
        let updated =
            migrations_file::append_entries(&source, &rendered).map_err(file_error(path))?;
        write(path, &updated)?;
    }
    Ok(ImportPlan {
        migrations,
        first_version: after + 1,
        rendered,
        notices,
    })
}

/// One line for every entry without down statements, instead of one per file.
fn irreversible_summary(versions: &[i64], total: usize) -> Option<String> {
    const SHOWN: usize = 10;
    if versions.is_empty() {
        return None;
    }
    let mut listed: Vec<String> = versions.iter().take(SHOWN).map(i64::to_string).collect();
    if versions.len() > SHOWN {
        listed.push(format!("and {} more", versions.len() - SHOWN));
    }
    Some(format!(
        "{} of {total} imported migration(s) have no down statements and are irreversible (version {}); \
         to make one reversible later, add `down: &[\"…\"]` to its entry in migrations.rs \
         (down is not part of the checksum, so this is not an edit of an applied migration)",
        versions.len(),
        listed.join(", ")
    ))
}
