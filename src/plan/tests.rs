//! The planner, table by table, with its messages pinned: what each command
//! decides for a given code list and tracking table.

use super::maintenance::touched;
use super::*;

const fn m(version: i64, sql: &'static [&'static str]) -> Migration {
    Migration {
        version,
        description: "d",
        sql,
        ..Migration::DEFAULT
    }
}

const fn reversible(
    version: i64,
    sql: &'static [&'static str],
    down: &'static [&'static str],
) -> Migration {
    Migration {
        down,
        ..m(version, sql)
    }
}

const CODE: &[Migration] = &[m(1, &["a"]), m(2, &["b"]), m(3, &["c"]), m(5, &["e"])];

fn checksums(migrations: &[Migration]) -> Vec<String> {
    migrations.iter().map(Migration::checksum).collect()
}

fn row(version: i64, sql: &[&str], success: bool) -> AppliedMigration {
    AppliedMigration {
        version,
        description: format!("row {version}"),
        checksum: Some(crate::checksum::checksum(sql)),
        applied_at: None,
        execution_ms: 1.0,
        success,
        down: None,
        list_fingerprint: None,
    }
}

fn code_row(migration: &Migration) -> AppliedMigration {
    AppliedMigration {
        description: migration.description.to_string(),
        ..row(migration.version, migration.sql, true)
    }
}

fn with<T>(migrations: &'static [Migration], body: impl FnOnce(CodeList) -> T) -> T {
    let sums = std::sync::OnceLock::from(checksums(migrations));
    let fingerprint = std::sync::OnceLock::new();
    body(CodeList::new(migrations, &sums, &fingerprint))
}

fn pending_versions(plan: &ApplyPlan) -> Vec<i64> {
    plan.pending.iter().map(|(m, _)| m.version).collect()
}

fn messages(refusal: &Refusal) -> String {
    refusal.to_string()
}

#[test]
fn apply_plans_in_order_and_skips_what_is_applied() {
    with(CODE, |code| {
        let fresh = plan_apply(code, &[], PlanOptions::default(), None).unwrap();
        assert_eq!(pending_versions(&fresh), [1, 2, 3, 5]);
        assert_eq!((fresh.already_applied, fresh.version_before), (0, 0));

        let applied = [row(1, &["a"], true), row(2, &["b"], true)];
        let later = plan_apply(code, &applied, PlanOptions::default(), None).unwrap();
        assert_eq!(pending_versions(&later), [3, 5]);
        assert_eq!((later.already_applied, later.version_before), (2, 2));

        let to_three = PlanOptions {
            target: Some(3),
            ..Default::default()
        };
        assert_eq!(
            pending_versions(&plan_apply(code, &[], to_three, None).unwrap()),
            [1, 2, 3]
        );
    });
}

#[test]
fn apply_refuses_every_problem_at_once_with_pinned_messages() {
    with(CODE, |code| {
        let applied = [
            row(1, &["a"], true),
            row(2, &["edited"], true),
            row(5, &["e"], true),
            row(9, &["z"], true),
            row(10, &["z"], false),
        ];
        let refusal = plan_apply(code, &applied, PlanOptions::default(), None).unwrap_err();
        assert_eq!(
            messages(&refusal),
            "refusing to apply: the database and the code disagree\n\
             \x20 - migration 2 is not the one that was applied: the database recorded \"row 2\", the code has \"d\" (and different SQL)\n\
             \x20 - migration 3 (d) is pending but version 10 is already applied\n\
             \x20 - the database has migration 9 (row 9), which the code does not know: the database is ahead of this build\n\
             \x20 - migration 10 (row 10) is dirty: it started and did not finish"
        );
    });
}

#[test]
fn an_edit_keeps_its_description_in_the_message() {
    with(CODE, |code| {
        let mut edited = code_row(&CODE[0]);
        edited.checksum = Some(String::from("x"));
        let refusal = plan_apply(code, &[edited], PlanOptions::default(), None).unwrap_err();
        assert!(
            messages(&refusal).ends_with(
                "migration 1 (d) was edited after it was applied (its checksum differs)"
            ),
            "{refusal}"
        );
    });
}

#[test]
fn out_of_order_can_be_allowed() {
    with(CODE, |code| {
        let applied = [row(1, &["a"], true), row(5, &["e"], true)];
        let options = PlanOptions {
            allow_out_of_order: true,
            ..Default::default()
        };
        assert_eq!(
            pending_versions(&plan_apply(code, &applied, options, None).unwrap()),
            [2, 3]
        );
    });
}

