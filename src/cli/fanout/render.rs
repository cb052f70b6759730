//! One row per database as each finishes, then totals; `--json` gives the
//! same data as one document. A failed row carries the database's own
//! message, and the full errors follow the table.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anstream::println;
use serde::Serialize;
use serde_json::json;

use super::job::{run_job, Job, JobError, Reused, Row};
use super::live::Live;
use super::run::{run_all, Outcome};
use super::targets::FanoutTarget;
use crate::cli::commands::PROBLEMS;
use crate::cli::output::{format_ms, print_json, Out, BOLD, DIM, GREEN, RED, YELLOW};
use crate::migrator::Migrator;

/// How the targets are run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan<'a> {
    pub parallel: usize,
    pub fail_fast: bool,
    /// The first this many targets run first, alone (0: no canary).
    pub canary: usize,
    /// The `--schemas` pattern the targets came from.
    pub schemas: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    database: serde_json::Value,
    ok: bool,
    canary: bool,
    skipped: bool,
    /// `canary_failed` or `fail_fast` for a skipped row.
    skipped_because: Option<&'static str>,
    #[serde(flatten)]
    row: Option<&'a Row>,
    elapsed_ms: f64,
    error: Option<serde_json::Value>,
}

pub(super) fn run(
    job: Job,
    migrator: &Migrator,
    targets: &[FanoutTarget],
    plan: Plan<'_>,
    out: Out,
) -> ExitCode {
    let started = Instant::now();
    let noun = match plan.schemas {
        Some(_) => "target(s)",
        None => "database(s)",
    };
    let canaries = plan.canary.min(targets.len());
    let databases = distinct_databases(targets);
    if out.human() {
        let what = match plan.schemas {
            Some(pattern) => format!(
                "{} schema(s) matching `{pattern}` in {databases} database(s)",
                targets.iter().filter(|t| t.schema.is_some()).count()
            ),
            None => format!("{} database(s)", targets.len()),
        };
        let canary = match canaries {
            0 => String::new(),
            k => format!(", the first {k} as canary"),
        };
        let table = match plan.schemas {
            Some(_) => format!("table {} in each schema", migrator.table()),
            None => format!("table {}", migrator.table()),
        };
        println!(
            "{BOLD}{what}{BOLD:#}, {} at a time{canary} {DIM}({table}){DIM:#}",
            plan.parallel
        );
    }
    let width = targets
        .iter()
        .map(|t| t.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(70);
    let mut live = Live::start(out, targets.len());
    let mut on_done = |target: &FanoutTarget, outcome: &Outcome<Row>| {
        let text = line(job, &target.label, width, outcome);
        match &mut live {
            Some(live) => live.finished(matches!(outcome.result, Some(Err(_))), &text),
            None if out.human() => println!("{text}"),
            None => {}
        }
    };
    let work = |reused: &mut Reused, target: &FanoutTarget| {
        let row = run_job(job, migrator, target, reused)?;
        Ok::<_, JobError>(if out.json { row } else { row.summary() })
    };
    let mut outcomes = match canaries {
        0 => Vec::new(),
        k => run_all(
            &targets[..k],
            plan.parallel,
            plan.fail_fast,
            work,
            &mut on_done,
        ),
    };
    // A canary skipped by --fail-fast did not succeed either, but only the
    // failed ones are named.
    let canaries_ok = outcomes.iter().all(|o| matches!(o.result, Some(Ok(_))));
    let canary_failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| matches!(o.result, Some(Err(_))))
        .map(|o| targets[o.index].label.as_str())
        .collect();
    if canaries_ok {
        let rest = run_all(
            &targets[canaries..],
            plan.parallel,
            plan.fail_fast,
            work,
            &mut on_done,
        );
        outcomes.extend(rest.into_iter().map(|o| Outcome {
            index: o.index + canaries,
            ..o
        }));
    } else {
        outcomes.extend((canaries..targets.len()).map(|index| Outcome {
            index,
            elapsed: Duration::ZERO,
            result: None,
        }));
    }
    if let Some(live) = live {
        live.finish();
    }
    let elapsed = started.elapsed();
    let failed: Vec<&Outcome<Row>> = outcomes
        .iter()
        .filter(|o| matches!(o.result, Some(Err(_))))
        .collect();
    let skipped = outcomes.iter().filter(|o| o.result.is_none()).count();
    let skipped_because = |index: usize| match canaries_ok || index < canaries {
        true => "fail_fast",
        false => "canary_failed",
    };
    let rows: Vec<&Row> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref()?.as_ref().ok())
        .collect();
    let applied: usize = rows.iter().map(|r| r.applied_count).sum();
    let with_problems = rows.iter().filter(|r| r.problems > 0).count();
    let not_ready = rows
        .iter()
        .filter(|r| r.problems > 0 || !r.pending.is_empty())
        .count();
    let canary_message = (!canaries_ok).then(|| {
        format!(
            "canary {} failed: the other {} target(s) were skipped, untouched",
            canary_failed.join(", "),
            targets.len() - canaries
        )
    });

    if out.json {
        let json_rows: Vec<JsonRow> = outcomes
            .iter()
            .map(|o| {
                let target = &targets[o.index];
                JsonRow {
                    database: json!({
                        "url": target.database,
                        "schema": target.schema,
                        "label": target.label,
                        "source": { "kind": "fanout", "path": target.origin },
                    }),
                    ok: matches!(o.result, Some(Ok(_))),
                    canary: o.index < canaries,
                    skipped: o.result.is_none(),
                    skipped_because: o.result.is_none().then(|| skipped_because(o.index)),
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
        let mut document = json!({
            "targets": json_rows,
            "totals": {
                "targets": targets.len(),
                "databases": databases,
                "canaries": canaries,
                "ok": rows.len(),
                "failed": failed.len(),
                "skipped": skipped,
                "migrations_applied": applied,
                "with_problems": with_problems,
                "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
            },
        });
        if let Some(message) = &canary_message {
            document["error"] = json!({
                "kind": "canary_failed",
                "message": message,
                "canaries": canary_failed,
            });
        }
        print_json(&document);
    } else if !out.quiet || !failed.is_empty() {
        let style = if failed.is_empty() { GREEN } else { RED };
        let mut summary = format!(
            "{} {noun}: {} ok, {} failed",
            targets.len(),
            rows.len(),
            failed.len()
        );
        if skipped > 0 {
            let why = match canaries_ok {
                true => "--fail-fast",
                false => "canary failed",
            };
            summary.push_str(&format!(", {skipped} skipped ({why})"));
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
        if let Some(message) = &canary_message {
            println!("{RED}{message}{RED:#}");
        }
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

/// How many databases the targets are in (a database's schemas are
/// consecutive).
fn distinct_databases(targets: &[FanoutTarget]) -> usize {
    let mut count = 0;
    let mut previous: Option<&str> = None;
    for target in targets {
        let url = target.url.as_driver_str();
        if previous != Some(url) {
            count += 1;
            previous = Some(url);
        }
    }
    count
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
                    row.version_before, row.version, row.applied_count
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
