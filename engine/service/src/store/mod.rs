//! The store: every line of Aduan's SQL lives here (invariant 2).
//!
//! Two native sqlx pools sit behind one [`Store`] (never sqlx `Any`):
//! - **SQLite** (the embedded default, `sqlite://PATH`): one writer connection whose transactions start
//!   with `BEGIN IMMEDIATE`, so concurrent writers queue instead of failing with `SQLITE_BUSY`, plus a
//!   separate read pool; WAL, `synchronous=NORMAL` (survives kill -9, not power loss; `FULL` by option),
//!   `busy_timeout` 5 s, foreign keys on, `LIKE` case-sensitive as on PostgreSQL, a 64 MiB page cache
//!   on the writer.
//! - **PostgreSQL** (`postgres://…`, production with many replicas): one pool.
//!
//! Every pool gives up acquiring a connection after 2 s, so callers answer 503 quickly
//! ([`StoreError::Unavailable`]). Both schemas store instants as BIGINT epoch milliseconds and payloads
//! as TEXT (the exact bytes an event's hash covers; never `jsonb`), so the same SQL text, with `$N`
//! placeholders, runs on both backends. The exceptions are row locks (PostgreSQL only: the sweep's
//! claim and [`Tx::lock_case`]) and the bulk load ([`Store::bulk_insert`]: `COPY` on PostgreSQL,
//! multi-row `INSERT`s with `?` placeholders on SQLite). Migrations are per backend
//! (`migrations/sqlite`, `migrations/postgres`), embedded at compile time.
//!
//! Sweeps (invariant 6): [`Store::claim_due`] hands due timers out to workers under a lease
//! (`claim_owner`, `claim_until`) that lapses if the worker dies; the worker locks each case
//! ([`Tx::lock_case`]), records each rung it acts on with [`Tx::insert_rung`], whose unique row makes
//! the action happen once, and rewrites the case's timers, which ends the claim.
//!
//! A command's writes (events, state, timers, outbox, idempotency key) go through one [`Tx`] and
//! commit atomically (invariant 3); group commit runs each command inside a savepoint. The event log
//! has no update or delete path (invariant 8). On SQLite, a [`Tx`] holds the only writer connection:
//! do not call the store's own write methods (leases, packs, outbox marks, claims, bulk inserts)
//! while holding one in the same task, or they wait for it until the 2 s acquire timeout.

mod copy;
mod error;
pub mod model;
mod rows;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, Postgres};
use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row as _, SqlSafeStr, Transaction};

pub use error::StoreError;
pub use model::{subtree_patterns, CaseFilter, CaseRow, CommandRecord, DueTimer, EventRow, OutboxRow, TimerRow};

use rows::{case_cols, command_cols, event_cols, ms, opt_ms, timer_cols};

/// How long any pool waits for a free connection before the caller gets [`StoreError::Unavailable`].
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long SQLite waits on another process's lock before reporting `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The SQLite writer connection's page cache, in KiB (`PRAGMA cache_size = -N`).
const SQLITE_WRITER_CACHE_KIB: u32 = 64 * 1024;
/// Default size of the SQLite read pool.
const SQLITE_READERS: u32 = 4;
/// Default size of the PostgreSQL pool.
const PG_CONNECTIONS: u32 = 10;
/// Ids per `UPDATE … WHERE id IN (…)` when marking outbox rows sent or releasing claims.
const MARK_CHUNK: usize = 500;
/// Most bind parameters one SQLite statement may carry (SQLite's default `SQLITE_MAX_VARIABLE_NUMBER`).
const SQLITE_MAX_PARAMS: usize = 32_766;
/// Rows per multi-row `INSERT` of [`Store::bulk_insert`] on SQLite. Measured on 10,000 cases: 500 rows
/// ≈ 225,000 rows/s; 50 rows ≈ 170,000; 1,424 (the parameter limit for cases) ≈ 195,000.
const SQLITE_BULK_ROWS: usize = 500;

/// SQLite migrations, in order: (version, description, SQL). Add a file and a line to add one.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/sqlite/0001_initial.sql")),
    (2, "sweeps", include_str!("../../migrations/sqlite/0002_sweeps.sql")),
    (3, "digests", include_str!("../../migrations/sqlite/0003_digests.sql")),
    (4, "recomputes", include_str!("../../migrations/sqlite/0004_recomputes.sql")),
];
/// PostgreSQL migrations, in order, with the same versions as [`SQLITE_MIGRATIONS`].
const PG_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/postgres/0001_initial.sql")),
    (2, "sweeps", include_str!("../../migrations/postgres/0002_sweeps.sql")),
    (3, "digests", include_str!("../../migrations/postgres/0003_digests.sql")),
    (4, "recomputes", include_str!("../../migrations/postgres/0004_recomputes.sql")),
];

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Tuning knobs for [`Store::connect`]; the defaults suit both tests and production.
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// SQLite `synchronous=FULL` instead of `NORMAL`: commits survive power loss, at a cost per commit.
    pub sqlite_synchronous_full: bool,
    /// Pool size: the PostgreSQL pool (default 10) or the SQLite read pool (default 4; the SQLite
    /// writer is always one connection).
    pub max_connections: Option<u32>,
}

/// Which cases statistics cover: those an agency subtree has held, plus the undispatched ones of a
/// region (see [`Store::stats_rows`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsScope {
    /// LIKE patterns over agency ids, from [`subtree_patterns`].
    pub agency_patterns: Vec<String>,
    /// Kemendagri region code (`"35"`, `"35.78"`): undispatched cases filed in it or below it count.
    pub region: Option<String>,
}

/// One case as statistics see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRow {
    /// Workflow state.
    pub status: String,
    /// An agency in scope handed the case up the hierarchy (escalated away from it).
    pub escalated_in_scope: bool,
    /// Still open with a running clock past its deadline.
    pub overdue: bool,
    /// First dispatch.
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// First follow-up.
    pub first_followup_at: Option<DateTime<Utc>>,
    /// The agency that followed up first.
    pub first_followup_agency: Option<String>,
}

#[derive(Debug)]
enum Pools {
    Sqlite { writer: SqlitePool, reader: SqlitePool },
    Postgres(PgPool),
}

#[derive(Debug)]
struct Inner {
    pools: Pools,
}

/// Aduan's database: a cheap-to-clone handle over the backend's pools.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

/// An open write transaction. Dropping it without [`Tx::commit`] rolls it back.
#[derive(Debug)]
pub struct Tx {
    inner: TxInner,
}

