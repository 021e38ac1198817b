//! SQL assembled at run time (filters, `IN (…)` lists): fixed fragments in the text, every value
//! through a numbered placeholder.

/// Ids per `UPDATE … WHERE id IN (…)` when marking outbox rows sent or releasing claims.
pub(super) const MARK_CHUNK: usize = 500;

/// A bind value for SQL assembled at run time (filters).
#[derive(Clone, Debug)]
pub(super) enum Arg {
    Text(String),
    Int(i64),
}

/// SQL text assembled at run time with its numbered arguments. Only fixed fragments go into the text;
/// every value goes through a placeholder.
pub(super) struct DynSql {
    pub(super) text: String,
    pub(super) args: Vec<Arg>,
}

impl DynSql {
    pub(super) fn new(text: &str) -> DynSql {
        DynSql { text: text.to_owned(), args: Vec::new() }
    }

    /// Adds an argument and returns its placeholder (`$N`).
    pub(super) fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    pub(super) fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// `{select} WHERE {col} IN ($1, $2, …) {rest}`, one placeholder per value (callers chunk long
    /// lists by [`MARK_CHUNK`]).
    pub(super) fn select_in(select: &str, col: &str, values: &[String], rest: &str) -> DynSql {
        let mut sql = DynSql::new("");
        let list: Vec<String> = values.iter().map(|v| sql.arg(Arg::Text(v.clone()))).collect();
        sql.push(&format!("{select} WHERE {col} IN ({}) {rest}", list.join(", ")));
        sql
    }
}

/// Builds a `sqlx::query` from a [`DynSql`] for the backend of the surrounding match arm.
macro_rules! dyn_query {
    ($sql:expr) => {{
        let sql: &$crate::store::sql::DynSql = &$sql;
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.text.clone()));
        for a in &sql.args {
            q = match a {
                $crate::store::sql::Arg::Text(s) => q.bind(s.clone()),
                $crate::store::sql::Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

pub(super) use dyn_query;
