//! The read commands: `version`, `history`, `status`, `verify`, `check`.

use std::process::ExitCode;

use anstream::{eprintln, println};
use serde_json::json;

use super::super::failure::Failure;
use super::super::hints::{self, Invocation};
use super::super::output::{
    description_width, document, format_ms, local_time, print_json, Out, Target, BOLD, DIM, GREEN,
    RED, YELLOW,
};
use super::PROBLEMS;
use crate::connection::AnyConnection;
use crate::migrator::Migrator;
use crate::plan::Problem;
use crate::report::StatusState;
use crate::tracking::RowWarning;

fn missing_note(target: &Target, out: Out) {
    if !target.exists && out.human() {
        eprintln!(
            "{YELLOW}note:{YELLOW:#} {} does not exist: read as an empty database (nothing was created)",
            target.url
        );
    }
}

pub(super) fn version(
    migrator: &Migrator,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    let version = migrator.version(conn).map_err(Failure::on(target))?;
    match out.json {
        true => print_json(&document(&json!({ "version": version }), Some(target))),
        // The bare integer is the output, even with -q.
        false => println!("{version}"),
    }
    missing_note(target, out);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn history(
    migrator: &Migrator,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    let history = migrator.history(conn).map_err(Failure::on(target))?;
    if out.json {
        print_json(&document(&history, Some(target)));
        return Ok(ExitCode::SUCCESS);
    }
    if !out.human() {
        return Ok(ExitCode::SUCCESS);
    }
    println!("{BOLD}Database{BOLD:#}  {}", target.describe());
    if history.migrations.is_empty() {
        println!("No migrations applied yet.");
        return Ok(ExitCode::SUCCESS);
    }
    let width = description_width(history.migrations.iter().map(|h| h.description.as_str()));
    println!(
        "{BOLD}{:>7}  {:<width$}  {:<19}  {:>10}{BOLD:#}",
        "VERSION", "DESCRIPTION", "APPLIED AT (local)", "DURATION"
    );
    for h in &history.migrations {
        let mut flag = match h.success {
            true => String::new(),
            false => format!("  {RED}dirty{RED:#}"),
        };
        let entry = migrator
            .migrations()
            .iter()
            .find(|m| m.version == h.version);
        if let Some(code) = entry.and_then(|m| m.code.as_ref()) {
            flag.push_str(&format!("  {DIM}+ code {}{DIM:#}", code.label()));
        }
        println!(
            "{:>7}  {:<width$}  {:<19}  {:>10}{flag}",
            h.version,
            h.description,
            local_time(h.applied_at),
            format_ms(h.execution_ms)
        );
    }
    print_warnings(&history.warnings);
    Ok(ExitCode::SUCCESS)
}

fn print_warnings(warnings: &[RowWarning]) {
    for warning in warnings {
        println!("{YELLOW}warning:{YELLOW:#} {warning}");
    }
}

fn print_problems(run: &Invocation, problems: &[Problem], label: &str) {
    for problem in problems {
        println!("{RED}{label}{RED:#} {problem}");
        println!("  {DIM}→ {}{DIM:#}", hints::for_problem(problem, run));
    }
}

pub(super) fn status(
    run: &Invocation,
    migrator: &Migrator,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    let status = migrator.status(conn).map_err(Failure::on(target))?;
    let code = match status.problems.is_empty() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(PROBLEMS),
    };
    if out.json {
        print_json(&document(&status, Some(target)));
        return Ok(code);
    }
    if !out.human() {
        return Ok(code);
    }
    println!(
        "{BOLD}Database{BOLD:#}  {} {DIM}· table {}{DIM:#}",
        target.describe(),
        migrator.table()
    );
    println!("{BOLD}Version{BOLD:#}   {}", status.version);
    if !status.table_exists {
        println!("{DIM}(no tracking table yet: nothing applied){DIM:#}");
    }
    let width = description_width(status.migrations.iter().map(|m| m.description.as_str()));
    for m in &status.migrations {
        let (style, label) = match m.state {
            StatusState::Applied => (GREEN, "applied"),
            StatusState::Edited => (YELLOW, "edited"),
            StatusState::Pending => (YELLOW, "pending"),
            StatusState::Dirty => (RED, "dirty"),
            StatusState::Unknown => (RED, "unknown"),
        };
        let when = match m.state {
            StatusState::Applied | StatusState::Edited | StatusState::Unknown => {
                local_time(m.applied_at)
            }
            _ => String::new(),
        };
        let mut recorded = match &m.recorded_description {
            Some(recorded) => format!("  {YELLOW}(database: \"{recorded}\"){YELLOW:#}"),
            None => String::new(),
        };
        if let Some(code) = &m.code {
            recorded.push_str(&format!("  {DIM}+ code {code}{DIM:#}"));
        }
        println!(
            "  {style}{label:<8}{style:#}{:>6}  {:<width$}  {DIM}{when}{DIM:#}{recorded}",
            m.version, m.description
        );
    }
    let applied = status
        .migrations
        .iter()
        .filter(|m| m.state == StatusState::Applied)
        .count();
    println!(
        "{applied} applied, {} pending, {} total",
        status.pending.len(),
        status
            .migrations
            .iter()
            .filter(|m| m.state != StatusState::Unknown)
            .count()
    );
    if !status.problems.is_empty() {
        println!("{RED}Problems:{RED:#}");
        print_problems(run, &status.problems, "  -");
    }
    if !status.unverified.is_empty() {
        println!(
            "{YELLOW}note:{YELLOW:#} migration(s) {:?} have no checksum yet (older tracking table); the next {} records them",
            status.unverified,
            run.command("apply")
        );
    }
    print_warnings(&status.warnings);
    Ok(code)
}

/// `verify` (exit 3 on problems) and `check` (exit 3 also when anything
/// is pending).
pub(super) fn verify(
    run: &Invocation,
    migrator: &Migrator,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
    check: bool,
) -> Result<ExitCode, Failure> {
    let report = migrator.verify(conn).map_err(Failure::on(target))?;
    let ready = report.problems.is_empty() && (!check || report.pending.is_empty());
    let code = match ready {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(PROBLEMS),
    };
    if out.json {
        let mut doc = document(&report, Some(target));
        if check {
            doc["ready"] = json!(ready);
        }
        print_json(&doc);
        return Ok(code);
    }
    if out.quiet && ready {
        return Ok(code);
    }
    match (check, ready) {
        (true, true) => println!(
            "{GREEN}ok{GREEN:#}: {} is up to date and verified (version {})",
            target.describe(),
            report.version
        ),
        (false, true) => println!(
            "{GREEN}Verified{GREEN:#} {}: the database matches the code (version {})",
            target.describe(),
            report.version
        ),
        (_, false) => println!("{BOLD}Database{BOLD:#}  {}", target.describe()),
    }
    if check && !report.pending.is_empty() {
        println!(
            "{YELLOW}not up to date{YELLOW:#}: {} pending migration(s) {:?}; run {}",
            report.pending.len(),
            report.pending,
            run.command("apply")
        );
    }
    print_problems(run, &report.problems, "problem:");
    if !report.unverified.is_empty() {
        println!(
            "{YELLOW}note:{YELLOW:#} migration(s) {:?} have no checksum yet (older tracking table); the next {} records them",
            report.unverified,
            run.command("apply")
        );
    }
    print_warnings(&report.warnings);
    Ok(code)
}
