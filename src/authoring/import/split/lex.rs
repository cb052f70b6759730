//! The SQL lexer under the splitter: strings, quoted identifiers, comments,
//! dollar quotes, words and punctuation, each with its byte range.
//!
//! It runs in one pass, linear in the input: the facts a token's reading
//! depends on (where the current line starts, the last significant token)
//! are kept as it goes, never searched for backwards. MySQL's `#` comment is
//! decided per `#` from that state alone, in constant time (a search back to
//! the line's start made one long line of `#` quadratic).

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

/// Line number (1-based) of byte offset `at`, for messages only: it counts
/// from the start, so it is never called per token.
pub(crate) fn line_of(sql: &str, at: usize) -> usize {
    sql.as_bytes()[..at.min(sql.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// What the lexer knows about the text before the current position.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    /// Byte offset where the current line starts.
    line_start: usize,
    /// End of the last token (any kind), 0 before the first.
    last_end: usize,
    /// Kind of the last significant token, if any.
    last_significant: Option<Kind>,
}

impl Position {
    /// MySQL's `#` comment, recognised only where `#` cannot be PostgreSQL's
    /// XOR operator: first on its line, or first after a `;` (or the file's
    /// start). Constant time: whitespace alone lies between the line's start
    /// and `#` exactly when no token ended after the line started.
    fn hash_starts_comment(&self) -> bool {
        let first_on_line = self.last_end <= self.line_start;
        let after_statement = self
            .last_significant
            .is_none_or(|kind| kind == Kind::Semicolon);
        first_on_line || after_statement
    }

    /// Takes note of a token spanning `bytes[start..end]`.
    fn token(&mut self, bytes: &[u8], kind: Kind, start: usize, end: usize) {
        // Each byte is looked at once here, so the pass stays linear.
        if let Some(newline) = bytes[start..end].iter().rposition(|&b| b == b'\n') {
            self.line_start = start + newline + 1;
        }
        self.last_end = end;
        if kind != Kind::Comment {
            self.last_significant = Some(kind);
        }
    }
}

/// Tokens of `sql`, and the first reason the tokens may be wrong.
pub(crate) fn lex(sql: &str) -> (Vec<Token>, Option<String>) {
    let bytes = sql.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut problem: Option<String> = None;
    let mut position = Position::default();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b'\n' => {
                i += 1;
                position.line_start = i;
                continue;
            }
            _ if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = line_end(bytes, i);
                Kind::Comment
            }
            b'#' if position.hash_starts_comment() => {
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
                i = quoted(sql, &mut problem, i, escape_string);
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
                    match find(bytes, i + tag_len, tag) {
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
        position.token(bytes, kind, start, i);
        tokens.push(Token {
            kind,
            start,
            end: i,
        });
    }
    (tokens, problem)
}

/// End of the `'…'` or `"…"` opened at `at`. Standard SQL doubles a quote to
/// escape it; MySQL (and PostgreSQL's `E'…'`) also escape with `\`. Where the
/// two readings end the text in different places the split is uncertain.
fn quoted(sql: &str, problem: &mut Option<String>, at: usize, escape_string: bool) -> usize {
    let bytes = sql.as_bytes();
    let quote = bytes[at];
    let what = if quote == b'\'' {
        "string"
    } else {
        "quoted identifier"
    };
    let end = if escape_string {
        backslash_quote_end(bytes, at + 1, quote)
    } else {
        let standard = standard_quote_end(bytes, at + 1, quote);
        // Once uncertain, the second reading changes nothing, so it is not
        // run again (it may scan far past the standard end).
        let has_backslash = |end: usize| bytes[at + 1..end].contains(&b'\\');
        let differs = problem.is_none()
            && standard.is_none_or(has_backslash)
            && backslash_quote_end(bytes, at + 1, quote) != standard;
        if differs {
            note(problem, || {
                format!(
                    "a backslash in the {what} on line {} ends it in a different place for MySQL than for standard SQL",
                    line_of(sql, at)
                )
            });
        }
        standard
    };
    end.unwrap_or_else(|| {
        note(problem, || {
            format!("unterminated {what} starting on line {}", line_of(sql, at))
        });
        bytes.len()
    })
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

/// End (exclusive) of a `/* */` comment at `start`, counting nested pairs.
fn block_comment_end(bytes: &[u8], start: usize) -> Option<usize> {
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
