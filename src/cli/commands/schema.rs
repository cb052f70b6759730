//! The schema commands: `schema`, `drift`, `roundtrip` and `check --schema`.
//! The live database is only read; replays happen on a scratch database,
//! which a failure names as the database it happened on.

use std::path::Path;
use std::process::ExitCode;

use anstream::{eprintln, println};
use serde_json::json;

use super::super::args::ScratchArgs;
use super::super::database::UrlSource;
use super::super::failure::{CliError, Failure};
use super::super::output::{document, print_json, Out, Target, BOLD, DIM, GREEN, RED, YELLOW};
use super::PROBLEMS;
use crate::connection::AnyConnection;
use crate::database_url::DatabaseUrl;
use crate::error::Error;
use crate::migrator::Migrator;
use crate::schema::{ChangeKind, RoundtripOutcome, SchemaChange, ScratchDatabase};

/// `migrate schema [--file PATH]`: the text alone on stdout (byte-identical
/// for the same schema), or written to PATH.
pub(super) fn schema(
    migrator: &Migrator,
    file: Option<&Path>,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    let schema = migrator.schema(conn).map_err(Failure::on(target))?;
    if out.json && file.is_none() {
        print_json(&document(&json!({ "schema": schema }), Some(target)));
        return Ok(ExitCode::SUCCESS);
    }
    let text = schema.to_text();
    let Some(path) = file else {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::write(path, &text).map_err(|source| CliError::Output {
        what: "the schema file",
        source,
    })?;
    if out.json {
        let doc = json!({ "file": path.display().to_string(), "tables": schema.tables.len() });
        print_json(&document(&doc, Some(target)));
    } else if out.human() {
        println!(
            "{GREEN}Wrote{GREEN:#} {} ({} tables) from {}",
            path.display(),
            schema.tables.len(),
            target.describe()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The scratch database for a run, and how to name it in messages.
struct Scratch {
    database: ScratchDatabase,
    target: Target,
}

impl Scratch {
    fn open(args: &ScratchArgs, migrator: &Migrator, live: &Target) -> Result<Self, Failure> {
        let (database, given) = match &args.scratch_url {
            Some(text) => {
                let url = DatabaseUrl::parse(text).map_err(Error::Url)?;
                if url.dialect() != live.url.dialect() {
                    return Err(Failure::from(CliError::Usage(format!(
                        "--scratch-url is {}, the database {}: give one of the same backend",
                        url.dialect().name(),
                        live.url.dialect().name()
                    ))));
                }
                let target = scratch_target(url.clone(), true);
                let database =
                    ScratchDatabase::given(&url, migrator.table()).map_err(Failure::on(&target))?;
                (database, true)
            }
            None => (
                ScratchDatabase::create(&live.url, migrator.table()).map_err(Failure::on(live))?,
                false,
            ),
        };
        let target = scratch_target(database.url().clone(), given);
        Ok(Scratch { database, target })
    }

    fn connect(&self) -> Result<AnyConnection, Failure> {
        self.database.connect().map_err(Failure::on(&self.target))
    }
}

fn scratch_target(url: DatabaseUrl, given: bool) -> Target {
    Target {
        url,
        source: UrlSource::Scratch { given },
        exists: true,
    }
}

/// `migrate drift`: exit 3 when the schema differs from the replay's.
pub(super) fn drift(
    migrator: &Migrator,
    args: &ScratchArgs,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    let scratch = Scratch::open(args, migrator, target)?;
    let mut scratch_conn = scratch.connect()?;
    let report = migrator
        .drift(conn, &mut scratch_conn)
        .map_err(|e| on_replay(e, target, &scratch))?;
    drop(scratch_conn);
    let code = match report.is_clean() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(PROBLEMS),
    };
    if out.json {
        let mut doc = document(&report, Some(target));
        doc["drift"] = json!(!report.is_clean());
        print_json(&doc);
        return Ok(code);
    }
    if out.quiet && report.is_clean() {
        return Ok(code);
    }
    match report.is_clean() {
        true => println!(
            "{GREEN}No drift{GREEN:#}: {} has the schema its {} applied migration(s) produce (version {})",
            target.describe(),
            report.replayed.len(),
            report.version
        ),
        false => println!(
            "{RED}Drift{RED:#} in {}: {} difference(s) from what its {} applied migration(s) produce",
            target.describe(),
            report.changes.len(),
            report.replayed.len()
        ),
    }
    print_changes(&report.changes);
    if !report.unknown_versions.is_empty() {
        println!(
            "{YELLOW}note:{YELLOW:#} applied version(s) {:?} are not in this build, so they were not replayed: what they made shows as extra",
            report.unknown_versions
        );
    }
    if !report.dirty.is_empty() {
        println!(
            "{YELLOW}note:{YELLOW:#} version(s) {:?} are dirty (a failed non-transactional run): replayed in full, so what is missing may be what they did not finish",
            report.dirty
        );
    }
    Ok(code)
}

fn print_changes(changes: &[SchemaChange]) {
    for change in changes {
        let (style, label) = match change.kind {
            ChangeKind::Missing => (RED, "missing"),
            ChangeKind::Extra => (YELLOW, "extra"),
            ChangeKind::Different => (YELLOW, "different"),
        };
        println!(
            "  {style}{label:<9}{style:#} {} {BOLD}{}{BOLD:#}",
            change.object, change.name
        );
        if let Some(expected) = &change.expected {
            println!("    {DIM}migrations:{DIM:#} {expected}");
        }
        if let Some(actual) = &change.actual {
            println!("    {DIM}database:  {DIM:#} {actual}");
        }
    }
}

/// A failure while replaying: where it happened is the scratch database.
fn on_replay(error: Error, live: &Target, scratch: &Scratch) -> Failure {
    match &error {
        Error::MigrationFailed { .. } | Error::ScratchNotEmpty { .. } => {
            Failure::on(&scratch.target)(error)
        }
        _ => Failure::on(live)(error),
    }
}

/// `migrate roundtrip`: exit 3 naming the first migration whose `down`
/// does not restore the schema.
pub(super) fn roundtrip(
    migrator: &Migrator,
    args: &ScratchArgs,
    target: &Target,
    out: Out,
) -> Result<ExitCode, Failure> {
    let scratch = Scratch::open(args, migrator, target)?;
    let mut scratch_conn = scratch.connect()?;
    let report = migrator
        .roundtrip(&mut scratch_conn)
        .map_err(Failure::on(&scratch.target))?;
    drop(scratch_conn);
    let code = match report.is_clean() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(PROBLEMS),
    };
    if out.json {
        print_json(&document(&report, Some(&scratch.target)));
        return Ok(code);
    }
    if !out.human() && report.is_clean() {
        return Ok(code);
    }
    println!("{BOLD}Scratch{BOLD:#}   {}", scratch.target.describe());
    for step in &report.migrations {
        let (style, label) = match step.outcome {
            RoundtripOutcome::Reversible => (GREEN, "ok"),
            RoundtripOutcome::Irreversible => (DIM, "no down"),
            RoundtripOutcome::DownDiffers => (RED, "DOWN DIFFERS"),
            RoundtripOutcome::ReapplyDiffers => (RED, "REAPPLY DIFFERS"),
        };
        println!(
            "  {style}{label:<15}{style:#} {:>6}  {}",
            step.version, step.description
        );
        if !step.changes.is_empty() {
            let what = match step.outcome {
                RoundtripOutcome::DownDiffers => "after its down, compared with before it:",
                _ => "applied again, compared with its first apply:",
            };
            println!("    {what}");
            print_changes(&step.changes);
        }
    }
    let irreversible = report
        .migrations
        .iter()
        .filter(|s| s.outcome == RoundtripOutcome::Irreversible)
        .count();
    match report.failed {
        None => println!(
            "{GREEN}ok{GREEN:#}: every down restores its schema ({} migrations, {irreversible} without a down: applied and kept)",
            report.migrations.len()
        ),
        Some(version) => eprintln!(
            "{RED}error:{RED:#} the down of migration {version} does not restore the schema (above); fix its down statements"
        ),
    }
    Ok(code)
}

/// `migrate check --schema FILE`: the schema the code's migrations produce
/// equals the committed file. Exit 3 with the differing lines otherwise.
pub(super) fn check_schema(
    migrator: &Migrator,
    file: &Path,
    args: &ScratchArgs,
    target: &Target,
    out: Out,
) -> Result<ExitCode, Failure> {
    let committed = std::fs::read_to_string(file).map_err(|source| CliError::Output {
        what: "the schema file (read)",
        source,
    })?;
    let scratch = Scratch::open(args, migrator, target)?;
    let mut scratch_conn = scratch.connect()?;
    let expected = migrator
        .expected_schema(&mut scratch_conn)
        .map_err(Failure::on(&scratch.target))?;
    drop(scratch_conn);
    let produced = expected.to_text();
    let (missing, extra) = line_diff(&produced, &committed);
    let same = produced == committed;
    let code = match same {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(PROBLEMS),
    };
    if out.json {
        let doc = json!({
            "file": file.display().to_string(),
            "ready": same,
            "not_in_file": missing,
            "only_in_file": extra,
        });
        print_json(&document(&doc, Some(&scratch.target)));
        return Ok(code);
    }
    if out.quiet && same {
        return Ok(code);
    }
    if same {
        println!(
            "{GREEN}ok{GREEN:#}: {} is the schema the migrations produce ({} tables)",
            file.display(),
            expected.tables.len()
        );
        return Ok(code);
    }
    println!(
        "{RED}{} is not the schema the migrations produce{RED:#}: regenerate it with `migrate schema --file {}` on a database the migrations built, and commit it with the migration",
        file.display(),
        file.display()
    );
    for line in &missing {
        println!("  {GREEN}+ {line}{GREEN:#}");
    }
    for line in &extra {
        println!("  {RED}- {line}{RED:#}");
    }
    if missing.is_empty() && extra.is_empty() {
        println!("  (the same lines in another order, or different blank lines)");
    }
    Ok(code)
}

/// Lines the migrations produce that the file lacks (`+`), and lines only
/// the file has (`-`), each in its own order.
fn line_diff(produced: &str, committed: &str) -> (Vec<String>, Vec<String>) {
    let count = |text: &str| {
        let mut lines: std::collections::BTreeMap<String, usize> = Default::default();
        for line in text.lines() {
            *lines.entry(line.to_string()).or_default() += 1;
        }
        lines
    };
    let (mut have, mut want) = (count(committed), count(produced));
    let mut missing = Vec::new();
    for line in produced.lines() {
        match have.get_mut(line) {
            Some(n) if *n > 0 => *n -= 1,
            _ => missing.push(line.to_string()),
        }
    }
    let mut extra = Vec::new();
    for line in committed.lines() {
        match want.get_mut(line) {
            Some(n) if *n > 0 => *n -= 1,
            _ => extra.push(line.to_string()),
        }
    }
    (missing, extra)
}
