//! Splitter tests: exact splits, the uncertain cases and their reasons,
//! random inputs (proptest) and inputs that were once slow.

use super::*;
use proptest::prelude::*;

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
    let sql =
        format!("CREATE TABLE audit (what TEXT);\n{trigger};\nSELECT CASE WHEN 1 THEN 2 END;\n");
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

/// Pieces random inputs are made of: every character the lexer treats
/// specially, and the words the splitter counts.
const AWKWARD: &[&str] = &[
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
    "IF",
    "CREATE",
    "TRIGGER",
    "DELIMITER",
    "é",
    "x",
];

/// Statements without anything the splitter treats specially.
fn plain_statement() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(&["SELECT", "a", "1", "t", "FROM", "=", ",", "x_y", "é"][..]),
        1..8,
    )
    .prop_map(|words| words.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn never_panics_and_says_why(pieces in prop::collection::vec(prop::sample::select(AWKWARD), 0..40)) {
        let sql = pieces.concat();
        let split = split_statements(&sql);
        prop_assert_eq!(split.certain, split.reason.is_none(), "{:?}", sql);
        prop_assert!(split.statements.iter().all(|s| !s.is_empty() && s.trim() == s));
        // Every statement is a piece of the input, in order.
        let mut from = 0;
        for statement in &split.statements {
            let at = sql[from..].find(statement.as_str());
            prop_assert!(at.is_some(), "{:?} not in {:?}", statement, sql);
            from += at.unwrap_or_default() + statement.len();
        }
    }

    #[test]
    fn plain_statements_come_back(
        statements in prop::collection::vec(plain_statement(), 0..10),
        separator in prop::sample::select(&[";", ";\n", " ;\n\n", ";\n-- note; here\n", ";\n# note; here\n"][..]),
    ) {
        let sql = statements.join(separator);
        let split = split_statements(&sql);
        prop_assert!(split.certain, "{:?}: {:?}", sql, split.reason);
        prop_assert_eq!(split.statements, statements);
    }
}

/// Inputs of a few megabytes in shapes that once made the lexer do work per
/// byte proportional to the line (a backward search for the line's start at
/// every `#`): 40,000 `#` took 2.25 s and each doubling 5.5x longer, so the
/// million here would take hours. Linear, each is milliseconds; nothing is
/// timed, the test simply has to finish.
#[test]
fn long_lines_split_in_one_pass() {
    let n = 1_000_000;
    let cases = [
        format!("SELECT 1 {}", "#".repeat(n)),
        format!("SELECT a {}", "# x ".repeat(n / 4)),
        format!("SELECT a {};", " #".repeat(n / 2)),
        format!("SELECT '{}'", "\\'".repeat(n / 2)),
        format!("SELECT 1{}", "$x".repeat(n / 2)),
        format!("SELECT (1{}", " -- ;\n#".repeat(n / 8)),
    ];
    for sql in &cases {
        let split = split_statements(sql);
        assert!(!split.statements.is_empty());
    }
    // `#` mid-line is an operator, at a line's start a comment.
    let many = format!("SELECT 1 {}\n# comment; here\n;", "# 2 ".repeat(n / 4));
    let split = split_statements(&many);
    assert!(split.certain, "{:?}", split.reason);
    assert_eq!(split.statements.len(), 1);
    assert!(split.statements[0].ends_with("# comment; here"));
}

#[test]
fn large_dumps_split() {
    let statement = "INSERT INTO t (a, b) VALUES (1, 'x;y') -- c\n";
    let sql = format!("{statement};").repeat(20_000);
    let split = split_statements(&sql);
    assert!(split.certain);
    assert_eq!(split.statements.len(), 20_000);
}

#[test]
fn standard_and_mysql_agree_on_escaped_backslashes() {
    assert_eq!(
        certain("SELECT 'a\\\\'; SELECT 'b\\n'"),
        ["SELECT 'a\\\\'", "SELECT 'b\\n'"]
    );
}
