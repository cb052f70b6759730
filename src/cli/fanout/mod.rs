//! `apply`, `status`, `version`, `verify` and `check` over many databases.

mod job;
mod live;
mod render;
mod run;
mod schemas;
mod targets;

use std::process::ExitCode;

use super::args::{Command, DatabaseArgs, FanoutArgs};
use super::database;
use super::failure::{CliError, Failure};
use super::output::Out;
use crate::migrator::Migrator;

pub(crate) use targets::FanoutTarget;

/// The databases of a fan-out run: `--targets FILE` plus any
/// `--database-url`, or several `--database-url`, or one database with
/// `--schemas` / `--canary` (from `DATABASE_URL` or `.env` when no URL is
/// given); `None` for one database.
pub(crate) fn targets(
    db: &DatabaseArgs,
    fanout: Option<&FanoutArgs>,
) -> Result<Option<Vec<FanoutTarget>>, Failure> {
    let file = fanout.and_then(|f| f.targets.as_deref());
    let fleet = fanout.is_some_and(|f| f.schemas.is_some() || f.canary.is_some());
    if file.is_none() && db.database_url.len() < 2 && !fleet {
        return Ok(None);
    }
    let Some(fanout) = fanout else {
        return Err(Failure::from(CliError::Usage(String::from(
            "several databases (repeated --database-url) work with apply, status, version, verify and check",
        ))));
    };
    let mut targets = match file {
        Some(path) => targets::read_file(path).map_err(CliError::Targets)?,
        None => Vec::new(),
    };
    for url in &db.database_url {
        targets.push(FanoutTarget::from_flag(url).map_err(CliError::Targets)?);
    }
    if targets.is_empty() && file.is_none() {
        let dir = std::env::current_dir().map_err(|source| CliError::Output {
            what: "the current directory",
            source,
        })?;
        let (text, source) = database::resolve(None, |name| std::env::var(name).ok(), &dir)?;
        let origin = source.describe();
        let origin = origin.strip_prefix("from ").unwrap_or(&origin);
        targets.push(FanoutTarget::from_source(&text, origin).map_err(CliError::Targets)?);
    }
    if targets.is_empty() {
        return Err(Failure::from(CliError::Usage(String::from(
            "the targets file names no database",
        ))));
    }
    if let Some(pattern) = &fanout.schemas {
        schemas::check_usage(pattern, &targets, db.table.as_deref())?;
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
        } => job::Job::Apply {
            options: {
                let options = crate::ApplyOptions::default()
                    .dry_run(*dry_run)
                    .single_transaction(*single_transaction);
                match to {
                    Some(version) => options.to(*version),
                    None => options,
                }
            },
            allow_out_of_order: *allow_out_of_order,
        },
        Command::Status { .. } => job::Job::Status,
        Command::Version { .. } => job::Job::Version,
        Command::Verify { .. } => job::Job::Verify,
        _ => job::Job::Check,
    };
    let parallel = usize::from(fanout.parallel);
    let expanded;
    let targets = match &fanout.schemas {
        Some(pattern) => {
            expanded = schemas::expand(targets, pattern, parallel);
            &expanded[..]
        }
        None => targets,
    };
    Ok(render::run(
        job,
        migrator,
        targets,
        render::Plan {
            parallel,
            fail_fast: fanout.fail_fast,
            canary: fanout.canary.map_or(0, |k| k as usize),
            schemas: fanout.schemas.as_deref(),
        },
        out,
    ))
}
