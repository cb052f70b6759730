//! Pure decisions, no I/O: given the code's migrations and the tracking rows,
//! what is applied, what is pending, and what is wrong.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::migration::Migration;

/// A tracking-table row, as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
    /// `None` for rows inherited from a legacy table without checksums.
    pub checksum: Option<String>,
    pub applied_at: Option<DateTime<Utc>>,
    pub execution_ms: i64,
    /// False while a non-transactional migration runs, and after it failed.
    pub success: bool,
}

/// Something that stops `apply` until a person acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// A non-transactional migration started and did not finish.
    Dirty { version: i64, description: String },
    /// An applied migration's `sql` was edited in the code afterwards.
    ChecksumMismatch {
        version: i64,
        description: String,
        recorded: String,
        code: String,
    },
    /// The database records a version the code does not have.
    UnknownVersion { version: i64, description: String },
    /// A pending version sits below the newest applied one.
    OutOfOrder {
        version: i64,
        description: String,
        latest_applied: i64,
    },
}

impl Problem {
    pub fn version(&self) -> i64 {
        match self {
            Problem::Dirty { version, .. }
            | Problem::ChecksumMismatch { version, .. }
            | Problem::UnknownVersion { version, .. }
            | Problem::OutOfOrder { version, .. } => *version,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Dirty { version, description } => write!(
                f,
                "migration {version} ({description}) is dirty: it started but did not finish; \
                 check the schema by hand, then run `migrate repair`"
            ),
            Problem::ChecksumMismatch { version, description, .. } => write!(
                f,
                "migration {version} ({description}) was edited after it was applied; \
                 restore its original sql and add a new migration instead, \
                 or run `migrate repair` to accept the edit"
            ),
            Problem::UnknownVersion { version, description } => write!(
                f,
                "the database has migration {version} ({description}), which the code does not know: \
                 the database is ahead of this build; deploy the newer code"
            ),
            Problem::OutOfOrder { version, description, latest_applied } => write!(
                f,
                "migration {version} ({description}) is pending but version {latest_applied} is already applied; \
                 give it a version above {latest_applied}, or allow out-of-order migrations"
            ),
        }
    }
}

/// Where one migration of the code stands in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Applied,
    Pending,
    Dirty,
}

/// What `apply` would do, and what is in the way.
#[derive(Debug, Clone)]
pub struct Plan<'m> {
    pub pending: Vec<&'m Migration>,
    pub already_applied: usize,
    pub problems: Vec<Problem>,
    /// Applied rows without a checksum (legacy tables): `apply` records the
    /// code's checksum for them, after which they are verified like any other.
    pub unverified: Vec<i64>,
}

/// Options that change what `apply` plans.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Apply nothing above this version.
    pub target: Option<i64>,
    /// Let a pending version below the newest applied one run.
    pub allow_out_of_order: bool,
}

/// Decides what to apply. Problems are reported for the whole history, not
/// only below the target: a dirty or edited migration is never ignored.
/// `checksums[i]` is `migrations[i].checksum()`, computed once by the caller.
pub fn plan<'m>(
    migrations: &'m [Migration],
    checksums: &[String],
    applied: &[AppliedMigration],
    options: PlanOptions,
) -> Plan<'m> {
    debug_assert_eq!(migrations.len(), checksums.len());
    let by_version: BTreeMap<i64, &AppliedMigration> =
        applied.iter().map(|row| (row.version, row)).collect();
    let latest_applied = applied.iter().map(|row| row.version).max().unwrap_or(0);
    let mut plan = Plan {
        pending: Vec::new(),
        already_applied: 0,
        problems: Vec::new(),
        unverified: Vec::new(),
    };
    for (migration, code) in migrations.iter().zip(checksums) {
        match by_version.get(&migration.version) {
            Some(row) if !row.success => plan.problems.push(Problem::Dirty {
                version: row.version,
                description: row.description.clone(),
            }),
            Some(row) => {
                plan.already_applied += 1;
                match &row.checksum {
                    None => plan.unverified.push(row.version),
                    Some(recorded) if recorded != code => {
                        plan.problems.push(Problem::ChecksumMismatch {
                            version: row.version,
                            description: migration.description.to_string(),
                            recorded: recorded.clone(),
                            code: code.clone(),
                        });
                    }
                    Some(_) => {}
                }
            }
            None if options.target.is_some_and(|t| migration.version > t) => {}
            None => {
                if migration.version < latest_applied && !options.allow_out_of_order {
                    plan.problems.push(Problem::OutOfOrder {
                        version: migration.version,
                        description: migration.description.to_string(),
                        latest_applied,
                    });
                }
                plan.pending.push(migration);
            }
        }
    }
    let known: std::collections::BTreeSet<i64> = migrations.iter().map(|m| m.version).collect();
    for row in applied.iter().filter(|row| !known.contains(&row.version)) {
        let problem = if row.success {
            Problem::UnknownVersion {
                version: row.version,
                description: row.description.clone(),
            }
        } else {
            Problem::Dirty {
                version: row.version,
                description: row.description.clone(),
            }
        };
        plan.problems.push(problem);
    }
    plan.problems.sort_by_key(Problem::version);
    plan
}

