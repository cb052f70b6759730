//! Splitting a SQL file into statements.
//!
//! Migration files written for other tools hold several statements; a
//! `Migration` lists them one by one so a failure names the statement. The
//! split must never cut inside a string, identifier, comment, dollar-quoted
//! body or trigger body, so whenever the text could be read two ways the split
//! says so (`certain: false`) and the caller keeps the file as one batch.

mod lex;

use lex::line_of;
pub(crate) use lex::{lex, Kind, Token};

/// The statements of a SQL text, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Trimmed statements without their terminating `;`. Comments before a
    /// statement's first word are dropped (so comment-only fragments vanish);
    /// comments inside a statement are kept. When `certain` is false this is a
    /// best effort, useful only for diagnostics.
    pub statements: Vec<String>,
    /// False when some part could not be split with certainty.
    pub certain: bool,
    /// Why `certain` is false (the first reason found, naming the line).
    pub reason: Option<String>,
}

/// Splits `sql` on top-level `;`.
///
/// A `;` does not end a statement inside a `'…'` string (with `''` escapes),
/// a `"…"` or `` `…` `` identifier, a `--`, `#` (at a statement's start or a
/// line's start, MySQL) or `/* */` comment (nested, as PostgreSQL reads them),
/// a `$$ … $$` or `$tag$ … $tag$` body, parentheses (PostgreSQL
/// `CREATE RULE … DO (…; …)`), or the `BEGIN … END` body of a
/// `CREATE TRIGGER`/`FUNCTION`/`PROCEDURE`/`EVENT` (where `CASE … END` nests
/// and `END IF`/`END LOOP`/`END WHILE`/`END REPEAT` close nothing counted).
///
/// Uncertain: an unterminated string, identifier, comment or dollar quote; a
/// string whose end differs between standard SQL and MySQL's backslash
/// escapes; a MySQL `DELIMITER` line; a psql `\` meta-command; an anonymous
/// `BEGIN … END`/`DECLARE` block or `BEGIN` outside a routine or trigger; an
/// unclosed block or parenthesis.
pub fn split_statements(sql: &str) -> Split {
    let (tokens, lex_problem) = lex(sql);
    let mut splitter = Splitter {
        sql,
        tokens: &tokens,
        statements: Vec::new(),
        reason: lex_problem,
    };
    splitter.run();
    let certain = splitter.reason.is_none();
    Split {
        statements: splitter.statements,
        certain,
        reason: splitter.reason,
    }
}

/// Words after `BEGIN` that make it a transaction statement, not a block.
const TRANSACTION_BEGIN: &[&str] = &[
    "TRANSACTION",
    "WORK",
    "TRAN",
    "IMMEDIATE",
    "DEFERRED",
    "EXCLUSIVE",
    "ISOLATION",
    "READ",
];

/// Statements whose `BEGIN … END` body holds `;`.
const BLOCK_OWNERS: &[&str] = &["TRIGGER", "FUNCTION", "PROCEDURE", "EVENT"];

/// How many leading words may name the object a `CREATE` makes.
const OWNER_WINDOW: usize = 6;

/// Words after `END` that close a construct whose opening is not counted.
const END_OF_UNCOUNTED: &[&str] = &["IF", "LOOP", "WHILE", "REPEAT", "FOR"];

struct Splitter<'a> {
    sql: &'a str,
    tokens: &'a [Token],
    statements: Vec<String>,
    reason: Option<String>,
}

/// What is known about the statement being read.
#[derive(Default)]
struct Statement {
    start: Option<usize>,
    /// Upper-cased bare words seen so far (only the first few are kept).
    words: Vec<String>,
    /// The statement creates a trigger or routine, so `BEGIN` opens a body.
    owns_block: bool,
    /// Open `BEGIN`/`CASE` inside such a body, and where the outermost
    /// opened (a byte offset: lines are counted only for a message).
    blocks: usize,
    block_at: usize,
    parens: usize,
    paren_at: usize,
    /// The previous significant token was the word `END` (so `END CASE`
    /// closes a CASE rather than opening one).
    after_end: bool,
}

