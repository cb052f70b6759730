//! `apply`, `rollback`, `redo`.

use std::process::ExitCode;

use anstream::println;
use serde_json::json;

use super::super::args::Command;
use super::super::failure::{CliError, Failure};
use super::super::hints::Invocation;
use super::super::output::{
    document, indent, print_json, Out, Target, BOLD, DIM, GREEN, RED, YELLOW,
};
use super::super::progress::Progress;
use crate::connection::AnyConnection;
use crate::error::Error;
use crate::executor::ApplyOptions;
use crate::migrator::Migrator;
use crate::plan::RollbackTarget;
use crate::report::{ApplyReport, Direction, PendingMigration, RollbackReport};

pub(super) fn apply(
    run: &Invocation,
    migrator: &Migrator,
    command: &Command,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    let Command::Apply {
        to,
        dry_run,
        allow_out_of_order,
        single_transaction,
        backup,
        ..
    } = command
    else {
        return Ok(ExitCode::SUCCESS);
    };
    let migrator = migrator.clone().allow_out_of_order(*allow_out_of_order);
    let options = ApplyOptions::default()
        .dry_run(*dry_run)
        .single_transaction(*single_transaction);
    let options = match to {
        Some(version) => options.to(*version),
        None => options,
    };
    if out.human() && !dry_run {
        println!(
            "{BOLD}Migrating{BOLD:#} {} {DIM}· table {}{DIM:#}",
            target.describe(),
            migrator.table()
        );
    }
    if *backup && !dry_run {
        make_backup(&migrator, conn, target, out)?;
    }
    let mut progress = Progress::new(out);
    let report = migrator
        .apply_with(conn, options, &mut progress)
        .map_err(Failure::on(target))?;
    drop(progress);
    if out.json {
        print_json(&document(&report, Some(target)));
    } else if out.human() {
        print_apply(run, target, &report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_apply(run: &Invocation, target: &Target, report: &ApplyReport) {
    if report.dry_run && !report.session_sql.is_empty() {
        println!("{DIM}Session statements, run first on the connection:{DIM:#}");
        for sql in &report.session_sql {
            println!("  {sql}");
        }
    }
    if report.dry_run {
        match report.pending.is_empty() {
            true => println!(
                "Dry run on {}: nothing to apply (version {})",
                target.describe(),
                report.version
            ),
            false => {
                println!(
                    "{BOLD}Dry run on{BOLD:#} {}: would apply {} migration(s), changing nothing",
                    target.describe(),
                    report.pending.len()
                );
                print_plan(&report.pending, Direction::Up);
            }
        }
        return;
    }
    if !report.adopted_checksums.is_empty() {
        println!(
            "Recorded checksums for {} migration(s) from an older tracking table: {:?} (verified from now on)",
            report.adopted_checksums.len(),
            report.adopted_checksums
        );
    }
    let summary = format!(
        "{} applied, {} already applied, {} total",
        report.applied.len(),
        report.already_applied,
        report.total
    );
    match report.applied.is_empty() {
        true => println!("Nothing to apply: {summary} (version {})", report.version),
        false => println!(
            "{GREEN}{summary}{GREEN:#} (version {} → {})",
            report.version_before, report.version
        ),
    }
    if !target.exists {
        println!("{DIM}(run {} to create it){DIM:#}", run.command("apply"));
    }
}

/// A dry run's migrations, each with the statements it would run and
/// anything that blocks it.
pub(super) fn print_plan(pending: &[PendingMigration], direction: Direction) {
    let label = match direction {
        Direction::Up => "statement",
        Direction::Down => "down statement",
    };
    for m in pending {
        let mode = match (m.transaction, m.from_database) {
            (_, true) => " (not in this build: its recorded down statements)",
            (false, _) => " (no transaction)",
            (true, false) => "",
        };
        println!(
            "\n{YELLOW}{:>6}{YELLOW:#}  {}{DIM}{mode}{DIM:#}",
            m.version, m.description
        );
        if let Some(blocker) = &m.blocker {
            println!("  {RED}✗ blocked:{RED:#} {blocker}");
        }
        // A code step runs after the SQL going up and before it going down.
        let code = m.code.as_deref();
        if let (Some(code), Direction::Down) = (code, direction) {
            println!("{DIM}  -- code step {code}: its down function{DIM:#}");
        }
        for (i, sql) in m.sql.iter().enumerate() {
            println!(
                "{DIM}  -- {label} {}{DIM:#}\n{}",
                i + 1,
                indent(sql.trim(), "  ")
            );
        }
        if let (Some(code), Direction::Up) = (code, direction) {
            println!("{DIM}  -- code step {code}{DIM:#}");
        }
    }
}

/// `apply --backup`: on SQLite, copies the file aside when something is
/// pending (a file that does not exist yet has nothing to keep).
fn make_backup(
    migrator: &Migrator,
    conn: &mut AnyConnection,
    target: &Target,
    out: Out,
) -> Result<(), Failure> {
    let fail = Failure::on(target);
    let Some(path) = target.url.sqlite_path() else {
        return Err(fail(Error::BackupUnsupported {
            backend: target.url.dialect().name(),
        }));
    };
    // A new (empty) file holds nothing to keep.
    if std::fs::metadata(path).map_or(true, |m| m.len() == 0) {
        return Ok(());
    }
    let status = migrator.status(conn).map_err(&fail)?;
    if status.pending.is_empty() {
        return Ok(());
    }
    let copy = crate::backup::backup_sqlite(conn, path, status.version).map_err(&fail)?;
    if out.human() {
        println!(
            "Backed up to {} {DIM}(restore: stop the app, copy it over {}){DIM:#}",
            copy.display(),
            path.display()
        );
    }
    Ok(())
}

pub(super) fn rollback(
    migrator: &Migrator,
    command: &Command,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    let Command::Rollback {
        to, steps, dry_run, ..
    } = command
    else {
        return Ok(ExitCode::SUCCESS);
    };
    let range = match (to, steps) {
        (Some(version), _) => RollbackTarget::To(*version),
        (None, steps) => RollbackTarget::Steps(steps.unwrap_or(1) as usize),
    };
    if out.human() && !dry_run {
        println!(
            "{BOLD}Rolling back{BOLD:#} {} {DIM}· table {}{DIM:#}",
            target.describe(),
            migrator.table()
        );
    }
    let mut progress = Progress::new(out);
    let report = migrator
        .rollback(conn, range, *dry_run, &mut progress)
        .map_err(Failure::on(target))?;
    drop(progress);
    if let Some(refusal) = &report.blocked_by {
        // The dry run shows the plan and its blocker, then fails as the
        // real run would.
        if out.json {
            let mut doc = document(&report, Some(target));
            doc["error"] =
                json!({ "kind": "refused", "message": refusal.to_string(), "refusal": refusal });
            print_json(&doc);
            return Ok(ExitCode::from(1));
        }
        if out.human() {
            print_rollback(target, &report);
        }
        return Err(Failure::about(
            CliError::Library(Error::Refused(refusal.clone())),
            target,
        ));
    }
    if out.json {
        print_json(&document(&report, Some(target)));
    } else if out.human() {
        print_rollback(target, &report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_rollback(target: &Target, report: &RollbackReport) {
    if report.dry_run {
        if report.pending.is_empty() {
            println!(
                "Dry run on {}: nothing to roll back (version {})",
                target.describe(),
                report.version
            );
            return;
        }
        println!(
            "{BOLD}Dry run on{BOLD:#} {}: would roll back {} migration(s) to version {}, changing nothing",
            target.describe(),
            report.pending.len(),
            report.target_version
        );
        print_plan(&report.pending, Direction::Down);
        return;
    }
    match report.reverted.is_empty() {
        true => println!("Nothing to roll back (version {})", report.version),
        false => println!(
            "{GREEN}{} rolled back{GREEN:#} (version {} → {})",
            report.reverted.len(),
            report.version_before,
            report.version
        ),
    }
}

pub(super) fn redo(
    migrator: &Migrator,
    steps: u32,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    if out.human() {
        println!(
            "{BOLD}Redoing{BOLD:#} {} {DIM}· table {}{DIM:#}",
            target.describe(),
            migrator.table()
        );
    }
    let mut progress = Progress::new(out);
    let report = migrator
        .redo(conn, steps as usize, &mut progress)
        .map_err(Failure::on(target))?;
    drop(progress);
    if out.json {
        print_json(&document(&report, Some(target)));
    } else if out.human() {
        match report.applied.is_empty() {
            true => println!("Nothing to redo (version {})", report.version),
            false => println!(
                "{GREEN}{} migration(s) rolled back and applied again{GREEN:#} (version {})",
                report.applied.len(),
                report.version
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}
