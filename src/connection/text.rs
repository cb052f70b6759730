//! Rows of any columns read as text, by position: what catalog reads and
//! code steps (`Db::query`) need when no struct describes the row.
//!
//! SQLite hands every value over as text on request. PostgreSQL sends
//! binary, one encoding per type, so its queries are wrapped to return JSON
//! text instead (see `Dialect::query_as_json`). MySQL's prepared statements
//! send binary too, but every value says its type: [`TextValue`] renders
//! numbers, dates and strings the way the `mysql` client prints them.
#![allow(unreachable_pub)]

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::prelude::*;
use diesel::sql_types::Text;

/// Renders one non-NULL value of a backend as text.
pub trait TextValue: Backend {
    fn to_text(raw: Self::RawValue<'_>) -> deserialize::Result<String>;
}

impl TextValue for diesel::sqlite::Sqlite {
    fn to_text(raw: Self::RawValue<'_>) -> deserialize::Result<String> {
        <String as FromSql<Text, Self>>::from_sql(raw)
    }
}

#[cfg(feature = "postgres")]
impl TextValue for diesel::pg::Pg {
    fn to_text(raw: Self::RawValue<'_>) -> deserialize::Result<String> {
        <String as FromSql<Text, Self>>::from_sql(raw)
    }
}

#[cfg(feature = "mysql")]
impl TextValue for diesel::mysql::Mysql {
    fn to_text(raw: Self::RawValue<'_>) -> deserialize::Result<String> {
        use diesel::mysql::data_types::MysqlTime;
        use diesel::mysql::{Mysql, MysqlType};
        use diesel::sql_types::{BigInt, Date, Datetime, Double, Time, Unsigned};
        Ok(match raw.value_type() {
            MysqlType::Tiny
            | MysqlType::UnsignedTiny
            | MysqlType::Short
            | MysqlType::UnsignedShort
            | MysqlType::Long
            | MysqlType::UnsignedLong
            | MysqlType::LongLong => <i64 as FromSql<BigInt, Mysql>>::from_sql(raw)?.to_string(),
            MysqlType::UnsignedLongLong => {
                <u64 as FromSql<Unsigned<BigInt>, Mysql>>::from_sql(raw)?.to_string()
            }
            MysqlType::Float | MysqlType::Double => {
                <f64 as FromSql<Double, Mysql>>::from_sql(raw)?.to_string()
            }
            MysqlType::Date => {
                let t = <MysqlTime as FromSql<Date, Mysql>>::from_sql(raw)?;
                format!("{:04}-{:02}-{:02}", t.year, t.month, t.day)
            }
            MysqlType::Time => {
                let t = <MysqlTime as FromSql<Time, Mysql>>::from_sql(raw)?;
                let hours = t.hour + 24 * t.day;
                format!("{hours:02}:{:02}:{:02}{}", t.minute, t.second, fraction(&t))
            }
            MysqlType::DateTime | MysqlType::Timestamp => {
                let t = <MysqlTime as FromSql<Datetime, Mysql>>::from_sql(raw)?;
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{}",
                    t.year,
                    t.month,
                    t.day,
                    t.hour,
                    t.minute,
                    t.second,
                    fraction(&t)
                )
            }
            MysqlType::Bit => {
                let value = raw
                    .as_bytes()
                    .iter()
                    .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                value.to_string()
            }
            // DECIMAL arrives as its digits; strings, blobs, enums and sets
            // as their bytes.
            _ => String::from_utf8_lossy(raw.as_bytes()).into_owned(),
        })
    }
}

#[cfg(feature = "mysql")]
fn fraction(time: &diesel::mysql::data_types::MysqlTime) -> String {
    if time.second_part == 0 {
        String::new()
    } else {
        format!(".{:06}", time.second_part)
    }
}

/// Every column of a row as text (`None` for NULL), whatever its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextColumns(pub Vec<Option<String>>);

impl<DB: TextValue> QueryableByName<DB> for TextColumns {
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> deserialize::Result<Self> {
        use diesel::row::{Field, Row};
        let mut values = Vec::with_capacity(row.field_count());
        for index in 0..row.field_count() {
            let field = Row::get(row, index).ok_or("a column vanished from the row")?;
            values.push(match field.value() {
                None => None,
                Some(raw) => Some(DB::to_text(raw)?),
            });
        }
        Ok(TextColumns(values))
    }
}
