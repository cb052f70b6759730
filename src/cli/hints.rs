//! The advice the CLI adds to the library's facts: what to do next, naming
//! this binary's own commands and flags (`migrate repair`, `myapp migrate
//! repair`, …).

use crate::error::{Error, FailureStage, LockKind, MigrationFailure};
use crate::plan::{Problem, Refusal};
use crate::report::Direction;

/// How the user runs this command line, for advice that names it.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    /// e.g. `migrate` or `myapp migrate`.
    pub program: String,
}

impl Invocation {
    pub(crate) fn command(&self, rest: &str) -> String {
        format!("`{} {rest}`", self.program)
    }
}

/// What to do about `error`, if there is something to say.
pub(crate) fn for_error(error: &Error, run: &Invocation) -> Vec<String> {
    match error {
        Error::MigrationFailed { failure } => vec![for_failure(failure, run)],
        Error::Refused(refusal) => for_refusal(refusal, run),
        Error::LockTimeout { lock, .. } => vec![match lock {
            LockKind::Migration { .. } => {
                "another migrate run holds the lock: wait for it and retry, or raise --lock-timeout".to_string()
            }
            LockKind::Table { table } if table == "database" => {
                "another connection keeps the database locked: retry when it is done, or raise --lock-timeout".to_string()
            }
            LockKind::Table { .. } => {
                "another session holds a lock on the tracking table: end it, or raise --lock-timeout".to_string()
            }
            LockKind::Statement { .. } => {
                "the migration waited too long for a table lock: end the blocking session, or retry".to_string()
            }
        }],
        Error::NoSuchDatabaseFile { .. } => vec![format!("{} creates it", run.command("apply"))],
        Error::IncompatibleTable { .. } => {
            vec![String::from("pass --table NAME to keep this tool's history in another table")]
        }
        Error::BackendNotBuilt { feature, .. } => {
            vec![format!("rebuild with `--features {feature}` (see README, Backends)")]
        }
        Error::RowChanged { .. } => vec![format!(
            "something else changed the tracking table during this run: see {}",
            run.command("verify")
        )],
        Error::BackupUnsupported { backend } => vec![match *backend {
            "PostgreSQL" => String::from("back it up with pg_dump before migrating"),
            "MySQL" => String::from("back it up with mysqldump (or mariadb-dump) before migrating"),
            _ => String::from("back it up with the database's own tools"),
        }],
        Error::Scratch {
            permission: true, ..
        } => vec![String::from(
            "this user may not create databases: give an empty one to replay on with --scratch-url URL (it is emptied again afterwards)",
        )],
        Error::ScratchNotEmpty { .. } => vec![String::from(
            "--scratch-url must name an empty database: the migrations are replayed on it",
        )],
        _ => Vec::new(),
    }
}

fn for_failure(f: &MigrationFailure, run: &Invocation) -> String {
    let message = f.database_message.to_lowercase();
    if f.lock_timeout {
        return format!(
            "a session held a lock this migration needs (named above): end or wait for it, then run {} again; --retries K retries by itself",
            run.command("apply")
        );
    }
    if message.contains("cannot run inside a transaction block")
        || message.contains("cannot be executed inside a transaction")
    {
        return format!(
            "this statement must run outside a transaction: set `transaction: false` on migration {}, then rebuild",
            f.version
        );
    }
    if message.contains("readonly database")
        || message.contains("read-only database")
        || message.contains("unable to open database file")
    {
        return String::from(
            "SQLite could not write beside the database file: the directory must be writable (SQLite creates its journal there)",
        );
    }
    if f.stage == FailureStage::TrackingTableChanged {
        return format!(
            "migration {} dropped or changed this tool's tracking table {}: if that table belongs to the tool you moved from, keep this tool's history elsewhere with --table NAME (Migrator::with_table in the application)",
            f.version, f.table
        );
    }
    if f.dirty {
        return format!(
            "check the schema by hand, finish or undo migration {}, then run {}",
            f.version,
            run.command("repair")
        );
    }
    let again = match f.direction {
        Direction::Up => "apply",
        Direction::Down => "rollback",
    };
    format!(
        "fix the statement, rebuild, and run {} again",
        run.command(again)
    )
}