impl Splitter<'_> {
    fn uncertain(&mut self, reason: String) {
        if self.reason.is_none() {
            self.reason = Some(reason);
        }
    }

    fn word(&self, token: &Token) -> Option<String> {
        (token.kind == Kind::Word).then(|| self.sql[token.start..token.end].to_ascii_uppercase())
    }

    fn run(&mut self) {
        let (sql, tokens) = (self.sql, self.tokens);
        let mut current = Statement::default();
        for (i, token) in tokens.iter().enumerate() {
            if !token.is_significant() {
                continue;
            }
            let line = || line_of(sql, token.start);
            if token.kind == Kind::Semicolon && current.blocks == 0 && current.parens == 0 {
                self.finish(&current, token.start);
                current = Statement::default();
                continue;
            }
            let first = current.start.is_none();
            if first {
                current.start = Some(token.start);
                if token.kind == Kind::Punct(b'\\') {
                    self.uncertain(format!(
                        "a psql meta-command (\\…) on line {}, which only psql understands",
                        line()
                    ));
                }
            }
            let after_end = std::mem::take(&mut current.after_end);
            match token.kind {
                Kind::Punct(b'(') => {
                    if current.parens == 0 {
                        current.paren_at = token.start;
                    }
                    current.parens += 1;
                }
                Kind::Punct(b')') => current.parens = current.parens.saturating_sub(1),
                Kind::Word => {
                    let Some(word) = self.word(token) else {
                        continue;
                    };
                    self.on_word(&mut current, &word, i, first, after_end);
                    current.after_end = word == "END";
                    if current.words.len() < OWNER_WINDOW {
                        current.words.push(word);
                    }
                }
                _ => {}
            }
        }
        if current.start.is_some() {
            if current.blocks > 0 {
                self.uncertain(format!(
                    "the BEGIN … END block opened on line {} is never closed",
                    line_of(sql, current.block_at)
                ));
            } else if current.parens > 0 {
                self.uncertain(format!(
                    "the parenthesis opened on line {} is never closed",
                    line_of(sql, current.paren_at)
                ));
            }
            self.finish(&current, sql.len());
        }
    }

    fn on_word(
        &mut self,
        current: &mut Statement,
        word: &str,
        i: usize,
        first: bool,
        after_end: bool,
    ) {
        let (sql, tokens) = (self.sql, self.tokens);
        // Computed only when needed: counting lines for every word of a
        // large dump would be quadratic.
        let line = || line_of(sql, tokens[i].start);
        let next = tokens[i + 1..].iter().find(|t| t.is_significant());
        let next_word = || next.and_then(|t| self.word(t));
        if first {
            match word {
                "DELIMITER" => self.uncertain(format!(
                    "a MySQL DELIMITER command on line {}, which only the mysql client understands",
                    line()
                )),
                "DECLARE" => {
                    self.uncertain(format!("a DECLARE … BEGIN … END block on line {}", line()))
                }
                "BEGIN" => {
                    let transaction = match next {
                        None => true,
                        Some(t) if t.kind == Kind::Semicolon => true,
                        Some(_) => next_word()
                            .as_deref()
                            .is_some_and(|w| TRANSACTION_BEGIN.contains(&w)),
                    };
                    if !transaction {
                        self.uncertain(format!(
                            "an anonymous BEGIN … END block on line {}",
                            line()
                        ));
                    }
                }
                _ => {}
            }
            return;
        }
        // `CREATE [OR REPLACE] [TEMP] TRIGGER`, `CREATE DEFINER=… PROCEDURE`:
        // the object type comes within the first few words.
        if current.words.len() < OWNER_WINDOW
            && current.words.first().map(String::as_str) == Some("CREATE")
            && BLOCK_OWNERS.contains(&word)
        {
            current.owns_block = true;
        }
        match word {
            "BEGIN" if current.owns_block => {
                if current.blocks == 0 {
                    current.block_at = tokens[i].start;
                }
                current.blocks += 1;
            }
            "BEGIN" => self.uncertain(format!(
                "BEGIN on line {} in a statement that is not CREATE TRIGGER, FUNCTION or PROCEDURE",
                line()
            )),
            "CASE" if current.blocks > 0 && !after_end => current.blocks += 1,
            "END" if current.blocks > 0 => {
                let closes_uncounted = next_word()
                    .as_deref()
                    .is_some_and(|w| END_OF_UNCOUNTED.contains(&w));
                if !closes_uncounted {
                    current.blocks -= 1;
                }
            }
            _ => {}
        }
    }

    /// Records the statement running from its first token to `end`.
    fn finish(&mut self, current: &Statement, end: usize) {
        if let Some(start) = current.start {
            let text = self.sql[start..end].trim();
            if !text.is_empty() {
                self.statements.push(text.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests;
