//! Snapshots of an SQLite database before it is changed.

use std::path::{Path, PathBuf};

use crate::connection::MigrationConnection;
use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// Writes a consistent copy of the SQLite database `conn` is open on to a new
/// file beside `database` (`app.db` → `app.db.backup-20261121-063800-v6`)
/// with `VACUUM INTO`, which reads under a transaction and so is safe while
/// other connections use the database. Restore by replacing the database
/// file with the copy while nothing has it open.
pub fn backup_sqlite(
    conn: &mut dyn MigrationConnection,
    database: &Path,
    version: i64,
) -> Result<PathBuf> {
    if conn.dialect() != Dialect::Sqlite {
        return Err(Error::BackupUnsupported {
            backend: conn.dialect().name(),
        });
    }
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let mut name = database.as_os_str().to_owned();
    name.push(format!(".backup-{stamp}-v{version}"));
    let mut target = PathBuf::from(name);
    let mut n = 1;
    while target.exists() {
        let mut numbered = target.as_os_str().to_owned();
        numbered.push(format!("-{n}"));
        target = PathBuf::from(numbered);
        n += 1;
    }
    let literal = target.to_string_lossy().replace('\'', "''");
    conn.batch_execute(&format!("VACUUM INTO '{literal}'"))
        .map_err(|e| Error::database(format!("writing the backup {}", target.display()), e))?;
    Ok(target)
}
