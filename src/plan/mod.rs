//! Pure decisions, no I/O: given the code's migrations and the tracking
//! rows, what each command would do, or why it refuses. Every command plans
//! here first; the executor only carries plans out, and a dry run is a plan
//! not carried out.

mod maintenance;
mod rollback;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use crate::refusal::{DescriptionChange, Problem, Refusal, State};
pub(crate) use maintenance::{plan_baseline, plan_repair};
pub use rollback::RollbackTarget;
pub(crate) use rollback::{plan_redo, plan_rollback, RollbackPlan, RollbackStep};

use crate::dialect::Dialect;
use crate::migration::Migration;
use crate::tracking::AppliedMigration;

/// The code's migrations with their checksums (computed once per
/// migrator), looked up by version without scanning.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeList<'c> {
    pub migrations: &'static [Migration],
    /// `checksums()[i]` is `migrations[i].checksum()`, computed on first use
    /// (the start-up check does not need them).
    checksums: &'c OnceLock<Vec<String>>,
    fingerprint: &'c OnceLock<String>,
}

impl<'c> CodeList<'c> {
    pub(crate) fn new(
        migrations: &'static [Migration],
        checksums: &'c OnceLock<Vec<String>>,
        fingerprint: &'c OnceLock<String>,
    ) -> Self {
        CodeList {
            migrations,
            checksums,
            fingerprint,
        }
    }

    pub(crate) fn checksums(&self) -> &'c [String] {
        self.checksums
            .get_or_init(|| self.migrations.iter().map(Migration::checksum).collect())
    }

    /// See [`crate::checksum::list_fingerprint`].
    pub(crate) fn fingerprint(&self) -> &'c str {
        self.fingerprint
            .get_or_init(|| crate::checksum::list_fingerprint(self.migrations))
    }

    /// The migration with this version and its checksum. The list is sorted
    /// (every command checks it first), so this is a binary search.
    pub(crate) fn find(&self, version: i64) -> Option<(&'static Migration, &'c str)> {
        let index = self
            .migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()?;
        Some((&self.migrations[index], self.checksums()[index].as_str()))
    }

    fn iter(&self) -> impl Iterator<Item = (&'static Migration, &'c str)> + '_ {
        self.migrations
            .iter()
            .zip(self.checksums().iter().map(String::as_str))
    }
}

/// Options that change what `apply` plans.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlanOptions {
    /// Apply nothing above this version.
    pub target: Option<i64>,
    /// Let a pending version below the newest applied one run.
    pub allow_out_of_order: bool,
    /// Rows without a checksum come from a table that never had one, so the
    /// code's checksum is recorded for them (trust on first use) instead of
    /// reporting them.
    pub trust_missing_checksums: bool,
}

/// The database compared with the code: what is pending, what is wrong.
#[derive(Debug, Clone)]
pub(crate) struct Analysis<'c> {
    /// With their checksums, in order.
    pub pending: Vec<(&'static Migration, &'c str)>,
    pub already_applied: usize,
    pub problems: Vec<Problem>,
    /// Applied rows without a checksum that `apply` will record.
    pub unverified: Vec<i64>,
    pub version: i64,
}

