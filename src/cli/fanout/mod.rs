//! `apply`, `status`, `version`, `verify` and `check` over many databases.

mod render;
mod run;
mod targets;

use std::process::ExitCode;

use super::args::{Command, DatabaseArgs, FanoutArgs};
use super::failure::{CliError, Failure};
use super::output::Out;
use crate::migrator::Migrator;

pub(crate) use targets::FanoutTarget;

/// The databases of a fan-out run: `--targets FILE` plus any
/// `--database-url`, or several `--database-url`; `None` for one database.
pub(crate) fn targets(
    db: &DatabaseArgs,
    fanout: Option<&FanoutArgs>,
) -> Result<Option<Vec<FanoutTarget>>, Failure> {
    let file = fanout.and_then(|f| f.targets.as_deref());
    if file.is_none() && db.database_url.len() < 2 {
        return Ok(None);
    }
    if fanout.is_none() {
        return Err(Failure::from(CliError::Usage(String::from(
            "several databases (repeated --database-url) work with apply, status, version, verify and check",
        ))));
    }
    let mut targets = match file {
        Some(path) => targets::read_file(path).map_err(CliError::Targets)?,
        None => Vec::new(),
    };
    for url in &db.database_url {
        targets.push(FanoutTarget::from_flag(url).map_err(CliError::Targets)?);
    }
    if targets.is_empty() {
        return Err(Failure::from(CliError::Usage(String::from(
            "the targets file names no database",
        ))));
    }
    Ok(Some(targets))
}

/// Runs `command` on every target; one row each as it finishes, then totals.
pub(crate) fn run(
    command: &Command,
    migrator: &Migrator,
    targets: &[FanoutTarget],
    out: Out,
) -> Result<ExitCode, Failure> {
    let Some(fanout) = command.fanout() else {
        return Ok(ExitCode::SUCCESS);
    };
    let job = match command {
        Command::Apply { backup: true, .. } => {
            return Err(Failure::from(CliError::Usage(String::from(
                "--backup works on one SQLite database at a time",
            ))))
        }
        Command::Apply {
            to,
            dry_run,
            allow_out_of_order,
            single_transaction,
            ..
        } => render::Job::Apply {
            options: crate::ApplyOptions {
                target: *to,
                dry_run: *dry_run,
                single_transaction: *single_transaction,
            },
            allow_out_of_order: *allow_out_of_order,
        },
        Command::Status { .. } => render::Job::Status,
        Command::Version { .. } => render::Job::Version,
        Command::Verify { .. } => render::Job::Verify,
        _ => render::Job::Check,
    };
    Ok(render::run(
        job,
        migrator,
        targets,
        usize::from(fanout.parallel),
        fanout.fail_fast,
        out,
    ))
}
