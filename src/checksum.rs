//! The checksum recorded for each applied migration, and the fingerprint of
//! a whole list that the start-up check compares with the newest row.

use sha2::{Digest, Sha256};

/// SHA-256 (lower-case hex) of the statements, normalised so that line endings
/// (CRLF vs LF) and trailing whitespace do not count as edits.
///
/// The algorithm is part of the tracking-table format and must never change:
/// for each statement, every line has its trailing whitespace (including `\r`)
/// removed, lines are joined with `\n`, trailing empty lines are dropped, and
/// the result is fed to the hash followed by one NUL byte.
pub fn checksum(statements: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hash_statements(&mut hasher, statements);
    hex(&hasher.finalize())
}

/// The checksum of a migration with a code step: its statements as in
/// [`checksum`], then `code`, the step's name and its revision, each
/// followed by a NUL byte.
pub(crate) fn checksum_with_code(statements: &[&str], name: &str, revision: u32) -> String {
    let mut hasher = Sha256::new();
    hash_statements(&mut hasher, statements);
    for part in [
        b"code".as_slice(),
        name.as_bytes(),
        revision.to_string().as_bytes(),
    ] {
        hasher.update(part);
        hasher.update([0u8]);
    }
    hex(&hasher.finalize())
}

fn hash_statements(hasher: &mut Sha256, statements: &[&str]) {
    for statement in statements {
        // Streams the normalised text without allocating: line breaks are
        // held back until a non-empty line follows, so trailing ones vanish.
        let mut held_breaks = 0usize;
        for (i, line) in statement.split('\n').enumerate() {
            let line = line.trim_end();
            if i > 0 {
                held_breaks += 1;
            }
            if !line.is_empty() {
                for _ in 0..held_breaks {
                    hasher.update(b"\n");
                }
                held_breaks = 0;
                hasher.update(line.as_bytes());
            }
        }
        hasher.update([0u8]);
    }
}

/// The fingerprint of a whole list (32 hex digits): what the newest row
/// records, and what the start-up check compares with it instead of
/// reading every row and hashing every statement.
///
/// Each field (version, description, every statement, the code step's name
/// and revision, the `transaction` flag) is hashed on its own with one-shot
/// XXH3-64, which costs a few dozen instructions for a short string, and
/// the sequence of those hashes with XXH3-128. Feeding every field to one
/// streaming hasher instead cost about 4 ms at 10,000 entries, nearly all of
/// it per-call overhead. Not normalised like [`checksum`]: a difference only
/// sends the check the full way, which then decides with the checksums.
pub(crate) fn list_fingerprint(migrations: &[crate::Migration]) -> String {
    use xxhash_rust::xxh3::{xxh3_128, xxh3_64};
    let mut bytes: Vec<u8> = Vec::with_capacity(migrations.len() * 56 + 8);
    let mut push = |value: u64| bytes.extend_from_slice(&value.to_le_bytes());
    push(xxh3_64(b"versioned-migrations list 2"));
    for m in migrations {
        push(m.version as u64);
        push(xxh3_64(m.description.as_bytes()));
        push(m.sql.len() as u64);
        for statement in m.sql {
            push(xxh3_64(statement.as_bytes()));
        }
        match &m.code {
            Some(code) => {
                push(xxh3_64(code.name.as_bytes()));
                push(u64::from(code.revision));
            }
            None => push(u64::MAX),
        }
        push(u64::from(m.transaction));
    }
    hex(&xxh3_128(&bytes).to_le_bytes())
}

fn hex(bytes: &[u8]) -> String {
    // By table: `format!` per byte was most of the start-up check's CPU.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_step_counts_by_name_and_revision() {
        let sql = ["ALTER TABLE users ADD COLUMN email_lower TEXT"];
        let plain = checksum(&sql);
        let one = checksum_with_code(&sql, "lower_emails", 1);
        assert_ne!(plain, one);
        assert_ne!(
            one,
            checksum_with_code(&sql, "lower_emails", 2),
            "a revision bump is an edit"
        );
        assert_ne!(one, checksum_with_code(&sql, "other_step", 1));
        assert_eq!(one, checksum_with_code(&sql, "lower_emails", 1));
        assert_eq!(
            checksum_with_code(&[], "backfill", 1),
            "a0fcac3385e1fad74930817a8368659751f0964ec6597fea5695c4838bc23540",
            "pinned: changing it would flag every applied code migration as edited"
        );
    }

    #[test]
    fn checksum_is_pinned() {
        // Golden value: changing the algorithm would flag every applied
        // migration in every database as edited.
        assert_eq!(
            checksum(&["CREATE TABLE users (id INTEGER PRIMARY KEY)"]),
            "b20d15866d4dde954b2f51f177c2709f94d892c4e3c5b4d7c5bb62d6b0986bc6"
        );
    }

    #[test]
    fn checksum_ignores_line_endings_and_trailing_whitespace() {
        let lf = checksum(&["CREATE TABLE t (\n  id INTEGER\n)", "SELECT 1"]);
        assert_eq!(
            lf,
            checksum(&[
                "CREATE TABLE t (\r\n  id INTEGER  \r\n)\r\n",
                "SELECT 1\n\n"
            ])
        );
        assert_eq!(
            lf,
            checksum(&["CREATE TABLE t (  \n  id INTEGER\t\n)   ", "SELECT 1"])
        );
    }

    /// The documented algorithm, written the obvious way.
    fn reference_checksum(statements: &[&str]) -> String {
        let mut hasher = Sha256::new();
        for statement in statements {
            let joined = statement
                .split('\n')
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n");
            hasher.update(joined.trim_end_matches('\n').as_bytes());
            hasher.update([0u8]);
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn streaming_checksum_matches_the_documented_algorithm() {
        let cases: &[&[&str]] = &[
            &[],
            &[""],
            &["\n\n"],
            &["  \r\n \t\n"],
            &["\nleading"],
            &["a\n\n\nb\n\n"],
            &["a  \r\n  b\t\r\n\r\n", "", "c"],
            &["x\r", "\ry"],
            &["CREATE FUNCTION f() RETURNS int AS $$\n  SELECT 1;  \n$$ LANGUAGE sql\n"],
        ];
        for case in cases {
            assert_eq!(checksum(case), reference_checksum(case), "{case:?}");
        }
    }

    #[test]
    fn checksum_sees_real_edits_and_statement_boundaries() {
        let base = checksum(&["CREATE TABLE t (id INTEGER)"]);
        assert_ne!(base, checksum(&["CREATE TABLE t (id BIGINT)"]));
        assert_ne!(base, checksum(&["CREATE  TABLE t (id INTEGER)"]));
        assert_ne!(
            checksum(&["SELECT 1", "SELECT 2"]),
            checksum(&["SELECT 1SELECT 2"])
        );
        assert_ne!(checksum(&["SELECT 1"]), checksum(&["SELECT 1", ""]));
    }
}
