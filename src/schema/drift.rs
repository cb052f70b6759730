//! `drift`: the live schema against what its applied migrations produce,
//! replayed on a scratch database. And `schema` and `expected_schema`, the
//! reads it is made of.

use serde::Serialize;

use super::diff::{diff, SchemaChange};
use super::model::Schema;
use super::read::{in_snapshot, read_schema_in};
use crate::connection::MigrationConnection;
use crate::error::{Error, Result};
use crate::migration::Migration;
use crate::migrator::Migrator;

/// What `drift` found.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct DriftReport {
    /// The live database's version.
    pub version: i64,
    /// The versions replayed on the scratch database (the applied ones the
    /// code knows), in order.
    pub replayed: Vec<i64>,
    /// Applied versions the code does not know: they could not be replayed,
    /// so what they made shows as extra.
    pub unknown_versions: Vec<i64>,
    /// Applied versions whose rows are dirty (replayed in full).
    pub dirty: Vec<i64>,
    /// Every difference: `missing` is what the migrations make and the
    /// database lacks, `extra` what the database has beyond them.
    pub changes: Vec<SchemaChange>,
}

impl DriftReport {
    /// No difference at all.
    pub fn is_clean(&self) -> bool {
        self.changes.is_empty()
    }
}

impl Migrator {
    /// The schema `conn` holds, the tracking table left out (after this
    /// migrator's session statements, so `SET search_path` applies). Read in
    /// one snapshot where the backend has them; writes nothing.
    pub fn schema(&self, conn: &mut dyn MigrationConnection) -> Result<Schema> {
        Ok(self.read_live(conn)?.1)
    }

    /// The tracking rows and the schema, read in one snapshot.
    fn read_live(
        &self,
        conn: &mut dyn MigrationConnection,
    ) -> Result<(crate::report::HistoryReport, Schema)> {
        in_snapshot(conn, |conn| {
            let history = self.history(conn)?;
            Ok((history, read_schema_in(conn, self.table())?))
        })
    }

    /// The schema this migrator's whole list produces, applied on `scratch`
    /// (an empty database: see [`super::ScratchDatabase`]).
    pub fn expected_schema(&self, scratch: &mut dyn MigrationConnection) -> Result<Schema> {
        self.replay(scratch, self.migrations())
    }

    /// Compares the live schema with what the migrations it has applied
    /// produce when replayed, with the code's SQL, on `scratch` (an empty
    /// database of the same backend). Only reads `live`: no lock, no write,
    /// safe beside a running `apply`.
    pub fn drift(
        &self,
        live: &mut dyn MigrationConnection,
        scratch: &mut dyn MigrationConnection,
    ) -> Result<DriftReport> {
        same_backend(live, scratch)?;
        let (history, actual) = self.read_live(live)?;
        let applied: Vec<i64> = history.migrations.iter().map(|m| m.version).collect();
        let code = self.migrations();
        let known: Vec<&Migration> = code
            .iter()
            .filter(|m| applied.contains(&m.version))
            .collect();
        let replayed: Vec<i64> = known.iter().map(|m| m.version).collect();
        let unknown_versions = applied
            .iter()
            .copied()
            .filter(|v| !replayed.contains(v))
            .collect();
        let dirty = history
            .migrations
            .iter()
            .filter(|m| !m.success)
            .map(|m| m.version)
            .collect();
        // Usually the applied ones are the list's first k; otherwise (out of
        // order) the replay needs a list of its own, which lives as long as
        // a migrator's list must.
        let prefix = &code[..known.len()];
        let list: &'static [Migration] = match prefix
            .iter()
            .map(|m| m.version)
            .eq(replayed.iter().copied())
        {
            true => prefix,
            false => Box::leak(
                known
                    .into_iter()
                    .copied()
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            ),
        };
        let expected = self.replay(scratch, list)?;
        Ok(DriftReport {
            version: applied.iter().copied().max().unwrap_or(0),
            replayed,
            unknown_versions,
            dirty,
            changes: diff(&expected, &actual),
        })
    }

    /// Applies `list` on the empty `scratch` and reads its schema.
    pub(super) fn replay(
        &self,
        scratch: &mut dyn MigrationConnection,
        list: &'static [Migration],
    ) -> Result<Schema> {
        ensure_empty(self, scratch)?;
        let replay = self.over(list);
        replay.apply(scratch)?;
        replay.schema(scratch)
    }
}

pub(super) fn same_backend(
    live: &mut dyn MigrationConnection,
    scratch: &mut dyn MigrationConnection,
) -> Result<()> {
    if live.dialect() != scratch.dialect() {
        return Err(Error::Scratch {
            permission: false,
            message: format!(
                "the scratch database is {}, the live one {}: use the same backend",
                scratch.dialect().name(),
                live.dialect().name()
            ),
        });
    }
    Ok(())
}

/// Refuses a scratch database that holds anything (or a tracking table).
pub(super) fn ensure_empty(
    migrator: &Migrator,
    scratch: &mut dyn MigrationConnection,
) -> Result<()> {
    let (history, schema) = migrator.read_live(scratch)?;
    if schema.is_empty() && history.migrations.is_empty() {
        return Ok(());
    }
    let mut objects = schema.describe();
    if !history.migrations.is_empty() {
        let and = if objects.is_empty() { "" } else { " and " };
        objects.push_str(&format!(
            "{and}{} applied migrations",
            history.migrations.len()
        ));
    }
    Err(Error::ScratchNotEmpty { objects })
}
