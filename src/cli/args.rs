//! The command line's arguments. [`MigrateArgs`] is a clap `Args` type, so an
//! application can mount it as a subcommand of its own CLI.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

/// The whole `migrate` command line: output options (anywhere), database
/// options (before or after the command) and the command.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) database: DatabaseArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// How results are printed; accepted anywhere on the line.
#[derive(Debug, Clone, Args)]
pub(crate) struct OutputArgs {
    /// Print one JSON document on stdout (every command; also on failure)
    #[arg(long, global = true)]
    pub json: bool,
    /// Show each statement as it runs
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to use colours (NO_COLOR is honoured with auto)
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Which database, and how long to wait for locks. Given before the
/// command or after it (after wins).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct DatabaseArgs {
    /// Database URL (sqlite://PATH or PATH, postgres://…, mysql://…); else
    /// $DATABASE_URL, else DATABASE_URL in ./.env, else the SQLite file app.db
    #[arg(long, value_name = "URL", action = clap::ArgAction::Append)]
    pub database_url: Vec<String>,
    /// Tracking table: a plain identifier, optionally schema-qualified [default: schema_migrations]
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Give up waiting for a lock (another run's, or one on the tracking table) after SECS seconds [default: 60]
    #[arg(long, value_name = "SECS", value_parser = seconds, allow_hyphen_values = true)]
    pub lock_timeout: Option<Duration>,
    /// Run SQL on the connection before anything else (repeatable), e.g.
    /// "SET FOREIGN_KEY_CHECKS = 0" or "SET search_path TO app"
    #[arg(long, value_name = "SQL", action = clap::ArgAction::Append)]
    pub session_sql: Vec<String>,
}

impl DatabaseArgs {
    /// These options given after the command win over those before it.
    pub(crate) fn merged(&self, after: &DatabaseArgs) -> DatabaseArgs {
        DatabaseArgs {
            database_url: match after.database_url.is_empty() {
                true => self.database_url.clone(),
                false => after.database_url.clone(),
            },
            table: after.table.clone().or_else(|| self.table.clone()),
            lock_timeout: after.lock_timeout.or(self.lock_timeout),
            session_sql: match after.session_sql.is_empty() {
                true => self.session_sql.clone(),
                false => after.session_sql.clone(),
            },
        }
    }
}

/// Running over many databases at once.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct FanoutArgs {
    /// Run over every database in FILE: one URL a line, `#` comments, ${VAR} from the environment
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// With several databases: how many to work on at once
    #[arg(long, value_name = "K", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: u16,
    /// With several databases: start no new one after the first failure
    #[arg(long)]
    pub fail_fast: bool,
    /// PostgreSQL: each schema of each database whose name matches the SQL
    /// LIKE PATTERN (e.g. 'tenant_%') is a target of its own, with its own
    /// tracking table and lock (system schemas never)
    #[arg(long, value_name = "PATTERN")]
    pub schemas: Option<String>,
    /// Run the first K targets first; the rest only if all K succeeded
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    pub canary: Option<u32>,
}

/// Where migrations are replayed: a scratch database.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ScratchArgs {
    /// An empty database to replay the migrations on (emptied again after);
    /// default: a temporary SQLite file, or a temporary database created and
    /// dropped on the database's own server
    #[arg(long, value_name = "URL")]
    pub scratch_url: Option<String>,
}

/// Limits for the migrations' own statements on a live database.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct GuardArgs {
    /// How long one of the migrations' statements may wait for a table lock
    /// (PostgreSQL lock_timeout, MySQL lock_wait_timeout); names who held it
    #[arg(long, value_name = "SECS", value_parser = seconds, allow_hyphen_values = true)]
    pub ddl_lock_timeout: Option<Duration>,
    /// The longest one of the migrations' statements may run (PostgreSQL
    /// statement_timeout, MariaDB max_statement_time, MySQL max_execution_time)
    #[arg(long, value_name = "SECS", value_parser = seconds, allow_hyphen_values = true)]
    pub statement_timeout: Option<Duration>,
    /// Retry a migration that gave up waiting for a lock up to K times,
    /// pausing 1 s, 2 s, 4 s, … in between
    #[arg(long, value_name = "K", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
}

impl GuardArgs {
    pub(crate) fn guardrails(&self) -> crate::Guardrails {
        let mut guardrails = crate::Guardrails::default().retries(self.retries);
        if let Some(timeout) = self.ddl_lock_timeout {
            guardrails = guardrails.ddl_lock_timeout(timeout);
        }
        if let Some(timeout) = self.statement_timeout {
            guardrails = guardrails.statement_timeout(timeout);
        }
        guardrails
    }
}

