//! The `migrate` command line: a thin layer over [`Migrator`]. The only place
//! that prints; exit codes follow the SPEC (0 ok, 1 error, 2 usage, 3 problems).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anstream::{eprintln, println};
use anstyle::{AnsiColor, Style};
use chrono::{DateTime, Local, Utc};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

mod fanout;

use crate::authoring::{self, AuthoringError};
use crate::connection::{Access, AnyConnection};
use crate::database_url::{DatabaseUrl, DEFAULT_DATABASE};
use crate::error::Error;
use crate::fanout::Target;
use crate::migration::Migration;
use crate::migrator::{ApplyOptions, Migrator, Observer, RollbackTarget};
use crate::plan::State;
use crate::report::{
    AppliedReport, ApplyReport, HistoryEntry, PendingMigration, RepairReport, RollbackReport,
    StatusReport, VerifyReport,
};
use crate::table::DEFAULT_TABLE;

const GREEN: Style = AnsiColor::Green.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const RED: Style = AnsiColor::Red.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    version,
    about = "Apply and inspect the schema migrations compiled into this binary",
    after_help = "Database: --database-url, else $DATABASE_URL, else DATABASE_URL in ./.env, else the SQLite file app.db.\n\
                  URLs: sqlite://PATH or a bare path, postgres://USER:PASS@HOST/DB, mysql://USER:PASS@HOST/DB."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// Database to migrate (sqlite://PATH or PATH, postgres://…, mysql://…);
    /// repeat to run apply/status/version/verify/check over several
    #[arg(long, global = true, value_name = "URL", action = clap::ArgAction::Append)]
    database_url: Vec<String>,
    /// Run over every database in FILE: one URL a line, `#` comments, ${VAR} from the environment
    #[arg(long, global = true, value_name = "FILE")]
    targets: Option<PathBuf>,
    /// With several databases: how many to work on at once
    #[arg(long, global = true, value_name = "K", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    parallel: u16,
    /// With several databases: stop starting new ones after the first failure
    #[arg(long, global = true)]
    fail_fast: bool,
    /// Tracking table: a plain identifier, optionally schema-qualified
    #[arg(long, global = true, value_name = "NAME", default_value = DEFAULT_TABLE)]
    table: String,
    /// Print one JSON document on stdout (apply, version, history, status)
    #[arg(long, global = true)]
    json: bool,
    /// Give up waiting for another run's lock after this many seconds
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60.0)]
    lock_timeout: f64,
    /// Show each statement as it runs
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// Print only errors
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations in version order
    Apply {
        /// Apply nothing above this version
        #[arg(long, value_name = "N")]
        to: Option<i64>,
        /// Print the plan and its SQL; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Let a pending version below the newest applied one run
        #[arg(long)]
        allow_out_of_order: bool,
        /// Apply all pending migrations in one transaction: all or nothing
        /// (SQLite, PostgreSQL; not with `transaction: false` migrations)
        #[arg(long)]
        single_transaction: bool,
        /// SQLite: copy the database file aside before changing anything
        #[arg(long)]
        backup: bool,
    },
    /// Roll back the newest migrations with their `down` statements (default: one)
    Rollback {
        /// Roll back every migration above version N
        #[arg(long, value_name = "N", conflicts_with = "steps")]
        to: Option<i64>,
        /// Roll back the K newest migrations
        #[arg(long, value_name = "K")]
        steps: Option<usize>,
        /// Print what would be rolled back and its SQL; change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Print a migration's up and down SQL
    Show {
        #[arg(value_name = "N")]
        version: i64,
    },
    /// Append a new migration with the next version to migrations.rs
    New {
        /// What the migration does
        description: String,
        /// Its SQL (repeat for several statements); a placeholder otherwise
        #[arg(long, value_name = "SQL")]
        sql: Vec<String>,
        /// SQL that undoes it (repeat for several statements)
        #[arg(long, value_name = "SQL")]
        down: Vec<String>,
        /// The migrations file (default: migrations.rs here or in a parent directory)
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Convert a directory of SQL-file migrations into entries in migrations.rs
    Import {
        /// NNN_name.sql, V1__name.sql (+U1__), diesel VERSION_name/up.sql, sqlx N_name[.up].sql
        dir: PathBuf,
        /// Print the generated Rust; change nothing
        #[arg(long)]
        dry_run: bool,
        /// The migrations file (default: migrations.rs here or in a parent directory)
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Print the current version (0 when nothing is applied)
    Version,
    /// List applied migrations with when they ran and how long they took
    History,
    /// Show each migration as applied, pending or dirty, and any problem
    Status,
    /// Compare the database with the code: edited, unknown or dirty migrations (exit 3 on problems)
    Verify,
    /// Deploy gate: exit 0 when up to date and verified, 3 otherwise
    Check,
    /// After fixing the database by hand: accept the code's checksums and descriptions, clear dirty rows
    Repair,
    /// Adopt an existing database: record migrations 1..=N as applied without running them
    Baseline {
        /// The version the existing schema already matches
        #[arg(value_name = "N")]
        version: i64,
    },
}

/// Exit code for `verify` and `check` when they find something.
const PROBLEMS: u8 = 3;

/// Runs the command line over `migrations`; the `migrate` binary's `main`.
pub fn main(migrations: &'static [Migration]) -> ExitCode {
    let cli = Cli::parse();
    match run(&cli, migrations) {
        Ok(code) => code,
        Err(failure) => {
            let text = match &failure.url {
                Some(url) => url.redact(&failure.error.to_string()),
                None => failure.error.to_string(),
            };
            eprintln!("{RED}error:{RED:#} {text}");
            ExitCode::from(1)
        }
    }
}

struct Failure {
    error: Box<dyn std::error::Error>,
    /// Known once the URL parsed; used to scrub its password from messages.
    url: Option<Box<DatabaseUrl>>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error: Box::new(error),
            url: None,
        }
    }
}