#[test]
fn missing_checksums_are_trusted_only_from_a_table_that_never_had_them() {
    with(CODE, |code| {
        let mut legacy = code_row(&CODE[0]);
        legacy.checksum = None;
        let trusted = PlanOptions {
            trust_missing_checksums: true,
            ..Default::default()
        };
        let plan = plan_apply(code, std::slice::from_ref(&legacy), trusted, None).unwrap();
        assert_eq!(plan.adopt, [1]);
        let refusal = plan_apply(code, &[legacy], PlanOptions::default(), None).unwrap_err();
        assert!(
            messages(&refusal).ends_with(
                "migration 1 (d) has no checksum recorded, so an edit to it would go unnoticed"
            ),
            "{refusal}"
        );
    });
}

#[test]
fn the_placeholder_is_refused_before_anything_runs() {
    static LIST: &[Migration] = &[m(1, &["a"]), m(2, &[crate::PLACEHOLDER_SQL])];
    with(LIST, |code| {
        let refusal = plan_apply(code, &[], PlanOptions::default(), None).unwrap_err();
        assert_eq!(
            messages(&refusal),
            "refusing to apply: the database and the code disagree\n  - migration 2 (d) still has the placeholder SQL that `new` wrote"
        );
    });
}

#[test]
fn single_transaction_needs_transactional_ddl_and_no_transaction_false() {
    static LIST: &[Migration] = &[
        m(1, &["a"]),
        Migration {
            transaction: false,
            ..m(2, &["CREATE INDEX CONCURRENTLY i ON t (c)"])
        },
    ];
    with(LIST, |code| {
        let mysql =
            plan_apply(code, &[], PlanOptions::default(), Some(Dialect::Mysql)).unwrap_err();
        assert_eq!(
            messages(&mysql),
            "a single transaction is not possible: MySQL commits DDL implicitly, so a run cannot be rolled back as a whole"
        );
        let pg =
            plan_apply(code, &[], PlanOptions::default(), Some(Dialect::Postgres)).unwrap_err();
        assert_eq!(
            messages(&pg),
            "a single transaction is not possible: migration 2 (d) has `transaction: false`"
        );
        let before = PlanOptions {
            target: Some(1),
            ..Default::default()
        };
        assert!(
            plan_apply(code, &[], before, Some(Dialect::Postgres)).is_ok(),
            "only pending ones count"
        );
    });
}

static REVERSIBLE: &[Migration] = &[
    reversible(1, &["create a"], &["drop a"]),
    m(2, &["irreversible b"]),
    reversible(3, &["create c"], &["drop c"]),
    reversible(4, &["create d"], &["drop d"]),
];

fn applied_all() -> Vec<AppliedMigration> {
    REVERSIBLE.iter().map(code_row).collect()
}

fn step_versions(plan: &RollbackPlan) -> Vec<i64> {
    plan.steps.iter().map(|s| s.version).collect()
}

#[test]
fn rollback_takes_the_newest_first_by_steps_or_target() {
    with(REVERSIBLE, |code| {
        let rows = applied_all();
        let one = plan_rollback(code, &rows, RollbackTarget::Steps(1));
        assert_eq!(step_versions(&one), [4]);
        assert_eq!((one.version_before, one.target_version), (4, 3));
        assert!(one.refusal().is_none());
        assert_eq!(one.steps[0].statements, ["drop d"]);

        let to_two = plan_rollback(code, &rows, RollbackTarget::To(2));
        assert_eq!(step_versions(&to_two), [4, 3]);
        assert_eq!(to_two.target_version, 2);
        let above_all = plan_rollback(code, &rows, RollbackTarget::To(9));
        assert!(above_all.steps.is_empty());
    });
}

#[test]
fn rollback_marks_every_blocker_with_pinned_messages() {
    with(REVERSIBLE, |code| {
        let rows = applied_all();
        let plan = plan_rollback(code, &rows, RollbackTarget::To(0));
        assert_eq!(
            step_versions(&plan),
            [4, 3, 2, 1],
            "the whole plan is shown"
        );
        assert_eq!(
            plan.refusal().map(ToString::to_string).as_deref(),
            Some("cannot roll back: migration 2 (d) is irreversible (it has no `down` statements); nothing was changed")
        );
        assert!(plan.steps[0].blocker.is_none() && plan.steps[2].blocker.is_some());

        let mut dirty = applied_all();
        dirty[3].success = false;
        let plan = plan_rollback(code, &dirty, RollbackTarget::Steps(1));
        assert_eq!(
            plan.refusal().map(ToString::to_string).as_deref(),
            Some("cannot roll back: migration 4 (d) is dirty; nothing was changed")
        );
    });
}