/// A duration in seconds: a number from 0 to 86400 (one day).
pub(crate) fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !value.is_finite() || !(0.0..=86_400.0).contains(&value) {
        return Err(format!("`{text}` is out of range: give 0 to 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(value))
}

#[derive(Debug, Clone, Subcommand)]
pub(crate) enum Command {
    /// Apply pending migrations in version order
    #[command(after_help = "Example: migrate apply --to 3 --dry-run")]
    Apply {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        fanout: FanoutArgs,
        #[command(flatten)]
        guard: GuardArgs,
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
    #[command(after_help = "Example: migrate rollback --to 2 --dry-run")]
    Rollback {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        guard: GuardArgs,
        /// Roll back every migration above version N
        #[arg(long, value_name = "N", conflicts_with = "steps")]
        to: Option<i64>,
        /// Roll back the K newest migrations
        #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
        steps: Option<u32>,
        /// Print what would be rolled back and its SQL; change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Roll back the newest migrations and apply them again (default: one)
    #[command(after_help = "Example: migrate redo --steps 2")]
    Redo {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        guard: GuardArgs,
        /// How many of the newest migrations
        #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        steps: u32,
    },
    /// Print the current version (0 when nothing is applied)
    #[command(after_help = "Example: migrate version --database-url postgres://app@localhost/app")]
    Version {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        fanout: FanoutArgs,
    },
    /// List applied migrations with when they ran and how long they took
    #[command(after_help = "Example: migrate history --json")]
    History {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Show each migration as applied, pending, edited or dirty, and any problem (exit 3 on problems)
    #[command(after_help = "Example: migrate status")]
    Status {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        fanout: FanoutArgs,
    },
    /// Compare the database with the code: edited, unknown or dirty migrations (exit 3 on problems)
    #[command(after_help = "Example: migrate verify")]
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        fanout: FanoutArgs,
    },
    /// Deploy gate: exit 0 when up to date and verified, 3 otherwise
    #[command(after_help = "Example: migrate check || echo \"not deployable\"")]
    Check {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        fanout: FanoutArgs,
        /// Instead: check that the schema the migrations produce (built on a
        /// scratch database) equals FILE, as `migrate schema --file` wrote it
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
        #[command(flatten)]
        scratch: ScratchArgs,
    },
    /// Print the database's schema as deterministic text (or --json); the tracking table left out
    #[command(
        after_help = "Example: migrate schema --file schema.sql   (commit it beside migrations.rs)"
    )]
    Schema {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Write it to PATH instead of stdout
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
    /// Compare the database's schema with what its applied migrations produce (exit 3 on drift)
    #[command(after_help = "Example: migrate drift || echo \"the schema was changed by hand\"")]
    Drift {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        scratch: ScratchArgs,
    },
    /// On a scratch database: apply, roll back and re-apply each migration; name the first
    /// whose down does not restore the schema (exit 3)
    #[command(
        after_help = "Example: migrate roundtrip --database-url postgres://app@localhost/app"
    )]
    Roundtrip {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        scratch: ScratchArgs,
    },
    /// After fixing the database by hand: accept the code's checksums, clear dirty rows
    #[command(after_help = "Example: migrate repair")]
    Repair {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Also accept the code's descriptions where the database recorded others
        /// (a sign of running another project's binary against this database)
        #[arg(long)]
        accept_descriptions: bool,
    },
    /// Adopt an existing database: record migrations 1..=N as applied without running them
    #[command(after_help = "Example: migrate baseline 12")]
    Baseline {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The version the existing schema already matches
        #[arg(value_name = "N")]
        version: i64,
    },
    /// Check the migrations for what hurts a live database (exit 3 on findings); no database needed
    #[command(after_help = "Example: migrate lint --backend postgres --since 41")]
    Lint {
        /// The backend to check for [default: the database URL's, else sqlite]
        #[arg(long, value_name = "B", value_parser = ["sqlite", "postgres", "mysql"])]
        backend: Option<String>,
        /// Check only migrations above version N
        #[arg(long, value_name = "N")]
        since: Option<i64>,
        /// The database URL whose scheme names the backend (never connected)
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
    },
    /// Print a migration's up and down SQL (from the code; no database needed)
    #[command(after_help = "Example: migrate show 3")]
    Show {
        /// The migration's version
        #[arg(value_name = "N")]
        version: i64,
    },
    /// Append a new migration with the next version to migrations.rs
    #[command(
        after_help = "Example: migrate new \"Add a bio to users\" --sql \"ALTER TABLE users ADD COLUMN bio TEXT\""
    )]
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
    #[command(after_help = "Example: migrate import db/migrations --dry-run")]
    Import {
        /// NNN_name.sql, V1__name.sql (+U1__), diesel VERSION_name/up.sql, sqlx N_name[.up].sql
        dir: PathBuf,
        /// Print the generated Rust; change nothing
        #[arg(long)]
        dry_run: bool,
        /// The migrations file (default: migrations.rs here or in a parent directory)
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// The tracking table the application will use (an imported statement
        /// touching a table of that name stops the import) [default: schema_migrations]
        #[arg(long, value_name = "NAME")]
        table: Option<String>,
    },
    /// Set up a Cargo project to own its migrations: migrations.rs, its own migrate command, the dependency
    #[command(
        after_help = "Example: migrate init --backend postgres   (then: cargo run --bin migrate -- apply)"
    )]
    Init {
        /// The Cargo project's directory
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Build in this backend besides SQLite (repeatable): postgres, mysql
        #[arg(long, value_name = "B", value_parser = ["sqlite", "postgres", "mysql"])]
        backend: Vec<String>,
        /// Depend on this git repository instead of this binary's source
        #[arg(long, value_name = "URL", conflicts_with = "version")]
        git: Option<String>,
        /// Depend on this published version instead of this binary's source
        #[arg(long, value_name = "V")]
        version: Option<String>,
    },
    /// Print a shell completion script
    #[command(after_help = "Example: migrate completions bash > /etc/bash_completion.d/migrate")]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff)
    #[command(after_help = "Example: migrate man > migrate.1 && man ./migrate.1")]
    Man,
}