#[derive(Debug)]
enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to a read connection (`&mut SqliteConnection` from the SQLite read
/// pool, or `&mut PgConnection`). The body is compiled once per backend.
macro_rules! with_reader {
    ($store:expr, $c:ident => $body:block) => {
        match &$store.inner.pools {
            Pools::Sqlite { reader, .. } => {
                let mut conn = reader.acquire().await?;
                let $c: &mut sqlx::SqliteConnection = &mut *conn;
                $body
            }
            Pools::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let $c: &mut sqlx::PgConnection = &mut *conn;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's connection.
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:block) => {
        match &mut $tx.inner {
            TxInner::Sqlite(t) => {
                let $c: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            TxInner::Postgres(t) => {
                let $c: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}

/// A bind value for SQL assembled at run time (filters).
#[derive(Clone, Debug)]
enum Arg {
    Text(String),
    Int(i64),
}

/// SQL text assembled at run time with its numbered arguments. Only fixed fragments go into the text;
/// every value goes through a placeholder.
struct DynSql {
    text: String,
    args: Vec<Arg>,
}

impl DynSql {
    fn new(text: &str) -> DynSql {
        DynSql { text: text.to_owned(), args: Vec::new() }
    }

    /// Adds an argument and returns its placeholder (`$N`).
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }
}

/// Builds a `sqlx::query` from a [`DynSql`] for the backend of the surrounding match arm.
macro_rules! dyn_query {
    ($sql:expr) => {{
        let sql: &DynSql = &$sql;
        let mut q = sqlx::query(AssertSqlSafe(sql.text.clone()));
        for a in &sql.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

/// Binds a [`CaseRow`]'s 23 columns in [`case_cols`] order.
macro_rules! bind_case {
    ($q:expr, $r:expr) => {{
        let r: &CaseRow = $r;
        $q.bind(r.id.clone())
            .bind(r.tracking_id.clone())
            .bind(r.kind.clone())
            .bind(r.channel.clone())
            .bind(r.category.clone())
            .bind(r.region.clone())
            .bind(r.privacy.clone())
            .bind(r.status.clone())
            .bind(r.agency.clone())
            .bind(r.escalation_level)
            .bind(r.flags.clone())
            .bind(r.title.clone())
            .bind(r.body.clone())
            .bind(r.reporter.clone())
            .bind(r.state.clone())
            .bind(ms(r.created_at))
            .bind(ms(r.updated_at))
            .bind(r.pack.clone())
            .bind(r.head_seq)
            .bind(r.head_hash.clone())
            .bind(opt_ms(r.first_assigned_at))
            .bind(opt_ms(r.first_followup_at))
            .bind(r.first_followup_agency.clone())
    }};
}

/// Binds an [`EventRow`]'s 12 columns in [`event_cols`] order.
macro_rules! bind_event {
    ($q:expr, $e:expr) => {{
        let e: &EventRow = $e;
        $q.bind(e.id.clone())
            .bind(e.complaint_id.clone())
            .bind(e.seq)
            .bind(e.event_type.clone())
            .bind(ms(e.at))
            .bind(e.actor.clone())
            .bind(e.agency.clone())
            .bind(e.escalation_level)
            .bind(e.pack.clone())
            .bind(e.payload.clone())
            .bind(e.prev_hash.clone())
            .bind(e.hash.clone())
    }};
}

/// Binds a [`TimerRow`]'s 14 columns in [`timer_cols`] order.
macro_rules! bind_timer {
    ($q:expr, $t:expr) => {{
        let t: &TimerRow = $t;
        $q.bind(t.complaint_id.clone())
            .bind(t.clock.clone())
            .bind(t.generation)
            .bind(t.budget_kind.clone())
            .bind(t.budget)
            .bind(t.warn_permille)
            .bind(t.calendar_ref.clone())
            .bind(ms(t.started_at))
            .bind(t.suspensions.clone())
            .bind(t.status.clone())
            .bind(opt_ms(t.due_at))
            .bind(opt_ms(t.warn_at))
            .bind(opt_ms(t.next_action_at))
            .bind(t.sla_source.clone())
    }};
}

/// Binds a [`CommandRecord`]'s 7 columns in [`command_cols`] order.
macro_rules! bind_command {
    ($q:expr, $r:expr) => {{
        let r: &CommandRecord = $r;
        $q.bind(r.scope.clone())
            .bind(r.key.clone())
            .bind(r.request_hash.clone())
            .bind(r.status)
            .bind(r.complaint_id.clone())
            .bind(r.reporter_token_sealed.clone())
            .bind(ms(r.created_at))
    }};
}

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

const CASE_BY_ID: &str = concat!("SELECT ", case_cols!(), " FROM complaints WHERE id = $1");
const CASE_BY_TRACKING_ID: &str = concat!("SELECT ", case_cols!(), " FROM complaints WHERE tracking_id = $1");
const EVENTS_OF_CASE: &str = concat!("SELECT ", event_cols!(), " FROM events WHERE complaint_id = $1 ORDER BY seq");
const TIMERS_OF_CASE: &str = concat!("SELECT ", timer_cols!(), " FROM timers WHERE complaint_id = $1 ORDER BY clock");
const INSERT_CASE: &str = concat!(
    "INSERT INTO complaints (",
    case_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
     $22, $23) ON CONFLICT DO NOTHING"
);
const UPDATE_CASE: &str = "UPDATE complaints SET tracking_id = $2, kind = $3, channel = $4, category = $5, \
     region = $6, privacy = $7, status = $8, agency = $9, escalation_level = $10, flags = $11, title = $12, \
     body = $13, reporter = $14, state = $15, created_at = $16, updated_at = $17, pack = $18, head_seq = $19, \
     head_hash = $20, first_assigned_at = $21, first_followup_at = $22, first_followup_agency = $23 \
     WHERE id = $1 AND head_seq = $24";
const INSERT_EVENT: &str = concat!(
    "INSERT INTO events (",
    event_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING"
);
const INSERT_TIMER: &str = concat!(
    "INSERT INTO timers (",
    timer_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
);
const COMMAND_BY_KEY: &str =
    concat!("SELECT ", command_cols!(), " FROM processed_commands WHERE scope = $1 AND key = $2");
const INSERT_COMMAND: &str = concat!(
    "INSERT INTO processed_commands (",
    command_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
);
const OUTBOX_BATCH: &str =
    "SELECT id, event_id, subject, payload, created_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1";
const TRY_LEASE: &str = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
     WHERE leases.holder = excluded.holder OR leases.expires_at <= $4";

/// The claim of [`Store::claim_due`], with `$lock` after the candidate select (PostgreSQL:
/// `FOR UPDATE SKIP LOCKED`; SQLite needs none, its writer transaction being exclusive). `$1` owner,
/// `$2` claim_until, `$3` now, `$4` limit. `next_action_at IS NOT NULL` restates the partial index's
/// predicate so both planners use `timers_next_action` for the range and the order.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE timers SET claim_owner = $1, claim_until = $2 WHERE (complaint_id, clock) IN (\
             SELECT complaint_id, clock FROM timers \
             WHERE next_action_at IS NOT NULL AND next_action_at <= $3 \
             AND (claim_until IS NULL OR claim_until <= $3 OR claim_owner = $1) \
             ORDER BY next_action_at LIMIT $4",
            $lock,
            ") RETURNING complaint_id"
        )
    };
}
const CLAIM_DUE_SQLITE: &str = claim_sql!("");
const CLAIM_DUE_PG: &str = claim_sql!(" FOR UPDATE SKIP LOCKED");
const DUE_COUNT: &str = "SELECT COUNT(*) FROM timers WHERE next_action_at IS NOT NULL AND next_action_at <= $1";
const DUE_BETWEEN: &str = "SELECT t.complaint_id, c.tracking_id, c.agency, c.status, t.clock, t.due_at \
     FROM timers t JOIN complaints c ON c.id = t.complaint_id \
     WHERE t.due_at > $1 AND t.due_at <= $2 AND t.status = 'running' AND c.agency IS NOT NULL \
     ORDER BY t.due_at, t.complaint_id, t.clock";
const LOCK_CASE_PG: &str = concat!("SELECT ", case_cols!(), " FROM complaints WHERE id = $1 FOR UPDATE");
const FIRED_RUNGS: &str =
    "SELECT clock, generation, rung FROM timer_actions WHERE complaint_id = $1 ORDER BY clock, generation, rung";
const INSERT_RUNG: &str = "INSERT INTO timer_actions (complaint_id, clock, generation, rung, at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
const BULK_CASES: &str = concat!("INSERT INTO complaints (", case_cols!(), ") VALUES ");
const BULK_EVENTS: &str = concat!("INSERT INTO events (", event_cols!(), ") VALUES ");
const BULK_TIMERS: &str = concat!("INSERT INTO timers (", timer_cols!(), ") VALUES ");
const BULK_HOLDERS: &str = "INSERT INTO case_holders (complaint_id, agency, escalated_from) VALUES ";

impl Store {
    /// Opens the database at `url`: `sqlite://PATH` (the file and its directory are created when
    /// missing) or `postgres://…` / `postgresql://…`. Opens one connection to prove the database
    /// answers; does not migrate (see [`Store::migrate`]).
    pub async fn connect(url: &str, opts: StoreOptions) -> Result<Store, StoreError> {
        let Some((scheme, _)) = url.split_once(':') else {
            return Err(StoreError::BadUrl("no scheme (expected sqlite://PATH or postgres://…)".to_owned()));
        };
        let pools = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => connect_sqlite(url, &opts).await?,
            "postgres" | "postgresql" => connect_postgres(url, &opts).await?,
            other => {
                return Err(StoreError::BadUrl(format!(
                    "unsupported scheme '{other}' (expected sqlite://PATH or postgres://…)"
                )))
            }
        };
        Ok(Store { inner: Arc::new(Inner { pools }) })
    }

    /// Which backend this store talks to.
    pub fn backend(&self) -> Backend {
        match self.inner.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the schema up to date; a no-op when it already is. Safe to run from several processes:
    /// PostgreSQL migrations take an advisory lock, SQLite ones the single writer connection.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.inner.pools {
            Pools::Sqlite { writer, .. } => migrator(SQLITE_MIGRATIONS).run(writer).await?,
            Pools::Postgres(pool) => migrator(PG_MIGRATIONS).run(pool).await?,
        }
        Ok(())
    }

    /// Proves the database takes writes (for `/readyz`): a write inside a transaction that is then
    /// rolled back. Fails with [`StoreError::Unavailable`] when the database is down, locked past the
    /// busy timeout or a read-only standby.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query(
                "INSERT INTO leases (name, holder, expires_at) VALUES ('aduan.readyz', 'readyz', 0) \
                 ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at",
            )
            .execute(&mut *c)
            .await?;
        });
        tx.rollback().await
    }

    /// Starts a write transaction (SQLite: `BEGIN IMMEDIATE` on the writer connection, so it waits for
    /// other writers up front instead of failing when it first writes).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let inner = match &self.inner.pools {
            Pools::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx { inner })
    }

    /// Closes every pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        match &self.inner.pools {
            Pools::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// A case by its id.
    pub async fn case_by_id(&self, id: &str) -> Result<Option<CaseRow>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query(CASE_BY_ID).bind(id.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// A case by its tracking id (`XXXXX-XXXXX`).
    pub async fn case_by_tracking_id(&self, tracking_id: &str) -> Result<Option<CaseRow>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query(CASE_BY_TRACKING_ID).bind(tracking_id.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// A case's events, by `seq`.
    pub async fn events(&self, complaint_id: &str) -> Result<Vec<EventRow>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(EVENTS_OF_CASE).bind(complaint_id.to_owned()).fetch_all(&mut *c).await?;
            rows.iter().map(rows::event_row).collect()
        })
    }

    /// A case's timers, by clock name.
    pub async fn timers(&self, complaint_id: &str) -> Result<Vec<TimerRow>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(TIMERS_OF_CASE).bind(complaint_id.to_owned()).fetch_all(&mut *c).await?;
            rows.iter().map(rows::timer_row).collect()
        })
    }

    /// One page of `GET /v1/complaints`: newest first by (created_at, id), strictly after the cursor,
    /// filtered by agency subtree, status and overdue clocks. A limit ≤ 0 returns nothing.
    pub async fn list_cases(&self, f: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let mut sql = DynSql::new(concat!("SELECT ", case_cols!(), " FROM complaints WHERE 1 = 1"));
        if let Some(patterns) = f.agency.as_deref().and_then(subtree_patterns) {
            let any = like_any(&mut sql, "agency", patterns);
            sql.push(&format!(" AND {any}"));
        }
        if let Some(status) = &f.status {
            let p = sql.arg(Arg::Text(status.clone()));
            sql.push(&format!(" AND status = {p}"));
        }
        if let Some(at) = f.overdue_at {
            let p = sql.arg(Arg::Int(ms(at)));
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM timers t WHERE t.complaint_id = complaints.id \
                 AND t.status = 'running' AND t.due_at <= {p})"
            ));
        }
        if let Some((created_ms, id)) = &f.cursor {
            let pc = sql.arg(Arg::Int(*created_ms));
            let pi = sql.arg(Arg::Text(id.clone()));
            sql.push(&format!(" AND (created_at < {pc} OR (created_at = {pc} AND id < {pi}))"));
        }
        let p = sql.arg(Arg::Int(f.limit.max(0)));
        sql.push(&format!(" ORDER BY created_at DESC, id DESC LIMIT {p}"));
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::case_row).collect()
        })
    }

    /// The cases statistics count, one row each: created in `[from, to)`, and either held at some
    /// point by an agency matching `scope.agency_patterns` or never dispatched and filed in
    /// `scope.region` or below it. `scope` None counts every case. `escalated_in_scope` says a matching
    /// holder escalated the case away (any holder when `scope` is None); `overdue` says the case is
    /// open (not closed or archived) with a running clock due at or before `now`.
    pub async fn stats_rows(
        &self,
        scope: Option<&StatsScope>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StatsRow>, StoreError> {
        let mut sql = DynSql::new("");
        let now_p = sql.arg(Arg::Int(ms(now)));
        // The holder patterns, bound once and used twice.
        let holder_match = match scope {
            Some(s) if !s.agency_patterns.is_empty() => Some(like_any(&mut sql, "h.agency", s.agency_patterns.clone())),
            _ => None,
        };
        let escalated = match (scope, &holder_match) {
            (None, _) => "EXISTS (SELECT 1 FROM case_holders h WHERE h.complaint_id = c.id \
                          AND h.escalated_from = TRUE)"
                .to_owned(),
            (Some(_), Some(m)) => format!(
                "EXISTS (SELECT 1 FROM case_holders h WHERE h.complaint_id = c.id \
                 AND h.escalated_from = TRUE AND {m})"
            ),
            (Some(_), None) => "1 = 0".to_owned(),
        };
        sql.push(&format!(
            "SELECT c.status, c.first_assigned_at, c.first_followup_at, c.first_followup_agency, \
             CASE WHEN {escalated} THEN 1 ELSE 0 END AS escalated_in_scope, \
             CASE WHEN c.status NOT IN ('closed', 'archived') AND EXISTS (SELECT 1 FROM timers t \
             WHERE t.complaint_id = c.id AND t.status = 'running' AND t.due_at <= {now_p}) \
             THEN 1 ELSE 0 END AS overdue \
             FROM complaints c WHERE 1 = 1"
        ));
        if let Some(from) = from {
            let p = sql.arg(Arg::Int(ms(from)));
            sql.push(&format!(" AND c.created_at >= {p}"));
        }
        if let Some(to) = to {
            let p = sql.arg(Arg::Int(ms(to)));
            sql.push(&format!(" AND c.created_at < {p}"));
        }
        if let Some(scope) = scope {
            let mut either = Vec::new();
            if let Some(m) = &holder_match {
                either.push(format!("EXISTS (SELECT 1 FROM case_holders h WHERE h.complaint_id = c.id AND {m})"));
            }
            if let Some(region) = &scope.region {
                let exact = sql.arg(Arg::Text(region.clone()));
                let below = sql.arg(Arg::Text(format!("{region}.%")));
                either.push(format!("(c.first_assigned_at IS NULL AND (c.region = {exact} OR c.region LIKE {below}))"));
            }
            if either.is_empty() {
                either.push("1 = 0".to_owned());
            }
            sql.push(&format!(" AND ({})", either.join(" OR ")));
        }
        sql.push(" ORDER BY c.created_at, c.id");
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::stats_row).collect()
        })
    }

    /// Up to `limit` unsent outbox rows, oldest (lowest id) first.
    pub async fn outbox_batch(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(OUTBOX_BATCH).bind(limit.max(0)).fetch_all(&mut *c).await?;
            rows.iter().map(rows::outbox_row).collect()
        })
    }

    /// Marks outbox rows published at `at` (rows already marked keep their first time).
    pub async fn mark_sent(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in ids.chunks(MARK_CHUNK) {
            let mut sql = DynSql::new("");
            let at_p = sql.arg(Arg::Int(ms(at)));
            let list: Vec<String> = chunk.iter().map(|id| sql.arg(Arg::Int(*id))).collect();
            sql.push(&format!(
                "UPDATE outbox SET sent_at = {at_p} WHERE sent_at IS NULL AND id IN ({})",
                list.join(", ")
            ));
            // One text per chunk size: not worth a slot in the prepared-statement cache.
            with_tx!(tx, c => {
                dyn_query!(sql).persistent(false).execute(&mut *c).await?;
            });
        }
        tx.commit().await
    }

    /// How many outbox rows wait to be published.
    pub async fn outbox_backlog(&self) -> Result<i64, StoreError> {
        self.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await
    }

    /// How many clocks are open (running or paused) across all cases.
    pub async fn open_timer_count(&self) -> Result<i64, StoreError> {
        self.count("SELECT COUNT(*) FROM timers").await
    }

    async fn count(&self, sql: &'static str) -> Result<i64, StoreError> {
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await?)
        })
    }

    /// Takes the lease `name` for `holder` until `now + ttl` when it is free, expired (expiry ≤ `now`)
    /// or already held by `holder` (which extends it). False when another holder has it. Leases only
    /// share out work; exactly-once comes from unique rows (invariant 6).
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let expires = ms(now).saturating_add(ttl_ms);
        let mut tx = self.begin().await?;
        let taken = with_tx!(tx, c => {
            sqlx::query(TRY_LEASE)
                .bind(name.to_owned())
                .bind(holder.to_owned())
                .bind(expires)
                .bind(ms(now))
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        tx.commit().await?;
        Ok(taken == 1)
    }

    /// Gives up the lease `name` if `holder` has it; otherwise does nothing.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                .bind(name.to_owned())
                .bind(holder.to_owned())
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await
    }

    /// Stores a pack's files under its hash (content-addressed, so storing it again is a no-op).
    pub async fn store_pack(
        &self,
        hash: &str,
        files: &[(String, Vec<u8>)],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let json: Vec<serde_json::Value> = files
            .iter()
            .map(|(path, bytes)| serde_json::json!({ "path": path, "bytes_base64": STANDARD.encode(bytes) }))
            .collect();
        let files = serde_json::Value::Array(json).to_string();
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query(
                "INSERT INTO packs (hash, files, created_at, active) VALUES ($1, $2, $3, FALSE) \
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(hash.to_owned())
            .bind(files)
            .bind(ms(at))
            .execute(&mut *c)
            .await?;
        });
        tx.commit().await
    }

    /// A stored pack's files as (path, bytes), in the order they were stored.
    pub async fn pack_files(&self, hash: &str) -> Result<Option<Vec<(String, Vec<u8>)>>, StoreError> {
        let files: Option<String> = with_reader!(self, c => {
            sqlx::query_scalar::<_, String>("SELECT files FROM packs WHERE hash = $1")
                .bind(hash.to_owned())
                .fetch_optional(&mut *c)
                .await?
        });
        let Some(files) = files else { return Ok(None) };
        #[derive(serde::Deserialize)]
        struct PackFile {
            path: String,
            bytes_base64: String,
        }
        let parsed: Vec<PackFile> = serde_json::from_str(&files)
            .map_err(|e| StoreError::Other(format!("pack {hash}: files column is not valid JSON: {e}")))?;
        parsed
            .into_iter()
            .map(|f| match STANDARD.decode(&f.bytes_base64) {
                Ok(bytes) => Ok((f.path, bytes)),
                Err(_) => Err(StoreError::Other(format!("pack {hash}: {}: bad base64", f.path))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Marks the stored pack `hash` as the one every process acts with, and no other.
    pub async fn set_active_pack(&self, hash: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            let known = sqlx::query_scalar::<_, String>("SELECT hash FROM packs WHERE hash = $1")
                .bind(hash.to_owned())
                .fetch_optional(&mut *c)
                .await?;
            if known.is_none() {
                return Err(StoreError::Other(format!("pack {hash} is not stored")));
            }
            // Two statements: the partial unique index allows one active row at any moment.
            sqlx::query("UPDATE packs SET active = FALSE WHERE active = TRUE AND hash <> $1")
                .bind(hash.to_owned())
                .execute(&mut *c)
                .await?;
            sqlx::query("UPDATE packs SET active = TRUE WHERE hash = $1")
                .bind(hash.to_owned())
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await
    }

    /// The hash of the active pack, if one was set.
    pub async fn active_pack(&self) -> Result<Option<String>, StoreError> {
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, String>("SELECT hash FROM packs WHERE active = TRUE")
                .fetch_optional(&mut *c)
                .await?)
        })
    }

    /// Up to `limit` case ids greater than `after`, ascending (for walks over every case, such as
    /// `audit verify`).
    pub async fn case_ids_after(&self, after: Option<&str>, limit: i64) -> Result<Vec<String>, StoreError> {
        let limit = limit.max(0);
        with_reader!(self, c => {
            let ids = match after {
                Some(after) => {
                    sqlx::query_scalar::<_, String>("SELECT id FROM complaints WHERE id > $1 ORDER BY id LIMIT $2")
                        .bind(after.to_owned())
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?
                }
                None => {
                    sqlx::query_scalar::<_, String>("SELECT id FROM complaints ORDER BY id LIMIT $1")
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?
                }
            };
            Ok(ids)
        })
    }

    /// Up to `limit` ids of cases with open clocks greater than `after`, ascending (the recompute's walk;
    /// runs on the timers primary key).
    pub async fn timer_case_ids_after(&self, after: Option<&str>, limit: i64) -> Result<Vec<String>, StoreError> {
        let limit = limit.max(0);
        let after = after.unwrap_or("").to_owned();
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, String>(
                "SELECT DISTINCT complaint_id FROM timers WHERE complaint_id > $1 ORDER BY complaint_id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?)
        })
    }

    /// Records that open deadlines must be recomputed on `pack` (once per pack: a second call keeps the
    /// first row and its progress) and marks every other unfinished recompute superseded.
    pub async fn start_recompute(&self, pack: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query("UPDATE recomputes SET finished_at = $1 WHERE finished_at IS NULL AND pack <> $2")
                .bind(ms(at))
                .bind(pack.to_owned())
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO recomputes (pack, after_id, changed, started_at) VALUES ($1, NULL, 0, $2) \
                 ON CONFLICT (pack) DO NOTHING",
            )
            .bind(pack.to_owned())
            .bind(ms(at))
            .execute(&mut *c)
            .await?;
        });
        tx.commit().await
    }

    /// The unfinished recompute of `pack`, if any: (last case id done, cases changed so far).
    pub async fn pending_recompute(&self, pack: &str) -> Result<Option<(Option<String>, i64)>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query("SELECT after_id, changed FROM recomputes WHERE pack = $1 AND finished_at IS NULL")
                .bind(pack.to_owned())
                .fetch_optional(&mut *c)
                .await?;
            Ok(row.map(|r| (r.get::<Option<String>, _>(0), r.get::<i64, _>(1))))
        })
    }

    /// Records a recompute's progress: every case up to `after_id` is done, `changed` cases so far;
    /// `finished` ends it.
    pub async fn advance_recompute(
        &self,
        pack: &str,
        after_id: Option<&str>,
        changed: i64,
        finished: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query("UPDATE recomputes SET after_id = $1, changed = $2, finished_at = $3 WHERE pack = $4")
                .bind(after_id.map(str::to_owned))
                .bind(changed)
                .bind(finished.map(ms))
                .bind(pack.to_owned())
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await
    }

    /// Claims due work for `owner`: up to `limit` timers with `next_action_at <= now` whose claim is
    /// free (never claimed, or lapsed: `claim_until <= now`) or already `owner`'s, earliest
    /// `next_action_at` first, each marked `claim_owner = owner, claim_until = now + ttl`. Returns the
    /// distinct cases of the claimed timers (a case may have several due timers; claiming any of them is
    /// a claim on the case), at most `limit`.
    ///
    /// The claim is atomic. PostgreSQL picks the timers with `FOR UPDATE SKIP LOCKED`, so concurrent
    /// sweepers take disjoint sets without waiting on each other; SQLite runs it in the writer's
    /// `BEGIN IMMEDIATE` transaction. A worker that dies leaves its claims to lapse at `claim_until`,
    /// after which another worker takes them. Claims only share out work: the action's exactly-once
    /// comes from [`Tx::insert_rung`] (invariant 6), and the action ends the claim by rewriting the
    /// case's timers ([`Tx::replace_timers`]) or with [`Store::release_claims`]. Claims are per timer,
    /// so two due timers of one case can go to two owners; [`Tx::lock_case`] serializes their actions.
    /// Runs on the partial index `timers_next_action` (see [`Store::explain_claim`]).
    pub async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let until = ms(now).saturating_add(ttl_ms);
        let sql = match self.backend() {
            Backend::Sqlite => CLAIM_DUE_SQLITE,
            Backend::Postgres => CLAIM_DUE_PG,
        };
        let mut tx = self.begin().await?;
        let claimed: Vec<String> = with_tx!(tx, c => {
            sqlx::query_scalar::<_, String>(sql)
                .bind(owner.to_owned())
                .bind(until)
                .bind(ms(now))
                .bind(limit)
                .fetch_all(&mut *c)
                .await?
        });
        tx.commit().await?;
        let mut seen = std::collections::HashSet::with_capacity(claimed.len());
        Ok(claimed.into_iter().filter(|id| seen.insert(id.clone())).collect())
    }

    /// Gives up `owner`'s claims on the timers of `complaint_ids` (for a sweep that stops early or
    /// found nothing to do). Claims held by another owner, and timers of other cases, stay as they are.
    pub async fn release_claims(&self, owner: &str, complaint_ids: &[String]) -> Result<(), StoreError> {
        if complaint_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in complaint_ids.chunks(MARK_CHUNK) {
            let mut sql = DynSql::new("");
            let owner_p = sql.arg(Arg::Text(owner.to_owned()));
            let list: Vec<String> = chunk.iter().map(|id| sql.arg(Arg::Text(id.clone()))).collect();
            sql.push(&format!(
                "UPDATE timers SET claim_owner = NULL, claim_until = NULL \
                 WHERE claim_owner = {owner_p} AND complaint_id IN ({})",
                list.join(", ")
            ));
            with_tx!(tx, c => {
                dyn_query!(sql).persistent(false).execute(&mut *c).await?;
            });
        }
        tx.commit().await
    }

    /// How many timers are due at `now` (`next_action_at <= now`), claimed or not (dry runs, tests).
    pub async fn due_count(&self, now: DateTime<Utc>) -> Result<i64, StoreError> {
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, i64>(DUE_COUNT).bind(ms(now)).fetch_one(&mut *c).await?)
        })
    }

    /// Running clocks whose deadline falls in `(after, through]`, with their case's tracking id, holder and
    /// status, by `due_at` (then case and clock). The morning digest's query: a deadline on local date D
    /// has `due_at` = the midnight that ends D (an exclusive bound), so D's clocks are those with `due_at`
    /// in (start of D, end of D]. Cases with no holder (not yet dispatched) are left out. Runs on the
    /// index `timers_due`.
    pub async fn due_between(&self, after: DateTime<Utc>, through: DateTime<Utc>) -> Result<Vec<DueTimer>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(DUE_BETWEEN).bind(ms(after)).bind(ms(through)).fetch_all(&mut *c).await?;
            rows.iter().map(rows::due_timer).collect()
        })
    }

    /// The event id of the digest already queued for `agency` on `local_date` (`YYYY-MM-DD`), if any.
    pub async fn digest_sent(&self, agency: &str, local_date: &str) -> Result<Option<String>, StoreError> {
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, String>("SELECT event_id FROM digests WHERE agency = $1 AND local_date = $2")
                .bind(agency.to_owned())
                .bind(local_date.to_owned())
                .fetch_optional(&mut *c)
                .await?)
        })
    }

    /// The plans the database chooses right now for [`Store::claim_due`] and [`Store::due_count`] at
    /// `now` (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`), one plan line per line; nothing is
    /// executed. For tests and operators checking that sweeps run on the index `timers_next_action`
    /// rather than a scan of `timers`.
    pub async fn explain_claim(&self, now: DateTime<Utc>) -> Result<String, StoreError> {
        let until = ms(now).saturating_add(30_000);
        let mut lines = Vec::new();
        match &self.inner.pools {
            Pools::Sqlite { reader, .. } => {
                let mut conn = reader.acquire().await?;
                for (name, sql) in [("claim_due", CLAIM_DUE_SQLITE), ("due_count", DUE_COUNT)] {
                    lines.push(format!("-- {name}"));
                    let text = format!("EXPLAIN QUERY PLAN {sql}");
                    let mut q = sqlx::query(AssertSqlSafe(text)).persistent(false);
                    q = if name == "claim_due" {
                        q.bind("explain".to_owned()).bind(until).bind(ms(now)).bind(100_i64)
                    } else {
                        q.bind(ms(now))
                    };
                    for row in q.fetch_all(&mut *conn).await? {
                        let id: i64 = sqlx::Row::try_get(&row, "id")?;
                        let parent: i64 = sqlx::Row::try_get(&row, "parent")?;
                        let detail: String = sqlx::Row::try_get(&row, "detail")?;
                        lines.push(format!("{id}|{parent}|{detail}"));
                    }
                }
            }
            Pools::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                for (name, sql) in [("claim_due", CLAIM_DUE_PG), ("due_count", DUE_COUNT)] {
                    lines.push(format!("-- {name}"));
                    let text = format!("EXPLAIN {sql}");
                    let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(text)).persistent(false);
                    q = if name == "claim_due" {
                        q.bind("explain".to_owned()).bind(until).bind(ms(now)).bind(100_i64)
                    } else {
                        q.bind(ms(now))
                    };
                    lines.extend(q.fetch_all(&mut *conn).await?);
                }
            }
        }
        Ok(lines.join("\n"))
    }

    /// Refreshes the planner's statistics (`ANALYZE`; on SQLite with a sampling limit, so it stays
    /// quick on big files). Run it after a large [`Store::bulk_insert`], so the planner knows how the
    /// timers are spread before the first sweep.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        match &self.inner.pools {
            Pools::Sqlite { writer, .. } => {
                let mut conn = writer.acquire().await?;
                sqlx::raw_sql("PRAGMA analysis_limit = 1000; ANALYZE;").execute(&mut *conn).await?;
            }
            Pools::Postgres(pool) => {
                sqlx::raw_sql("ANALYZE").execute(pool).await?;
            }
        }
        Ok(())
    }

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
                insert_chunks!(c, BULK_CASES, 23, "", cases, |q, r| bind_case!(q, r));
                insert_chunks!(c, BULK_EVENTS, 12, "", events, |q, e| bind_event!(q, e));
                insert_chunks!(c, BULK_TIMERS, 14, "", timers, |q, t| bind_timer!(q, t));
                insert_chunks!(c, BULK_HOLDERS, 2, ", FALSE", holders, |q, h| {
                    q.bind(h.0.clone()).bind(h.1.clone())
                });
            }
            TxInner::Postgres(t) => copy::copy_all(&mut *t, cases, events, timers, holders).await?,
        }
        tx.commit().await
    }
}

