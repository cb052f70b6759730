//! What a backend's scanner hands the rule engine: each statement of a
//! migration with the facts the rules need, and the entries it could not
//! read. Scanners know SQL; the engine knows the migration's context.

use super::hazard::Hazard;

/// One statement of a migration, as a scanner understood it.
#[derive(Debug, Default)]
pub(crate) struct Statement {
    /// Index into the migration's `sql` (0-based; an entry may hold several
    /// statements).
    pub entry: usize,
    /// The statement's text, as written where the parser tells where it is.
    pub text: String,
    /// A table this statement creates (`CREATE TABLE` without `IF NOT
    /// EXISTS`, normalised as [`table_key`] does).
    pub creates_table: Option<String>,
    /// The existing table this statement changes, if it names one.
    pub target_table: Option<String>,
    /// Schema DDL, which MySQL commits on its own.
    pub ddl: bool,
    pub hazards: Vec<Hazard>,
}

impl Statement {
    /// Records a hazard once per statement, however many rules saw it.
    pub(crate) fn add(&mut self, hazard: Hazard) {
        if !self.hazards.contains(&hazard) {
            self.hazards.push(hazard);
        }
    }
}

/// An `sql` entry the parser could not read.
#[derive(Debug)]
pub(crate) struct Unreadable {
    pub entry: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub statements: Vec<Statement>,
    pub unreadable: Vec<Unreadable>,
}

/// How tables are compared: the last part of a qualified name, folded to
/// lower case unless it was quoted. `public.users` and `users` are one table
/// here (a migration rarely creates two tables of one name in two schemas).
pub(crate) fn table_key(name: &str, quoted: bool) -> String {
    if quoted {
        name.to_string()
    } else {
        name.to_lowercase()
    }
}
