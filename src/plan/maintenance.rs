//! Plans for the commands a person runs after fixing a database by hand
//! (`repair`) or to adopt one (`baseline`).

use super::{CodeList, DescriptionChange, Refusal};
use crate::migration::Migration;
use crate::tracking::AppliedMigration;

/// What `repair` will change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RepairPlan {
    /// Dirty rows to remove: their migrations run again on the next `apply`.
    pub remove_dirty: Vec<i64>,
    /// Rows to give the code's description and checksum.
    pub accept: Vec<(i64, &'static str, String)>,
    /// Rows of versions the code does not know, left alone.
    pub unknown: Vec<i64>,
}

impl RepairPlan {
    pub(crate) fn is_empty(&self) -> bool {
        self.remove_dirty.is_empty() && self.accept.is_empty()
    }
}

/// Decides what `repair` changes. A recorded description that differs from
/// the code's is refused unless `accept_descriptions`: it is what running
/// another project's binary against this database looks like, and accepting
/// it would make the next `apply` fail far from the cause.
pub(crate) fn plan_repair(
    code: CodeList,
    rows: &[AppliedMigration],
    accept_descriptions: bool,
) -> Result<RepairPlan, Refusal> {
    let mut plan = RepairPlan::default();
    let mut changes = Vec::new();
    for row in rows {
        let Some((migration, checksum)) = code.find(row.version) else {
            match row.success {
                true => plan.unknown.push(row.version),
                false => plan.remove_dirty.push(row.version),
            }
            continue;
        };
        if !row.success {
            plan.remove_dirty.push(row.version);
            continue;
        }
        let description_differs = row.description != migration.description;
        if row.checksum.as_deref() != Some(checksum) || description_differs {
            plan.accept
                .push((row.version, migration.description, checksum.to_string()));
        }
        if description_differs {
            changes.push(DescriptionChange {
                version: row.version,
                recorded: row.description.clone(),
                code: migration.description.to_string(),
            });
        }
    }
    match changes.is_empty() || accept_descriptions {
        true => Ok(plan),
        false => Err(Refusal::DescriptionsDiffer { changes }),
    }
}

/// Decides what `baseline version` records: every migration of the code up
/// to `version`, on a database with no history only.
pub(crate) fn plan_baseline(
    code: CodeList,
    rows: &[AppliedMigration],
    version: i64,
) -> Result<Vec<&'static Migration>, Refusal> {
    if !rows.is_empty() {
        return Err(Refusal::BaselineNotEmpty {
            applied: rows.len(),
        });
    }
    let last = code.migrations.last().map_or(0, |m| m.version);
    if version > last && last > 0 {
        return Err(Refusal::BaselineBeyondCode { version, last });
    }
    let adopted: Vec<&'static Migration> = code
        .migrations
        .iter()
        .filter(|m| m.version <= version)
        .collect();
    if version <= 0 || adopted.is_empty() {
        return Err(Refusal::BaselineNothing { version });
    }
    Ok(adopted)
}

/// Used by tests to check a repair plan touches each row at most once.
#[cfg(test)]
pub(crate) fn touched(plan: &RepairPlan) -> std::collections::BTreeMap<i64, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for version in plan
        .remove_dirty
        .iter()
        .chain(plan.accept.iter().map(|(v, _, _)| v))
    {
        *counts.entry(*version).or_insert(0) += 1;
    }
    counts
}
