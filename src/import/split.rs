//! Splitting a SQL file into statements.
//!
//! Migration files written for other tools hold several statements; a
//! `Migration` lists them one by one so a failure names the statement. The
//! split must never cut inside a string, identifier, comment, dollar-quoted
//! body or trigger body, so whenever the text could be read two ways the split
//! says so (`certain: false`) and the caller keeps the file as one batch.

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

/// What a lexed piece of SQL is, as far as splitting cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A bare word: keyword, identifier or number.
    Word,
    /// `"…"` or `` `…` ``.
    QuotedIdent,
    /// `'…'`.
    Str,
    /// `$$…$$` or `$tag$…$tag$`.
    Dollar,
    /// `--`, `#` or `/* */`: not part of the statement's meaning.
    Comment,
    /// MySQL `/*! … */`: a comment other databases ignore but MySQL runs.
    ExecComment,
    Semicolon,
    Punct(u8),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Token {
    pub(crate) fn is_significant(&self) -> bool {
        self.kind != Kind::Comment
    }
}

/// Line number (1-based) of byte offset `at`, for messages.
fn line_of(sql: &str, at: usize) -> usize {
    sql.as_bytes()[..at.min(sql.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Tokens of `sql`, and the first reason the tokens may be wrong.
pub(crate) fn lex(sql: &str) -> (Vec<Token>, Option<String>) {
    let bytes = sql.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut problem: Option<String> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            _ if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = line_end(bytes, i);
                Kind::Comment
            }
            b'#' if hash_starts_comment(bytes, &tokens, i) => {
                i = line_end(bytes, i);
                Kind::Comment
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let executable = bytes.get(i + 2) == Some(&b'!');
                match block_comment_end(bytes, i) {
                    Some(end) => i = end,
                    None => {
                        note(&mut problem, || {
                            format!(
                                "unterminated /* comment starting on line {}",
                                line_of(sql, start)
                            )
                        });
                        i = bytes.len();
                    }
                }
                if executable {
                    Kind::ExecComment
                } else {
                    Kind::Comment
                }
            }
            b'\'' | b'"' => {
                let escape_string = b == b'\''
                    && tokens.last().is_some_and(|t| {
                        t.end == start
                            && t.kind == Kind::Word
                            && sql[t.start..t.end].eq_ignore_ascii_case("e")
                    });
                let standard = standard_quote_end(bytes, i + 1, b);
                let backslash = backslash_quote_end(bytes, i + 1, b);
                let end = if escape_string { backslash } else { standard };
                let what = if b == b'\'' {
                    "string"
                } else {
                    "quoted identifier"
                };
                if !escape_string && standard != backslash {
                    note(&mut problem, || {
                        format!(
                            "a backslash in the {what} on line {} ends it in a different place for MySQL than for standard SQL",
                            line_of(sql, start)
                        )
                    });
                }
                match end {
                    Some(end) => i = end,
                    None => {
                        note(&mut problem, || {
                            format!(
                                "unterminated {what} starting on line {}",
                                line_of(sql, start)
                            )
                        });
                        i = bytes.len();
                    }
                }
                if b == b'\'' {
                    Kind::Str
                } else {
                    Kind::QuotedIdent
                }
            }
            b'`' => {
                match standard_quote_end(bytes, i + 1, b'`') {
                    Some(end) => i = end,
                    None => {
                        note(&mut problem, || {
                            format!(
                                "unterminated `identifier` starting on line {}",
                                line_of(sql, start)
                            )
                        });
                        i = bytes.len();
                    }
                }
                Kind::QuotedIdent
            }
            b'$' => match dollar_tag(bytes, i) {
                Some(tag_len) => {
                    let tag = &bytes[i..i + tag_len];
                    let body = i + tag_len;
                    match find(bytes, body, tag) {
                        Some(close) => i = close + tag_len,
                        None => {
                            note(&mut problem, || {
                                format!(
                                    "unterminated {} quote starting on line {}",
                                    String::from_utf8_lossy(tag),
                                    line_of(sql, start)
                                )
                            });
                            i = bytes.len();
                        }
                    }
                    Kind::Dollar
                }
                None => {
                    i += 1;
                    Kind::Punct(b'$')
                }
            },
            b';' => {
                i += 1;
                Kind::Semicolon
            }
            _ if is_word_byte(b) => {
                while i < bytes.len() && (is_word_byte(bytes[i]) || bytes[i] == b'$') {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                i += 1;
                Kind::Punct(b)
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    (tokens, problem)
}

/// Keeps the first problem: later ones are often consequences of it.
fn note(problem: &mut Option<String>, text: impl FnOnce() -> String) {
    if problem.is_none() {
        *problem = Some(text());
    }
}

/// End of the line (the `\n` itself is whitespace).
fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// MySQL's `#` comment, recognised only where `#` cannot be PostgreSQL's XOR
/// operator: first on its line, or first after a `;` (or the file's start).
fn hash_starts_comment(bytes: &[u8], tokens: &[Token], at: usize) -> bool {
    let line_start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let first_on_line = bytes[line_start..at].iter().all(u8::is_ascii_whitespace);
    let after_statement = tokens
        .iter()
        .rev()
        .find(|t| t.is_significant())
        .is_none_or(|t| t.kind == Kind::Semicolon);
    first_on_line || after_statement
}

/// End (exclusive) of a `/* */` comment at `start`, counting nested pairs.
pub(crate) fn block_comment_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of a quoted text whose body starts at `from`, where a
/// doubled quote is an escaped quote (standard SQL).
fn standard_quote_end(bytes: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// Like [`standard_quote_end`], but `\` also escapes the next byte (MySQL
/// strings, PostgreSQL `E'…'`).
fn backslash_quote_end(bytes: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
        } else if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Some(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// Length of a dollar-quote opening tag (`$$` or `$name$`) at `at`; `None`
/// for a parameter like `$1` or a `$` inside a word.
fn dollar_tag(bytes: &[u8], at: usize) -> Option<usize> {
    if at > 0 && is_word_byte(bytes[at - 1]) {
        return None;
    }
    let mut i = at + 1;
    if let Some(&first) = bytes.get(i) {
        if first.is_ascii_digit() {
            return None;
        }
    }
    while i < bytes.len() && is_word_byte(bytes[i]) {
        i += 1;
    }
    (bytes.get(i) == Some(&b'$')).then_some(i + 1 - at)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
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
pub(crate) mod tests {
    use super::*;

    fn certain(sql: &str) -> Vec<String> {
        let split = split_statements(sql);
        assert!(split.certain, "{sql:?} should split: {:?}", split.reason);
        assert_eq!(split.reason, None);
        split.statements
    }

    fn uncertain(sql: &str) -> String {
        let split = split_statements(sql);
        assert!(!split.certain, "{sql:?} should be uncertain: {split:?}");
        split.reason.unwrap_or_default()
    }

    #[test]
    fn splits_on_top_level_semicolons() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("  \n ", &[]),
            (";;", &[]),
            ("SELECT 1", &["SELECT 1"]),
            ("SELECT 1;", &["SELECT 1"]),
            ("SELECT 1; SELECT 2;\n", &["SELECT 1", "SELECT 2"]),
            ("  SELECT 1  ;\n\n  SELECT 2  ", &["SELECT 1", "SELECT 2"]),
            (
                "INSERT INTO t VALUES ('a;b', 'it''s; fine');\nSELECT 2;",
                &["INSERT INTO t VALUES ('a;b', 'it''s; fine')", "SELECT 2"],
            ),
            (
                "CREATE TABLE \"we;ird\" (\"a\"\"b;\" INT); SELECT 1",
                &["CREATE TABLE \"we;ird\" (\"a\"\"b;\" INT)", "SELECT 1"],
            ),
            (
                "CREATE TABLE `my;table` (`c``;` INT); SELECT 1",
                &["CREATE TABLE `my;table` (`c``;` INT)", "SELECT 1"],
            ),
            (
                "SELECT 1 -- not here; or here\n, 2; SELECT 3",
                &["SELECT 1 -- not here; or here\n, 2", "SELECT 3"],
            ),
            (
                "SELECT /* a; /* nested; */ b; */ 1; SELECT 2",
                &["SELECT /* a; /* nested; */ b; */ 1", "SELECT 2"],
            ),
            (
                "SELECT E'it\\'s; ok'; SELECT 2",
                &["SELECT E'it\\'s; ok'", "SELECT 2"],
            ),
            (
                "SELECT $1, a$b FROM t; SELECT 2",
                &["SELECT $1, a$b FROM t", "SELECT 2"],
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(certain(sql), *expected, "{sql:?}");
        }
    }

    #[test]
    fn drops_comment_only_fragments_and_leading_comments() {
        let sql = "-- header; with a semicolon\n/* block; */\n# mysql; comment\nCREATE TABLE a (id INT); -- trailing; comment\n-- only a comment;\n;\nCREATE TABLE b (\n  id INT -- inside; kept\n);\n-- the end";
        assert_eq!(
            certain(sql),
            [
                "CREATE TABLE a (id INT)",
                "CREATE TABLE b (\n  id INT -- inside; kept\n)"
            ]
        );
        assert_eq!(
            certain("-- just a comment\n/* and; another */"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn mysql_hash_comments_and_executable_comments() {
        assert_eq!(
            certain("SELECT 1; # don't; split\nSELECT 2\n  # it's a comment; here\n, 3;\nSELECT a # b FROM t"),
            ["SELECT 1", "SELECT 2\n  # it's a comment; here\n, 3", "SELECT a # b FROM t"]
        );
        assert_eq!(
            certain("/*!40101 SET NAMES utf8 */;\nSELECT 1;"),
            ["/*!40101 SET NAMES utf8 */", "SELECT 1"]
        );
    }

    #[test]
    fn dollar_quoted_bodies_stay_whole() {
        let function = "CREATE FUNCTION touch() RETURNS trigger AS $fn$\nBEGIN\n  NEW.updated_at := now();\n  PERFORM $$ inner; $$;\n  RETURN NEW;\nEND;\n$fn$ LANGUAGE plpgsql";
        let trigger = "CREATE TRIGGER users_touch BEFORE UPDATE ON users\n  FOR EACH ROW EXECUTE FUNCTION touch()";
        let sql = format!("CREATE TABLE users (id INT, updated_at TIMESTAMP);\n\n{function};\n\n{trigger};\nDO $$ BEGIN RAISE NOTICE 'a;b'; END $$;\n");
        assert_eq!(
            certain(&sql),
            [
                "CREATE TABLE users (id INT, updated_at TIMESTAMP)",
                function,
                trigger,
                "DO $$ BEGIN RAISE NOTICE 'a;b'; END $$"
            ]
        );
        assert_eq!(
            certain("SELECT $a$ $b$ ; $b$ $a$; SELECT 2"),
            ["SELECT $a$ $b$ ; $b$ $a$", "SELECT 2"]
        );
    }

    #[test]
    fn trigger_bodies_stay_whole() {
        let trigger = "CREATE TRIGGER posts_audit AFTER UPDATE ON posts\nBEGIN\n  INSERT INTO audit (what) VALUES (CASE WHEN NEW.published THEN 'published;' ELSE 'draft' END);\n  UPDATE posts SET touched = 1 WHERE id = NEW.id;\nEND";
        let sql = format!(
            "CREATE TABLE audit (what TEXT);\n{trigger};\nSELECT CASE WHEN 1 THEN 2 END;\n"
        );
        assert_eq!(
            certain(&sql),
            [
                "CREATE TABLE audit (what TEXT)",
                trigger,
                "SELECT CASE WHEN 1 THEN 2 END"
            ]
        );
        let temp =
            "CREATE TEMP TRIGGER IF NOT EXISTS t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END";
        assert_eq!(certain(&format!("{temp}; SELECT 3")), [temp, "SELECT 3"]);
    }

    #[test]
    fn mysql_routines_with_compound_statements() {
        let procedure = "CREATE PROCEDURE p() BEGIN\n  IF 1 THEN SELECT 1; END IF;\n  WHILE 0 DO SELECT 2; END WHILE;\n  CASE 1 WHEN 1 THEN SELECT 3; END CASE;\n  BEGIN SELECT 4; END;\nEND";
        let trigger = "CREATE DEFINER=`root`@`localhost` TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; END";
        assert_eq!(
            certain(&format!("{procedure};\n{trigger};\nSELECT 5")),
            [procedure, trigger, "SELECT 5"]
        );
    }

    #[test]
    fn transaction_statements_split_normally() {
        assert_eq!(
            certain("BEGIN;\nCREATE TABLE a (id INT);\nCOMMIT;\nBEGIN TRANSACTION; SELECT 1; END TRANSACTION;\nSTART TRANSACTION; BEGIN IMMEDIATE; BEGIN"),
            [
                "BEGIN",
                "CREATE TABLE a (id INT)",
                "COMMIT",
                "BEGIN TRANSACTION",
                "SELECT 1",
                "END TRANSACTION",
                "START TRANSACTION",
                "BEGIN IMMEDIATE",
                "BEGIN"
            ]
        );
    }

    #[test]
    fn rule_actions_in_parentheses() {
        let rule = "CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1); INSERT INTO c VALUES (2))";
        assert_eq!(certain(&format!("{rule}; SELECT 1")), [rule, "SELECT 1"]);
    }

    #[test]
    fn uncertain_cases_say_why() {
        let cases: &[(&str, &str)] = &[
            (
                "SELECT 'open;\nSELECT 2;",
                "unterminated string starting on line 1",
            ),
            ("SELECT \"open;", "unterminated quoted identifier"),
            ("SELECT `open;", "unterminated `identifier`"),
            // Mid-line `#` may be PostgreSQL's XOR, so the quote opens a string.
            (
                "SELECT 2 # it's\n, 3;",
                "unterminated string starting on line 1",
            ),
            (
                "SELECT 1;\n/* open; */ /* ",
                "unterminated /* comment starting on line 2",
            ),
            ("SELECT /* a /* b */ 1;", "unterminated /* comment"),
            (
                "CREATE FUNCTION f() AS $body$ x; $$ y;",
                "unterminated $body$ quote",
            ),
            ("SELECT $$ x;", "unterminated $$ quote"),
            (
                "SELECT 'C:\\'; SELECT 'x'",
                "backslash in the string on line 1",
            ),
            (
                "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;",
                "DELIMITER command on line 1",
            ),
            (
                "BEGIN\n  UPDATE a SET b = 1;\nEND;",
                "anonymous BEGIN … END block on line 1",
            ),
            (
                "SELECT 1;\nDECLARE x INT; BEGIN NULL; END;",
                "DECLARE … BEGIN … END block on line 2",
            ),
            ("BEGIN NOT ATOMIC SELECT 1; END", "anonymous BEGIN"),
            (
                "CREATE TABLE t (begin INT)",
                "BEGIN on line 1 in a statement",
            ),
            (
                "CREATE TRIGGER t AFTER INSERT ON a\nBEGIN SELECT 1;",
                "BEGIN … END block opened on line 2 is never closed",
            ),
            (
                "SELECT (1;\nSELECT 2",
                "parenthesis opened on line 1 is never closed",
            ),
            ("\\connect other\nSELECT 1;", "psql meta-command"),
        ];
        for (sql, reason) in cases {
            let got = uncertain(sql);
            assert!(
                got.contains(reason),
                "{sql:?}: {got:?} should contain {reason:?}"
            );
        }
    }

    /// Tiny deterministic generator of awkward inputs (no extra dependency).
    pub(crate) fn awkward_inputs(alphabet: &[&str], count: usize) -> Vec<String> {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        (0..count)
            .map(|_| {
                let len = next() % 24;
                (0..len)
                    .map(|_| alphabet[next() % alphabet.len()])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn never_panics_on_awkward_input() {
        let alphabet = [
            "'",
            "\"",
            "`",
            "$",
            "$$",
            "$a$",
            ";",
            "-",
            "--",
            "/*",
            "*/",
            "/*!",
            "#",
            "\\",
            "\n",
            " ",
            "(",
            ")",
            "E",
            "BEGIN",
            "END",
            "CASE",
            "CREATE",
            "TRIGGER",
            "DELIMITER",
            "é",
            "x",
        ];
        for sql in awkward_inputs(&alphabet, 5_000) {
            let split = split_statements(&sql);
            assert_eq!(split.certain, split.reason.is_none(), "{sql:?}");
            assert!(split
                .statements
                .iter()
                .all(|s| !s.is_empty() && s.trim() == s));
        }
    }

    #[test]
    fn large_dumps_split_quickly() {
        // Guards against per-token work that grows with the file (line counts).
        let statement = "INSERT INTO t (a, b) VALUES (1, 'x;y') -- c\n";
        let sql = format!("{statement};").repeat(20_000);
        let started = std::time::Instant::now();
        let split = split_statements(&sql);
        assert!(split.certain);
        assert_eq!(split.statements.len(), 20_000);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn standard_and_mysql_agree_on_escaped_backslashes() {
        assert_eq!(
            certain("SELECT 'a\\\\'; SELECT 'b\\n'"),
            ["SELECT 'a\\\\'", "SELECT 'b\\n'"]
        );
    }
}
