//! `apply`, `status`, `version`, `verify` and `check` over many databases:
//! one row per database as each finishes, then totals; `--json` gives the
//! same data as one document.

use std::process::ExitCode;
use std::time::Instant;

use anstream::println;
use serde::Serialize;

use super::{format_ms, print_json, Output, BOLD, DIM, GREEN, PROBLEMS, RED, YELLOW};
use crate::connection::{Access, AnyConnection};
use crate::error::Result;
use crate::fanout::{self, Outcome, Target};
use crate::migrator::{ApplyOptions, Migrator, Silent};

/// The commands that run over many databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Job {
    Apply(ApplyOptions),
    Status,
    Version,
    Verify,
    Check,
}

/// What one database reported.
#[derive(Debug, Default, Serialize)]
struct Row {
    version_before: i64,
    version: i64,
    applied: usize,
    pending: usize,
    problems: usize,
}

fn run_job(job: Job, migrator: &Migrator, target: &Target) -> Result<Row> {
    let access = match job {
        Job::Apply(options) if !options.dry_run => Access::ReadWrite,
        _ => Access::ReadOnly,
    };
    let mut conn = AnyConnection::connect(&target.url, access)?;
    Ok(match job {
        Job::Apply(options) => {
            let report = migrator.apply_with(&mut conn, options, &mut Silent)?;
            Row {
                version_before: report.version_before,
                version: report.version,
                applied: report.applied.len(),
                pending: report.pending.len(),
                problems: 0,
            }
        }
        Job::Version => {
            let version = migrator.version(&mut conn)?;
            Row {
                version_before: version,
                version,
                ..Row::default()
            }
        }
        Job::Status | Job::Verify | Job::Check => {
            let report = migrator.verify(&mut conn)?;
            Row {
                version_before: report.version,
                version: report.version,
                pending: report.pending.len(),
                problems: report.problems.len(),
                ..Row::default()
            }
        }
    })
}

#[derive(Serialize)]
struct JsonRow<'a> {
    database: &'a str,
    ok: bool,
    skipped: bool,
    #[serde(flatten)]
    row: Option<&'a Row>,
    elapsed_ms: f64,
    error: Option<&'a str>,
}

pub(super) fn run(
    job: Job,
    migrator: &Migrator,
    targets: &[Target],
    parallel: usize,
    fail_fast: bool,
    out: Output,
) -> ExitCode {
    let started = Instant::now();
    if out.human() {
        println!(
            "{BOLD}{} database(s){BOLD:#}, {} at a time {DIM}(table {}){DIM:#}",
            targets.len(),
            parallel,
            migrator.table()
        );
    }
    let width = targets
        .iter()
        .map(|t| t.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(70);
    let outcomes = fanout::run_all(
        targets,
        parallel,
        fail_fast,
        |target| run_job(job, migrator, target),
        |target, outcome| {
            if out.human() {
                println!("{}", line(job, &target.label, width, outcome));
            }
        },
    );
    let elapsed = started.elapsed();
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o.result, Some(Err(_))))
        .count();
    let skipped = outcomes.iter().filter(|o| o.result.is_none()).count();
    let rows: Vec<&Row> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref()?.as_ref().ok())
        .collect();
    let applied: usize = rows.iter().map(|r| r.applied).sum();
    let with_problems = rows.iter().filter(|r| r.problems > 0).count();
    let not_ready = rows
        .iter()
        .filter(|r| r.problems > 0 || r.pending > 0)
        .count();

    if out.json {
        let json_rows: Vec<JsonRow> = outcomes
            .iter()
            .map(|o| JsonRow {
                database: &targets[o.index].label,
                ok: matches!(o.result, Some(Ok(_))),
                skipped: o.result.is_none(),
                row: o.result.as_ref().and_then(|r| r.as_ref().ok()),
                elapsed_ms: o.elapsed.as_secs_f64() * 1000.0,
                error: o
                    .result
                    .as_ref()
                    .and_then(|r| r.as_ref().err())
                    .map(String::as_str),
            })
            .collect();
        print_json(&serde_json::json!({
            "targets": json_rows,
            "totals": {
                "databases": targets.len(),
                "ok": rows.len(),
                "failed": failed,
                "skipped": skipped,
                "applied": applied,
                "with_problems": with_problems,
                "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
            },
        }));
    } else if !out.quiet || failed > 0 {
        let style = if failed > 0 { RED } else { GREEN };
        let mut summary = format!(
            "{} database(s): {} ok, {failed} failed",
            targets.len(),
            rows.len()
        );
        if skipped > 0 {
            summary.push_str(&format!(", {skipped} skipped (--fail-fast)"));
        }
        match job {
            Job::Apply(_) => summary.push_str(&format!("; {applied} migration(s) applied")),
            Job::Verify => summary.push_str(&format!("; {with_problems} with problems")),
            Job::Check | Job::Status => {
                summary.push_str(&format!("; {not_ready} not up to date or with problems"))
            }
            Job::Version => {}
        }
        println!(
            "{style}{summary}{style:#} in {}",
            format_ms(elapsed.as_secs_f64() * 1000.0)
        );
    }
    if failed > 0 || skipped > 0 {
        ExitCode::from(1)
    } else if (job == Job::Verify && with_problems > 0) || (job == Job::Check && not_ready > 0) {
        ExitCode::from(PROBLEMS)
    } else {
        ExitCode::SUCCESS
    }
}

/// One finished database, for people.
fn line(job: Job, label: &str, width: usize, outcome: &Outcome<Row>) -> String {
    let time = format_ms(outcome.elapsed.as_secs_f64() * 1000.0);
    let pad = |s: &str| format!("{s:<width$}");
    match &outcome.result {
        None => format!("  {DIM}- {}  skipped{DIM:#}", pad(label)),
        Some(Err(error)) => format!(
            "  {RED}✗{RED:#} {}  {RED}failed{RED:#}: {}  {DIM}({time}){DIM:#}",
            pad(label),
            short(error)
        ),
        Some(Ok(row)) => {
            let detail = match job {
                Job::Apply(options) if options.dry_run => {
                    format!("version {}, {} would be applied", row.version, row.pending)
                }
                Job::Apply(_) => format!(
                    "{} → {}  {} applied",
                    row.version_before, row.version, row.applied
                ),
                Job::Version => format!("version {}", row.version),
                Job::Status | Job::Verify | Job::Check => {
                    format!(
                        "version {}, {} pending, {} problem(s)",
                        row.version, row.pending, row.problems
                    )
                }
            };
            let (mark, style) = match (job, row.problems, row.pending) {
                (Job::Verify, 0, _) | (Job::Apply(_) | Job::Version, _, _) | (_, 0, 0) => {
                    ("✓", GREEN)
                }
                _ => ("!", YELLOW),
            };
            format!(
                "  {style}{mark}{style:#} {}  {detail}  {DIM}({time}){DIM:#}",
                pad(label)
            )
        }
    }
}

/// The first line of an error, cut to a readable length.
fn short(error: &str) -> String {
    let first = error.lines().next().unwrap_or_default();
    match first.char_indices().nth(140) {
        Some((cut, _)) => format!("{}…", &first[..cut]),
        None => first.to_string(),
    }
}
