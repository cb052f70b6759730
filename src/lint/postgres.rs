//! PostgreSQL: squawk's parser reads the statements and squawk's rules find
//! most hazards; this maps them onto our rules and adds what only the
//! migration's context tells (its transaction mode, its entries).

use squawk_linter::{Linter, Rule, Violation};
use squawk_syntax::ast::{self, AstNode, NameLike};
use squawk_syntax::{SourceFile, SyntaxKind, SyntaxNode};

use super::depth::too_deep;
use super::hazard::Hazard;
use super::scan::{Scan, Statement, Unreadable};
use crate::Migration;

/// The squawk rules we run; each maps to a [`Hazard`] in [`hazard_for`].
const SQUAWK_RULES: &[Rule] = &[
    Rule::RequireConcurrentIndexCreation,
    Rule::RequireConcurrentIndexDeletion,
    Rule::RequireConcurrentReindex,
    Rule::ChangingColumnType,
    Rule::AddingFieldWithDefault,
    Rule::AddingNotNullableField,
    Rule::AddingForeignKeyConstraint,
    Rule::ConstraintMissingNotValid,
    Rule::DisallowedUniqueConstraint,
    Rule::AddingSerialPrimaryKeyField,
    Rule::AddingRequiredField,
    Rule::RenamingColumn,
    Rule::RenamingTable,
    Rule::BanDropColumn,
    Rule::BanDropTable,
    Rule::BanDropDatabase,
];

/// Where each readable entry sits in the text handed to squawk.
struct Piece {
    entry: usize,
    start: usize,
    end: usize,
}

pub(crate) fn scan(migration: &Migration) -> Scan {
    let mut scan = Scan::default();
    let mut readable: Vec<usize> = (0..migration.sql.len()).collect();
    let deep = migration.sql.iter().any(|sql| too_deep(sql).is_some());
    let (mut text, mut pieces) = join(migration, if deep { &[] } else { &readable });
    let mut parse = SourceFile::parse(&text);
    if deep || !parse.errors().is_empty() {
        // Rare: find the entries at fault one by one, lint the rest together.
        readable.retain(|&entry| match first_error(migration.sql[entry]) {
            Some(reason) => {
                scan.unreadable.push(Unreadable { entry, reason });
                false
            }
            None => true,
        });
        (text, pieces) = join(migration, &readable);
        parse = SourceFile::parse(&text);
    }

    let file = parse.tree();
    let mut statements: Vec<(ast::Stmt, Statement)> = Vec::new();
    for stmt in file.stmts() {
        if matches!(stmt, ast::Stmt::EmptyStmt(_)) {
            continue;
        }
        let range = stmt.syntax().text_range();
        let (start, end) = (usize::from(range.start()), usize::from(range.end()));
        let Some(piece) = pieces.iter().find(|p| p.start <= start && start < p.end) else {
            continue;
        };
        let statement = Statement {
            entry: piece.entry,
            text: text
                .get(start..end.min(piece.end))
                .unwrap_or("")
                .to_string(),
            creates_table: created_table(&stmt),
            target_table: target_table(&stmt),
            ..Statement::default()
        };
        statements.push((stmt, statement));
    }

    add_own_hazards(migration, &mut statements);

    // Not told about the migration's transaction: squawk would then treat
    // every table created in it as new, where we know better (`IF NOT
    // EXISTS`, quoting), and the engine decides that for all backends alike.
    let mut linter = Linter::from(SQUAWK_RULES.iter().copied());
    linter.settings.assume_in_transaction = false;
    let root = file.syntax().clone();
    for violation in linter.lint(&parse, &text) {
        let at = violation.text_range.start();
        let Some((_, statement)) = statements
            .iter_mut()
            .find(|(stmt, _)| stmt.syntax().text_range().contains(at))
        else {
            continue;
        };
        if let Some(hazard) = hazard_for(&violation, &root) {
            statement.add(hazard);
        }
    }
    scan.statements = statements.into_iter().map(|(_, s)| s).collect();
    scan
}

