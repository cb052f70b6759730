//! Why a command refused, before it changed anything.

use serde::Serialize;

mod problem;

pub use problem::{Problem, State};

/// A description the database recorded that differs from the code's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DescriptionChange {
    /// The migration.
    pub version: i64,
    /// What the database recorded.
    pub recorded: String,
    /// What the code says.
    pub code: String,
}

/// A command refused before changing anything, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Refusal {
    /// The database and the code disagree (`apply`, `redo`).
    Problems {
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// One transaction for a whole run on a backend whose DDL commits.
    SingleTransactionUnsupported {
        /// The backend.
        backend: &'static str,
    },
    /// One transaction for a whole run holding a `transaction: false` migration.
    SingleTransactionNonTransactional {
        /// The migration.
        version: i64,
        /// Its description.
        description: String,
    },
    /// A rollback while a migration is dirty.
    Dirty {
        /// The dirty migration.
        version: i64,
        /// Its description as recorded.
        description: String,
    },
    /// A rollback of a migration without `down` statements.
    Irreversible {
        /// The migration.
        version: i64,
        /// Its description.
        description: String,
    },
    /// A rollback of a version neither the code nor its tracking row has
    /// `down` statements for.
    DownUnknown {
        /// The migration.
        version: i64,
        /// Its description as recorded.
        description: String,
    },
    /// `redo` of a version the code does not have (it could not be applied again).
    RedoNotInCode {
        /// The migration.
        version: i64,
        /// Its description as recorded.
        description: String,
    },
    /// `baseline` on a database that already has history.
    BaselineNotEmpty {
        /// How many rows it has.
        applied: usize,
    },
    /// `baseline N` where no migration of the code is at or below N.
    BaselineNothing {
        /// The version asked for.
        version: i64,
    },
    /// `baseline N` above the code's last version.
    BaselineBeyondCode {
        /// The version asked for.
        version: i64,
        /// The code's last version.
        last: i64,
    },
    /// `repair` would overwrite descriptions that differ from the code's,
    /// which is what running another project's binary against a database
    /// looks like.
    DescriptionsDiffer {
        /// Each difference.
        changes: Vec<DescriptionChange>,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Problems { problems } => {
                f.write_str("refusing to apply: the database and the code disagree")?;
                for problem in problems {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
            Refusal::SingleTransactionUnsupported { backend } => write!(
                f,
                "a single transaction is not possible: {backend} commits DDL implicitly, so a run cannot be rolled back as a whole"
            ),
            Refusal::SingleTransactionNonTransactional { version, description } => write!(
                f,
                "a single transaction is not possible: migration {version} ({description}) has `transaction: false`"
            ),
            Refusal::Dirty { version, description } => write!(
                f,
                "cannot roll back: migration {version} ({description}) is dirty; nothing was changed"
            ),
            Refusal::Irreversible { version, description } => write!(
                f,
                "cannot roll back: migration {version} ({description}) is irreversible (it has no `down` statements); nothing was changed"
            ),
            Refusal::DownUnknown { version, description } => write!(
                f,
                "cannot roll back: migration {version} ({description}) is not in the code and its row records no down statements; nothing was changed"
            ),
            Refusal::RedoNotInCode { version, description } => write!(
                f,
                "cannot redo: migration {version} ({description}) is not in the code, so it could not be applied again; nothing was changed"
            ),
            Refusal::BaselineNotEmpty { applied } => write!(
                f,
                "cannot baseline: {applied} migration(s) are already recorded; baseline only adopts a database with no history"
            ),
            Refusal::BaselineNothing { version } => write!(
                f,
                "cannot baseline at version {version}: no migration in the code has a version at or below it"
            ),
            Refusal::BaselineBeyondCode { version, last } => write!(
                f,
                "cannot baseline at version {version}: the code's last migration is {last}"
            ),
            Refusal::DescriptionsDiffer { changes } => {
                f.write_str("refusing to repair: recorded descriptions differ from the code's (is this the right binary for this database?)")?;
                for change in changes {
                    write!(
                        f,
                        "\n  - migration {}: the database recorded \"{}\", the code has \"{}\"",
                        change.version, change.recorded, change.code
                    )?;
                }
                Ok(())
            }
        }
    }
}
