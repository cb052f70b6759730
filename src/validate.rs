//! The compile-time check over a whole `MIGRATIONS` list.

use crate::invalid::{contains_nul, InvalidMigration, Rule};
use crate::migration::Migration;

/// Checks the rules of a `MIGRATIONS` list and panics with a message naming the
/// offending version. Being a `const fn`, it turns a bad list into a build
/// error when evaluated in a constant, as the `migrate` binary does:
///
/// ```compile_fail
/// use versioned_migrations::Migration;
/// const MIGRATIONS: &[Migration] = &[
///     Migration { version: 2, description: "b", sql: &["SELECT 1"], ..Migration::DEFAULT },
///     Migration { version: 2, description: "c", sql: &["SELECT 1"], ..Migration::DEFAULT },
/// ];
/// const _: () = versioned_migrations::validate(MIGRATIONS);
/// ```
///
/// A description with a NUL byte could never be recorded, so it stops the
/// build too:
///
/// ```compile_fail
/// use versioned_migrations::Migration;
/// const MIGRATIONS: &[Migration] = &[
///     Migration { version: 1, description: "a\0b", sql: &["SELECT 1"], ..Migration::DEFAULT },
/// ];
/// const _: () = versioned_migrations::validate(MIGRATIONS);
/// ```
///
/// That byte scan runs in the compiler's constant evaluator, which is slow
/// (about 0.6 s more per build at 10,000 entries, measured by `-Z
/// time-passes`; 1.5 s and past the compiler's limit for a constant's
/// evaluation with the indexed loop it had before), so it is done at build time only while the
/// descriptions hold at most [`BUILD_TIME_SCAN_BYTES`] bytes; beyond that,
/// every command refuses such a description at run time, before anything
/// runs, with the same message.
pub const fn validate(migrations: &[Migration]) {
    let scan = description_bytes(migrations) <= BUILD_TIME_SCAN_BYTES;
    if let Some(problem) = first_broken(migrations, scan) {
        let message = problem.message();
        panic!("{}", message.as_str());
    }
}

/// Descriptions up to this many bytes in all (some 800 entries) are scanned
/// for NUL bytes at build time.
pub const BUILD_TIME_SCAN_BYTES: usize = 64 * 1024;

const fn description_bytes(migrations: &[Migration]) -> usize {
    let mut total = 0;
    let mut rest = migrations;
    while let [m, tail @ ..] = rest {
        total += m.description.len();
        rest = tail;
    }
    total
}

/// The first rule a list breaks, if any (every rule, NUL bytes included).
pub const fn find_invalid(migrations: &[Migration]) -> Option<InvalidMigration> {
    first_broken(migrations, true)
}

/// Written for the compiler's constant evaluator, an interpreter in which
/// every call, bounds-checked index and comparison is a step: the list and
/// the statements are walked by slice patterns (no `len()` or index per
/// step), the version rules cost one comparison for an entry that keeps
/// them, and a statement is settled by its first byte.
const fn first_broken(migrations: &[Migration], scan_bytes: bool) -> Option<InvalidMigration> {
    // The version of the entry before; 0 before the first, so one `>`
    // checks "positive" and "increasing" at once.
    let mut previous = 0;
    let mut i = 0;
    let mut rest = migrations;
    while let [m, tail @ ..] = rest {
        let rule = if m.version <= previous {
            Some(if m.version <= 0 {
                Rule::NotPositive
            } else if m.version == previous {
                Rule::Duplicate
            } else {
                Rule::OutOfOrder
            })
        } else if m.description.is_empty() {
            Some(Rule::EmptyDescription)
        } else if scan_bytes && contains_nul(m.description) {
            Some(Rule::NulInDescription)
        } else if matches!((m.sql, &m.code), ([], None)) {
            Some(Rule::EmptySql)
        } else if matches!(&m.code, Some(code) if code.name.is_empty()) {
            Some(Rule::CodeWithoutName)
        } else if has_blank(m.sql) {
            Some(Rule::BlankStatement)
        } else {
            None
        };
        if let Some(rule) = rule {
            return Some(InvalidMigration {
                version: m.version,
                previous,
                index: i,
                description: m.description,
                rule,
            });
        }
        previous = m.version;
        rest = tail;
        i += 1;
    }
    None
}

/// `u8::is_ascii_whitespace`'s bytes as a pattern: the evaluator takes no
/// call for it.
macro_rules! whitespace {
    () => {
        b' ' | b'\t' | b'\n' | b'\x0c' | b'\r'
    };
}

