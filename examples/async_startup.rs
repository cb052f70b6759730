//! Migrating at start-up in an async application (tokio), beside the
//! connection pool it already serves from.
//!
//!   DATABASE_URL=app.db cargo run --example async_startup
//!
//! Migrating is blocking database I/O, so it runs on tokio's blocking pool
//! (`spawn_blocking`) with a connection taken from the application's own
//! pool, and the server starts only once it succeeded. With PostgreSQL the
//! same code uses `ConnectionManager<PgConnection>`. `--once` exits after a
//! successful boot instead of serving (used by the tests).

use std::process::ExitCode;

use diesel::r2d2::{ConnectionManager, Pool};
use diesel::SqliteConnection;
use versioned_migrations::{validate, ApplyReport, Migrator};

mod migrations {
    include!("../migrations.rs");
}

const _: () = validate(migrations::MIGRATIONS);

type DbPool = Pool<ConnectionManager<SqliteConnection>>;

/// Migrates on a connection from `pool`, off the async workers.
async fn migrate(pool: DbPool) -> Result<ApplyReport, String> {
    let blocking = tokio::task::spawn_blocking(move || {
        let mut conn = pool
            .get()
            .map_err(|e| format!("no connection from the pool: {e}"))?;
        Migrator::new(migrations::MIGRATIONS)
            .apply(&mut *conn)
            .map_err(|e| e.to_string())
    });
    blocking
        .await
        .map_err(|e| format!("the migration task failed: {e}"))?
}

#[tokio::main]
async fn main() -> ExitCode {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| String::from("app.db"));
    let pool = match Pool::builder()
        .max_size(4)
        .build(ConnectionManager::new(url))
    {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("async_startup: cannot open the pool: {error}");
            return ExitCode::from(1);
        }
    };
    let report = match migrate(pool.clone()).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!(
                "async_startup: refusing to start, the database could not be migrated:\n{error}"
            );
            return ExitCode::from(1);
        }
    };
    println!(
        "ready version={} applied={}",
        report.version,
        report.applied.len()
    );
    if std::env::args().any(|a| a == "--once") {
        return ExitCode::SUCCESS;
    }
    // ... serve with `pool`, e.g. each request's queries in spawn_blocking.
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
