//! Commands about the code, not a database: `show`, `new`, `import`,
//! `completions`, `man`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anstream::{eprintln, println};
use clap::Args as _;
use serde_json::json;

use super::super::args::{Command, MigrateArgs};
use super::super::failure::{CliError, Failure};
use super::super::hints::Invocation;
use super::super::output::{print_json, Out, BOLD, DIM, GREEN};
use crate::authoring;
use crate::migration::Migration;

pub(super) fn run(
    run: &Invocation,
    migrations: &'static [Migration],
    command: &Command,
    table_before: Option<&str>,
    out: Out,
) -> Result<ExitCode, Failure> {
    match command {
        Command::Show { version } => show(migrations, *version, out),
        Command::New {
            description,
            sql,
            down,
            file,
        } => new_migration(run, description, sql, down, file.as_deref(), out),
        Command::Import {
            dir,
            dry_run,
            file,
            table,
        } => {
            let table = table
                .as_deref()
                .or(table_before)
                .unwrap_or(crate::DEFAULT_TABLE);
            import(run, dir, *dry_run, file.as_deref(), table, out)
        }
        Command::Init {
            dir,
            backend,
            git,
            version,
        } => init(dir, backend, git.as_deref(), version.as_deref(), out),
        Command::Lint {
            backend,
            since,
            database_url,
        } => lint(
            migrations,
            backend.as_deref(),
            *since,
            database_url.as_deref(),
            out,
        ),
        // With --json the script or page is a string field of the document.
        Command::Completions { shell } => {
            let mut command = clap_command(run);
            let name = command.get_name().to_string();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, name, &mut script);
            emit(
                out,
                "script",
                &script,
                json!({ "shell": shell.to_string() }),
            )
        }
        Command::Man => {
            let page = clap_mangen::Man::new(clap_command(run));
            let mut roff = Vec::new();
            page.render(&mut roff).map_err(|source| CliError::Output {
                what: "the manual page",
                source,
            })?;
            emit(out, "page", &roff, json!({ "format": "roff" }))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// This command line as clap sees it, named as the binary is.
fn clap_command(run: &Invocation) -> clap::Command {
    let name = run
        .program
        .split(' ')
        .next()
        .unwrap_or("migrate")
        .to_string();
    MigrateArgs::augment_args(clap::Command::new(name))
        .about("Apply and inspect schema migrations")
        .long_about(None)
}

/// `migrate show N`: the migration's SQL, from the code.
fn show(migrations: &[Migration], version: i64, out: Out) -> Result<ExitCode, Failure> {
    let Some(m) = migrations.iter().find(|m| m.version == version) else {
        let known: Vec<String> = migrations.iter().map(|m| m.version.to_string()).collect();
        return Err(CliError::NoSuchMigration {
            version,
            known: known.join(", "),
        }
        .into());
    };
    if out.json {
        print_json(&json!({
            "version": m.version,
            "description": m.description,
            "checksum": m.checksum(),
            "transaction": m.transaction,
            "sql": m.sql,
            "down": m.down,
            "code": m.code.map(|code| json!({ "name": code.name, "revision": code.revision, "down": code.down.is_some() })),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    let mode = match m.transaction {
        true => "",
        false => " (transaction: false)",
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
    if let Some(code) = &m.code {
        println!("{DIM}-- then the code step {}{DIM:#}", code.label());
    }
    println!("\n{BOLD}-- down{BOLD:#}");
    if let Some(code) = m.code.filter(|code| code.down.is_some()) {
        println!("{DIM}-- first the code step {}'s down{DIM:#}", code.label());
    }
    if !m.is_reversible() {
        println!("{DIM}-- (none: irreversible){DIM:#}");
    }
    for sql in m.down {
        println!("{};", sql.trim().trim_end_matches(';'));
    }
    Ok(ExitCode::SUCCESS)
}

fn migrations_path(file: Option<&Path>) -> Result<PathBuf, Failure> {
    match file {
        Some(path) => Ok(path.to_path_buf()),
        None => {
            let here = std::env::current_dir().map_err(|source| CliError::Output {
                what: "the current directory",
                source,
            })?;
            Ok(authoring::find_migrations_file(&here)?)
        }
    }
}

/// How to rebuild and apply with this binary, for the messages of `new`.
fn rebuild_hint(run: &Invocation) -> String {
    let binary = run.program.split(' ').next().unwrap_or("migrate");
    format!(
        "cargo build, then `{} apply` (or `cargo run --bin {binary} -- apply`)",
        run.program
    )
}

fn new_migration(
    run: &Invocation,
    description: &str,
    sql: &[String],
    down: &[String],
    file: Option<&Path>,
    out: Out,
) -> Result<ExitCode, Failure> {
    if description.trim().is_empty() {
        return Err(Failure::from(CliError::Usage(String::from(
            "the description must not be empty",
        ))));
    }
    let path = migrations_path(file)?;
    let version = authoring::new_migration(&path, description.trim(), sql, down)?;
    if out.json {
        print_json(
            &json!({ "version": version, "file": path.display().to_string(), "placeholder": sql.is_empty() }),
        );
    } else if out.human() {
        println!(
            "{GREEN}Added{GREEN:#} migration {version} ({}) to {}",
            description.trim(),
            path.display()
        );
        match sql.is_empty() {
            true => println!(
                "Write its SQL in place of the placeholder (apply refuses it until then), then rebuild: {}",
                rebuild_hint(run)
            ),
            false => println!("Rebuild to include it: {}", rebuild_hint(run)),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn import(
    run: &Invocation,
    dir: &Path,
    dry_run: bool,
    file: Option<&Path>,
    table: &str,
    out: Out,
) -> Result<ExitCode, Failure> {
    let path = migrations_path(file)?;
    let plan = authoring::import(dir, &path, table, dry_run)?;
    let count = plan.migrations.len();
    let last = plan.first_version + count as i64 - 1;
    if out.json {
        print_json(&json!({
            "dry_run": dry_run,
            "file": path.display().to_string(),
            "first_version": plan.first_version,
            "last_version": last,
            "notices": plan.notices,
            "rendered": plan.rendered,
        }));
        return Ok(ExitCode::SUCCESS);
    }
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
    if out.human() {
        println!(
            "{GREEN}Imported{GREEN:#} {count} migration(s) from {} as versions {}..={last} into {}",
            dir.display(),
            plan.first_version,
            path.display()
        );
        println!(
            "Rebuild to include them: {}. A database that already ran these files:",
            rebuild_hint(run)
        );
        println!(
            "  {} baseline {last}   # records them as applied without running them",
            run.program
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `migrate init [DIR]`.
fn init(
    dir: &Path,
    backends: &[String],
    git: Option<&str>,
    version: Option<&str>,
    out: Out,
) -> Result<ExitCode, Failure> {
    use crate::authoring::init::{self, DependencySource, InitOptions};
    let source = match (git, version) {
        (Some(url), _) => DependencySource::Git(url.to_string()),
        (None, Some(version)) => DependencySource::Version(version.to_string()),
        (None, None) => DependencySource::this_source(),
    };
    let mut backends: Vec<String> = backends
        .iter()
        .filter(|b| *b != "sqlite")
        .cloned()
        .collect();
    backends.dedup();
    let report = init::init(&InitOptions {
        dir: dir.to_path_buf(),
        backends,
        source,
    })?;
    if out.json {
        let files: Vec<serde_json::Value> = report
            .files
            .iter()
            .map(|f| json!({ "path": f.path.display().to_string(), "written": f.written }))
            .collect();
        print_json(&json!({ "package": report.package, "files": files }));
        return Ok(ExitCode::SUCCESS);
    }
    if !out.human() {
        return Ok(ExitCode::SUCCESS);
    }
    for file in &report.files {
        match file.written {
            true => println!("{GREEN}wrote{GREEN:#}     {}", file.path.display()),
            false => println!("{DIM}unchanged {}{DIM:#}", file.path.display()),
        }
    }
    println!(
        "\n{} now owns its migrations. Next, in {}:\n  \
         cargo run --bin migrate -- new \"Create users table\" --sql \"CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)\"\n  \
         cargo run --bin migrate -- apply",
        report.package,
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `migrate lint`: the backend from `--backend`, else the scheme of the
/// database URL (resolved as every command does, never connected).
fn lint(
    migrations: &'static [Migration],
    backend: Option<&str>,
    since: Option<i64>,
    database_url: Option<&str>,
    out: Out,
) -> Result<ExitCode, Failure> {
    let dialect = match backend {
        Some("postgres") => crate::Dialect::Postgres,
        Some("mysql") => crate::Dialect::Mysql,
        Some(_) => crate::Dialect::Sqlite,
        None => {
            let here = std::env::current_dir().map_err(|source| CliError::Output {
                what: "the current directory",
                source,
            })?;
            let (text, _) = super::super::database::resolve(
                database_url,
                |name| std::env::var(name).ok(),
                &here,
            )?;
            crate::DatabaseUrl::parse(&text)
                .map_err(crate::Error::Url)?
                .dialect()
        }
    };
    run_lint(migrations, dialect, since, out)
}

#[cfg(feature = "lint")]
fn run_lint(
    migrations: &'static [Migration],
    dialect: crate::Dialect,
    since: Option<i64>,
    out: Out,
) -> Result<ExitCode, Failure> {
    let report = crate::lint::lint(migrations, dialect, since);
    if out.json {
        print_json(&super::super::output::document(&report, None));
    } else if out.human() || !report.is_clean() {
        println!("{report}");
    }
    Ok(match report.is_clean() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(super::PROBLEMS),
    })
}

#[cfg(not(feature = "lint"))]
fn run_lint(
    _: &'static [Migration],
    _: crate::Dialect,
    _: Option<i64>,
    _: Out,
) -> Result<ExitCode, Failure> {
    Err(Failure::from(CliError::Usage(String::from(
        "this build has no lint (cargo feature `lint`)",
    ))))
}

/// Writes generated text as it is, or with `--json` as `field` of a document.
fn emit(
    out: Out,
    field: &str,
    bytes: &[u8],
    mut doc: serde_json::Value,
) -> Result<ExitCode, Failure> {
    if out.json {
        doc[field] = json!(String::from_utf8_lossy(bytes));
        print_json(&doc);
        return Ok(ExitCode::SUCCESS);
    }
    use std::io::Write;
    std::io::stdout()
        .write_all(bytes)
        .map_err(|source| CliError::Output {
            what: "standard output",
            source,
        })?;
    Ok(ExitCode::SUCCESS)
}
