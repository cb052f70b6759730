//! Turns each migration's scanned statements into findings, with the context
//! only the migration list has: tables created earlier in the same
//! migration, the MySQL DDL count, `allow`, `since`.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::hazard::Hazard;
use super::render::one_line;
use super::scan::{Scan, Unreadable};
use super::{postgres, sql, Finding, LintReport, NotChecked};
use crate::{Dialect, Migration};

/// The parsers recurse once per nesting level; they get a stack of their own
/// this size, whatever the caller's thread has (2 MiB in `cargo test`).
const PARSER_STACK: usize = 64 << 20;

pub(crate) fn run(migrations: &[Migration], backend: Dialect, since: Option<i64>) -> LintReport {
    let on_own_stack = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("lint".to_string())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || run_here(migrations, backend, since))
            .ok()
            .and_then(|worker| worker.join().ok())
    });
    // A system that cannot start a thread still gets its report.
    on_own_stack.unwrap_or_else(|| run_here(migrations, backend, since))
}

fn run_here(migrations: &[Migration], backend: Dialect, since: Option<i64>) -> LintReport {
    let mut report = LintReport {
        backend,
        checked: 0,
        findings: Vec::new(),
        not_checked: Vec::new(),
    };
    for migration in migrations {
        if since.is_some_and(|n| migration.version <= n) {
            continue;
        }
        report.checked += 1;
        let scan = scan(migration, backend);
        judge(migration, backend, scan, &mut report);
    }
    report
}

/// A parser that panics on some input costs that migration its check, not
/// the whole run.
fn scan(migration: &Migration, backend: Dialect) -> Scan {
    guarded(migration, || match backend {
        Dialect::Postgres => postgres::scan(migration),
        Dialect::Mysql | Dialect::Sqlite => sql::scan(migration, backend),
    })
}

fn guarded(migration: &Migration, scanner: impl FnOnce() -> Scan) -> Scan {
    catch_unwind(AssertUnwindSafe(scanner)).unwrap_or_else(|_| Scan {
        statements: Vec::new(),
        unreadable: (0..migration.sql.len())
            .map(|entry| Unreadable {
                entry,
                reason: "the SQL parser failed on this migration".to_string(),
            })
            .collect(),
    })
}

fn judge(migration: &Migration, backend: Dialect, scan: Scan, report: &mut LintReport) {
    let description = migration.description.to_string();
    for unreadable in scan.unreadable {
        report.not_checked.push(NotChecked {
            version: migration.version,
            description: description.clone(),
            statement_index: unreadable.entry + 1,
            statement: one_line(migration.sql.get(unreadable.entry).copied().unwrap_or("")),
            reason: unreadable.reason,
        });
    }

    let ddl_total = scan.statements.iter().filter(|s| s.ddl).count();
    let mut ddl_seen = 0;
    let mut created: HashSet<String> = HashSet::new();
    let mut found = Vec::new();
    for statement in &scan.statements {
        let on_new_table = statement
            .target_table
            .as_ref()
            .is_some_and(|t| created.contains(t));
        let mut hazards: Vec<Hazard> = statement
            .hazards
            .iter()
            .copied()
            .filter(|h| !(on_new_table && h.silenced_by_new_table(backend)))
            .collect();
        if statement.ddl && backend == Dialect::Mysql {
            ddl_seen += 1;
            // Once per migration, at the statement that makes it two.
            if ddl_seen == 2 {
                hazards.push(Hazard::NonAtomicDdl);
            }
        }
        for hazard in hazards {
            let rule = hazard.lint();
            if !rule.applies_to(backend) || migration.allow.contains(&rule) {
                continue;
            }
            let mut message = hazard.message(backend).to_string();
            if hazard == Hazard::NonAtomicDdl {
                message = format!("{ddl_total} DDL statements: {message}");
            }
            found.push(Finding {
                rule,
                severity: rule.severity(),
                version: migration.version,
                description: description.clone(),
                statement_index: statement.entry + 1,
                statement: one_line(&statement.text),
                message,
                advice: hazard.advice(backend).to_string(),
            });
        }
        if let Some(table) = &statement.creates_table {
            created.insert(table.clone());
        }
    }
    report.findings.extend(found);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_parser_leaves_its_migration_not_checked() {
        let migration = Migration {
            version: 7,
            description: "d",
            sql: &["SELECT 1", "SELECT 2"],
            ..Migration::DEFAULT
        };
        let scan = guarded(&migration, || panic!("parser bug"));
        assert!(scan.statements.is_empty());
        let entries: Vec<usize> = scan.unreadable.iter().map(|u| u.entry).collect();
        assert_eq!(entries, [0, 1]);
        let mut report = LintReport {
            backend: Dialect::Postgres,
            checked: 1,
            findings: Vec::new(),
            not_checked: Vec::new(),
        };
        judge(&migration, Dialect::Postgres, scan, &mut report);
        assert_eq!(report.not_checked.len(), 2);
        assert_eq!(report.not_checked[1].statement_index, 2);
        assert!(report.findings.is_empty());
    }
}
