//! The one support module of the tests: test databases (a fresh SQLite file,
//! or a fresh PostgreSQL / MariaDB database with a unique name, dropped
//! afterwards), migration literals, child processes, and the macro that
//! stamps each scenario per backend.
//!
//! Server tests are `#[ignore]`d, so a plain `cargo test` lists them as
//! ignored, never as passed. `cargo test --all-features -- --include-ignored`
//! runs them against TEST_POSTGRES_URL / TEST_MYSQL_URL; there a missing or
//! unreachable server fails the test.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use versioned_migrations::{Access, AnyConnection, DatabaseUrl, Migration, Migrator};

pub mod children;
pub mod fixtures;
#[cfg(feature = "cli")]
pub mod library;
#[cfg(feature = "cli")]
pub mod project;

/// A migration literal for test lists.
pub const fn m(version: i64, description: &'static str, sql: &'static [&'static str]) -> Migration {
    Migration {
        version,
        description,
        sql,
        ..Migration::DEFAULT
    }
}

/// The same with `down` statements.
pub const fn reversible(
    version: i64,
    description: &'static str,
    sql: &'static [&'static str],
    down: &'static [&'static str],
) -> Migration {
    Migration {
        down,
        ..m(version, description, sql)
    }
}

/// A finished process's stdout and stderr, for failure messages.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Its stdout as the one JSON document every `--json` prints.
pub fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", text(output)))
}

/// It exited with `code`; else its output is the failure message.
#[track_caller]
pub fn exit(output: &std::process::Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

/// A string for `&'static` lists built at run time.
pub fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// A list built at run time, as a `&'static` slice.
pub fn leak_list(list: Vec<Migration>) -> &'static [Migration] {
    Box::leak(list.into_boxed_slice())
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

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }

    pub fn from_name(name: &str) -> Backend {
        match name {
            "postgres" => Backend::Postgres,
            "mysql" => Backend::Mysql,
            _ => Backend::Sqlite,
        }
    }
}

/// A statement that keeps the database busy for about `seconds`.
pub fn slow_sql(backend: Backend, seconds: f64) -> &'static str {
    leak(match backend {
        Backend::Postgres => format!("SELECT pg_sleep({seconds})"),
        Backend::Mysql => format!("DO SLEEP({seconds})"),
        // SQLite has no sleep: count in a recursive CTE (~10M rows a second).
        Backend::Sqlite => format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) SELECT count(*) FROM c",
            (seconds * 10_000_000.0) as i64
        ),
    })
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

/// The server URL for a backend's tests. Only included (ignored) tests ask,
/// so a missing variable is a failure that says what to set.
pub fn server_url(backend: Backend) -> String {
    let var = match backend {
        Backend::Postgres => "TEST_POSTGRES_URL",
        _ => "TEST_MYSQL_URL",
    };
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{var} must name a live server for the {} tests (see README, Tests)",
            backend.name()
        ),
    }
}

/// Replaces the database (path) part of a server URL.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("server URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl TestDb {
    /// A new, empty database.
    pub fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let name = unique_name();
        let (url, admin_url) = match backend {
            Backend::Sqlite => (dir.path().join("test.db").display().to_string(), None),
            Backend::Postgres | Backend::Mysql => {
                let admin = server_url(backend);
                let mut conn = connect_url(&admin).unwrap_or_else(|e| {
                    panic!("the {} test server cannot be reached: {e}", backend.name())
                });
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                (with_database(&admin, &name), Some(admin))
            }
        };
        TestDb {
            backend,
            url,
            admin_url,
            name,
            dir,
        }
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
        scalar(&mut self.connect(), sql)
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
        Migrator::new(&[])
            .with_table(table)
            .expect("table name")
            .history(&mut conn)
            .expect("history")
            .migrations
            .into_iter()
            .map(|h| (h.version, h.success))
            .collect()
    }

    /// Whether this backend rolls back DDL (SQLite, PostgreSQL).
    pub fn transactional_ddl(&self) -> bool {
        self.backend != Backend::Mysql
    }

    /// Takes the run-wide migration lock of the default tracking table the
    /// way `migrate` does, and holds it until the value is dropped.
    pub fn hold_migration_lock(&self) -> LockHolder {
        let key = "/versioned-migrations/schema_migrations";
        match self.backend {
            Backend::Sqlite => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(format!("{}.migrate-lock", self.url))
                    .expect("lock file");
                file.try_lock().expect("lock free");
                LockHolder::File(file)
            }
            Backend::Postgres => {
                let mut conn = self.connect();
                let sql = format!(
                    "SELECT CAST(CAST(pg_try_advisory_lock(hashtext(current_database() || '{key}')) AS INTEGER) AS BIGINT) AS value"
                );
                assert_eq!(scalar(&mut conn, &sql).unwrap(), Some(1));
                LockHolder::Connection(conn)
            }
            Backend::Mysql => {
                let mut conn = self.connect();
                let sql = format!("SELECT CAST(GET_LOCK(SHA1(CONCAT(DATABASE(), '{key}')), 0) AS SIGNED) AS value");
                assert_eq!(scalar(&mut conn, &sql).unwrap(), Some(1));
                LockHolder::Connection(conn)
            }
        }
    }
}