impl Command {
    /// The command's name as typed.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Apply { .. } => "apply",
            Command::Rollback { .. } => "rollback",
            Command::Redo { .. } => "redo",
            Command::Version { .. } => "version",
            Command::History { .. } => "history",
            Command::Status { .. } => "status",
            Command::Verify { .. } => "verify",
            Command::Check { .. } => "check",
            Command::Schema { .. } => "schema",
            Command::Drift { .. } => "drift",
            Command::Roundtrip { .. } => "roundtrip",
            Command::Repair { .. } => "repair",
            Command::Baseline { .. } => "baseline",
            Command::Lint { .. } => "lint",
            Command::Show { .. } => "show",
            Command::New { .. } => "new",
            Command::Import { .. } => "import",
            Command::Init { .. } => "init",
            Command::Completions { .. } => "completions",
            Command::Man => "man",
        }
    }

    /// The database options given after the command, for commands that
    /// work on a database.
    pub(crate) fn database(&self) -> Option<&DatabaseArgs> {
        match self {
            Command::Apply { database, .. }
            | Command::Rollback { database, .. }
            | Command::Redo { database, .. }
            | Command::Version { database, .. }
            | Command::History { database }
            | Command::Status { database, .. }
            | Command::Verify { database, .. }
            | Command::Check { database, .. }
            | Command::Schema { database, .. }
            | Command::Drift { database, .. }
            | Command::Roundtrip { database, .. }
            | Command::Repair { database, .. }
            | Command::Baseline { database, .. } => Some(database),
            Command::Lint { .. }
            | Command::Show { .. }
            | Command::New { .. }
            | Command::Import { .. }
            | Command::Init { .. }
            | Command::Completions { .. }
            | Command::Man => None,
        }
    }

    /// The guardrails given to a command that runs migrations.
    pub(crate) fn guardrails(&self) -> crate::Guardrails {
        match self {
            Command::Apply { guard, .. }
            | Command::Rollback { guard, .. }
            | Command::Redo { guard, .. } => guard.guardrails(),
            _ => crate::Guardrails::default(),
        }
    }

    pub(crate) fn fanout(&self) -> Option<&FanoutArgs> {
        match self {
            Command::Apply { fanout, .. }
            | Command::Version { fanout, .. }
            | Command::Status { fanout, .. }
            | Command::Verify { fanout, .. }
            | Command::Check { fanout, .. } => Some(fanout),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_bounded() {
        assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(seconds("0"), Ok(Duration::ZERO));
        for bad in ["1e20", "-1", "NaN", "inf", "x", "86401"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }
}
