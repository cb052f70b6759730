//! Snapshots of an SQLite database before it is changed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::connection::MigrationConnection;
use crate::error::{Error, Result};

/// Writes a consistent copy of the SQLite database `conn` is open on to a new
/// file beside `database` (`app.db` → `app.db.backup-20261121-063800-v6`)
/// with `VACUUM INTO`, which reads under a transaction and so is safe while
/// other connections use the database. The copy is written under a
/// temporary name and renamed when complete, so a file under the final name
/// is always a whole backup. Restore by replacing the database file with
/// the copy while nothing has it open.
pub fn backup_sqlite(
    conn: &mut dyn MigrationConnection,
    database: &Path,
    version: i64,
) -> Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let base = with_suffix(database, &format!(".backup-{stamp}-v{version}"));
    let target = free_name(&base);
    let partial = with_suffix(&target, ".partial");
    let Some(sql) = conn.dialect().vacuum_into(&partial.to_string_lossy()) else {
        return Err(Error::BackupUnsupported {
            backend: conn.dialect().name(),
        });
    };
    // A partial file left by a killed earlier run would make VACUUM INTO fail.
    let _ = std::fs::remove_file(&partial);
    if let Err(e) = conn.batch_execute(&sql) {
        let _ = std::fs::remove_file(&partial);
        return Err(Error::database(
            format!("writing the backup {}", target.display()),
            e,
        ));
    }
    std::fs::rename(&partial, &target).map_err(|source| Error::Io {
        action: "finish the backup",
        path: target.display().to_string(),
        source,
    })?;
    Ok(target)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// `base`, or `base-1`, `base-2`, … if taken (each tried on `base` itself,
/// not on the previous try).
fn free_name(base: &Path) -> PathBuf {
    let mut candidate = base.to_path_buf();
    let mut n = 1;
    while candidate.exists() {
        candidate = with_suffix(base, &format!("-{n}"));
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_do_not_grow() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.db.backup-x-v2");
        let mut names = Vec::new();
        for _ in 0..4 {
            let name = free_name(&base);
            std::fs::write(&name, b"").unwrap();
            names.push(name.file_name().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(
            names,
            [
                "app.db.backup-x-v2",
                "app.db.backup-x-v2-1",
                "app.db.backup-x-v2-2",
                "app.db.backup-x-v2-3"
            ]
        );
    }
}
