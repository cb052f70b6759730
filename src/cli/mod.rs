//! The command line: a thin layer over [`Migrator`](crate::Migrator), and the
//! only place that prints. Three ways in:
//!
//! - [`main`]: a binary's whole `main`, e.g. `src/bin/migrate.rs`;
//! - [`main_with`] and [`app!`](crate::app): the same, with `--version`
//!   naming the application;
//! - [`MigrateArgs`] + [`run`]: a `migrate` subcommand of an application's
//!   own clap command line.
//!
//! Exit codes: 0 ok, 1 error, 2 usage, 3 problems found (`verify`, `check`,
//! `status`).

mod args;
mod commands;
mod database;
mod failure;
mod fanout;
mod hints;
mod output;
mod progress;

use std::process::ExitCode;

use clap::{Args as _, FromArgMatches as _};

pub use args::MigrateArgs;

use hints::Invocation;

/// Who the command line belongs to, for `--version` and for advice that
/// names the binary. Made by [`app!`](crate::app) from the calling crate's
/// package name and version.
#[derive(Debug, Clone)]
pub struct App {
    name: String,
    version: Option<String>,
}

impl App {
    /// An application named `name` at `version`.
    pub fn new(name: &str, version: &str) -> Self {
        App {
            name: name.to_string(),
            version: Some(version.to_string()),
        }
    }

    /// The running binary, named by its file name.
    fn from_binary() -> Self {
        App {
            name: binary_name(),
            version: None,
        }
    }

    /// `0.3.1 (application myapp; versioned-migrations 0.1.0; backends:
    /// SQLite, PostgreSQL)`, after the binary's name.
    fn long_version(&self) -> String {
        let mut backends = vec!["SQLite"];
        if cfg!(feature = "postgres") {
            backends.push("PostgreSQL");
        }
        if cfg!(feature = "mysql") {
            backends.push("MySQL/MariaDB");
        }
        let library = format!(
            "versioned-migrations {}; backends: {}",
            env!("CARGO_PKG_VERSION"),
            backends.join(", ")
        );
        match &self.version {
            Some(version) => format!("{version} (application {}; {library})", self.name),
            None => format!("({library})"),
        }
    }
}

/// `versioned_migrations::app!()`: an [`App`] named after the crate that
/// calls it, for [`main_with`].
#[macro_export]
macro_rules! app {
    () => {
        $crate::cli::App::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
    };
}

fn binary_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|arg| {
            std::path::Path::new(&arg)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| String::from("migrate"))
}

/// Runs the command line over `migrations`: a binary's whole `main`.
pub fn main(migrations: &'static [crate::Migration]) -> ExitCode {
    main_with(App::from_binary(), migrations)
}

/// [`main`] for an application that names itself: `--version` prints the
/// application's name and version, the library's and the backends built in.
pub fn main_with(app: App, migrations: &'static [crate::Migration]) -> ExitCode {
    let binary = binary_name();
    // The about text is set after the arguments: augmenting would put the
    // doc comment of `MigrateArgs` there.
    let command = MigrateArgs::augment_args(clap::Command::new(binary.clone()))
        .version(app.long_version())
        .about(format!(
            "Apply and inspect the schema migrations compiled into {}",
            app.name
        ))
        .long_about(None)
        .subcommand_required(true)
        .arg_required_else_help(true);
    let args = command
        .try_get_matches()
        .and_then(|matches| MigrateArgs::from_arg_matches(&matches));
    match args {
        Ok(args) => run_as(&Invocation { program: binary }, migrations, args),
        Err(error) => failure::usage(error),
    }
}

/// Runs parsed arguments: the `migrate` subcommand of an application's own
/// clap command line (`myapp migrate apply`). Advice names the command as
/// it was typed.
pub fn run(migrations: &'static [crate::Migration], args: MigrateArgs) -> ExitCode {
    let program = invoked_as(args.command.name());
    run_as(&Invocation { program }, migrations, args)
}

/// The words typed before the migrate command: `myapp migrate` for
/// `myapp migrate apply --json`.
fn invoked_as(command: &str) -> String {
    let mut words = vec![binary_name()];
    for arg in std::env::args().skip(1) {
        if arg == command {
            break;
        }
        if !arg.starts_with('-') {
            words.push(arg);
        }
    }
    words.join(" ")
}

fn run_as(
    run: &Invocation,
    migrations: &'static [crate::Migration],
    args: MigrateArgs,
) -> ExitCode {
    let choice = match args.output.color {
        args::ColorChoice::Auto => anstream::ColorChoice::Auto,
        args::ColorChoice::Always => anstream::ColorChoice::Always,
        args::ColorChoice::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    progress::handle_interrupts();
    let out = output::Out {
        json: args.output.json,
        quiet: args.output.quiet,
        verbose: args.output.verbose,
    };
    match commands::run(run, migrations, &args, out) {
        Ok(code) => code,
        Err(failure) => failure.report(run, out),
    }
}