#[test]
fn rollback_of_a_version_the_code_lacks_uses_its_recorded_down() {
    with(&REVERSIBLE[..2], |code| {
        let mut rows = applied_all();
        rows[3].down = Some(vec![String::from("drop d (recorded)")]);
        rows[2].down = None;
        let plan = plan_rollback(code, &rows, RollbackTarget::Steps(1));
        assert!(plan.refusal().is_none());
        assert!(plan.steps[0].is_from_database());
        assert_eq!(plan.steps[0].statements, ["drop d (recorded)"]);
        let older = plan_rollback(code, &rows, RollbackTarget::Steps(2));
        assert_eq!(
            older.refusal().map(ToString::to_string).as_deref(),
            Some("cannot roll back: migration 3 (d) is not in the code and its row records no down statements; nothing was changed")
        );
        rows[2].down = Some(Vec::new());
        let irreversible = plan_rollback(code, &rows, RollbackTarget::Steps(2));
        assert!(matches!(
            irreversible.refusal(),
            Some(Refusal::Irreversible { version: 3, .. })
        ));
    });
}

#[test]
fn redo_rolls_back_and_reapplies_what_the_code_has() {
    with(REVERSIBLE, |code| {
        let (plan, again) = plan_redo(code, &applied_all(), 2).unwrap();
        assert_eq!(step_versions(&plan), [4, 3]);
        assert_eq!(
            again.iter().map(|m| m.version).collect::<Vec<_>>(),
            [3, 4],
            "oldest first"
        );
        let refusal = plan_redo(code, &applied_all(), 3).unwrap_err();
        assert!(
            matches!(refusal, Refusal::Irreversible { version: 2, .. }),
            "{refusal}"
        );
    });
    with(&REVERSIBLE[..3], |code| {
        let mut rows = applied_all();
        rows[3].down = Some(vec![String::from("drop d")]);
        assert_eq!(
            plan_redo(code, &rows, 1).unwrap_err().to_string(),
            "cannot redo: migration 4 (d) is not in the code, so it could not be applied again; nothing was changed"
        );
    });
}

#[test]
fn repair_removes_dirty_rows_accepts_edits_and_leaves_unknown_ones() {
    with(CODE, |code| {
        let mut rows: Vec<AppliedMigration> = CODE[..3].iter().map(code_row).collect();
        rows[1].checksum = Some(String::from("edited"));
        rows[2].success = false;
        rows.push(AppliedMigration {
            description: String::from("from another build"),
            ..row(9, &["z"], true)
        });
        let plan = plan_repair(code, &rows, false).unwrap();
        assert_eq!(plan.remove_dirty, [3]);
        assert_eq!(plan.accept.iter().map(|a| a.0).collect::<Vec<_>>(), [2]);
        assert_eq!(plan.unknown, [9]);
        assert!(touched(&plan).values().all(|&n| n == 1));
        assert!(
            plan_repair(code, &CODE.iter().map(code_row).collect::<Vec<_>>(), false)
                .unwrap()
                .is_empty()
        );
    });
}

#[test]
fn repair_refuses_other_descriptions_unless_told() {
    with(CODE, |code| {
        let mut rows: Vec<AppliedMigration> = CODE[..2].iter().map(code_row).collect();
        rows[0].description = String::from("Create accounts");
        rows[0].checksum = Some(String::from("other"));
        let refusal = plan_repair(code, &rows, false).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "refusing to repair: recorded descriptions differ from the code's (is this the right binary for this database?)\n\
             \x20 - migration 1: the database recorded \"Create accounts\", the code has \"d\""
        );
        let plan = plan_repair(code, &rows, true).unwrap();
        assert_eq!(plan.accept, [(1, "d", CODE[0].checksum())]);
    });
}

#[test]
fn baseline_needs_an_empty_history_and_a_version_of_the_code() {
    with(CODE, |code| {
        let adopted = plan_baseline(code, &[], 3).unwrap();
        assert_eq!(
            adopted.iter().map(|m| m.version).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(
            plan_baseline(code, &[], 4).unwrap().len(),
            3,
            "between versions: everything below"
        );
        let cases: &[(&[AppliedMigration], i64, &str)] = &[
            (
                &[],
                99,
                "cannot baseline at version 99: the code's last migration is 5",
            ),
            (
                &[],
                0,
                "cannot baseline at version 0: no migration in the code has a version at or below it",
            ),
        ];
        for (rows, version, expected) in cases {
            assert_eq!(
                plan_baseline(code, rows, *version).unwrap_err().to_string(),
                *expected
            );
        }
        let rows = [row(1, &["a"], true)];
        assert_eq!(
            plan_baseline(code, &rows, 2).unwrap_err().to_string(),
            "cannot baseline: 1 migration(s) are already recorded; baseline only adopts a database with no history"
        );
    });
}

#[test]
fn states_show_edits_and_dirt() {
    with(CODE, |code| {
        let mut rows = vec![code_row(&CODE[0]), code_row(&CODE[1]), code_row(&CODE[2])];
        rows[1].checksum = Some(String::from("edited"));
        rows[2].success = false;
        let found: Vec<State> = states(code, &rows).into_iter().map(|(_, s, _)| s).collect();
        assert_eq!(
            found,
            [State::Applied, State::Edited, State::Dirty, State::Pending]
        );
        assert_eq!(current_version(&rows), 2);
    });
}
