//! MySQL's and MariaDB's catalog queries (information_schema of the
//! connection's database).

use super::CatalogQueries;

pub(super) fn queries(table: &str, mariadb: bool) -> CatalogQueries {
    // information_schema tables are materialised per query on MariaDB, and
    // joins between them are nested loops: each query reads them one at a
    // time (UNION ALL), and the reader puts the rows together.
    let columns = format!(
        "SELECT c.TABLE_NAME, c.COLUMN_NAME, CAST(c.ORDINAL_POSITION AS CHAR), c.COLUMN_TYPE, \
         CASE WHEN c.IS_NULLABLE = 'YES' THEN '1' ELSE '0' END, NULLIF(c.COLUMN_DEFAULT, 'NULL'), \
         NULLIF(TRIM(CONCAT(c.EXTRA, CASE WHEN COALESCE(c.GENERATION_EXPRESSION, '') <> '' \
         THEN CONCAT(' AS (', c.GENERATION_EXPRESSION, ')') ELSE '' END, \
         CASE WHEN c.COLLATION_NAME IS NOT NULL AND c.COLLATION_NAME <> @@collation_database \
         THEN CONCAT(' COLLATE ', c.COLLATION_NAME) ELSE '' END)), '') \
         FROM information_schema.COLUMNS c \
         WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME <> {table} \
         ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION"
    );
    // MariaDB's CHECK_CONSTRAINTS names the table; MySQL's does not.
    let checks = match mariadb {
        true => format!(
            "SELECT TABLE_NAME, 'c', CONSTRAINT_NAME, '1', NULL, NULL, NULL, NULL, NULL, CHECK_CLAUSE \
             FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME <> {table}"
        ),
        false => format!(
            "SELECT tc.TABLE_NAME, 'c', tc.CONSTRAINT_NAME, '1', NULL, NULL, NULL, NULL, NULL, \
             cc.CHECK_CLAUSE FROM information_schema.TABLE_CONSTRAINTS tc \
             JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
             AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
             WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK' AND tc.TABLE_NAME <> {table}"
        ),
    };
    // Kind `r`: a foreign key's actions, matched to its columns by name.
    let keys = format!(
        "SELECT TABLE_NAME, CASE WHEN CONSTRAINT_NAME = 'PRIMARY' THEN 'p' \
         WHEN REFERENCED_TABLE_NAME IS NOT NULL THEN 'f' ELSE 'u' END, CONSTRAINT_NAME, \
         CAST(ORDINAL_POSITION AS CHAR), COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME, \
         NULL, NULL, NULL FROM information_schema.KEY_COLUMN_USAGE \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> {table} \
         UNION ALL \
         SELECT TABLE_NAME, 'r', CONSTRAINT_NAME, '1', NULL, NULL, NULL, UPDATE_RULE, DELETE_RULE, NULL \
         FROM information_schema.REFERENTIAL_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME <> {table} \
         UNION ALL {checks} \
         ORDER BY 1, 3, 4"
    );
    let indexes = format!(
        "SELECT s.TABLE_NAME, s.INDEX_NAME, CASE WHEN s.NON_UNIQUE = 0 THEN '1' ELSE '0' END, \
         CAST(s.SEQ_IN_INDEX AS CHAR), CONCAT(COALESCE(s.COLUMN_NAME, '(expression)'), \
         CASE WHEN s.SUB_PART IS NULL THEN '' ELSE CONCAT('(', s.SUB_PART, ')') END, \
         CASE WHEN s.COLLATION = 'D' THEN ' DESC' ELSE '' END), s.INDEX_TYPE, NULL, NULL \
         FROM information_schema.STATISTICS s \
         WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME <> {table} \
         AND NOT EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS tc \
         WHERE tc.TABLE_SCHEMA = s.TABLE_SCHEMA AND tc.TABLE_NAME = s.TABLE_NAME \
         AND tc.CONSTRAINT_NAME = s.INDEX_NAME AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE')) \
         ORDER BY 1, 2, 4"
    );
    // View bodies name their tables with the database: left out, so a
    // scratch database's schema reads the same as the live one's.
    let routine = "CONCAT(r.ROUTINE_NAME, '(', COALESCE((SELECT GROUP_CONCAT(CONCAT_WS(' ', \
         p.PARAMETER_MODE, p.PARAMETER_NAME, p.DTD_IDENTIFIER) ORDER BY p.ORDINAL_POSITION SEPARATOR ', ') \
         FROM information_schema.PARAMETERS p WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA \
         AND p.SPECIFIC_NAME = r.SPECIFIC_NAME AND p.ORDINAL_POSITION > 0), ''), ')')";
    let objects = format!(
        "SELECT 'view', TABLE_NAME, CONCAT('CREATE VIEW ', TABLE_NAME, ' AS ', \
         REPLACE(VIEW_DEFINITION, CONCAT('`', DATABASE(), '`.'), '')) \
         FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() \
         UNION ALL \
         SELECT 'trigger', CONCAT(TRIGGER_NAME, ' ON ', EVENT_OBJECT_TABLE), \
         CONCAT('CREATE TRIGGER ', TRIGGER_NAME, ' ', ACTION_TIMING, ' ', EVENT_MANIPULATION, ' ON ', \
         EVENT_OBJECT_TABLE, ' FOR EACH ', ACTION_ORIENTATION, ' ', \
         REPLACE(ACTION_STATEMENT, CONCAT('`', DATABASE(), '`.'), '')) \
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() \
         AND EVENT_OBJECT_TABLE <> {table} \
         UNION ALL \
         SELECT 'function', {routine}, CONCAT('CREATE ', r.ROUTINE_TYPE, ' ', {routine}, \
         COALESCE(CONCAT(' RETURNS ', r.DTD_IDENTIFIER), ''), ' ', r.ROUTINE_DEFINITION) \
         FROM information_schema.ROUTINES r WHERE r.ROUTINE_SCHEMA = DATABASE() \
         ORDER BY 1, 2"
    );
    CatalogQueries {
        columns,
        keys,
        indexes,
        objects,
    }
}
