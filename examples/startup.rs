//! Migrate, then serve only if that succeeded: the pattern for applications
//! that migrate themselves at boot. Safe with many replicas booting at once:
//! they queue on the migration lock and each migration runs exactly once.
//!
//!   DATABASE_URL=app.db cargo run --example startup
//!   DATABASE_URL=postgres://… cargo run --example startup --features postgres
//!
//! It migrates, then answers every TCP connection on 127.0.0.1 (port from
//! PORT, default: any free one) with the schema version. `--once` exits right
//! after a successful boot instead of serving (used by the tests).

use std::io::Write;
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use versioned_migrations::{validate, Access, AnyConnection, ApplyReport, DatabaseUrl, Migrator};

mod migrations {
    include!("../migrations.rs");
}

// The same compile-time check the `migrate` binary applies.
const _: () = validate(migrations::MIGRATIONS);

fn migrate(url: &str) -> Result<ApplyReport, versioned_migrations::Error> {
    let url = DatabaseUrl::parse(url)?;
    let mut conn = AnyConnection::connect(&url, Access::ReadWrite)?;
    Migrator::new(migrations::MIGRATIONS)
        .with_lock_timeout(Duration::from_secs(120))
        .apply(&mut conn)
}

fn main() -> ExitCode {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| String::from("app.db"));
    let report = match migrate(&url) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("startup: refusing to start, the database could not be migrated:\n{error}");
            return ExitCode::from(1);
        }
    };
    for applied in &report.applied {
        eprintln!(
            "startup: applied migration {} ({}) in {:.1} ms",
            applied.version, applied.description, applied.execution_ms
        );
    }
    eprintln!(
        "startup: database at version {} ({} applied now, {} already applied)",
        report.version,
        report.applied.len(),
        report.already_applied
    );
    if std::env::args().any(|a| a == "--once") {
        println!(
            "ready version={} applied={}",
            report.version,
            report.applied.len()
        );
        return ExitCode::SUCCESS;
    }
    let port = std::env::var("PORT").unwrap_or_else(|_| String::from("0"));
    let listener = match TcpListener::bind(format!("127.0.0.1:{port}")) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("startup: cannot listen on 127.0.0.1:{port}: {error}");
            return ExitCode::from(1);
        }
    };
    if let Ok(address) = listener.local_addr() {
        println!("ready version={} serving on {address}", report.version);
    }
    for mut stream in listener.incoming().flatten() {
        let _ = writeln!(stream, "schema version {}", report.version);
    }
    ExitCode::SUCCESS
}
