//! The compiled-in list as a diesel [`MigrationSource`], for applications
//! already running migrations through diesel_migrations' `MigrationHarness`.
//!
//! Trade-off: diesel records only a version and a time in its own table
//! (`__diesel_schema_migrations`), so that path has no checksums (edited
//! migrations go unnoticed), no history of durations, no dirty marker and no
//! cross-process lock. Versions are written there zero-padded to 19 digits,
//! because diesel orders versions as text.

use std::fmt;

use diesel::backend::Backend;
use diesel::connection::BoxableConnection;
use diesel::migration::{
    self, MigrationMetadata, MigrationName, MigrationSource, MigrationVersion,
};

use crate::migration::Migration;

/// A `MigrationSource` over a `MIGRATIONS` list:
/// `conn.run_pending_migrations(DieselSource::new(MIGRATIONS))`.
#[derive(Debug, Clone, Copy)]
pub struct DieselSource {
    migrations: &'static [Migration],
}

impl DieselSource {
    /// A source over `migrations`.
    pub fn new(migrations: &'static [Migration]) -> Self {
        DieselSource { migrations }
    }
}

impl<DB: Backend> MigrationSource<DB> for DieselSource {
    fn migrations(&self) -> migration::Result<Vec<Box<dyn migration::Migration<DB>>>> {
        Ok(self
            .migrations
            .iter()
            .map(|m| Box::new(DieselMigration::new(m)) as Box<dyn migration::Migration<DB>>)
            .collect())
    }
}

struct DieselMigration {
    migration: &'static Migration,
    name: Name,
}

struct Name {
    version: String,
    description: &'static str,
}

impl DieselMigration {
    fn new(migration: &'static Migration) -> Self {
        DieselMigration {
            migration,
            name: Name {
                version: format!("{:019}", migration.version),
                description: migration.description,
            },
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.version, self.description)
    }
}

impl MigrationName for Name {
    fn version(&self) -> MigrationVersion<'_> {
        MigrationVersion::from(self.version.as_str())
    }
}

impl MigrationMetadata for DieselMigration {
    fn run_in_transaction(&self) -> bool {
        self.migration.transaction
    }
}

/// Raised when diesel is asked to revert a migration without `down`.
#[derive(Debug, thiserror::Error)]
#[error("migration {version} ({description}) is irreversible (it has no `down` statements)")]
pub struct Irreversible {
    /// The migration.
    pub version: i64,
    /// Its description.
    pub description: &'static str,
}

impl<DB: Backend> migration::Migration<DB> for DieselMigration {
    fn run(&self, conn: &mut dyn BoxableConnection<DB>) -> migration::Result<()> {
        for sql in self.migration.sql {
            conn.batch_execute(sql)?;
        }
        Ok(())
    }

    fn revert(&self, conn: &mut dyn BoxableConnection<DB>) -> migration::Result<()> {
        if self.migration.down.is_empty() {
            return Err(Box::new(Irreversible {
                version: self.migration.version,
                description: self.migration.description,
            }));
        }
        for sql in self.migration.down {
            conn.batch_execute(sql)?;
        }
        Ok(())
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        self
    }

    fn name(&self) -> &dyn MigrationName {
        &self.name
    }
}