/// Compares the rows with the code. Problems cover the whole history, not
/// only below the target: a dirty or edited migration is never ignored.
pub(crate) fn analyze<'c>(
    code: CodeList<'c>,
    rows: &[AppliedMigration],
    options: PlanOptions,
) -> Analysis<'c> {
    let by_version: BTreeMap<i64, &AppliedMigration> =
        rows.iter().map(|row| (row.version, row)).collect();
    let latest_applied = rows.iter().map(|row| row.version).max().unwrap_or(0);
    let mut analysis = Analysis {
        pending: Vec::new(),
        already_applied: 0,
        problems: Vec::new(),
        unverified: Vec::new(),
        version: current_version(rows),
    };
    for (migration, checksum) in code.iter() {
        let (version, description) = (migration.version, migration.description.to_string());
        match by_version.get(&version) {
            Some(row) if !row.success => analysis.problems.push(Problem::Dirty {
                version,
                description: row.description.clone(),
            }),
            Some(row) => {
                analysis.already_applied += 1;
                match &row.checksum {
                    None if options.trust_missing_checksums => analysis.unverified.push(version),
                    None => analysis.problems.push(Problem::MissingChecksum {
                        version,
                        description,
                    }),
                    Some(recorded) if recorded != checksum => {
                        analysis.problems.push(Problem::ChecksumMismatch {
                            version,
                            description,
                            recorded_description: row.description.clone(),
                            recorded: recorded.clone(),
                            code: checksum.to_string(),
                        })
                    }
                    Some(_) => {}
                }
            }
            None if options.target.is_some_and(|t| version > t) => {}
            None => {
                if version < latest_applied && !options.allow_out_of_order {
                    analysis.problems.push(Problem::OutOfOrder {
                        version,
                        description: description.clone(),
                        latest_applied,
                    });
                }
                if migration.is_placeholder() {
                    analysis.problems.push(Problem::Placeholder {
                        version,
                        description,
                    });
                }
                analysis.pending.push((migration, checksum));
            }
        }
    }
    for row in rows.iter().filter(|row| code.find(row.version).is_none()) {
        let (version, description) = (row.version, row.description.clone());
        analysis.problems.push(match row.success {
            true => Problem::UnknownVersion {
                version,
                description,
            },
            false => Problem::Dirty {
                version,
                description,
            },
        });
    }
    analysis.problems.sort_by_key(Problem::version);
    analysis
}

/// What `apply` will do.
#[derive(Debug, Clone)]
pub(crate) struct ApplyPlan<'c> {
    /// With their checksums, in order.
    pub pending: Vec<(&'static Migration, &'c str)>,
    pub already_applied: usize,
    /// Rows to record the code's checksum for, before anything runs.
    pub adopt: Vec<i64>,
    pub version_before: i64,
}

/// Decides what `apply` runs, or refuses when anything stands in the way.
/// `single_transaction` asks for every pending migration in one
/// transaction, which the backend and every pending migration must allow.
pub(crate) fn plan_apply<'c>(
    code: CodeList<'c>,
    rows: &[AppliedMigration],
    options: PlanOptions,
    single_transaction: Option<Dialect>,
) -> Result<ApplyPlan<'c>, Refusal> {
    let analysis = analyze(code, rows, options);
    if !analysis.problems.is_empty() {
        return Err(Refusal::Problems {
            problems: analysis.problems,
        });
    }
    if let Some(dialect) = single_transaction {
        check_single_transaction(dialect, &analysis.pending)?;
    }
    Ok(ApplyPlan {
        pending: analysis.pending,
        already_applied: analysis.already_applied,
        adopt: analysis.unverified,
        version_before: analysis.version,
    })
}

/// One transaction for a whole run needs transactional DDL and no
/// `transaction: false` migration among the pending ones.
pub(crate) fn check_single_transaction(
    dialect: Dialect,
    pending: &[(&Migration, &str)],
) -> Result<(), Refusal> {
    if !dialect.transactional_ddl() {
        return Err(Refusal::SingleTransactionUnsupported {
            backend: dialect.name(),
        });
    }
    match pending.iter().map(|(m, _)| m).find(|m| !m.transaction) {
        Some(m) => Err(Refusal::SingleTransactionNonTransactional {
            version: m.version,
            description: m.description.to_string(),
        }),
        None => Ok(()),
    }
}

/// The highest successfully applied version, 0 when none.
pub(crate) fn current_version(rows: &[AppliedMigration]) -> i64 {
    rows.iter()
        .filter(|row| row.success)
        .map(|row| row.version)
        .max()
        .unwrap_or(0)
}

/// Each migration of the code with its state.
pub(crate) fn states(
    code: CodeList,
    rows: &[AppliedMigration],
) -> Vec<(&'static Migration, State, Option<usize>)> {
    let by_version: BTreeMap<i64, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| (row.version, i))
        .collect();
    code.iter()
        .map(|(migration, checksum)| {
            let index = by_version.get(&migration.version).copied();
            let state = match index.map(|i| &rows[i]) {
                Some(row) if !row.success => State::Dirty,
                Some(row) if row.checksum.as_deref().is_some_and(|c| c != checksum) => {
                    State::Edited
                }
                Some(_) => State::Applied,
                None => State::Pending,
            };
            (migration, state, index)
        })
        .collect()
}

#[cfg(test)]
mod tests;
