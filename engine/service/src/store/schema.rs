//! What the migrations built, as the database reports it (SQLite `sqlite_master` and
//! `pragma_table_info`, PostgreSQL `information_schema.columns`): for the test that both backends'
//! migrations give the same tables and columns, and for operators checking a database.

use std::collections::BTreeMap;

use sqlx::Row as _;

use super::tx::with_reader;
use super::{Store, StoreError};

/// One column of a table, as the database reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Whether the column accepts NULL (a primary key column never does).
    pub nullable: bool,
    /// The declared type, lowercased (`text`, `integer`, `bigint`, `boolean`); it differs by backend
    /// for the same column (SQLite has no BIGINT or BOOLEAN in STRICT tables).
    pub declared_type: String,
}

/// Every table and its columns in declaration order; sqlx's `_sqlx_migrations` and SQLite's
/// internal tables are left out. SQLite STRICT tables keep primary key columns NOT NULL.
const SQLITE_SCHEMA: &str = "SELECT m.name AS table_name, p.name AS column_name, \
     CASE WHEN p.\"notnull\" = 0 AND p.pk = 0 THEN 1 ELSE 0 END AS nullable, lower(p.type) AS declared_type \
     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name <> '_sqlx_migrations' \
     ORDER BY m.name, p.cid";
/// The same for PostgreSQL's current schema.
const PG_SCHEMA: &str = "SELECT table_name::text AS table_name, column_name::text AS column_name, \
     CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS nullable, lower(data_type::text) AS declared_type \
     FROM information_schema.columns \
     WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' \
     ORDER BY table_name, ordinal_position";

impl Store {
    /// The schema as the database reports it: each table (by name) with its columns in declaration
    /// order. Leaves out sqlx's migration bookkeeping and SQLite's internal tables.
    pub async fn schema(&self) -> Result<BTreeMap<String, Vec<ColumnInfo>>, StoreError> {
        let mut out: BTreeMap<String, Vec<ColumnInfo>> = BTreeMap::new();
        with_reader!(self, c => {
            let sql = match self.backend() {
                super::Backend::Sqlite => SQLITE_SCHEMA,
                super::Backend::Postgres => PG_SCHEMA,
            };
            for r in sqlx::query(sql).fetch_all(&mut *c).await? {
                let table: String = r.try_get("table_name")?;
                let nullable: i32 = r.try_get("nullable")?;
                out.entry(table).or_default().push(ColumnInfo {
                    name: r.try_get("column_name")?,
                    nullable: nullable != 0,
                    declared_type: r.try_get("declared_type")?,
                });
            }
        });
        Ok(out)
    }
}