/// The highest successfully applied version, 0 when none.
pub fn current_version(applied: &[AppliedMigration]) -> i64 {
    applied
        .iter()
        .filter(|row| row.success)
        .map(|row| row.version)
        .max()
        .unwrap_or(0)
}

/// Each migration of the code with its state.
pub fn states<'m>(
    migrations: &'m [Migration],
    applied: &[AppliedMigration],
) -> Vec<(&'m Migration, State)> {
    migrations
        .iter()
        .map(|migration| {
            let state = match applied.iter().find(|row| row.version == migration.version) {
                Some(row) if row.success => State::Applied,
                Some(_) => State::Dirty,
                None => State::Pending,
            };
            (migration, state)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn m(version: i64, sql: &'static [&'static str]) -> Migration {
        Migration {
            version,
            description: "d",
            sql,
            ..Migration::DEFAULT
        }
    }

    const CODE: &[Migration] = &[m(1, &["a"]), m(2, &["b"]), m(3, &["c"]), m(5, &["e"])];

    fn row(version: i64, sql: &[&str], success: bool) -> AppliedMigration {
        AppliedMigration {
            version,
            description: format!("row {version}"),
            checksum: Some(crate::migration::checksum(sql)),
            applied_at: None,
            execution_ms: 1,
            success,
        }
    }

    fn plan<'m>(
        migrations: &'m [Migration],
        applied: &[AppliedMigration],
        options: PlanOptions,
    ) -> Plan<'m> {
        let checksums: Vec<String> = migrations.iter().map(Migration::checksum).collect();
        super::plan(migrations, &checksums, applied, options)
    }

    fn versions(plan: &Plan) -> Vec<i64> {
        plan.pending.iter().map(|m| m.version).collect()
    }

    #[test]
    fn fresh_database_applies_everything_in_order() {
        let p = plan(CODE, &[], PlanOptions::default());
        assert_eq!(versions(&p), [1, 2, 3, 5]);
        assert_eq!(p.already_applied, 0);
        assert!(p.problems.is_empty());
    }

    #[test]
    fn applied_ones_are_skipped() {
        let applied = [row(1, &["a"], true), row(2, &["b"], true)];
        let p = plan(CODE, &applied, PlanOptions::default());
        assert_eq!(versions(&p), [3, 5]);
        assert_eq!(p.already_applied, 2);
        assert!(p.problems.is_empty());
        assert_eq!(current_version(&applied), 2);
    }

    #[test]
    fn target_limits_pending() {
        let options = PlanOptions {
            target: Some(3),
            ..Default::default()
        };
        assert_eq!(versions(&plan(CODE, &[], options)), [1, 2, 3]);
    }

    #[test]
    fn problems_are_found_and_sorted() {
        let applied = [
            row(1, &["a"], true),
            row(2, &["edited"], true),
            row(5, &["e"], true),
            row(9, &["z"], true),
            row(10, &["z"], false),
        ];
        let p = plan(CODE, &applied, PlanOptions::default());
        let kinds: Vec<(i64, &str)> = p
            .problems
            .iter()
            .map(|problem| {
                let kind = match problem {
                    Problem::Dirty { .. } => "dirty",
                    Problem::ChecksumMismatch { .. } => "checksum",
                    Problem::UnknownVersion { .. } => "unknown",
                    Problem::OutOfOrder { .. } => "out_of_order",
                };
                (problem.version(), kind)
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (2, "checksum"),
                (3, "out_of_order"),
                (9, "unknown"),
                (10, "dirty")
            ]
        );
        assert_eq!(versions(&p), [3]);
    }

    #[test]
    fn out_of_order_can_be_allowed() {
        let applied = [row(1, &["a"], true), row(5, &["e"], true)];
        let options = PlanOptions {
            allow_out_of_order: true,
            ..Default::default()
        };
        let p = plan(CODE, &applied, options);
        assert!(p.problems.is_empty());
        assert_eq!(versions(&p), [2, 3]);
    }

    #[test]
    fn dirty_row_blocks_and_is_not_pending() {
        let applied = [row(1, &["a"], true), row(2, &["b"], false)];
        let p = plan(CODE, &applied, PlanOptions::default());
        assert_eq!(
            p.problems,
            [Problem::Dirty {
                version: 2,
                description: "row 2".into()
            }]
        );
        assert_eq!(versions(&p), [3, 5]);
        assert_eq!(current_version(&applied), 1);
        let st: Vec<State> = states(CODE, &applied).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            st,
            [State::Applied, State::Dirty, State::Pending, State::Pending]
        );
    }

    #[test]
    fn missing_checksums_are_unverified_not_drift() {
        let mut legacy = row(1, &["a"], true);
        legacy.checksum = None;
        let p = plan(CODE, &[legacy], PlanOptions::default());
        assert!(p.problems.is_empty());
        assert_eq!(p.unverified, [1]);
    }
}
