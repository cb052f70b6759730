//! Text normalisation for definitions the catalogs return as written
//! (view and function bodies, SQLite's stored CREATE statements), so that
//! layout alone never counts as a difference.

/// Collapses whitespace outside quotes to single spaces, drops it inside
/// parentheses' edges and before commas, puts one space after commas, and
/// removes a trailing `;`.
pub(crate) fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c == '-' && chars.peek() == Some(&'-') {
            // A line comment: layout, not definition.
            for next in chars.by_ref() {
                if next == '\n' {
                    break;
                }
            }
            pending_space = true;
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        let glue = matches!(c, ')' | ',') || out.ends_with('(') || out.is_empty();
        if pending_space && !glue {
            out.push(' ');
        }
        pending_space = false;
        if c == '(' && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
        if c == ',' {
            pending_space = true;
        }
        if matches!(c, '\'' | '"' | '`') {
            quote = Some(c);
        }
    }
    while out.ends_with(';') || out.ends_with(' ') {
        out.pop();
    }
    out
}

/// `text` without one pair of parentheses around all of it.
pub(crate) fn strip_outer_parens(text: &str) -> &str {
    let trimmed = text.trim();
    if trimmed.starts_with('(') {
        if let Some((inner, end)) = group_at(trimmed, 0) {
            if end == trimmed.len() {
                return inner.trim();
            }
        }
    }
    trimmed
}

/// Where a character of SQL text stands: inside a quoted string or not,
/// and how deep in parentheses. The one state machine of the scans below.
#[derive(Default)]
struct Nesting {
    quote: Option<char>,
    depth: usize,
}

impl Nesting {
    /// Takes `c`; whether it is code, outside quotes (a quote character
    /// itself counts as quoted). `depth` is then the depth after `c`.
    fn code(&mut self, c: char) -> bool {
        if let Some(q) = self.quote {
            if c == q {
                self.quote = None;
            }
            return false;
        }
        match c {
            '\'' | '"' | '`' => {
                self.quote = Some(c);
                return false;
            }
            '(' => self.depth += 1,
            ')' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        true
    }
}

/// Splits `text` at top-level commas (outside parentheses and quotes).
pub(crate) fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut nesting = Nesting::default();
    let mut current = String::new();
    for c in text.chars() {
        if nesting.code(c) && c == ',' && nesting.depth == 0 {
            parts.push(collapse(&current));
            current.clear();
            continue;
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(collapse(&current));
    }
    parts
}

/// The text inside the parenthesised group that opens at byte `open`
/// (which must be a `(`), and the byte just after its `)`.
fn group_at(text: &str, open: usize) -> Option<(&str, usize)> {
    let mut nesting = Nesting::default();
    for (i, c) in text[open..].char_indices() {
        if nesting.code(c) && c == ')' && nesting.depth == 0 {
            let at = open + i;
            return Some((&text[open + 1..at], at + 1));
        }
    }
    None
}

/// Byte offsets of the words of `text` outside quotes and, when `top` is
/// set, outside parentheses: `(start, word)`.
fn words(text: &str, top: bool) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut nesting = Nesting::default();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if nesting.quote.is_some() {
            nesting.code(c);
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            start.get_or_insert(i);
            continue;
        }
        // A word ends here, at the depth before this character.
        if let Some(s) = start.take() {
            if !top || nesting.depth == 0 {
                found.push((s, &text[s..i]));
            }
        }
        nesting.code(c);
    }
    if let Some(s) = start {
        if !top || nesting.depth == 0 {
            found.push((s, &text[s..]));
        }
    }
    found
}

/// The CHECK constraints of an SQLite `CREATE TABLE` statement (SQLite keeps
/// them only in that text): `(name, condition)`, the name empty when the
/// constraint has none.
pub(crate) fn sqlite_checks(create_table: &str) -> Vec<(String, String)> {
    let Some(open) = create_table.find('(') else {
        return Vec::new();
    };
    let Some((body, _)) = group_at(create_table, open) else {
        return Vec::new();
    };
    let body_start = open + 1;
    let all = words(body, false);
    let mut checks = Vec::new();
    for (n, (at, word)) in all.iter().enumerate() {
        if !word.eq_ignore_ascii_case("CHECK") {
            continue;
        }
        let after = at + word.len();
        let Some(paren) = body[after..].find(|c: char| !c.is_whitespace()) else {
            continue;
        };
        if body.as_bytes()[after + paren] != b'(' {
            continue;
        }
        let Some((condition, _)) = group_at(&create_table[body_start..], after + paren) else {
            continue;
        };
        let name = match n.checked_sub(2).map(|i| all[i]) {
            Some((_, keyword)) if keyword.eq_ignore_ascii_case("CONSTRAINT") => {
                all[n - 1].1.to_string()
            }
            _ => String::new(),
        };
        checks.push((name, collapse(condition)));
    }
    checks
}

/// An SQLite `CREATE INDEX` statement's key parts and `WHERE` condition.
pub(crate) fn sqlite_index_parts(create_index: &str) -> (Vec<String>, Option<String>) {
    let on = words(create_index, true)
        .into_iter()
        .find(|(_, w)| w.eq_ignore_ascii_case("ON"));
    let Some(open) = on.and_then(|(at, _)| create_index[at..].find('(').map(|p| at + p)) else {
        return (Vec::new(), None);
    };
    let Some((columns, end)) = group_at(create_index, open) else {
        return (Vec::new(), None);
    };
    let rest = create_index[end..].trim_start();
    let predicate = match rest.get(..5) {
        Some(w) if w.eq_ignore_ascii_case("WHERE") => Some(collapse(&rest[5..])),
        _ => None,
    };
    (split_top_level(columns), predicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_does_not_count() {
        assert_eq!(
            collapse("SELECT  a ,b\n FROM   t  WHERE x IN ( 1,2 ) ;"),
            "SELECT a, b FROM t WHERE x IN(1, 2)"
        );
        assert_eq!(
            collapse("select 'a  b'  -- note\n from t"),
            "select 'a  b' from t"
        );
        assert_eq!(collapse("f (x)"), collapse("f(x)"));
    }

    #[test]
    fn sqlite_checks_are_found_with_their_names() {
        let sql = "CREATE TABLE t (a INTEGER CHECK (a > 0), b TEXT, \
                   CONSTRAINT b_short CHECK(length(b) < 10), c TEXT DEFAULT 'CHECK (x)')";
        assert_eq!(
            sqlite_checks(sql),
            [
                (String::new(), "a > 0".to_string()),
                ("b_short".to_string(), "length(b) < 10".to_string())
            ]
        );
    }

    #[test]
    fn outer_parentheses_go_only_when_they_wrap_everything() {
        assert_eq!(strip_outer_parens("((a > 0))"), "(a > 0)");
        assert_eq!(
            strip_outer_parens("(a > 0) AND (b > 0)"),
            "(a > 0) AND (b > 0)"
        );
    }

    #[test]
    fn sqlite_index_parts_are_split() {
        let (columns, predicate) = sqlite_index_parts(
            "CREATE UNIQUE INDEX i ON t (lower(email), b DESC) WHERE deleted_at IS NULL",
        );
        assert_eq!(columns, ["lower(email)", "b DESC"]);
        assert_eq!(predicate.as_deref(), Some("deleted_at IS NULL"));
    }
}
