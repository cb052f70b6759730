//! MySQL/MariaDB and SQLite: sqlparser reads each `sql` entry with the
//! backend's dialect, and the hazards are read off its syntax tree.

use sqlparser::ast::{
    AlterTable, AlterTableAlgorithm, AlterTableOperation, ColumnDef, ColumnOption,
    GeneratedExpressionMode, Ident, ObjectName, ObjectType, Statement as Ast, TableConstraint,
};
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use super::depth::{too_deep, MAX_NESTING};
use super::hazard::Hazard;
use super::scan::{table_key, Scan, Statement, Unreadable};
use crate::{Dialect, Migration};

/// sqlparser's default (50) refuses ordinary nested expressions; with its
/// `recursive-protection` the stack grows as needed. Input nested deeper than
/// [`MAX_NESTING`] never gets here.
const RECURSION_LIMIT: usize = 4 * MAX_NESTING;

pub(crate) fn scan(migration: &Migration, backend: Dialect) -> Scan {
    let dialect: &dyn SqlDialect = match backend {
        Dialect::Mysql => &MySqlDialect {},
        _ => &SQLiteDialect {},
    };
    let mut scan = Scan::default();
    for (entry, sql) in migration.sql.iter().enumerate() {
        if let Some(reason) = too_deep(sql) {
            scan.unreadable.push(Unreadable { entry, reason });
            continue;
        }
        let parsed = Parser::new(dialect)
            .with_recursion_limit(RECURSION_LIMIT)
            .try_with_sql(sql)
            .and_then(|mut parser| parser.parse_statements());
        let statements = match parsed {
            Ok(statements) => statements,
            Err(error) => {
                scan.unreadable.push(Unreadable {
                    entry,
                    reason: error.to_string(),
                });
                continue;
            }
        };
        let single = statements.len() == 1;
        for ast in &statements {
            // sqlparser keeps no reliable source span for whole statements:
            // show the entry as written when it is one statement.
            let text = if single {
                sql.to_string()
            } else {
                ast.to_string()
            };
            let mut statement = Statement {
                entry,
                text,
                ..Statement::default()
            };
            read(ast, migration.transaction, backend, &mut statement);
            scan.statements.push(statement);
        }
    }
    scan
}

fn read(ast: &Ast, transaction: bool, backend: Dialect, out: &mut Statement) {
    out.ddl = is_ddl(ast);
    match ast {
        Ast::CreateTable(create) if !create.if_not_exists => {
            out.creates_table = table_name(&create.name);
        }
        Ast::CreateIndex(create) => out.target_table = table_name(&create.table_name),
        Ast::AlterTable(alter) => read_alter_table(alter, backend, out),
        Ast::Drop {
            object_type, names, ..
        } => match object_type {
            ObjectType::Table => {
                out.add(Hazard::DropTable);
                out.target_table = names.first().and_then(table_name);
            }
            ObjectType::Database | ObjectType::Schema if backend == Dialect::Mysql => {
                out.add(Hazard::DropDatabase)
            }
            _ => {}
        },
        Ast::RenameTable(_) => out.add(Hazard::RenameTable),
        Ast::StartTransaction { .. } | Ast::Commit { .. } if transaction => {
            out.add(Hazard::TransactionControl)
        }
        Ast::Rollback { savepoint, .. } if transaction && savepoint.is_none() => {
            out.add(Hazard::TransactionControl)
        }
        _ => {}
    }
}

fn read_alter_table(alter: &AlterTable, backend: Dialect, out: &mut Statement) {
    out.target_table = table_name(&alter.name);
    let mysql = backend == Dialect::Mysql;
    for operation in &alter.operations {
        match operation {
            AlterTableOperation::AddColumn { column_def, .. } => {
                read_added_column(column_def, mysql, out)
            }
            AlterTableOperation::DropColumn { .. } => out.add(Hazard::DropColumn),
            AlterTableOperation::RenameColumn { .. } => out.add(Hazard::RenameColumn),
            AlterTableOperation::RenameTable { .. } => out.add(Hazard::RenameTable),
            AlterTableOperation::ChangeColumn {
                old_name, new_name, ..
            } if !same_ident(old_name, new_name) => out.add(Hazard::RenameColumn),
            AlterTableOperation::ChangeColumn { .. } | AlterTableOperation::ModifyColumn { .. }
                if mysql =>
            {
                out.add(Hazard::ModifyColumn)
            }
            AlterTableOperation::AlterColumn { op, .. } if mysql => {
                if matches!(op, sqlparser::ast::AlterColumnOperation::SetDataType { .. }) {
                    out.add(Hazard::ModifyColumn)
                }
            }
            AlterTableOperation::AddConstraint { constraint, .. } if mysql => match constraint {
                TableConstraint::PrimaryKey(_) => out.add(Hazard::PrimaryKeyRebuild),
                TableConstraint::ForeignKey(_) => out.add(Hazard::ForeignKeyCopy),
                _ => {}
            },
            AlterTableOperation::DropPrimaryKey { .. } if mysql => {
                out.add(Hazard::PrimaryKeyRebuild)
            }
            AlterTableOperation::Algorithm {
                algorithm: AlterTableAlgorithm::Copy,
                ..
            } if mysql => out.add(Hazard::CopyAlgorithm),
            _ => {}
        }
    }
}

fn read_added_column(column: &ColumnDef, mysql: bool, out: &mut Statement) {
    let mut not_null = false;
    let mut has_default = false;
    let mut filled = false;
    for option in column.options.iter().map(|o| &o.option) {
        match option {
            ColumnOption::NotNull => not_null = true,
            ColumnOption::Default(_) => has_default = true,
            // A primary key column is NOT NULL by definition.
            ColumnOption::PrimaryKey(_) => not_null = true,
            ColumnOption::Generated {
                generation_expr_mode,
                ..
            } => {
                // Computed, never NULL-filled; stored ones are written now.
                has_default = true;
                filled |= matches!(generation_expr_mode, Some(GeneratedExpressionMode::Stored));
            }
            ColumnOption::DialectSpecific(tokens) if tokens.iter().any(is_auto_increment) => {
                has_default = true;
                filled = true;
            }
            _ => {}
        }
    }
    if not_null && !has_default {
        out.add(Hazard::RequiredColumn);
    }
    if mysql && filled {
        out.add(Hazard::FilledColumn);
    }
}

fn is_auto_increment(token: &Token) -> bool {
    matches!(token, Token::Word(word) if word.value.eq_ignore_ascii_case("AUTO_INCREMENT"))
}

/// Statements MySQL commits implicitly.
fn is_ddl(ast: &Ast) -> bool {
    matches!(
        ast,
        Ast::CreateTable(_)
            | Ast::CreateIndex(_)
            | Ast::CreateView(_)
            | Ast::CreateTrigger(_)
            | Ast::CreateFunction(_)
            | Ast::CreateProcedure { .. }
            | Ast::CreateDatabase { .. }
            | Ast::CreateSchema { .. }
            | Ast::AlterTable(_)
            | Ast::AlterIndex { .. }
            | Ast::AlterView { .. }
            | Ast::Drop { .. }
            | Ast::DropFunction(_)
            | Ast::DropProcedure { .. }
            | Ast::DropTrigger(_)
            | Ast::RenameTable(_)
            | Ast::Truncate(_)
    )
}

fn table_name(name: &ObjectName) -> Option<String> {
    let last = name.0.last()?.as_ident()?;
    Some(table_key(&last.value, false))
}

fn same_ident(a: &Ident, b: &Ident) -> bool {
    a.value.eq_ignore_ascii_case(&b.value)
}
