//! Writing `migrations.rs`: `migrate new` and `migrate import`. Both edit the
//! file as text, keeping its formatting, and never touch a database.

use std::path::{Path, PathBuf};

/// Why `new` or `import` could not write `migrations.rs`; nothing is
/// written in any case.
#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    /// The file could not be edited.
    #[error("cannot use {path}: {source}")]
    MigrationsFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        #[source]
        source: crate::migrations_file::MigrationsFileError,
    },
    /// The directory could not be imported.
    #[error("{0}")]
    Import(#[from] crate::import::ImportError),
    /// Reading or writing failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// No `migrations.rs` was found.
    #[error("no migrations.rs found in {start} or any directory above it; pass --file PATH")]
    MigrationsFileNotFound {
        /// Where the search started.
        start: String,
    },
}

use AuthoringError as Error;
type Result<T, E = AuthoringError> = std::result::Result<T, E>;
use crate::import::{self, ImportedMigration};
use crate::migrations_file;

/// The SQL `migrate new` writes when none is given: valid everywhere, and
/// plainly a placeholder.
pub const PLACEHOLDER_SQL: &str = "SELECT 1 -- TODO: replace with this migration's SQL";

/// `migrations.rs` in `start` or the nearest directory above it.
pub fn find_migrations_file(start: &Path) -> Result<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join("migrations.rs"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| Error::MigrationsFileNotFound {
            start: start.display().to_string(),
        })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.display().to_string(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    // Write beside, then rename: a crash never leaves a half-written file.
    let temporary = path.with_extension("rs.tmp");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|source| Error::Io {
            action: "write",
            path: path.display().to_string(),
            source,
        })
}

fn file_error(path: &Path) -> impl Fn(migrations_file::MigrationsFileError) -> Error + '_ {
    move |source| Error::MigrationsFile {
        path: path.display().to_string(),
        source,
    }
}

/// Appends a new entry with the next version; returns that version.
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
pub struct ImportPlan {
    pub migrations: Vec<ImportedMigration>,
    /// The version the first imported migration gets.
    pub first_version: i64,
    /// The Rust entries appended to the file.
    pub rendered: String,
    /// Everything worth telling the user, one line each.
    pub notices: Vec<String>,
}

/// Converts a directory of SQL-file migrations into entries after the file's
/// last version; writes them unless `dry_run`.
pub fn import(dir: &Path, path: &Path, dry_run: bool) -> Result<ImportPlan> {
    let migrations = import::scan(dir)?;
    let source = read(path)?;
    let after = migrations_file::last_version(&source).map_err(file_error(path))?;
    let rendered = import::render(&migrations, after);
    let mut notices = Vec::new();
    for (version, migration) in import::renumber(&migrations, after) {
        notices.push(migration.renumbering_notice(version));
        notices.extend(migration.notices.iter().cloned());
    }
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
