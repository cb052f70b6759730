//! The order each source tool runs its migrations in, so the imported list
//! keeps it ("in source order" means the order the previous tool applied
//! them, which is what a database migrated by it holds):
//!
//! | layout | order | as in |
//! |---|---|---|
//! | diesel | the version (name up to the first `_`, `-` removed) as text | `MigrationVersion` is a string; `MigrationHarness` sorts by it |
//! | sqlx | the version as an integer | sqlx's `resolve_blocking` sorts by the `i64` version |
//! | Flyway | dotted numeric parts, trailing zeros ignored (`1.1 < 1.10 < 2`, `1 = 1.0`) | Flyway's `MigrationVersion.compareTo` |
//! | flat | the file name | a directory listing (`ls`, `for f in *.sql`) |
//!
//! Text and numbers disagree when versions differ in length (diesel's
//! `2024-03-13_1700_x` has the short version `20240313`, which sorts after
//! `20240306170000` as text and before it as a number); each tool's own rule
//! is the one its databases were migrated by.

use std::cmp::Ordering;

use super::layout::Layout;

/// What orders migrations within one layout (only keys of the same variant
/// are ever compared).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum OrderKey {
    /// diesel: the version text, compared byte by byte.
    Text(String),
    /// sqlx: the integer version.
    Integer(i64),
    /// Flyway: see [`FlywayVersion`].
    Flyway(FlywayVersion),
    /// Flat files: the file name.
    Name(String),
}

/// How the order is decided, for the notice that comes with the mapping.
pub(crate) fn rule(layout: Layout) -> &'static str {
    match layout {
        Layout::Diesel => "by version compared as text, as diesel runs them",
        Layout::Sqlx => "by version number, as sqlx runs them",
        Layout::Flyway => "by version, dotted parts compared as numbers, as Flyway runs them",
        Layout::Flat => "by file name",
    }
}

/// A Flyway version: numeric parts separated by `.` or `_` (Flyway reads
/// `V1_1__x.sql` as 1.1), compared part by part as numbers of any size,
/// missing parts counting as 0 (so trailing zeros are ignored, and `1.0`
/// is the same version as `1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlywayVersion {
    /// Each part's digits without leading zeros (`"0"` for zero), trailing
    /// zero parts removed.
    parts: Vec<String>,
}

impl FlywayVersion {
    /// `None` unless `text` is digits separated by single `.` or `_`.
    pub(crate) fn parse(text: &str) -> Option<FlywayVersion> {
        let mut parts = Vec::new();
        for part in text.split(['.', '_']) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let digits = part.trim_start_matches('0');
            parts.push(if digits.is_empty() { "0" } else { digits }.to_string());
        }
        while parts.len() > 1 && parts.last().is_some_and(|p| p == "0") {
            parts.pop();
        }
        Some(FlywayVersion { parts })
    }
}

impl Ord for FlywayVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = String::from("0");
        let longest = self.parts.len().max(other.parts.len());
        (0..longest)
            .map(|i| {
                let a = self.parts.get(i).unwrap_or(&zero);
                let b = other.parts.get(i).unwrap_or(&zero);
                // Without leading zeros, a longer number is a larger one.
                a.len().cmp(&b.len()).then_with(|| a.cmp(b))
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for FlywayVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> FlywayVersion {
        FlywayVersion::parse(text).expect(text)
    }

    #[test]
    fn flyway_compares_dotted_numbers() {
        let mut versions = [
            "10",
            "2",
            "1.10",
            "1.2",
            "1_1",
            "1.1.1",
            "001.0",
            "99999999999999999999999",
        ];
        versions.sort_by_key(|t| v(t));
        assert_eq!(
            versions,
            [
                "001.0",
                "1_1",
                "1.1.1",
                "1.2",
                "1.10",
                "2",
                "10",
                "99999999999999999999999"
            ]
        );
        assert_eq!(v("1"), v("1.0.0"));
        assert_eq!(v("01"), v("1"));
        assert_ne!(v("1.01"), v("1.1.0.1"));
        for bad in ["", "1..2", "1.", "a", "1a", "-1"] {
            assert_eq!(FlywayVersion::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn diesel_text_order_differs_from_numbers() {
        let mut keys = [
            OrderKey::Text("20240313".into()),
            OrderKey::Text("20240306170000".into()),
            OrderKey::Text("201701010000000000".into()),
            OrderKey::Text("20180101000000".into()),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                OrderKey::Text("201701010000000000".into()),
                OrderKey::Text("20180101000000".into()),
                OrderKey::Text("20240306170000".into()),
                OrderKey::Text("20240313".into()),
            ]
        );
    }
}