/// Holds a migration lock while alive.
pub enum LockHolder {
    File(std::fs::File),
    Connection(AnyConnection),
}

#[derive(QueryableByName)]
struct IntegerRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    value: Option<i64>,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

/// A row of two text columns named `name` and `data_type`.
#[derive(QueryableByName)]
pub struct Pair {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub data_type: String,
}

/// The `name` / `data_type` rows of `sql` (catalog queries in schema checks).
pub fn pairs(conn: &mut AnyConnection, sql: &str) -> QueryResult<Vec<Pair>> {
    let query = diesel::sql_query(sql);
    match conn {
        AnyConnection::Sqlite(c) => query.load(c),
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => query.load(c),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => query.load(c),
        _ => unreachable!("a backend this build lacks"),
    }
}

/// The column `value` of the first row of `sql`, as an integer.
pub fn scalar(conn: &mut AnyConnection, sql: &str) -> QueryResult<Option<i64>> {
    let query = diesel::sql_query(sql);
    let rows: Vec<IntegerRow> = match conn {
        AnyConnection::Sqlite(c) => query.load(c)?,
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => query.load(c)?,
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => query.load(c)?,
        _ => unreachable!("a backend this build lacks"),
    };
    Ok(rows.into_iter().next().and_then(|r| r.value))
}

/// The column `value` of every row of `sql`, as text.
pub fn texts(conn: &mut AnyConnection, sql: &str) -> QueryResult<Vec<Option<String>>> {
    let query = diesel::sql_query(sql);
    let rows: Vec<TextRow> = match conn {
        AnyConnection::Sqlite(c) => query.load(c)?,
        #[cfg(feature = "postgres")]
        AnyConnection::Postgres(c) => query.load(c)?,
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(c) => query.load(c)?,
        _ => unreachable!("a backend this build lacks"),
    };
    Ok(rows.into_iter().map(|r| r.value).collect())
}

pub fn connect_url(url: &str) -> Result<AnyConnection, versioned_migrations::Error> {
    AnyConnection::connect(&DatabaseUrl::parse(url)?, Access::ReadWrite)
}

/// A read-only connection, as the read commands open one.
pub fn connect_read_only(url: &str) -> AnyConnection {
    AnyConnection::connect(&DatabaseUrl::parse(url).expect("url"), Access::ReadOnly)
        .expect("connect read-only")
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
/// `sqlite::name`, `postgres::name`, `mysql::name`. Server tests are
/// ignored unless included (`-- --include-ignored`), and fail when the
/// build lacks the backend's feature.
#[macro_export]
macro_rules! on_all_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name($crate::common::TestDb::new($crate::common::Backend::Sqlite))
            })*
        }
        mod postgres {
            $(#[test]
            #[ignore = "server test: needs --features postgres, TEST_POSTGRES_URL and -- --include-ignored"]
            fn $name() {
                #[cfg(feature = "postgres")]
                super::$name($crate::common::TestDb::new($crate::common::Backend::Postgres));
                #[cfg(not(feature = "postgres"))]
                panic!("built without the `postgres` feature");
            })*
        }
        mod mysql {
            $(#[test]
            #[ignore = "server test: needs --features mysql, TEST_MYSQL_URL and -- --include-ignored"]
            fn $name() {
                #[cfg(feature = "mysql")]
                super::$name($crate::common::TestDb::new($crate::common::Backend::Mysql));
                #[cfg(not(feature = "mysql"))]
                panic!("built without the `mysql` feature");
            })*
        }
    };
}

/// Runs `body` on a thread and fails if it does not return in `limit`: a
/// liveness check for waits that must be bounded (not a timing assertion).
pub fn returns_within<T: Send + 'static>(
    limit: std::time::Duration,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(body());
    });
    receiver
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("did not return within {limit:?}: the wait is unbounded"))
}
