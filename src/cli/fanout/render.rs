//! One row per database as each finishes, then totals; `--json` gives the
//! same data as one document. A failed row carries the database's own
//! message, and the full errors follow the table.

use std::process::ExitCode;
use std::time::Instant;

use anstream::println;
use serde::Serialize;
use serde_json::json;

use super::run::{run_all, Outcome};
use super::targets::FanoutTarget;
use crate::cli::commands::PROBLEMS;
use crate::cli::output::{format_ms, print_json, Out, BOLD, DIM, GREEN, RED, YELLOW};
use crate::connection::{Access, AnyConnection};
use crate::error::Error;
use crate::executor::ApplyOptions;
use crate::migrator::Migrator;
use crate::observer::Silent;
use crate::report::StepReport;

/// The commands that run over many databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Job {
    Apply {
        options: ApplyOptions,
        allow_out_of_order: bool,
    },
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
    applied: Vec<StepReport>,
    pending: Vec<i64>,
    problems: usize,
}

fn run_job(job: Job, migrator: &Migrator, target: &FanoutTarget) -> Result<Row, Error> {
    let access = match job {
        Job::Apply { options, .. } if !options.dry_run => Access::ReadWrite,
        _ => Access::ReadOnly,
    };
    let mut conn = AnyConnection::connect(&target.url, access)?;
    Ok(match job {
        Job::Apply {
            options,
            allow_out_of_order,
        } => {
            let migrator = migrator.clone().allow_out_of_order(allow_out_of_order);
            let report = migrator.apply_with(&mut conn, options, &mut Silent)?;
            Row {
                version_before: report.version_before,
                version: report.version,
                applied: report.applied,
                pending: report.pending.iter().map(|p| p.version).collect(),
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
                pending: report.pending,
                problems: report.problems.len(),
                ..Row::default()
            }
        }
    })
}

#[derive(Serialize)]
struct JsonRow<'a> {
    database: serde_json::Value,
    ok: bool,
    skipped: bool,
    #[serde(flatten)]
    row: Option<&'a Row>,
    elapsed_ms: f64,
    error: Option<serde_json::Value>,
}

pub(super) fn run(
    job: Job,
    migrator: &Migrator,
    targets: &[FanoutTarget],
    parallel: usize,
    fail_fast: bool,
    out: Out,
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
    let outcomes = run_all(
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
    let failed: Vec<&Outcome<Row>> = outcomes
        .iter()
        .filter(|o| matches!(o.result, Some(Err(_))))
        .collect();
    let skipped = outcomes.iter().filter(|o| o.result.is_none()).count();
    let rows: Vec<&Row> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref()?.as_ref().ok())
        .collect();
    let applied: usize = rows.iter().map(|r| r.applied.len()).sum();
    let with_problems = rows.iter().filter(|r| r.problems > 0).count();
    let not_ready = rows
        .iter()
        .filter(|r| r.problems > 0 || !r.pending.is_empty())
        .count();

    if out.json {
        let json_rows: Vec<JsonRow> = outcomes
            .iter()
            .map(|o| {
                let target = &targets[o.index];
                JsonRow {
                    database: json!({ "url": target.label, "source": { "kind": "fanout", "path": target.origin } }),
                    ok: matches!(o.result, Some(Ok(_))),
                    skipped: o.result.is_none(),
                    row: o.result.as_ref().and_then(|r| r.as_ref().ok()),
                    elapsed_ms: o.elapsed.as_secs_f64() * 1000.0,
                    error: o
                        .result
                        .as_ref()
                        .and_then(|r| r.as_ref().err())
                        .map(|message| json!({ "kind": "target_failed", "message": message })),
                }
            })
            .collect();
        print_json(&json!({
            "targets": json_rows,
            "totals": {
                "databases": targets.len(),
                "ok": rows.len(),
                "failed": failed.len(),
                "skipped": skipped,
                "migrations_applied": applied,
                "with_problems": with_problems,
                "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
            },
        }));
    } else if !out.quiet || !failed.is_empty() {
        let style = if failed.is_empty() { GREEN } else { RED };
        let mut summary = format!(
            "{} database(s): {} ok, {} failed",
            targets.len(),
            rows.len(),
            failed.len()
        );
        if skipped > 0 {
            summary.push_str(&format!(", {skipped} skipped (--fail-fast)"));
        }
        match job {
            Job::Apply { .. } => summary.push_str(&format!("; {applied} migration(s) applied")),
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
        for outcome in &failed {
            if let Some(Err(error)) = &outcome.result {
                println!("\n{RED}{}{RED:#}:\n{}", targets[outcome.index].label, error);
            }
        }
    }
    if !failed.is_empty() || skipped > 0 {
        ExitCode::from(1)
    } else if (job == Job::Verify && with_problems > 0)
        || (matches!(job, Job::Check | Job::Status) && not_ready > 0)
    {
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
                Job::Apply { options, .. } if options.dry_run => {
                    format!(
                        "version {}, {} would be applied",
                        row.version,
                        row.pending.len()
                    )
                }
                Job::Apply { .. } => format!(
                    "{} → {}  {} applied",
                    row.version_before,
                    row.version,
                    row.applied.len()
                ),
                Job::Version => format!("version {}", row.version),
                Job::Status | Job::Verify | Job::Check => format!(
                    "version {}, {} pending, {} problem(s)",
                    row.version,
                    row.pending.len(),
                    row.problems
                ),
            };
            let ok = match job {
                Job::Apply { .. } | Job::Version => true,
                Job::Verify => row.problems == 0,
                Job::Status | Job::Check => row.problems == 0 && row.pending.is_empty(),
            };
            let (mark, style) = if ok { ("✓", GREEN) } else { ("!", YELLOW) };
            format!(
                "  {style}{mark}{style:#} {}  {detail}  {DIM}({time}){DIM:#}",
                pad(label)
            )
        }
    }
}

/// The heading of an error with the database's own message beside it, cut
/// to a readable length: `migration 3 (…) statement 1 failed: relation "tags" already exists`.
fn short(error: &str) -> String {
    let mut lines = error.lines();
    let first = lines
        .next()
        .unwrap_or_default()
        .trim_end_matches(':')
        .to_string();
    let said = error
        .lines()
        .find_map(|l| l.trim().strip_prefix("database said: "))
        .map(str::to_string);
    let text = match said {
        Some(said) => format!("{first}: {said}"),
        None => first,
    };
    match text.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
