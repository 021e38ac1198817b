//! Whole cases written at once ([`Store::bulk_insert`], the bulk path of `aduan seed`): multi-row
//! `INSERT`s on SQLite, `COPY` on PostgreSQL (see `copy.rs`).

use sqlx::AssertSqlSafe;

use super::columns::{bind_case, bind_event, bind_timer, CASES, EVENTS, HOLDERS, TIMERS};
use super::copy;
use super::tx::TxInner;
use super::{CaseRow, EventRow, Store, StoreError, TimerRow};

/// Most bind parameters one SQLite statement may carry (SQLite's default `SQLITE_MAX_VARIABLE_NUMBER`).
const SQLITE_MAX_PARAMS: usize = 32_766;

/// Rows per multi-row `INSERT` of [`Store::bulk_insert`] on SQLite. Measured on 10,000 cases: 500 rows
/// ≈ 225,000 rows/s; 50 rows ≈ 170,000; 1,424 (the parameter limit for cases) ≈ 195,000.
const SQLITE_BULK_ROWS: usize = 500;

/// Runs `$head` (`INSERT INTO t (cols) VALUES `) over `$rows` on a SQLite connection as multi-row
/// statements of `$width` placeholders per row (plus the constant `$tail`, e.g. `", FALSE"`), at most
/// [`SQLITE_BULK_ROWS`] rows and [`SQLITE_MAX_PARAMS`] parameters per statement, binding each row
/// with `$bind` (`|q, r| …`). Full chunks share one statement text, so the connection prepares it
/// once.
macro_rules! insert_chunks {
    ($c:expr, $head:expr, $width:expr, $tail:expr, $rows:expr, |$q:ident, $r:ident| $bind:expr) => {{
        let per = (SQLITE_MAX_PARAMS / $width).clamp(1, SQLITE_BULK_ROWS);
        let mut full: Option<String> = None;
        for chunk in $rows.chunks(per) {
            let text = if chunk.len() == per {
                full.get_or_insert_with(|| multi_values($head, $width, per, $tail)).clone()
            } else {
                multi_values($head, $width, chunk.len(), $tail)
            };
            let mut $q = sqlx::query(AssertSqlSafe(text)).persistent(chunk.len() == per);
            for $r in chunk {
                $q = $bind;
            }
            $q.execute(&mut *$c).await?;
        }
    }};
}

impl Store {
    /// Writes whole cases at once, in one transaction: `cases`, then `events`, `timers` and holder rows
    /// (`(complaint_id, agency)`, not escalated from). SQLite: multi-row `INSERT`s of up to 500 rows,
    /// under its 32,766 bind parameters. PostgreSQL: one `COPY … FROM STDIN` per table (about twice
    /// the rows per second of the best multi-row `INSERT`, and no parameter limit). The bulk path of
    /// `aduan seed`: it writes no outbox rows (seeded history is not published) and leaves the timers
    /// unclaimed. Any existing key (case, tracking id, event, (case, seq), timer, holder) fails the
    /// whole call with [`StoreError::Conflict`] and writes nothing. Batches of about 10,000 cases
    /// keep memory flat; after a large load, see [`Store::analyze`].
    pub async fn bulk_insert(
        &self,
        cases: &[CaseRow],
        events: &[EventRow],
        timers: &[TimerRow],
        holders: &[(String, String)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        match &mut tx.inner {
            TxInner::Sqlite(t) => {
                let c: &mut sqlx::SqliteConnection = &mut *t;
                insert_chunks!(c, &CASES.insert_head(), CASES.cols.len(), "", cases, |q, r| bind_case!(q, r));
                insert_chunks!(c, &EVENTS.insert_head(), EVENTS.cols.len(), "", events, |q, e| bind_event!(q, e));
                insert_chunks!(c, &TIMERS.insert_head(), TIMERS.cols.len(), "", timers, |q, t| bind_timer!(q, t));
                // The last column, escalated_from, is the constant tail.
                insert_chunks!(c, &HOLDERS.insert_head(), HOLDERS.cols.len() - 1, ", FALSE", holders, |q, h| {
                    q.bind(h.0.clone()).bind(h.1.clone())
                });
            }
            TxInner::Postgres(t) => copy::copy_all(&mut *t, cases, events, timers, holders).await?,
        }
        tx.commit().await
    }
}

/// `head` followed by `rows` groups `(?, …, ?{tail})` of `width` placeholders each. Plain `?`: SQLite
/// looks up each numbered or named parameter (`?N`, `$N`) in a list when it binds, which is
/// quadratic over a statement's thousands of them.
fn multi_values(head: &str, width: usize, rows: usize, tail: &str) -> String {
    let group = format!("({}{tail})", vec!["?"; width].join(", "));
    let mut out = String::with_capacity(head.len() + rows * (group.len() + 2));
    out.push_str(head);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push_str(&group);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_values_groups_placeholders() {
        assert_eq!(multi_values("INSERT INTO t (a) VALUES ", 1, 1, ""), "INSERT INTO t (a) VALUES (?)");
        assert_eq!(
            multi_values("INSERT INTO t (a, b, c) VALUES ", 2, 3, ", FALSE"),
            "INSERT INTO t (a, b, c) VALUES (?, ?, FALSE), (?, ?, FALSE), (?, ?, FALSE)"
        );
    }
}
