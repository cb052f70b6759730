//! The report for people: each finding with its statement, what happens and
//! what to write instead; the statements not checked; a summary line.

use std::fmt;

use super::{Finding, LintReport, NotChecked};

/// Longest statement shown, in characters.
const STATEMENT_WIDTH: usize = 100;

/// A statement on one line: whitespace runs collapsed, a trailing `;`
/// dropped, cut at [`STATEMENT_WIDTH`] characters with `...`.
pub(crate) fn one_line(sql: &str) -> String {
    let collapsed = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed.trim_end_matches(';').trim_end();
    if trimmed.chars().count() <= STATEMENT_WIDTH {
        return trimmed.to_string();
    }
    let mut cut: String = trimmed.chars().take(STATEMENT_WIDTH - 3).collect();
    cut.push_str("...");
    cut
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: migration {} ({}), statement {}: {}",
            self.severity, self.version, self.description, self.statement_index, self.rule
        )?;
        writeln!(f, "    {}", self.statement)?;
        writeln!(f, "  what happens: {}", self.message)?;
        writeln!(f, "  instead: {}", self.advice)?;
        write!(
            f,
            "  if reviewed and intended: allow: &[Lint::{}] on this migration",
            self.rule.variant_name()
        )
    }
}

impl fmt::Display for NotChecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "not checked: migration {} ({}), statement {}: the parser could not read it: {}",
            self.version, self.description, self.statement_index, self.reason
        )?;
        write!(f, "    {}", self.statement)
    }
}

impl fmt::Display for LintReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}\n")?;
        }
        for note in &self.not_checked {
            writeln!(f, "{note}\n")?;
        }
        let migrations = plural(self.checked, "migration", "migrations");
        if self.findings.is_empty() {
            write!(f, "{}: no findings in {migrations}", self.backend.name())?;
        } else {
            write!(
                f,
                "{}: {} ({}, {}) in {migrations}",
                self.backend.name(),
                plural(self.findings.len(), "finding", "findings"),
                plural(self.errors(), "error", "errors"),
                plural(self.warnings(), "warning", "warnings"),
            )?;
        }
        if !self.not_checked.is_empty() {
            write!(
                f,
                ", {} not checked",
                plural(self.not_checked.len(), "statement", "statements")
            )?;
        }
        Ok(())
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_collapses_and_cuts() {
        assert_eq!(
            one_line("CREATE INDEX i\n    ON t (a);\n"),
            "CREATE INDEX i ON t (a)"
        );
        let long = format!("SELECT {}", "x, ".repeat(60));
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), STATEMENT_WIDTH);
        assert!(cut.ends_with("..."));
        assert_eq!(one_line("SELECT 'é'"), "SELECT 'é'");
    }
}