fn for_refusal(refusal: &Refusal, run: &Invocation) -> Vec<String> {
    match refusal {
        Refusal::Problems { problems } => problems.iter().map(|p| for_problem(p, run)).collect(),
        Refusal::Dirty { .. } => vec![format!(
            "check the schema by hand, then run {} before rolling back",
            run.command("repair")
        )],
        Refusal::Irreversible { version, .. } => vec![format!(
            "give migration {version} `down` statements (not part of its checksum), rebuild, and roll back again"
        )],
        Refusal::DownUnknown { .. } => vec![String::from(
            "this row was recorded before down statements were stored: roll it back with a build that has the migration",
        )],
        Refusal::RedoNotInCode { .. } => vec![String::from("redo needs a build that has the migration")],
        Refusal::SingleTransactionUnsupported { .. } | Refusal::SingleTransactionNonTransactional { .. } => {
            vec![String::from("run without --single-transaction")]
        }
        Refusal::BaselineNotEmpty { .. } => vec![format!("see {} for what is recorded", run.command("history"))],
        Refusal::BaselineNothing { .. } | Refusal::BaselineBeyondCode { .. } => {
            vec![String::from("give the version of the newest migration the schema already has")]
        }
        Refusal::DescriptionsDiffer { .. } => vec![
            String::from("check that --database-url names this application's database"),
            format!("to accept the code's descriptions anyway: {}", run.command("repair --accept-descriptions")),
        ],
    }
}

/// What to do about one problem.
pub(crate) fn for_problem(problem: &Problem, run: &Invocation) -> String {
    match problem {
        Problem::Dirty { version, .. } => format!(
            "migration {version}: check the schema by hand, finish or undo it, then run {}",
            run.command("repair")
        ),
        Problem::ChecksumMismatch {
            version,
            description,
            recorded_description,
            ..
        } if description != recorded_description => format!(
            "migration {version}: this database was migrated by another list of migrations; check --database-url / DATABASE_URL"
        ),
        Problem::ChecksumMismatch { version, .. } => format!(
            "migration {version}: restore its original sql and add a new migration instead, or run {} to accept the edit",
            run.command("repair")
        ),
        Problem::MissingChecksum { version, .. } => format!(
            "migration {version}: run {} to record the code's checksum",
            run.command("repair")
        ),
        Problem::UnknownVersion { version, .. } => format!(
            "migration {version}: deploy the newer build, or undo it with {} (its recorded down statements)",
            run.command("rollback")
        ),
        Problem::OutOfOrder {
            version,
            latest_applied,
            ..
        } => format!(
            "migration {version}: give it a version above {latest_applied}, or pass --allow-out-of-order"
        ),
        Problem::Placeholder { version, .. } => {
            format!("migration {version}: write its SQL in migrations.rs in place of the placeholder, then rebuild")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::MigrationFailure;

    fn run() -> Invocation {
        Invocation {
            program: String::from("myapp migrate"),
        }
    }

    fn failure(message: &str, dirty: bool) -> Error {
        Error::MigrationFailed {
            failure: Box::new(MigrationFailure {
                version: 7,
                description: String::from("d"),
                direction: Direction::Up,
                stage: FailureStage::Statement,
                statement_index: Some(1),
                statement: Some(String::from("x")),
                database_message: message.to_string(),
                dirty,
                nothing_ran: false,
                whole_run_rolled_back: false,
                table: String::from("schema_migrations"),
                completed: Vec::new(),
                lock_timeout: false,
                blockers: Vec::new(),
                dropped_index: None,
            }),
        }
    }

    #[test]
    fn advice_names_the_way_out_and_this_binary() {
        let concurrently = for_error(
            &failure(
                "CREATE INDEX CONCURRENTLY cannot run inside a transaction block",
                false,
            ),
            &run(),
        );
        assert_eq!(
            concurrently,
            ["this statement must run outside a transaction: set `transaction: false` on migration 7, then rebuild"]
        );
        let read_only = for_error(
            &failure("attempt to write a readonly database", false),
            &run(),
        );
        assert!(
            read_only[0].contains("the directory must be writable"),
            "{read_only:?}"
        );
        let dirty = for_error(&failure("boom", true), &run());
        assert!(
            dirty[0].ends_with("then run `myapp migrate repair`"),
            "{dirty:?}"
        );
        let plain = for_error(&failure("boom", false), &run());
        assert_eq!(
            plain,
            ["fix the statement, rebuild, and run `myapp migrate apply` again"]
        );
        for (backend, tool) in [("PostgreSQL", "pg_dump"), ("MySQL", "mysqldump")] {
            let advice = for_error(&Error::BackupUnsupported { backend }, &run());
            assert!(advice[0].contains(tool), "{backend}: {advice:?}");
            assert!(!advice[0].contains(if tool == "pg_dump" {
                "mysqldump"
            } else {
                "pg_dump"
            }));
        }
    }
}
