//! What stands between the database and the code.

use serde::Serialize;

/// Something that stops `apply` until a person acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// A non-transactional migration started and did not finish.
    Dirty {
        /// The migration.
        version: i64,
        /// Its description as recorded.
        description: String,
    },
    /// The code's migration differs from what was applied: its `sql` was
    /// edited, or this is another project's list (descriptions differ too).
    ChecksumMismatch {
        /// The migration.
        version: i64,
        /// The code's description.
        description: String,
        /// The description the database recorded.
        recorded_description: String,
        /// The checksum the database recorded.
        recorded: String,
        /// The code's checksum.
        code: String,
    },
    /// An applied row has no checksum, so an edit could not be noticed.
    MissingChecksum {
        /// The migration.
        version: i64,
        /// The code's description.
        description: String,
    },
    /// The database records a version the code does not have.
    UnknownVersion {
        /// The migration.
        version: i64,
        /// Its description as recorded.
        description: String,
    },
    /// A pending version sits below the newest applied one.
    OutOfOrder {
        /// The pending migration.
        version: i64,
        /// Its description.
        description: String,
        /// The newest applied version.
        latest_applied: i64,
    },
    /// A pending migration still has the placeholder SQL `migrate new` wrote.
    Placeholder {
        /// The migration.
        version: i64,
        /// Its description.
        description: String,
    },
}

impl Problem {
    /// The migration it concerns.
    pub fn version(&self) -> i64 {
        match self {
            Problem::Dirty { version, .. }
            | Problem::ChecksumMismatch { version, .. }
            | Problem::MissingChecksum { version, .. }
            | Problem::UnknownVersion { version, .. }
            | Problem::OutOfOrder { version, .. }
            | Problem::Placeholder { version, .. } => *version,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Dirty { version, description } => write!(
                f,
                "migration {version} ({description}) is dirty: it started and did not finish"
            ),
            Problem::ChecksumMismatch {
                version,
                description,
                recorded_description,
                ..
            } if recorded_description != description => write!(
                f,
                "migration {version} is not the one that was applied: the database recorded \
                 \"{recorded_description}\", the code has \"{description}\" (and different SQL)"
            ),
            Problem::ChecksumMismatch { version, description, .. } => write!(
                f,
                "migration {version} ({description}) was edited after it was applied (its checksum differs)"
            ),
            Problem::MissingChecksum { version, description } => write!(
                f,
                "migration {version} ({description}) has no checksum recorded, so an edit to it would go unnoticed"
            ),
            Problem::UnknownVersion { version, description } => write!(
                f,
                "the database has migration {version} ({description}), which the code does not know: \
                 the database is ahead of this build"
            ),
            Problem::OutOfOrder {
                version,
                description,
                latest_applied,
            } => write!(
                f,
                "migration {version} ({description}) is pending but version {latest_applied} is already applied"
            ),
            Problem::Placeholder { version, description } => write!(
                f,
                "migration {version} ({description}) still has the placeholder SQL that `new` wrote"
            ),
        }
    }
}

/// Where one migration of the code stands in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum State {
    /// Applied, with the code's checksum.
    Applied,
    /// Applied, but the code's SQL differs from what ran.
    Edited,
    /// Not applied yet.
    Pending,
    /// Started and did not finish.
    Dirty,
}
