//! A cheap bound on how deeply a statement nests, taken before a recursive
//! parser sees it: brackets, and chains of prefix operators (`NOT NOT ...`,
//! `- - ...`) inside them. It may overestimate, never underestimate by much,
//! which is all a guard against stack exhaustion needs.

/// Deeper than this, an entry is given to no parser: squawk's recurses once
/// per level (on a 64 MiB stack, see the engine), and sqlparser slows down
/// badly on some deep forms.
pub(crate) const MAX_NESTING: usize = 1000;

/// Why `sql` is not parsed, when it nests deeper than [`MAX_NESTING`].
pub(crate) fn too_deep(sql: &str) -> Option<String> {
    let depth = nesting_bound(sql);
    (depth > MAX_NESTING).then(|| {
        format!("nested {depth} levels deep, more than the {MAX_NESTING} the linter reads")
    })
}

/// The deepest nesting of `sql`, by the measure above.
pub(crate) fn nesting_bound(sql: &str) -> usize {
    let mut outer: Vec<(usize, usize)> = Vec::new();
    let (mut base, mut run, mut deepest) = (0usize, 0usize, 0usize);
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let start = i;
        i += 1;
        match byte {
            b'(' | b'[' => {
                outer.push((base, run));
                base += run + 1;
                run = 0;
            }
            b')' | b']' => {
                (base, _) = outer.pop().unwrap_or((0, 0));
                run = 0;
            }
            b if b.is_ascii_whitespace() => continue,
            b if b.is_ascii_alphanumeric() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &sql[start..i];
                run = if word.eq_ignore_ascii_case("not") {
                    run + 1
                } else {
                    0
                };
            }
            b if is_prefix_operator(b) => {
                while i < bytes.len() && is_prefix_operator(bytes[i]) {
                    i += 1;
                }
                run += 1;
            }
            _ => run = 0,
        }
        deepest = deepest.max(base + run);
    }
    deepest
}

fn is_prefix_operator(byte: u8) -> bool {
    matches!(byte, b'-' | b'+' | b'~' | b'!' | b'@')
}

#[cfg(test)]
mod tests {
    use super::nesting_bound;

    #[test]
    fn counts_brackets_and_prefix_chains() {
        assert_eq!(nesting_bound("SELECT 1"), 0);
        assert_eq!(nesting_bound("SELECT ((1))"), 2);
        assert_eq!(nesting_bound("SELECT ARRAY[[1], [2]]"), 2);
        assert_eq!(nesting_bound("SELECT NOT NOT true"), 2);
        assert_eq!(nesting_bound("SELECT NOT (NOT (x))"), 4);
        // Siblings do not add up.
        assert_eq!(nesting_bound("WHERE NOT a AND NOT b AND NOT c"), 1);
        assert_eq!(nesting_bound("SELECT (1), (2), (3)"), 1);
        assert_eq!(nesting_bound(&"- ".repeat(50)), 50);
        // Unbalanced input stays within bounds.
        assert_eq!(nesting_bound("))) ((("), 3);
        assert_eq!(nesting_bound("SELECT 'é' || NOTE"), 0);
    }
}
