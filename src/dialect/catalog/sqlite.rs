//! SQLite's catalog queries: `sqlite_schema` joined with the table-valued
//! pragmas, so every table is read in the same query. Check constraints
//! and index expressions exist only in the stored CREATE text, which the
//! reader parses.

use super::CatalogQueries;

const USER_TABLE: &str = "m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

/// `tables`: the tool's own, left out (a list of string literals).
pub(super) fn queries(tables: &str) -> CatalogQueries {
    let user = format!("{USER_TABLE} AND m.name NOT IN ({tables})");
    let columns = format!(
        "SELECT m.name, p.name, CAST(p.cid AS TEXT), UPPER(p.type), \
         CASE WHEN p.\"notnull\" = 0 THEN '1' ELSE '0' END, p.dflt_value, \
         CASE p.hidden WHEN 2 THEN 'GENERATED VIRTUAL' WHEN 3 THEN 'GENERATED STORED' END \
         FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p \
         WHERE {user} AND p.hidden <> 1 ORDER BY m.name, p.cid"
    );
    let keys = format!(
        "SELECT m.name, 'p', '', CAST(p.pk AS TEXT), p.name, NULL, NULL, NULL, NULL, NULL \
         FROM sqlite_schema m JOIN pragma_table_info(m.name) p WHERE {user} AND p.pk > 0 \
         UNION ALL \
         SELECT m.name, 'u', il.name, CAST(ii.seqno AS TEXT), ii.name, NULL, NULL, NULL, NULL, NULL \
         FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii \
         WHERE {user} AND il.origin = 'u' \
         UNION ALL \
         SELECT m.name, 'f', '#' || fk.id, CAST(fk.seq AS TEXT), fk.\"from\", fk.\"table\", fk.\"to\", \
         fk.on_update, fk.on_delete, NULL \
         FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) fk WHERE {user} \
         ORDER BY 1, 2, 3, 4"
    );
    // From each index to its table's index list (the other way round,
    // joining every table's list to sqlite_schema, is quadratic).
    let indexes = format!(
        "SELECT m.name, il.name, CAST(il.\"unique\" AS TEXT), '1', NULL, NULL, NULL, s.sql \
         FROM sqlite_schema s JOIN sqlite_schema m ON m.type = 'table' AND m.name = s.tbl_name \
         JOIN pragma_index_list(s.tbl_name) il ON il.name = s.name \
         WHERE s.type = 'index' AND {user} AND il.origin = 'c' ORDER BY 1, 2"
    );
    let objects = format!(
        "SELECT m.type, CASE WHEN m.type = 'trigger' THEN m.name || ' ON ' || m.tbl_name \
         ELSE m.name END, m.sql FROM sqlite_schema m \
         WHERE m.type IN ('view', 'trigger') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND NOT (m.type = 'trigger' AND m.tbl_name IN ({tables})) \
         UNION ALL \
         SELECT 'table_sql', m.name, m.sql FROM sqlite_schema m WHERE {user} \
         ORDER BY 1, 2"
    );
    CatalogQueries {
        columns,
        keys,
        indexes,
        objects,
    }
}