/// The readable entries as one text, one statement separator between each,
/// so squawk sees the whole migration (a `NOT VALID` in one entry and its
/// `VALIDATE` in the next).
fn join(migration: &Migration, entries: &[usize]) -> (String, Vec<Piece>) {
    let mut text = String::new();
    let mut pieces = Vec::with_capacity(entries.len());
    for &entry in entries {
        let start = text.len();
        text.push_str(migration.sql[entry]);
        pieces.push(Piece {
            entry,
            start,
            end: text.len(),
        });
        text.push_str("\n;\n");
    }
    (text, pieces)
}

fn first_error(sql: &str) -> Option<String> {
    if let Some(reason) = too_deep(sql) {
        return Some(reason);
    }
    let parse = SourceFile::parse(sql);
    let error = parse.errors().into_iter().next()?;
    let at = usize::from(error.range().start());
    let near: String = sql.get(at..).unwrap_or("").chars().take(30).collect();
    Some(if near.trim().is_empty() {
        format!("{} at the end", error.message())
    } else {
        format!("{} near `{}`", error.message(), near.trim())
    })
}

/// Context squawk does not have: the migration's transaction mode and how
/// its statements are grouped into entries.
fn add_own_hazards(migration: &Migration, statements: &mut [(ast::Stmt, Statement)]) {
    let per_entry = |entry: usize, all: &[(ast::Stmt, Statement)]| {
        all.iter().filter(|(_, s)| s.entry == entry).count()
    };
    // Constraints added NOT VALID so far, with the entry that added them.
    let mut not_valid: Vec<(String, usize)> = Vec::new();
    for i in 0..statements.len() {
        let crowded = per_entry(statements[i].1.entry, statements) > 1;
        let (stmt, statement) = &mut statements[i];
        if let ast::Stmt::AlterTable(alter) = stmt {
            for action in alter.actions() {
                match action {
                    ast::AlterTableAction::AddConstraint(add) => {
                        let Some(constraint) = add.constraint() else {
                            continue;
                        };
                        if let Some(name) = constraint
                            .constraint_name()
                            .filter(|_| constraint.is_not_valid())
                        {
                            not_valid.push((name.text(), statement.entry));
                        }
                    }
                    ast::AlterTableAction::ValidateConstraint(validate) => {
                        let name = validate
                            .constraint_name_ref()
                            .and_then(|c| c.path_ref())
                            .and_then(|p| p.segment())
                            .map(|n| n.text());
                        // One transaction: the migration's, or the implicit
                        // one around a multi-statement entry.
                        let same_transaction = not_valid.iter().any(|(added, entry)| {
                            Some(added) == name.as_ref()
                                && (migration.transaction || *entry == statement.entry)
                        });
                        if same_transaction {
                            statement.add(Hazard::ValidateInSameTransaction);
                        }
                    }
                    _ => {}
                }
            }
        }
        if refuses_transaction(stmt) {
            if migration.transaction {
                statement.add(Hazard::ConcurrentlyInTransaction);
            } else if crowded {
                statement.add(Hazard::ConcurrentlyInMultiStatementEntry);
            }
        }
        let controls_transaction = match stmt {
            ast::Stmt::Begin(_) | ast::Stmt::Commit(_) => true,
            ast::Stmt::Rollback(rollback) => {
                !matches!(rollback, ast::Rollback::RollbackToSavepoint(_))
            }
            _ => false,
        };
        if controls_transaction && migration.transaction {
            statement.add(Hazard::TransactionControl);
        }
    }
}

/// A `CONCURRENTLY` form PostgreSQL refuses in a transaction block (index
/// builds and drops, `REINDEX`, `DETACH PARTITION`; not `REFRESH`).
fn refuses_transaction(stmt: &ast::Stmt) -> bool {
    let node = match stmt {
        ast::Stmt::CreateIndex(s) => return s.concurrently_token().is_some(),
        ast::Stmt::DropIndex(s) => return s.concurrently_token().is_some(),
        ast::Stmt::Reindex(s) => s.syntax(),
        ast::Stmt::AlterTable(s) => s.syntax(),
        _ => return false,
    };
    node.descendants_with_tokens()
        .filter_map(|element| element.into_token())
        .any(|token| {
            token.kind() == SyntaxKind::CONCURRENTLY_KW
                && token.parent().is_some_and(|p| {
                    matches!(
                        p.kind(),
                        SyntaxKind::DETACH_CONCURRENTLY
                            | SyntaxKind::REINDEX
                            | SyntaxKind::REINDEX_OPTION_CONCURRENTLY
                            | SyntaxKind::REINDEX_TARGET_DATABASE
                            | SyntaxKind::REINDEX_TARGET_INDEX
                            | SyntaxKind::REINDEX_TARGET_SCHEMA
                            | SyntaxKind::REINDEX_TARGET_SYSTEM
                            | SyntaxKind::REINDEX_TARGET_TABLE
                    )
                })
        })
}