impl Tx {
    /// A case by id, as this transaction sees it.
    pub async fn case_by_id(&mut self, id: &str) -> Result<Option<CaseRow>, StoreError> {
        with_tx!(self, c => {
            let row = sqlx::query(CASE_BY_ID).bind(id.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// A case by tracking id, as this transaction sees it.
    pub async fn case_by_tracking_id(&mut self, tid: &str) -> Result<Option<CaseRow>, StoreError> {
        with_tx!(self, c => {
            let row = sqlx::query(CASE_BY_TRACKING_ID).bind(tid.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// A case's timers by clock name, as this transaction sees them.
    pub async fn timers(&mut self, complaint_id: &str) -> Result<Vec<TimerRow>, StoreError> {
        with_tx!(self, c => {
            let rows = sqlx::query(TIMERS_OF_CASE).bind(complaint_id.to_owned()).fetch_all(&mut *c).await?;
            rows.iter().map(rows::timer_row).collect()
        })
    }

    /// A case by id, locked for the rest of this transaction: PostgreSQL `SELECT … FOR UPDATE`, which
    /// waits for another transaction holding the case (a sweep acting on a case and a command on the
    /// same case take turns); on SQLite a plain read, the writer transaction being exclusive already.
    pub async fn lock_case(&mut self, id: &str) -> Result<Option<CaseRow>, StoreError> {
        let sql = match self.inner {
            TxInner::Sqlite(_) => CASE_BY_ID,
            TxInner::Postgres(_) => LOCK_CASE_PG,
        };
        with_tx!(self, c => {
            let row = sqlx::query(sql).bind(id.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// Several cases by id, locked for the rest of this transaction in id order (PostgreSQL
    /// `SELECT … ORDER BY id FOR UPDATE`; SQLite a plain read, as [`Tx::lock_case`]), returned in id
    /// order; ids with no case are left out. A sweep group's read, in one statement.
    pub async fn lock_cases(&mut self, ids: &[String]) -> Result<Vec<CaseRow>, StoreError> {
        let lock = matches!(self.inner, TxInner::Postgres(_));
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MARK_CHUNK) {
            let mut sql = DynSql::new("");
            let list: Vec<String> = chunk.iter().map(|id| sql.arg(Arg::Text(id.clone()))).collect();
            sql.push(&format!(
                "SELECT {} FROM complaints WHERE id IN ({}) ORDER BY id{}",
                case_cols!(),
                list.join(", "),
                if lock { " FOR UPDATE" } else { "" }
            ));
            with_tx!(self, c => {
                let rows = dyn_query!(sql).persistent(false).fetch_all(&mut *c).await?;
                for r in &rows {
                    out.push(rows::case_row(r)?);
                }
            });
        }
        Ok(out)
    }

    /// The timers of several cases, ordered by case then clock, in one statement per chunk.
    pub async fn timers_of(&mut self, ids: &[String]) -> Result<Vec<TimerRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(MARK_CHUNK) {
            let mut sql = DynSql::new("");
            let list: Vec<String> = chunk.iter().map(|id| sql.arg(Arg::Text(id.clone()))).collect();
            sql.push(&format!(
                "SELECT {} FROM timers WHERE complaint_id IN ({}) ORDER BY complaint_id, clock",
                timer_cols!(),
                list.join(", ")
            ));
            with_tx!(self, c => {
                let rows = dyn_query!(sql).persistent(false).fetch_all(&mut *c).await?;
                for r in &rows {
                    out.push(rows::timer_row(r)?);
                }
            });
        }
        Ok(out)
    }

    /// The sweeper rungs already acted on for several cases, as (case, clock, generation, rung).
    pub async fn fired_rungs_of(&mut self, ids: &[String]) -> Result<Vec<(String, String, i64, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(MARK_CHUNK) {
            let mut sql = DynSql::new("");
            let list: Vec<String> = chunk.iter().map(|id| sql.arg(Arg::Text(id.clone()))).collect();
            sql.push(&format!(
                "SELECT complaint_id, clock, generation, rung FROM timer_actions WHERE complaint_id IN ({}) \
                 ORDER BY complaint_id, clock, generation, rung",
                list.join(", ")
            ));
            with_tx!(self, c => {
                let rows = dyn_query!(sql).persistent(false).fetch_all(&mut *c).await?;
                for r in &rows {
                    out.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
                }
            });
        }
        Ok(out)
    }

    /// The sweeper rungs already acted on for the case, as (clock, generation, rung), ordered.
    pub async fn fired_rungs(&mut self, complaint_id: &str) -> Result<Vec<(String, i64, String)>, StoreError> {
        with_tx!(self, c => {
            Ok(sqlx::query_as::<_, (String, i64, String)>(FIRED_RUNGS)
                .bind(complaint_id.to_owned())
                .fetch_all(&mut *c)
                .await?)
        })
    }

    /// Records that the sweeper acted on `rung` of the case's `clock` at `generation`, in the action's
    /// own transaction: the unique row is what makes the action happen once (invariant 6).
    /// [`StoreError::Conflict`] when it was already recorded; the transaction stays usable (nothing
    /// was written).
    pub async fn insert_rung(
        &mut self,
        complaint_id: &str,
        clock: &str,
        generation: i64,
        rung: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            sqlx::query(INSERT_RUNG)
                .bind(complaint_id.to_owned())
                .bind(clock.to_owned())
                .bind(generation)
                .bind(rung.to_owned())
                .bind(ms(at))
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "rung {rung} of clock {clock} (generation {generation}) of case {complaint_id} already fired"
            )));
        }
        Ok(())
    }

    /// Records the digest of `agency` for `local_date` (`YYYY-MM-DD` in the agency's zone), in the
    /// transaction that queues its outbox row: the unique (agency, local_date) row is what makes the
    /// digest go out once. [`StoreError::Conflict`] when it was already recorded; the transaction stays
    /// usable (nothing was written).
    pub async fn insert_digest(
        &mut self,
        agency: &str,
        local_date: &str,
        event_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            sqlx::query(
                "INSERT INTO digests (agency, local_date, event_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(agency.to_owned())
            .bind(local_date.to_owned())
            .bind(event_id.to_owned())
            .bind(ms(at))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!("the digest of {agency} for {local_date} was already sent")));
        }
        Ok(())
    }

    /// Inserts a new case. [`StoreError::Conflict`] when its id or tracking id exists; the transaction
    /// stays usable (nothing was written).
    pub async fn insert_case(&mut self, row: &CaseRow) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            bind_case!(sqlx::query(INSERT_CASE), row).execute(&mut *c).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "case {} or tracking id {} already exists",
                row.id, row.tracking_id
            )));
        }
        Ok(())
    }

    /// Replaces a case's state, provided its head is still `expected_head_seq` (optimistic check: the
    /// head this command read). [`StoreError::Conflict`] when another command moved it first.
    pub async fn update_case(&mut self, row: &CaseRow, expected_head_seq: i64) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            bind_case!(sqlx::query(UPDATE_CASE), row).bind(expected_head_seq).execute(&mut *c).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!("case {} is no longer at seq {expected_head_seq}", row.id)));
        }
        Ok(())
    }

    /// Appends an event to its case's chain. [`StoreError::Conflict`] when the (case, seq) slot or the
    /// event id is taken: the chain never forks. The transaction stays usable.
    pub async fn append_event(&mut self, e: &EventRow) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            bind_event!(sqlx::query(INSERT_EVENT), e).execute(&mut *c).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "event {} or seq {} of case {} already exists",
                e.id, e.seq, e.complaint_id
            )));
        }
        Ok(())
    }

    /// Makes the case's timers exactly `rows` (each must belong to `complaint_id`). The new rows are
    /// unclaimed: a sweep's action ends its claim on the case by rewriting its timers.
    pub async fn replace_timers(&mut self, complaint_id: &str, rows: &[TimerRow]) -> Result<(), StoreError> {
        if let Some(stray) = rows.iter().find(|t| t.complaint_id != complaint_id) {
            return Err(StoreError::Other(format!(
                "timer {} belongs to case {}, not {complaint_id}",
                stray.clock, stray.complaint_id
            )));
        }
        with_tx!(self, c => {
            sqlx::query("DELETE FROM timers WHERE complaint_id = $1")
                .bind(complaint_id.to_owned())
                .execute(&mut *c)
                .await?;
            for t in rows {
                bind_timer!(sqlx::query(INSERT_TIMER), t).execute(&mut *c).await?;
            }
        });
        Ok(())
    }

    /// Queues an event for the relay to publish on `subject`. [`StoreError::Conflict`] when the event
    /// is already queued.
    pub async fn insert_outbox(
        &mut self,
        event_id: &str,
        subject: &str,
        payload: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            sqlx::query(
                "INSERT INTO outbox (event_id, subject, payload, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(event_id.to_owned())
            .bind(subject.to_owned())
            .bind(payload.to_owned())
            .bind(ms(at))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!("event {event_id} is already in the outbox")));
        }
        Ok(())
    }

    /// The record of an idempotency key, if this (scope, key) was processed before.
    pub async fn command(&mut self, scope: &str, key: &str) -> Result<Option<CommandRecord>, StoreError> {
        with_tx!(self, c => {
            let row = sqlx::query(COMMAND_BY_KEY)
                .bind(scope.to_owned())
                .bind(key.to_owned())
                .fetch_optional(&mut *c)
                .await?;
            row.as_ref().map(rows::command_row).transpose()
        })
    }

    /// Records an idempotency key. [`StoreError::Conflict`] when the (scope, key) exists; the
    /// transaction stays usable.
    pub async fn insert_command(&mut self, rec: &CommandRecord) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            bind_command!(sqlx::query(INSERT_COMMAND), rec).execute(&mut *c).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!("command {}/{} was already processed", rec.scope, rec.key)));
        }
        Ok(())
    }

    /// Records that `agency` holds (or held) the case; keeps an existing row as it is.
    pub async fn add_holder(&mut self, complaint_id: &str, agency: &str) -> Result<(), StoreError> {
        with_tx!(self, c => {
            sqlx::query(
                "INSERT INTO case_holders (complaint_id, agency, escalated_from) VALUES ($1, $2, FALSE) \
                 ON CONFLICT (complaint_id, agency) DO NOTHING",
            )
            .bind(complaint_id.to_owned())
            .bind(agency.to_owned())
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Records that the case was escalated away from `agency` (adding the holder row if missing).
    pub async fn mark_escalated_from(&mut self, complaint_id: &str, agency: &str) -> Result<(), StoreError> {
        with_tx!(self, c => {
            sqlx::query(
                "INSERT INTO case_holders (complaint_id, agency, escalated_from) VALUES ($1, $2, TRUE) \
                 ON CONFLICT (complaint_id, agency) DO UPDATE SET escalated_from = TRUE",
            )
            .bind(complaint_id.to_owned())
            .bind(agency.to_owned())
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Opens a savepoint (`name`: letters, digits and `_`, not starting with a digit). Group commit runs
    /// each command inside one, so a failing command rolls back only itself.
    pub async fn savepoint(&mut self, name: &str) -> Result<(), StoreError> {
        self.raw(format!("SAVEPOINT {}", savepoint_name(name)?)).await
    }

    /// Undoes everything since the savepoint `name`, which stays open. On PostgreSQL this also clears
    /// the aborted state a failed statement leaves behind.
    pub async fn rollback_to(&mut self, name: &str) -> Result<(), StoreError> {
        self.raw(format!("ROLLBACK TO SAVEPOINT {}", savepoint_name(name)?)).await
    }

    /// Keeps the work since the savepoint `name` and forgets the savepoint.
    pub async fn release(&mut self, name: &str) -> Result<(), StoreError> {
        self.raw(format!("RELEASE SAVEPOINT {}", savepoint_name(name)?)).await
    }

    async fn raw(&mut self, sql: String) -> Result<(), StoreError> {
        with_tx!(self, c => {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *c).await?;
        });
        Ok(())
    }

    /// Commits every write of the transaction at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Discards every write of the transaction.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}

/// `(col LIKE $a OR col LIKE $b …)` with the patterns bound as arguments.
fn like_any(sql: &mut DynSql, col: &str, patterns: Vec<String>) -> String {
    if patterns.is_empty() {
        return "1 = 0".to_owned();
    }
    let ors: Vec<String> = patterns.into_iter().map(|p| format!("{col} LIKE {}", sql.arg(Arg::Text(p)))).collect();
    format!("({})", ors.join(" OR "))
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

/// Checks a savepoint name is a plain identifier (it is spliced into SQL, so nothing else may pass).
fn savepoint_name(name: &str) -> Result<&str, StoreError> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63;
    if ok {
        Ok(name)
    } else {
        Err(StoreError::Other(format!("invalid savepoint name {name:?}")))
    }
}

/// An embedded migrator over one backend's migrations.
fn migrator(list: &[(i64, &str, &'static str)]) -> Migrator {
    let migrations = list
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(version, description.to_owned().into(), MigrationType::Simple, sql.into_sql_str(), false)
        })
        .collect();
    Migrator::with_migrations(migrations)
}

async fn connect_sqlite(url: &str, opts: &StoreOptions) -> Result<Pools, StoreError> {
    let parsed: SqliteConnectOptions = url.parse().map_err(|e| StoreError::BadUrl(format!("{e}")))?;
    let path = parsed.get_filename().to_owned();
    let shown = path.display().to_string();
    if path.as_os_str().is_empty() || shown == ":memory:" || shown.starts_with("file:sqlx-in-memory") {
        return Err(StoreError::BadUrl(
            "SQLite needs a file (sqlite://PATH); in-memory databases are not supported".to_owned(),
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| StoreError::Other(format!("cannot create directory {}: {e}", dir.display())))?;
    }
    let synchronous = if opts.sqlite_synchronous_full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal };
    let common = parsed
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        .synchronous(synchronous)
        // PostgreSQL's LIKE is case-sensitive; make SQLite's agree (agency subtree filters).
        .pragma("case_sensitive_like", "ON");
    // The writer's page cache: SQLite's default 2 MiB makes index upkeep on big tables (bulk loads,
    // sweeps over a million timers) wait on the disk; 64 MiB more than doubles bulk_insert's rate.
    let writer_opts = common
        .clone()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .pragma("cache_size", format!("-{}", SQLITE_WRITER_CACHE_KIB));
    let reader_opts = common.pragma("query_only", "ON");
    // The writer opens (and creates) the file first and switches it to WAL, which readers then share.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(writer_opts)
        .await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(opts.max_connections.unwrap_or(SQLITE_READERS).max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(reader_opts)
        .await;
    match reader {
        Ok(reader) => Ok(Pools::Sqlite { writer, reader }),
        Err(e) => {
            writer.close().await;
            Err(e.into())
        }
    }
}

async fn connect_postgres(url: &str, opts: &StoreOptions) -> Result<Pools, StoreError> {
    let parsed: PgConnectOptions = url.parse().map_err(|e| StoreError::BadUrl(format!("{e}")))?;
    let pool = PgPoolOptions::new()
        .max_connections(opts.max_connections.unwrap_or(PG_CONNECTIONS).max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(parsed)
        .await?;
    Ok(Pools::Postgres(pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn savepoint_names() {
        assert!(savepoint_name("cmd_1").is_ok());
        assert!(savepoint_name("_x").is_ok());
        assert!(savepoint_name("").is_err());
        assert!(savepoint_name("1x").is_err());
        assert!(savepoint_name("x; DROP TABLE events").is_err());
        assert!(savepoint_name("x-y").is_err());
    }

    #[test]
    fn statements_bind_every_column() {
        // Each numbered statement uses exactly as many placeholders as its column list has columns.
        let count = |cols: &str| cols.split(',').count();
        assert_eq!(count(case_cols!()), 23);
        assert_eq!(count(event_cols!()), 12);
        assert_eq!(count(timer_cols!()), 14);
        assert_eq!(count(command_cols!()), 7);
        assert!(INSERT_CASE.contains("$23)") && !INSERT_CASE.contains("$24"));
        assert!(UPDATE_CASE.contains("$24") && !UPDATE_CASE.contains("$25"));
        assert!(INSERT_EVENT.contains("$12)") && !INSERT_EVENT.contains("$13"));
        assert!(INSERT_TIMER.contains("$14)") && !INSERT_TIMER.contains("$15"));
        assert!(INSERT_COMMAND.contains("$7)") && !INSERT_COMMAND.contains("$8"));
    }

    #[test]
    fn multi_values_groups_placeholders() {
        assert_eq!(multi_values("INSERT INTO t (a) VALUES ", 1, 1, ""), "INSERT INTO t (a) VALUES (?)");
        assert_eq!(
            multi_values("INSERT INTO t (a, b, c) VALUES ", 2, 3, ", FALSE"),
            "INSERT INTO t (a, b, c) VALUES (?, ?, FALSE), (?, ?, FALSE), (?, ?, FALSE)"
        );
        assert!(CLAIM_DUE_PG.ends_with("LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING complaint_id"));
        assert!(CLAIM_DUE_SQLITE.ends_with("LIMIT $4) RETURNING complaint_id"));
    }

    /// SQLITE_FULL (here from `max_page_count`) maps to DiskFull, which is transient.
    #[tokio::test]
    async fn sqlite_full_is_disk_full() {
        use sqlx::{ConnectOptions, Connection};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = SqliteConnectOptions::new()
            .filename(dir.path().join("full.db"))
            .create_if_missing(true)
            .connect()
            .await
            .expect("open");
        sqlx::raw_sql("CREATE TABLE t (v TEXT); PRAGMA max_page_count = 3;").execute(&mut conn).await.expect("setup");
        let mut err = None;
        for _ in 0..100 {
            if let Err(e) = sqlx::query("INSERT INTO t (v) VALUES ($1)").bind("x".repeat(2000)).execute(&mut conn).await
            {
                err = Some(StoreError::from(e));
                break;
            }
        }
        let err = err.expect("the database never filled up");
        assert!(matches!(err, StoreError::DiskFull(_)), "{err:?}");
        assert!(err.is_transient());
        conn.close().await.expect("close");
    }
}
