//! How a failed command ends: the error on stderr with advice, or with
//! `--json` one document on stdout holding the error and whatever the
//! command completed. No password reaches either.

use std::process::ExitCode;

use anstream::eprintln;
use serde_json::{json, Value};

use super::hints::{self, Invocation};
use super::output::{print_json, Out, Target, RED, YELLOW};
use crate::error::Error;
use crate::report::Direction;

/// Errors of the command line, beside the library's.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error(transparent)]
    Library(#[from] Error),
    #[error(transparent)]
    DotEnv(#[from] super::database::DotEnvError),
    #[error(transparent)]
    Authoring(#[from] crate::authoring::AuthoringError),
    #[error("{0}")]
    Targets(String),
    #[error("{0}")]
    Usage(String),
    #[error("no migration {version} in this build (versions: {known})")]
    NoSuchMigration { version: i64, known: String },
    #[error("cannot write {what}: {source}")]
    Output {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    fn kind(&self) -> &'static str {
        match self {
            CliError::Library(e) => e.kind(),
            CliError::DotEnv(_) => "dotenv",
            CliError::Authoring(_) => "authoring",
            CliError::Targets(_) => "targets",
            CliError::Usage(_) => "usage",
            CliError::NoSuchMigration { .. } => "no_such_migration",
            CliError::Output { .. } => "io",
        }
    }
}

/// A failed command: the error, and the database it concerned (boxed:
/// it travels up every command's `Result`).
#[derive(Debug)]
pub(crate) struct Failure(Box<Failed>);

#[derive(Debug)]
struct Failed {
    error: CliError,
    target: Option<Target>,
}

impl<E: Into<CliError>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(Box::new(Failed {
            error: error.into(),
            target: None,
        }))
    }
}

impl Failure {
    /// A library error about `target`.
    pub(crate) fn on(target: &Target) -> impl Fn(Error) -> Failure + '_ {
        move |error| Failure::about(CliError::Library(error), target)
    }

    pub(crate) fn about(error: CliError, target: &Target) -> Failure {
        Failure(Box::new(Failed {
            error,
            target: Some(target.clone()),
        }))
    }

    /// Prints the failure and gives the exit code (1).
    pub(crate) fn report(self, run: &Invocation, out: Out) -> ExitCode {
        self.0.report(run, out)
    }
}

impl Failed {
    fn redact_text(&self, text: &str) -> String {
        match &self.target {
            Some(target) => target.url.redact(text),
            None => text.to_string(),
        }
    }

    fn report(&self, run: &Invocation, out: Out) -> ExitCode {
        let message = self.redact_text(&self.error.to_string());
        let advice: Vec<String> = match &self.error {
            CliError::Library(e) => hints::for_error(e, run),
            _ => Vec::new(),
        };
        if out.json {
            print_json(&self.document(&message, &advice));
        } else {
            if let CliError::Library(error) = &self.error {
                let completed = error.completed();
                if !completed.is_empty() && !out.quiet {
                    let (verb, rest) = match completed[0].direction {
                        Direction::Up => ("applied", "they stay applied"),
                        Direction::Down => ("rolled back", "they stay rolled back"),
                    };
                    let rest = match error {
                        Error::MigrationFailed { failure } if failure.whole_run_rolled_back => {
                            "rolled back with the rest of the run"
                        }
                        _ => rest,
                    };
                    anstream::println!("{} {verb} before the failure ({rest})", completed.len());
                }
            }
            eprintln!("{RED}error:{RED:#} {message}");
            for line in advice.iter().filter(|a| !a.is_empty()) {
                eprintln!("{YELLOW}hint:{YELLOW:#} {}", self.redact_text(line));
            }
        }
        match &self.error {
            CliError::Usage(_) => ExitCode::from(2),
            _ => ExitCode::from(1),
        }
    }

    fn document(&self, message: &str, advice: &[String]) -> Value {
        let mut error = json!({ "kind": self.error.kind(), "message": message, "hints": advice });
        let mut doc = json!({});
        if let CliError::Library(Error::MigrationFailed { failure }) = &self.error {
            error["version"] = json!(failure.version);
            error["description"] = json!(failure.description);
            error["stage"] = json!(failure.stage);
            error["statement_index"] = json!(failure.statement_index);
            error["statement"] = json!(failure.statement);
            error["database_message"] = json!(self.redact_text(&failure.database_message));
            error["dirty"] = json!(failure.dirty);
            let key = match failure.direction {
                Direction::Up => "applied",
                Direction::Down => "reverted",
            };
            doc[key] = json!(failure.completed);
        }
        if let CliError::Library(Error::Refused(refusal)) = &self.error {
            error["refusal"] = json!(refusal);
        }
        doc["error"] = error;
        if let Some(target) = &self.target {
            doc["database"] = target.json();
        }
        doc
    }
}

/// Ends a run whose arguments did not parse: clap's message on stderr
/// (any URL in it masked), and with `--json` an error document on stdout.
pub(crate) fn usage(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    let text = scrub_urls(&error.render().to_string());
    if std::env::args().any(|arg| arg == "--json") {
        print_json(&json!({ "error": { "kind": "usage", "message": text.trim(), "hints": [] } }));
    }
    eprintln!("{}", text.trim_end());
    ExitCode::from(2)
}

/// Masks the password of every URL in `text` (a stray positional URL is
/// echoed by clap's "unexpected argument").
pub(crate) fn scrub_urls(text: &str) -> String {
    text.split_inclusive(|c: char| c.is_whitespace() || c == '\'' || c == '"')
        .map(|piece| match piece.contains("://") {
            true => {
                let end =
                    piece.trim_end_matches(|c: char| c.is_whitespace() || c == '\'' || c == '"');
                format!(
                    "{}{}",
                    crate::database_url::mask_unparsed(end),
                    &piece[end.len()..]
                )
            }
            false => piece.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_in_usage_errors_are_masked() {
        let text = "error: unexpected argument 'postgres://u:hunter2@h/db' found";
        assert_eq!(
            super::scrub_urls(text),
            "error: unexpected argument 'postgres://u:***@h/db' found"
        );
    }
}
