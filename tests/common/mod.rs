//! Test databases: a fresh SQLite file, or a fresh PostgreSQL / MariaDB
//! database (unique name, dropped afterwards) on the servers named by
//! TEST_POSTGRES_URL / TEST_MYSQL_URL. Without those variables server tests
//! skip and say so; with CI=true a missing or unreachable server fails.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(feature = "cli")]
pub mod library;

use versioned_migrations::{Access, AnyConnection, DatabaseUrl, Migration, MigrationConnection};

/// A migration literal for test lists.
pub const fn m(version: i64, description: &'static str, sql: &'static [&'static str]) -> Migration {
    Migration {
        version,
        description,
        sql,
        ..Migration::DEFAULT
    }
}

/// Imported migrations as the `Migration` values compiling their entries
/// gives, numbered after `after`.
#[cfg(feature = "cli")]
pub fn imported_list(
    imported: &[versioned_migrations::authoring::import::ImportedMigration],
    after: i64,
) -> &'static [Migration] {
    let leak = |v: &[String]| -> &'static [&'static str] {
        let strs: Vec<&'static str> = v
            .iter()
            .map(|s| &*Box::leak(s.clone().into_boxed_str()))
            .collect();
        Box::leak(strs.into_boxed_slice())
    };
    let list: Vec<Migration> = versioned_migrations::authoring::import::renumber(imported, after)
        .into_iter()
        .map(|(version, m)| {
            let mut migration = Migration::DEFAULT;
            migration.version = version;
            migration.description = Box::leak(m.description.clone().into_boxed_str());
            migration.sql = leak(&m.up);
            migration.down = leak(&m.down);
            migration.transaction = m.transaction;
            migration
        })
        .collect();
    Box::leak(list.into_boxed_slice())
}

/// Runs the real `migrate` binary in `dir`, with no DATABASE_URL and no colour.
#[cfg(feature = "cli")]
pub fn migrate_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("run migrate")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    /// The server URL used to create and drop the database.
    admin_url: Option<String>,
    name: String,
    pub dir: tempfile::TempDir,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "vm_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        nanos % 100_000
    )
}

fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{var} must be set when CI=true: server tests may not be skipped")
        }
        _ => {
            eprintln!("skipping: {var} is not set (server tests need a live database)");
            None
        }
    }
}

/// Replaces the database (path) part of a server URL.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("server URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl TestDb {
    /// A new, empty database; `None` when the backend's server is not
    /// configured (outside CI).
    pub fn new(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        let name = unique_name();
        let (url, admin_url) = match backend {
            Backend::Sqlite => (dir.path().join("test.db").display().to_string(), None),
            Backend::Postgres | Backend::Mysql => {
                let var = if backend == Backend::Postgres {
                    "TEST_POSTGRES_URL"
                } else {
                    "TEST_MYSQL_URL"
                };
                let admin = server_url(var)?;
                let mut conn = connect_url(&admin).unwrap_or_else(|e| {
                    panic!("{var} is set but the server cannot be reached: {e}")
                });
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                (with_database(&admin, &name), Some(admin))
            }
        };
        Some(TestDb {
            backend,
            url,
            admin_url,
            name,
            dir,
        })
    }

    pub fn connect(&self) -> AnyConnection {
        connect_url(&self.url).expect("connect to test database")
    }

    /// Runs SQL for its effect, panicking on failure.
    pub fn exec(&self, sql: &str) {
        self.connect()
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A single integer from `sql`, which must name its column `value`.
    pub fn scalar(&self, sql: &str) -> i64 {
        self.connect()
            .scalar(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .unwrap_or(0)
    }

    pub fn table_exists(&self, table: &str) -> bool {
        self.connect()
            .batch_execute(&format!("SELECT 1 FROM {table} WHERE 1 = 0"))
            .is_ok()
    }

    pub fn count(&self, table: &str) -> i64 {
        let bigint = if self.backend == Backend::Mysql {
            "SIGNED"
        } else {
            "BIGINT"
        };
        self.scalar(&format!(
            "SELECT CAST(COUNT(*) AS {bigint}) AS value FROM {table}"
        ))
    }

    /// Versions in the tracking table, with their success flag.
    pub fn tracked(&self, table: &str) -> Vec<(i64, bool)> {
        let mut conn = self.connect();
        let migrator = versioned_migrations::Migrator::new(&[])
            .with_table(table)
            .expect("table name");
        migrator
            .history(&mut conn)
            .expect("history")
            .into_iter()
            .map(|h| (h.version, h.success))
            .collect()
    }

    /// Whether this backend rolls back DDL (SQLite, PostgreSQL).
    pub fn transactional_ddl(&self) -> bool {
        self.backend != Backend::Mysql
    }

    /// SQL that sleeps for `seconds` (a slow statement), where the database has one.
    pub fn sleep_sql(&self, seconds: f64) -> Option<String> {
        match self.backend {
            Backend::Postgres => Some(format!("SELECT pg_sleep({seconds})")),
            Backend::Mysql => Some(format!("DO SLEEP({seconds})")),
            Backend::Sqlite => None,
        }
    }
}

pub fn connect_url(url: &str) -> Result<AnyConnection, versioned_migrations::Error> {
    AnyConnection::connect(&DatabaseUrl::parse(url)?, Access::ReadWrite)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(admin) = &self.admin_url {
            match connect_url(admin) {
                Ok(mut conn) => {
                    if let Err(e) =
                        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {}", self.name))
                    {
                        eprintln!("could not drop test database {}: {e}", self.name);
                    }
                }
                Err(e) => eprintln!("could not drop test database {}: {e}", self.name),
            }
        }
    }
}

/// Stamps each scenario `fn name(db: TestDb)` into one test per backend:
/// `sqlite::name`, `postgres::name`, `mysql::name`.
#[macro_export]
macro_rules! on_all_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                if let Some(db) = $crate::common::TestDb::new($crate::common::Backend::Sqlite) {
                    super::$name(db)
                }
            })*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(db) = $crate::common::TestDb::new($crate::common::Backend::Postgres) {
                    super::$name(db)
                }
            })*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            $(#[test]
            fn $name() {
                if let Some(db) = $crate::common::TestDb::new($crate::common::Backend::Mysql) {
                    super::$name(db)
                }
            })*
        }
    };
}
