//! Scratch databases: empty databases that `drift`, `roundtrip` and
//! `check --schema` replay migrations on, always removed afterwards.
//!
//! - SQLite: a temporary file, deleted on drop.
//! - PostgreSQL/MySQL: a database created on the live database's server
//!   (named after the creating session, which stays open until it is
//!   dropped) and dropped on drop; a run finds and drops the scratch
//!   databases of sessions that no longer exist (a killed run's).
//! - Given (`--scratch-url`): an empty database of the user's; what the
//!   replay made in it is dropped again on drop.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use super::read::read_schema;
use crate::connection::{Access, AnyConnection, MigrationConnection};
use crate::database_url::DatabaseUrl;
use crate::dialect::{Dialect, SCRATCH_PREFIX};
use crate::error::{Error, Result};
use crate::table::TableName;

static NEXT: AtomicU64 = AtomicU64::new(0);

/// An empty database to replay migrations on, removed (or emptied) when
/// dropped. Connect to it with [`ScratchDatabase::connect`]; drop those
/// connections before the scratch database itself.
pub struct ScratchDatabase {
    url: DatabaseUrl,
    kind: Kind,
    /// The tracking table the replay writes, dropped with a given database's objects.
    table: TableName,
}

enum Kind {
    File(PathBuf),
    Server {
        /// The creating session: open until the database is dropped, so a
        /// concurrent run never takes the database for a killed run's.
        admin: Box<AnyConnection>,
        name: String,
    },
    Given,
}

impl std::fmt::Debug for ScratchDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScratchDatabase")
            .field("url", &self.url.to_string())
            .finish_non_exhaustive()
    }
}

impl ScratchDatabase {
    /// A new empty database like `live`: a temporary SQLite file, or a
    /// database created on `live`'s server (which needs the privilege to
    /// create databases; else give one with [`ScratchDatabase::given`]).
    pub fn create(live: &DatabaseUrl, table: &TableName) -> Result<Self> {
        match live.dialect() {
            Dialect::Sqlite => Self::temporary_file(table),
            _ => Self::on_server(live, table),
        }
    }

    /// An empty database the caller provides; refused unless it is empty,
    /// and emptied again on drop.
    pub fn given(url: &DatabaseUrl, table: &TableName) -> Result<Self> {
        // Checked before a `ScratchDatabase` exists: a database that is not
        // empty is not ours to empty on drop.
        let mut conn = AnyConnection::connect(url, Access::ReadWrite)?;
        let schema = read_schema(&mut conn, &no_table())?;
        if !schema.is_empty() {
            return Err(Error::ScratchNotEmpty {
                objects: schema.describe(),
            });
        }
        Ok(ScratchDatabase {
            url: url.clone(),
            kind: Kind::Given,
            table: table.clone(),
        })
    }

    /// The scratch database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A new connection to it.
    pub fn connect(&self) -> Result<AnyConnection> {
        AnyConnection::connect(&self.url, Access::ReadWrite)
    }

    fn temporary_file(table: &TableName) -> Result<Self> {
        sweep_files();
        let path = std::env::temp_dir().join(format!(
            "vm-scratch-{}-{}-{}.db",
            std::process::id(),
            nanos(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let url = DatabaseUrl::parse(&path.display().to_string())?;
        Ok(ScratchDatabase {
            url,
            kind: Kind::File(path),
            table: table.clone(),
        })
    }

    fn on_server(live: &DatabaseUrl, table: &TableName) -> Result<Self> {
        let mut admin = AnyConnection::connect(live, Access::ReadOnly)?;
        let dialect = admin.dialect();
        let failed = |e: diesel::result::Error, doing: &str| Error::Scratch {
            permission: is_permission(&e),
            message: format!("{doing}: {}", live.redact(&e.to_string())),
        };
        sweep_server(&mut admin);
        let session = dialect
            .session_id_query()
            .map(|sql| as_dyn(&mut admin).scalar_text(sql))
            .transpose()
            .map_err(|e| failed(e, "reading the session id"))?
            .flatten()
            .unwrap_or_default();
        let name = format!(
            "{SCRATCH_PREFIX}{session}_{}{}",
            nanos() % 1_000_000_000,
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .batch_execute(&dialect.create_database(&name))
            .map_err(|e| failed(e, "creating a scratch database on the server"))?;
        let Some(url) = live.with_database(&name) else {
            let _ = admin.batch_execute(&dialect.drop_database(&name));
            return Err(Error::Scratch {
                permission: false,
                message: String::from("the database URL cannot name another database"),
            });
        };
        Ok(ScratchDatabase {
            url,
            kind: Kind::Server {
                admin: Box::new(admin),
                name,
            },
            table: table.clone(),
        })
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        match &mut self.kind {
            Kind::File(path) => {
                for suffix in ["", "-wal", "-shm", "-journal", ".migrate-lock"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(file));
                }
            }
            Kind::Server { admin, name } => {
                let dialect = admin.dialect();
                let _ = admin.batch_execute(&dialect.drop_database(name));
            }
            Kind::Given => {
                if let Ok(mut conn) = self.connect() {
                    empty_database(&mut conn, &self.table);
                }
            }
        }
    }
}

/// Drops what a replay made in a database that was empty before it.
fn empty_database(conn: &mut AnyConnection, table: &TableName) {
    let dialect = conn.dialect();
    let Ok(schema) = read_schema(conn, table) else {
        return;
    };
    if let Some(off) = dialect.foreign_keys_off() {
        let _ = conn.batch_execute(off);
    }
    let mut drops: Vec<(&str, &str)> = Vec::new();
    for view in &schema.views {
        let kind = match view.definition.starts_with("CREATE MATERIALIZED ") {
            true => "materialized view",
            false => "view",
        };
        drops.push((kind, &view.name));
    }
    drops.extend(schema.tables.iter().map(|t| ("table", t.name.as_str())));
    drops.extend(
        schema
            .functions
            .iter()
            .map(|f| ("function", f.name.as_str())),
    );
    drops.extend(
        schema
            .sequences
            .iter()
            .map(|s| ("sequence", s.name.as_str())),
    );
    drops.extend(schema.types.iter().map(|t| ("type", t.name.as_str())));
    let tracking = table.to_string();
    drops.push(("table", &tracking));
    for (kind, name) in drops {
        if let Some(sql) = dialect.drop_objects(kind, name) {
            let _ = conn.batch_execute(&sql);
        }
    }
}

/// A tracking-table name no database has, to read every table.
fn no_table() -> TableName {
    TableName::parse("vm_no_tracking_table_here").unwrap_or_default()
}

fn as_dyn(conn: &mut AnyConnection) -> &mut dyn MigrationConnection {
    conn
}

fn is_permission(error: &diesel::result::Error) -> bool {
    let text = error.to_string().to_lowercase();
    text.contains("permission denied") || text.contains("access denied")
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Drops scratch databases whose creating session has ended. Best effort:
/// a user who may not drop them leaves them for one who may.
fn sweep_server(admin: &mut AnyConnection) {
    let dialect = admin.dialect();
    let Some(sql) = dialect.stale_scratch_query() else {
        return;
    };
    let Ok(rows) = as_dyn(admin).load_text_rows(&sql) else {
        return;
    };
    for name in rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
    {
        if name.starts_with(SCRATCH_PREFIX) {
            let _ = admin.batch_execute(&dialect.drop_database(&name));
        }
    }
}

/// Removes scratch files of processes that no longer run (Linux: /proc).
fn sweep_files() {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("vm-scratch-") else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        if !pid.is_empty()
            && pid.chars().all(|c| c.is_ascii_digit())
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
