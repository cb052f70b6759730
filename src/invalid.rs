//! What the compile-time check reports about a `MIGRATIONS` list: which
//! rule which entry breaks, and the message that names it.

/// A broken rule of the `MIGRATIONS` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidMigration {
    /// The offending entry's version.
    pub version: i64,
    /// The version of the entry before it (0 for the first entry).
    pub previous: i64,
    /// Its position in the list (0-based).
    pub index: usize,
    /// Its description, to find it by.
    pub description: &'static str,
    /// The rule it breaks.
    pub rule: Rule,
}

/// The rules every `MIGRATIONS` list keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// A version of 0 or below.
    NotPositive,
    /// The same version as the entry before.
    Duplicate,
    /// A lower version than the entry before.
    OutOfOrder,
    /// An empty description.
    EmptyDescription,
    /// A NUL byte in the description.
    NulInDescription,
    /// No statements and no code step.
    EmptySql,
    /// A code step without a name.
    CodeWithoutName,
    /// A statement that is empty or only whitespace.
    BlankStatement,
}

impl InvalidMigration {
    /// The message, built without allocating so `validate` can use it.
    pub(crate) const fn message(&self) -> ConstMessage {
        let mut msg = ConstMessage::new();
        msg.push("invalid MIGRATIONS: migration ");
        msg.push_i64(self.version);
        match self.rule {
            Rule::NotPositive => msg.push(": version must be greater than 0"),
            Rule::Duplicate => {
                msg.push(": version appears twice; give each migration its own version")
            }
            Rule::OutOfOrder => {
                msg.push(": versions must increase down the list, but it follows version ");
                msg.push_i64(self.previous);
            }
            Rule::EmptyDescription => msg.push(": description is empty"),
            Rule::NulInDescription => msg.push(": description contains a NUL byte"),
            Rule::EmptySql => msg.push(": sql has no statements and there is no code step"),
            Rule::CodeWithoutName => msg.push(": its code step has no name"),
            Rule::BlankStatement => msg.push(": sql has an empty statement"),
        }
        // Where to find it: the entry's position and description.
        msg.push(" (entry ");
        msg.push_i64(self.index as i64 + 1);
        msg.push(" of the list");
        if !self.description.is_empty() && !contains_nul(self.description) {
            msg.push(", \"");
            msg.push(self.description);
            msg.push("\"");
        }
        msg.push(")");
        msg
    }
}

impl std::fmt::Display for InvalidMigration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message().as_str())
    }
}

impl std::error::Error for InvalidMigration {}

/// A small fixed buffer for building text in `const fn`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConstMessage {
    buf: [u8; 240],
    len: usize,
}

impl ConstMessage {
    const fn new() -> Self {
        ConstMessage {
            buf: [0; 240],
            len: 0,
        }
    }

    const fn push(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < self.buf.len() {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
    }

    const fn push_i64(&mut self, value: i64) {
        if value < 0 {
            self.push("-");
        }
        let mut digits = [0u8; 20];
        let mut n = value.unsigned_abs();
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.buf.len() {
            count -= 1;
            self.buf[self.len] = digits[count];
            self.len += 1;
        }
    }

    pub(crate) const fn as_str(&self) -> &str {
        let (used, _) = self.buf.split_at(self.len);
        match std::str::from_utf8(used) {
            Ok(text) => text,
            // A description cut mid-character at the buffer's end: drop the
            // partial character.
            Err(e) => {
                let (valid, _) = used.split_at(e.valid_up_to());
                match std::str::from_utf8(valid) {
                    Ok(text) => text,
                    Err(_) => "invalid MIGRATIONS",
                }
            }
        }
    }
}

/// A NUL byte can never be recorded (C strings end there).
pub(crate) const fn contains_nul(text: &str) -> bool {
    // Walked by a slice pattern: in the compiler's constant evaluator that
    // is fewer steps per byte than a `len()` and an index (see `validate`).
    let mut rest = text.as_bytes();
    while let [byte, tail @ ..] = rest {
        if *byte == 0 {
            return true;
        }
        rest = tail;
    }
    false
}