impl From<AuthoringError> for Failure {
    fn from(error: AuthoringError) -> Self {
        Failure {
            error: Box::new(error),
            url: None,
        }
    }
}

fn run(cli: &Cli, migrations: &'static [Migration]) -> Result<ExitCode, Failure> {
    let g = &cli.global;
    if !(g.lock_timeout.is_finite() && g.lock_timeout >= 0.0) {
        usage_error("--lock-timeout must be a number of seconds, 0 or more");
    }
    let out = out_of(g);
    // Commands that read the code, not the database.
    match &cli.command {
        Command::Show { version } => return show(migrations, *version),
        Command::New {
            description,
            sql,
            down,
            file,
        } => {
            return new_migration(description, sql, down, file.as_deref(), out)
                .map_err(Failure::from)
        }
        Command::Import { dir, dry_run, file } => {
            return import(dir, *dry_run, file.as_deref(), &g.table, out).map_err(Failure::from)
        }
        _ => {}
    }
    let migrator = Migrator::new(migrations)
        .with_table(&g.table)?
        .with_lock_timeout(Duration::from_secs_f64(g.lock_timeout));
    if let Some(targets) = fanout_targets(g)? {
        let (job, migrator) = match cli.command {
            Command::Apply {
                to,
                dry_run,
                allow_out_of_order,
                single_transaction,
                backup,
            } => {
                if backup {
                    usage_error("--backup works on one SQLite database at a time");
                }
                let options = ApplyOptions {
                    target: to,
                    dry_run,
                    single_transaction,
                };
                (fanout::Job::Apply(options), migrator.allow_out_of_order(allow_out_of_order))
            }
            Command::Status => (fanout::Job::Status, migrator),
            Command::Version => (fanout::Job::Version, migrator),
            Command::Verify => (fanout::Job::Verify, migrator),
            Command::Check => (fanout::Job::Check, migrator),
            _ => usage_error(
                "several databases (--targets, repeated --database-url) work with apply, status, version, verify and check",
            ),
        };
        return Ok(fanout::run(
            job,
            &migrator,
            &targets,
            usize::from(g.parallel),
            g.fail_fast,
            out,
        ));
    }
    let url = DatabaseUrl::parse(&resolve_database_url(
        g.database_url.first().map(String::as_str),
    ))?;
    let with_url = |error: Error| Failure {
        error: Box::new(error),
        url: Some(Box::new(url.clone())),
    };
    let access = match cli.command {
        Command::Apply { dry_run: true, .. }
        | Command::Rollback { dry_run: true, .. }
        | Command::Show { .. }
        | Command::New { .. }
        | Command::Import { .. }
        | Command::Version
        | Command::History
        | Command::Status
        | Command::Verify
        | Command::Check => Access::ReadOnly,
        Command::Apply { .. }
        | Command::Rollback { .. }
        | Command::Repair
        | Command::Baseline { .. } => Access::ReadWrite,
    };
    let mut conn = AnyConnection::connect(&url, access).map_err(with_url)?;
    match cli.command {
        Command::Apply {
            to,
            dry_run,
            allow_out_of_order,
            single_transaction,
            backup,
        } => {
            let migrator = migrator.clone().allow_out_of_order(allow_out_of_order);
            let options = ApplyOptions {
                target: to,
                dry_run,
                single_transaction,
            };
            if !out.json && !out.quiet && !dry_run {
                println!(
                    "{BOLD}Migrating{BOLD:#} {url} {DIM}(table {}){DIM:#}",
                    migrator.table()
                );
            }
            if backup && !dry_run {
                make_backup(&migrator, &mut conn, &url, out).map_err(with_url)?;
            }
            let mut progress = Progress::new(out);
            let report = migrator
                .apply_with(&mut conn, options, &mut progress)
                .map_err(|error| {
                    if let Some(partial) = error.partial_report() {
                        if !out.json && !out.quiet && !partial.applied.is_empty() {
                            println!(
                                "{} applied before the failure (they stay applied)",
                                partial.applied.len()
                            );
                        }
                    }
                    with_url(error)
                })?;
            out.apply(&url, &report);
        }
        Command::Version => {
            let version = migrator.version(&mut conn).map_err(with_url)?;
            match out.json {
                true => print_json(&serde_json::json!({ "version": version })),
                false => println!("{version}"),
            }
        }
        Command::History => {
            let history = migrator.history(&mut conn).map_err(with_url)?;
            out.history(&history);
        }
        Command::Status => {
            let status = migrator.status(&mut conn).map_err(with_url)?;
            out.status(&url, &status);
        }
        Command::Verify => {
            let report = migrator.verify(&mut conn).map_err(with_url)?;
            out.verify(&url, &report);
            if !report.problems.is_empty() {
                return Ok(ExitCode::from(PROBLEMS));
            }
        }
        Command::Check => {
            let report = migrator.verify(&mut conn).map_err(with_url)?;
            let ready = report.problems.is_empty() && report.pending.is_empty();
            out.check(&url, &report, ready);
            if !ready {
                return Ok(ExitCode::from(PROBLEMS));
            }
        }
        Command::Rollback { to, steps, dry_run } => {
            let target = match (to, steps) {
                (Some(version), _) => RollbackTarget::To(version),
                (None, steps) => RollbackTarget::Steps(steps.unwrap_or(1)),
            };
            if !out.json && !out.quiet && !dry_run {
                println!(
                    "{BOLD}Rolling back{BOLD:#} {url} {DIM}(table {}){DIM:#}",
                    migrator.table()
                );
            }
            let mut progress = Progress::new(out);
            let report = migrator
                .rollback(&mut conn, target, dry_run, &mut progress)
                .map_err(with_url)?;
            out.rollback(&url, &report);
        }
        Command::Show { .. } | Command::New { .. } | Command::Import { .. } => {}
        Command::Repair => {
            let mut progress = Progress::new(out);
            let report = migrator
                .repair(&mut conn, &mut progress)
                .map_err(with_url)?;
            out.repair(&url, &report);
        }
        Command::Baseline { version } => {
            let mut progress = Progress::new(out);
            let report = migrator
                .baseline(&mut conn, version, &mut progress)
                .map_err(with_url)?;
            if out.json {
                print_json(&report);
            } else if !out.quiet {
                println!(
                    "{GREEN}Baselined{GREEN:#} {url} at version {}: recorded {} migration(s) as applied without running them",
                    report.version,
                    report.recorded.len()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `migrate show N`: the migration's SQL, from the code (no database needed).
fn show(migrations: &[Migration], version: i64) -> Result<ExitCode, Failure> {
    let Some(m) = migrations.iter().find(|m| m.version == version) else {
        let known: Vec<String> = migrations.iter().map(|m| m.version.to_string()).collect();
        eprintln!(
            "{RED}error:{RED:#} no migration {version} in this build (versions: {})",
            known.join(", ")
        );
        return Ok(ExitCode::from(1));
    };
    let mode = if m.transaction {
        ""
    } else {
        " (transaction: false)"
    };
    println!(
        "{BOLD}-- migration {}: {}{mode}{BOLD:#}",
        m.version, m.description
    );
    println!("{DIM}-- checksum {}{DIM:#}", m.checksum());
    println!("\n{BOLD}-- up{BOLD:#}");
    for sql in m.sql {
        println!("{};", sql.trim().trim_end_matches(';'));
    }
    println!("\n{BOLD}-- down{BOLD:#}");
    if m.down.is_empty() {
        println!("{DIM}-- (none: irreversible){DIM:#}");
    }
    for sql in m.down {
        println!("{};", sql.trim().trim_end_matches(';'));
    }
    Ok(ExitCode::SUCCESS)
}

fn out_of(g: &GlobalArgs) -> Output {
    Output {
        json: g.json,
        quiet: g.quiet,
        verbose: g.verbose,
    }
}

fn migrations_path(file: Option<&Path>) -> Result<PathBuf, AuthoringError> {
    match file {
        Some(path) => Ok(path.to_path_buf()),
        None => {
            let here = std::env::current_dir().map_err(|source| AuthoringError::Io {
                action: "read the current directory",
                path: PathBuf::from("."),
                source,
            })?;
            authoring::find_migrations_file(&here)
        }
    }
}

/// `migrate new "description"`.
fn new_migration(
    description: &str,
    sql: &[String],
    down: &[String],
    file: Option<&Path>,
    out: Output,
) -> Result<ExitCode, AuthoringError> {
    if description.trim().is_empty() {
        usage_error("the description must not be empty");
    }
    let path = migrations_path(file)?;
    let version = authoring::new_migration(&path, description.trim(), sql, down)?;
    if out.json {
        print_json(&serde_json::json!({ "version": version, "file": path.display().to_string() }));
    } else if !out.quiet {
        println!(
            "{GREEN}Added{GREEN:#} migration {version} ({}) to {}",
            description.trim(),
            path.display()
        );
        if sql.is_empty() {
            println!("Write its SQL in place of the placeholder, then rebuild: cargo run -- apply");
        } else {
            println!("Rebuild to include it: cargo run -- apply");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `migrate import DIR`.
fn import(
    dir: &Path,
    dry_run: bool,
    file: Option<&Path>,
    table: &str,
    out: Output,
) -> Result<ExitCode, AuthoringError> {
    let path = migrations_path(file)?;
    let plan = authoring::import(dir, &path, table, dry_run)?;
    let count = plan.migrations.len();
    let last = plan.first_version + count as i64 - 1;
    if !out.quiet {
        for notice in &plan.notices {
            eprintln!("{DIM}note:{DIM:#} {notice}");
        }
    }
    if dry_run {
        println!("{}", plan.rendered);
        if !out.quiet {
            eprintln!(
                "dry run: {count} migration(s) would become versions {}..={last} in {}",
                plan.first_version,
                path.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !out.quiet {
        println!(
            "{GREEN}Imported{GREEN:#} {count} migration(s) from {} as versions {}..={last} into {}",
            dir.display(),
            plan.first_version,
            path.display()
        );
        println!("Rebuild to include them (cargo build). A database that already ran these files:");
        println!("  migrate baseline {last}   # records them as applied without running them");
    }
    Ok(ExitCode::SUCCESS)
}

/// `apply --backup`: on SQLite, copies the file aside when something is pending.
fn make_backup(
    migrator: &Migrator,
    conn: &mut AnyConnection,
    url: &DatabaseUrl,
    out: Output,
) -> Result<(), Error> {
    let Some(path) = url.sqlite_path() else {
        return Err(Error::BackupUnsupported {
            backend: url.dialect().name(),
        });
    };
    let status = migrator.status(conn)?;
    if status.pending.is_empty() || !path.exists() {
        return Ok(());
    }
    let target = crate::backup::backup_sqlite(conn, path, status.version)?;
    if !out.json && !out.quiet {
        println!(
            "Backed up to {} {DIM}(restore: stop the app, copy it over {}){DIM:#}",
            target.display(),
            path.display()
        );
    }
    Ok(())
}

/// The databases of a fan-out run: `--targets FILE` plus any `--database-url`,
/// or several `--database-url`; `None` for a single-database run.
fn fanout_targets(g: &GlobalArgs) -> Result<Option<Vec<Target>>, Error> {
    if g.targets.is_none() && g.database_url.len() < 2 {
        return Ok(None);
    }
    let mut targets = match &g.targets {
        Some(file) => crate::fanout::read_targets_file(file)?,
        None => Vec::new(),
    };
    for url in &g.database_url {
        targets.push(Target::from_url(url)?);
    }
    if targets.is_empty() {
        usage_error("the targets file names no database");
    }
    Ok(Some(targets))
}

/// `--database-url`, else `$DATABASE_URL`, else `DATABASE_URL` from `./.env`,
/// else the embedded default.
fn resolve_database_url(flag: Option<&str>) -> String {
    if let Some(url) = flag {
        return url.to_string();
    }
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return url;
    }
    if let Ok(entries) = dotenvy::from_filename_iter(".env") {
        for (key, value) in entries.flatten() {
            if key == "DATABASE_URL" {
                return value;
            }
        }
    }
    DEFAULT_DATABASE.to_string()
}

fn usage_error(message: &str) -> ! {
    let _ = std::io::stdout().flush();
    eprintln!("{RED}error:{RED:#} {message}\n\nFor more information, try '--help'.");
    std::process::exit(2)
}

fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("{RED}error:{RED:#} cannot encode JSON: {e}"),
    }
}

#[derive(Clone, Copy)]
struct Output {
    json: bool,
    quiet: bool,
    verbose: bool,
}

impl Output {
    fn human(&self) -> bool {
        !self.json && !self.quiet
    }

    fn apply(&self, url: &DatabaseUrl, report: &ApplyReport) {
        if self.json {
            return print_json(report);
        }
        if self.quiet {
            return;
        }
        if report.dry_run {
            if report.pending.is_empty() {
                println!(
                    "Dry run on {url}: nothing to apply (version {})",
                    report.version
                );
            } else {
                println!(
                    "{BOLD}Dry run on {url}:{BOLD:#} would apply {} migration(s), changing nothing",
                    report.pending.len()
                );
                print_plan(&report.pending, "statement");
            }
            return;
        }
        if !report.adopted_checksums.is_empty() {
            println!(
                "Recorded checksums for {} migration(s) from an older tracking table: {:?}",
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
        if report.applied.is_empty() {
            println!("Nothing to apply: {summary} (version {})", report.version);
        } else {
            println!(
                "{GREEN}{summary}{GREEN:#} (version {} → {})",
                report.version_before, report.version
            );
        }
    }

    fn history(&self, history: &[HistoryEntry]) {
        if self.json {
            return print_json(&serde_json::json!({ "migrations": history }));
        }
        if history.is_empty() {
            println!("No migrations applied yet.");
            return;
        }
        let width = description_width(history.iter().map(|h| h.description.as_str()));
        println!(
            "{BOLD}{:>7}  {:<width$}  {:<19}  {:>10}{BOLD:#}",
            "VERSION", "DESCRIPTION", "APPLIED AT (local)", "DURATION"
        );
        for h in history {
            let flag = if h.success {
                String::new()
            } else {
                format!("  {RED}dirty{RED:#}")
            };
            println!(
                "{:>7}  {:<width$}  {:<19}  {:>10}{flag}",
                h.version,
                h.description,
                local_time(h.applied_at),
                format!("{} ms", h.execution_ms)
            );
        }
    }

    fn status(&self, url: &DatabaseUrl, status: &StatusReport) {
        if self.json {
            return print_json(status);
        }
        println!("{BOLD}Database{BOLD:#}  {url}");
        println!("{BOLD}Version{BOLD:#}   {}", status.version);
        if !status.table_exists {
            println!("{DIM}(no tracking table yet: nothing applied){DIM:#}");
        }
        let width = description_width(status.migrations.iter().map(|m| m.description.as_str()));
        for m in &status.migrations {
            let (style, label) = match m.state {
                State::Applied => (GREEN, "applied"),
                State::Pending => (YELLOW, "pending"),
                State::Dirty => (RED, "dirty"),
            };
            let when = match m.state {
                State::Applied => local_time(m.applied_at),
                _ => String::new(),
            };
            println!(
                "  {style}{label:<8}{style:#}{:>6}  {:<width$}  {DIM}{when}{DIM:#}",
                m.version, m.description
            );
        }
        let pending = status.pending.len();
        println!(
            "{} applied, {} pending, {} total",
            status
                .migrations
                .iter()
                .filter(|m| m.state == State::Applied)
                .count(),
            pending,
            status.migrations.len()
        );
        if !status.problems.is_empty() {
            println!("{RED}Problems:{RED:#}");
            for problem in &status.problems {
                println!("  - {problem}");
            }
        }
    }
}

impl Output {
    fn rollback(&self, url: &DatabaseUrl, report: &RollbackReport) {
        if self.json {
            return print_json(report);
        }
        if self.quiet {
            return;
        }
        if report.dry_run {
            if report.pending.is_empty() {
                println!(
                    "Dry run on {url}: nothing to roll back (version {})",
                    report.version
                );
                return;
            }
            println!(
                "{BOLD}Dry run on {url}:{BOLD:#} would roll back {} migration(s) to version {}, changing nothing",
                report.pending.len(),
                report.target_version
            );
            print_plan(&report.pending, "down statement");
            return;
        }
        if report.reverted.is_empty() {
            println!("Nothing to roll back (version {})", report.version);
        } else {
            println!(
                "{GREEN}{} rolled back{GREEN:#} (version {} → {})",
                report.reverted.len(),
                report.version_before,
                report.version
            );
        }
    }

    fn verify(&self, url: &DatabaseUrl, report: &VerifyReport) {
        if self.json {
            return print_json(report);
        }
        if report.problems.is_empty() {
            println!(
                "{GREEN}Verified{GREEN:#} {url}: the database matches the code (version {})",
                report.version
            );
        } else {
            println!("{RED}{} problem(s){RED:#} in {url}:", report.problems.len());
            for problem in &report.problems {
                println!("  - {problem}");
            }
        }
        if !report.unverified.is_empty() {
            println!(
                "{YELLOW}note:{YELLOW:#} migration(s) {:?} have no checksum yet (older tracking table); the next `migrate apply` records them",
                report.unverified
            );
        }
    }

    fn check(&self, url: &DatabaseUrl, report: &VerifyReport, ready: bool) {
        if self.json {
            return print_json(&serde_json::json!({
                "ready": ready,
                "version": report.version,
                "pending": report.pending,
                "problems": report.problems,
            }));
        }
        if self.quiet && ready {
            return;
        }
        if ready {
            println!(
                "{GREEN}ok{GREEN:#}: {url} is up to date and verified (version {})",
                report.version
            );
            return;
        }
        if !report.pending.is_empty() {
            println!(
                "{YELLOW}not up to date{YELLOW:#}: {} pending migration(s) {:?}; run `migrate apply`",
                report.pending.len(),
                report.pending
            );
        }
        for problem in &report.problems {
            println!("{RED}problem{RED:#}: {problem}");
        }
    }

    fn repair(&self, url: &DatabaseUrl, report: &RepairReport) {
        if self.json {
            return print_json(report);
        }
        if self.quiet {
            return;
        }
        if report.removed_dirty.is_empty() && report.accepted.is_empty() {
            println!("Nothing to repair in {url}");
        }
        for version in &report.removed_dirty {
            println!("  removed the dirty row of migration {version}: it runs again on the next `migrate apply`");
        }
        for version in &report.accepted {
            println!("  accepted the code's checksum and description for migration {version}");
        }
        for version in &report.unknown {
            println!("  {YELLOW}left alone{YELLOW:#}: migration {version} is unknown to this code (database ahead)");
        }
    }
}

/// Prints progress as migrations run. On a terminal a spinner shows the
/// running migration and its elapsed time; piped output gets plain lines.
struct Progress {
    out: Output,
    spinner: Option<ProgressBar>,
}

impl Progress {
    fn new(out: Output) -> Self {
        Progress { out, spinner: None }
    }

    fn stop_spinner(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
    }

    fn done_line(&mut self, mark: &str, report: &AppliedReport) {
        self.stop_spinner();
        if self.out.human() {
            println!(
                "  {GREEN}{mark}{GREEN:#} {:>4}  {}  {DIM}({}){DIM:#}",
                report.version,
                report.description,
                format_ms(report.execution_ms)
            );
        }
    }
}

impl Observer for Progress {
    fn waiting_for_lock(&mut self) {
        if !self.out.quiet {
            eprintln!("{YELLOW}waiting for another migrate run to finish…{YELLOW:#}");
        }
    }

    fn migration_started(&mut self, migration: &Migration) {
        if !self.out.human() {
            return;
        }
        if self.out.verbose {
            println!(
                "{DIM}  → {:>4}  {}{DIM:#}",
                migration.version, migration.description
            );
        } else if std::io::stderr().is_terminal() {
            let spinner = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("  {spinner} {msg}  ({elapsed})") {
                spinner.set_style(style);
            }
            spinner.set_message(format!(
                "{:>4}  {}",
                migration.version, migration.description
            ));
            spinner.enable_steady_tick(Duration::from_millis(100));
            self.spinner = Some(spinner);
        }
    }

    fn statement_started(&mut self, _migration: &Migration, index: usize, sql: &str) {
        if self.out.human() && self.out.verbose {
            println!(
                "{DIM}{}{DIM:#}",
                indent(&format!("[{index}] {}", sql.trim()), "          ")
            );
        }
    }

    fn migration_finished(&mut self, report: &AppliedReport) {
        self.done_line("✓", report);
    }

    fn migration_reverted(&mut self, report: &AppliedReport) {
        self.done_line("↩", report);
    }

    fn migration_skipped(&mut self, migration: &Migration) {
        self.stop_spinner();
        if self.out.human() {
            println!(
                "  {DIM}- {:>4}  {}  (applied by a concurrent run){DIM:#}",
                migration.version, migration.description
            );
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_spinner();
    }
}

/// A dry run's migrations, each with the statements it would run.
fn print_plan(pending: &[PendingMigration], label: &str) {
    for m in pending {
        let mode = if m.transaction {
            ""
        } else {
            " (no transaction)"
        };
        println!(
            "\n{YELLOW}{:>6}{YELLOW:#}  {}{DIM}{mode}{DIM:#}",
            m.version, m.description
        );
        for (i, sql) in m.sql.iter().enumerate() {
            println!(
                "{DIM}  -- {label} {}{DIM:#}\n{}",
                i + 1,
                indent(sql.trim(), "  ")
            );
        }
    }
}

fn format_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn local_time(time: Option<DateTime<Utc>>) -> String {
    time.map(|t| {
        t.with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    })
    .unwrap_or_else(|| String::from("-"))
}

fn description_width<'a>(descriptions: impl Iterator<Item = &'a str>) -> usize {
    descriptions
        .map(|d| d.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(11, 60)
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
