//! Each command: resolve the database, connect, call the migrator, print.

mod apply;
mod code;
mod inspect;
mod maintenance;
mod schema;

use std::process::ExitCode;

use super::args::{Command, DatabaseArgs, MigrateArgs};
use super::database;
use super::failure::{CliError, Failure};
use super::fanout;
use super::hints::Invocation;
use super::output::{Out, Target};
use crate::connection::{Access, AnyConnection};
use crate::database_url::DatabaseUrl;
use crate::error::Error;
use crate::migrator::{Migrator, DEFAULT_LOCK_TIMEOUT};
use crate::table::DEFAULT_TABLE;

/// Exit code when `verify`, `check` or `status` find problems.
pub(crate) const PROBLEMS: u8 = 3;

pub(crate) fn run(
    run: &Invocation,
    migrations: &'static [crate::Migration],
    args: &MigrateArgs,
    out: Out,
) -> Result<ExitCode, Failure> {
    let command = &args.command;
    let Some(after) = command.database() else {
        return code::run(
            run,
            migrations,
            command,
            args.database.table.as_deref(),
            out,
        );
    };
    let db = args.database.merged(after);
    let migrator = migrator(migrations, &db)?.with_guardrails(command.guardrails());
    if matches!(
        command,
        Command::Check {
            schema: Some(_),
            ..
        }
    ) && (db.database_url.len() > 1 || command.fanout().is_some_and(|f| f.targets.is_some()))
    {
        return Err(Failure::from(CliError::Usage(String::from(
            "check --schema builds one scratch database: give one --database-url (it names the backend and server)",
        ))));
    }
    if let Some(targets) = fanout::targets(&db, command.fanout())? {
        return fanout::run(command, &migrator, &targets, out);
    }
    let (text, source) = database::resolve(
        db.database_url.first().map(String::as_str),
        |name| std::env::var(name).ok(),
        &current_dir()?,
    )?;
    let url = DatabaseUrl::parse(&text).map_err(Error::Url)?;
    let mut target = Target {
        url,
        source,
        exists: true,
    };
    let mut conn = connect(&mut target, access(command))?;
    let conn = &mut conn;
    match command {
        Command::Apply { .. } => apply::apply(run, &migrator, command, &target, conn, out),
        Command::Rollback { .. } => apply::rollback(&migrator, command, &target, conn, out),
        Command::Redo { steps, .. } => apply::redo(&migrator, *steps, &target, conn, out),
        Command::Version { .. } => inspect::version(&migrator, &target, conn, out),
        Command::History { .. } => inspect::history(&migrator, &target, conn, out),
        Command::Status { .. } => inspect::status(run, &migrator, &target, conn, out),
        Command::Verify { .. } => inspect::verify(run, &migrator, &target, conn, out, false),
        Command::Check {
            schema: Some(file),
            scratch,
            ..
        } => schema::check_schema(&migrator, file, scratch, &target, out),
        Command::Check { .. } => inspect::verify(run, &migrator, &target, conn, out, true),
        Command::Schema { file, .. } => {
            schema::schema(&migrator, file.as_deref(), &target, conn, out)
        }
        Command::Drift { scratch, .. } => schema::drift(&migrator, scratch, &target, conn, out),
        Command::Roundtrip { scratch, .. } => schema::roundtrip(&migrator, scratch, &target, out),
        Command::Repair {
            accept_descriptions,
            ..
        } => maintenance::repair(&migrator, *accept_descriptions, &target, conn, out),
        Command::Baseline { version, .. } => {
            maintenance::baseline(&migrator, *version, &target, conn, out)
        }
        Command::Show { .. }
        | Command::New { .. }
        | Command::Import { .. }
        | Command::Init { .. }
        | Command::Lint { .. }
        | Command::Completions { .. }
        | Command::Man => code::run(run, migrations, command, None, out),
    }
}

fn migrator(
    migrations: &'static [crate::Migration],
    db: &DatabaseArgs,
) -> Result<Migrator, Failure> {
    let table = db.table.as_deref().unwrap_or(DEFAULT_TABLE);
    Ok(Migrator::new(migrations)
        .with_table(table)?
        .with_lock_timeout(db.lock_timeout.unwrap_or(DEFAULT_LOCK_TIMEOUT))
        .with_session_sql(db.session_sql.iter().cloned()))
}

/// How the command uses the database: read commands and dry runs never
/// create or change anything.
fn access(command: &Command) -> Access {
    match command {
        Command::Apply { dry_run: false, .. } => Access::ReadWrite,
        Command::Rollback { dry_run: false, .. }
        | Command::Redo { .. }
        | Command::Repair { .. }
        | Command::Baseline { .. } => Access::WriteExisting,
        _ => Access::ReadOnly,
    }
}

/// Connects; a read of an SQLite file that does not exist reads an empty
/// in-memory database instead (nothing is created) and says so.
fn connect(target: &mut Target, access: Access) -> Result<AnyConnection, Failure> {
    match AnyConnection::connect(&target.url, access) {
        Ok(conn) => Ok(conn),
        Err(Error::NoSuchDatabaseFile { .. }) if access == Access::ReadOnly => {
            target.exists = false;
            let memory = DatabaseUrl::parse(":memory:").map_err(Error::Url)?;
            AnyConnection::connect(&memory, Access::ReadWrite).map_err(Failure::on(target))
        }
        Err(e) => Err(Failure::on(target)(e)),
    }
}

fn current_dir() -> Result<std::path::PathBuf, Failure> {
    std::env::current_dir().map_err(|source| {
        Failure::from(CliError::Output {
            what: "the current directory",
            source,
        })
    })
}