fn created_table(stmt: &ast::Stmt) -> Option<String> {
    let name = match stmt {
        ast::Stmt::CreateTable(s) if s.if_not_exists().is_none() => s.table_name(),
        ast::Stmt::CreateTableAs(s) if s.if_not_exists().is_none() => s.table_name(),
        _ => None,
    }?;
    Some(name.path()?.segment()?.text())
}

fn target_table(stmt: &ast::Stmt) -> Option<String> {
    let relation = match stmt {
        ast::Stmt::CreateIndex(s) => s.table_relation_name(),
        ast::Stmt::AlterTable(s) => s.table_relation_name(),
        _ => None,
    }?;
    Some(relation.table_name_ref()?.path_ref()?.segment()?.text())
}

/// Our hazard for a squawk violation; `None` for a case another rule's
/// violation covers better.
fn hazard_for(violation: &Violation, root: &SyntaxNode) -> Option<Hazard> {
    Some(match violation.code {
        Rule::RequireConcurrentIndexCreation => Hazard::CreateIndex,
        Rule::RequireConcurrentIndexDeletion => Hazard::DropIndex,
        Rule::RequireConcurrentReindex => Hazard::Reindex,
        // Also fires for `ALTER TYPE ... ALTER ATTRIBUTE`, which rewrites nothing.
        Rule::ChangingColumnType => {
            let node = node_at(violation, root)?;
            node.ancestors().find_map(ast::AlterTable::cast)?;
            Hazard::AlterColumnType
        }
        Rule::AddingFieldWithDefault => Hazard::VolatileDefault,
        Rule::AddingNotNullableField => Hazard::SetNotNull,
        Rule::AddingForeignKeyConstraint => Hazard::ForeignKey,
        Rule::ConstraintMissingNotValid => constraint_hazard(&node_at(violation, root)?)?,
        Rule::DisallowedUniqueConstraint => Hazard::UniqueConstraint,
        Rule::AddingSerialPrimaryKeyField => Hazard::PrimaryKey,
        Rule::AddingRequiredField => Hazard::RequiredColumn,
        Rule::RenamingColumn => Hazard::RenameColumn,
        Rule::RenamingTable => Hazard::RenameTable,
        Rule::BanDropColumn => Hazard::DropColumn,
        Rule::BanDropTable => Hazard::DropTable,
        Rule::BanDropDatabase => Hazard::DropDatabase,
        _ => return None,
    })
}

/// squawk's `constraint-missing-not-valid` covers every kind of constraint
/// and the same-transaction `VALIDATE`; each kind has its own safe form.
fn constraint_hazard(node: &SyntaxNode) -> Option<Hazard> {
    for ancestor in node.ancestors() {
        if ast::ValidateConstraint::can_cast(ancestor.kind()) {
            return Some(Hazard::ValidateInSameTransaction);
        }
        if let Some(add) = ast::AddConstraint::cast(ancestor) {
            return Some(match add.constraint()? {
                ast::Constraint::ForeignKeyConstraint(_)
                | ast::Constraint::ReferencesConstraint(_) => Hazard::ForeignKey,
                ast::Constraint::UniqueConstraint(_) | ast::Constraint::ExcludeConstraint(_) => {
                    Hazard::UniqueConstraint
                }
                ast::Constraint::PrimaryKeyConstraint(_) => Hazard::PrimaryKey,
                _ => Hazard::CheckConstraint,
            });
        }
    }
    None
}

fn node_at(violation: &Violation, root: &SyntaxNode) -> Option<SyntaxNode> {
    let range = violation.text_range;
    if !root.text_range().contains_range(range) {
        return None;
    }
    let element = root.covering_element(range);
    element
        .as_node()
        .cloned()
        .or_else(|| element.as_token().and_then(|token| token.parent()))
}