/// An `sql` entry that is empty or only whitespace. A statement whose first
/// byte is not whitespace is settled by that byte (so long statements cost
/// nothing at compile time); only one that starts with whitespace is
/// scanned further.
const fn has_blank(statements: &[&str]) -> bool {
    let mut rest = statements;
    while let [statement, tail @ ..] = rest {
        match statement.as_bytes() {
            [first, ..] if !matches!(*first, whitespace!()) => {}
            bytes => {
                let mut left = bytes;
                while let [byte, after @ ..] = left {
                    if !matches!(*byte, whitespace!()) {
                        break;
                    }
                    left = after;
                }
                if left.is_empty() {
                    return true;
                }
            }
        }
        rest = tail;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn m(version: i64, description: &'static str, sql: &'static [&'static str]) -> Migration {
        Migration {
            version,
            description,
            sql,
            ..Migration::DEFAULT
        }
    }

    #[test]
    fn valid_list_passes() {
        const OK: &[Migration] = &[m(1, "a", &["x"]), m(2, "b", &["y"]), m(10, "c", &["z"])];
        const _: () = validate(OK);
        assert_eq!(find_invalid(OK), None);
        assert_eq!(find_invalid(&[]), None);
    }

    #[test]
    fn a_statement_is_blank_only_when_every_byte_is_whitespace() {
        const INDENTED: &[Migration] = &[m(1, "a", &["\n    SELECT 1", "\t\x0c\r x"])];
        const _: () = validate(INDENTED);
        assert_eq!(find_invalid(INDENTED), None);
        const BLANK: &[&[&str]] = &[&["SELECT 2", ""], &["SELECT 2", " "], &["\n\t\r\x0c  "]];
        for &sql in BLANK {
            let list = [m(1, "a", &["SELECT 1"]), m(2, "b", sql)];
            let problem = find_invalid(&list).expect("a blank statement");
            assert_eq!((problem.version, problem.rule), (2, Rule::BlankStatement));
        }
    }

    #[test]
    fn each_rule_names_the_version() {
        let cases: &[(&[Migration], &str)] = &[
            (
                &[m(0, "a", &["x"])],
                "migration 0: version must be greater than 0",
            ),
            (
                &[m(-3, "a", &["x"])],
                "migration -3: version must be greater than 0",
            ),
            (
                &[m(1, "a", &["x"]), m(1, "b", &["y"])],
                "migration 1: version appears twice",
            ),
            (
                &[m(5, "a", &["x"]), m(3, "b", &["y"])],
                "migration 3: versions must increase down the list, but it follows version 5",
            ),
            (
                &[m(1, "a", &["x"]), m(2, "", &["y"])],
                "migration 2: description is empty",
            ),
            (&[m(7, "a", &[])], "migration 7: sql has no statements"),
            (
                &[m(8, "a\0b", &["x"])],
                "migration 8: description contains a NUL byte (entry 1 of the list)",
            ),
            (
                &[m(1, "a", &["x"]), m(9, "blank", &["x", " \n\t"])],
                "migration 9: sql has an empty statement (entry 2 of the list, \"blank\")",
            ),
            (
                &[m(1, "a", &["x"]), m(10, "empty", &[""])],
                "migration 10: sql has an empty statement",
            ),
        ];
        for (list, expected) in cases {
            let problem = find_invalid(list).expect("a broken rule");
            let message = problem.to_string();
            assert!(
                message.contains(expected),
                "{message:?} should contain {expected:?}"
            );
        }
    }

    #[test]
    fn validate_panics_with_the_message() {
        let result = std::panic::catch_unwind(|| validate(&[m(4, "a", &["x"]), m(4, "b", &["y"])]));
        let payload = result.expect_err("must panic");
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(
            text.contains("migration 4: version appears twice"),
            "{text}"
        );
    }

    #[test]
    fn a_nul_byte_in_a_long_list_is_left_to_run_time() {
        let long = "d".repeat(BUILD_TIME_SCAN_BYTES);
        let long: &'static str = Box::leak(long.into_boxed_str());
        let list: &'static [Migration] =
            Box::leak(vec![m(7, long, &["x"]), m(8, "a\0b", &["x"])].into_boxed_slice());
        validate(list);
        let refused = crate::Migrator::new(list).version(
            &mut crate::AnyConnection::connect(
                &crate::DatabaseUrl::parse(":memory:").expect("url"),
                crate::Access::ReadWrite,
            )
            .expect("connect"),
        );
        assert!(
            matches!(&refused, Err(crate::Error::InvalidMigrations(p)) if p.rule == Rule::NulInDescription),
            "{refused:?}"
        );
    }

    #[test]
    #[should_panic(expected = "NUL")]
    fn a_nul_byte_in_a_short_list_stops_validate() {
        validate(&[m(8, "a\0b", &["x"])]);
    }

    #[test]
    fn extreme_versions_format() {
        let problem = find_invalid(&[m(i64::MIN, "a", &["x"])]).expect("invalid");
        assert!(problem.to_string().contains("-9223372036854775808"));
    }
}
