//! The service functions: decode a command, load the case, decide with the core in a blocking task, and
//! commit events, state, timers, outbox rows and the idempotency key in one transaction (invariant 3).
//! HTTP handlers and the NATS consumer both call these; neither has logic of its own.

use crate::bus::event_subject;
use crate::crypto::{new_token, new_tracking_id, sha256_hex, DataKey};
use crate::metrics::Metrics;
use crate::store::{
    subtree_patterns, CaseFilter, CaseRow, CommandRecord, EventRow, StatsScope, Store, StoreError, TimerRow, Tx,
};
use crate::wire::{
    ActionRequest, ComplaintList, ComplaintView, DeadlineView, EventMessage, HistoryEntry, Reporter, Stats, Submission,
};
use aduan_core::case::{self, Actor, Case, CaseState, CaseTimer, Command, DecideError, NewCase, Outcome, Privacy};
use aduan_core::chain::event_hash;
use aduan_core::clock::{Clock, Generation};
use aduan_core::domain::Kind;
use aduan_core::pack::Pack;
use aduan_core::region::RegionCode;
use aduan_core::sla::Budget;
use aduan_core::sweep::{fired_from_rows, next_action_at, Fired};
use aduan_core::timer::{CalendarRef, Suspension, Timer};
use arc_swap::ArcSwap;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// Channels a submission may come from.
pub const CHANNELS: [&str; 8] = ["web", "sms", "app", "social", "whatsapp", "counter", "letter", "integration"];
/// Channels typed in by an admin, which may carry `received_at`.
pub const OFFLINE_CHANNELS: [&str; 4] = ["whatsapp", "counter", "letter", "integration"];
/// How long a submission's reporter token stays recoverable for idempotent replays.
pub const TOKEN_REPLAY_WINDOW: Duration = Duration::hours(24);

/// Why a service call failed; each maps to one HTTP status and one NATS failure kind.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// 404: unknown id.
    #[error("{0}")]
    NotFound(String),
    /// 403: outside role or scope.
    #[error("{0}")]
    Forbidden(String),
    /// 409: not allowed in this state.
    #[error("{detail}")]
    Conflict {
        /// What.
        detail: String,
        /// Actions allowed now.
        allowed: Vec<String>,
    },
    /// 409: the same idempotency key with a different body.
    #[error("idempotency key reused")]
    IdempotencyReused,
    /// 422: a field.
    #[error("{field}: {detail}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        detail: String,
    },
    /// 503: the database cannot take the command now (retry later).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            ServiceError::NotFound(_) => 404,
            ServiceError::Forbidden(_) => 403,
            ServiceError::Conflict { .. } | ServiceError::IdempotencyReused => 409,
            ServiceError::Invalid { .. } => 422,
            ServiceError::Unavailable(_) => 503,
            ServiceError::Internal(_) => 500,
        }
    }

    fn invalid(field: &str, detail: impl Into<String>) -> Self {
        ServiceError::Invalid { field: field.into(), detail: detail.into() }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        if e.is_transient() {
            ServiceError::Unavailable(e.to_string())
        } else {
            ServiceError::Internal(e.to_string())
        }
    }
}

impl From<DecideError> for ServiceError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::NotAllowed { ref allowed, .. } => {
                ServiceError::Conflict { detail: e.to_string(), allowed: allowed.clone() }
            }
            DecideError::Forbidden(m) => ServiceError::Forbidden(m),
            DecideError::Invalid { field, message } => ServiceError::Invalid { field, detail: message },
            DecideError::Policy(p) => ServiceError::Invalid {
                field: "agency".into(),
                detail: format!("no agency given and the routing policy failed: {p}"),
            },
        }
    }
}

/// The answer to a command: the HTTP status first given (201 for a new submission) and the view.
#[derive(Debug, Clone)]
pub struct Reply {
    /// 200 or 201.
    pub status: u16,
    /// The complaint as the caller may see it.
    pub view: ComplaintView,
}

/// `GET /v1/complaints` query.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Agency subtree.
    pub agency: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Only overdue cases.
    pub overdue: bool,
    /// Page size (default 50, at most 200).
    pub limit: Option<i64>,
    /// From a previous page.
    pub cursor: Option<String>,
}

struct Inner {
    store: Store,
    pack: ArcSwap<Pack>,
    key: DataKey,
    prefix: String,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

/// The service: the store, the active pack, the data key and the relay's wake-up. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

/// How many times a command retries after losing a race on the case's head (PostgreSQL).
const MAX_RETRIES: usize = 5;

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Instants are stored to the millisecond; deciding at the same precision keeps the view, the stored
/// row and the hashed payload identical.
fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

impl Service {
    /// A service over a migrated store with an active pack.
    pub fn new(store: Store, pack: Arc<Pack>, key: DataKey, prefix: &str, metrics: Arc<Metrics>) -> Self {
        let inner = Inner {
            store,
            pack: ArcSwap::new(pack),
            key,
            prefix: prefix.to_owned(),
            wake: Arc::new(Notify::new()),
            metrics,
        };
        Self { inner: Arc::new(inner) }
    }

    /// The active pack.
    pub fn pack(&self) -> Arc<Pack> {
        self.inner.pack.load_full()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Notified after every commit that wrote outbox rows.
    pub fn relay_wake(&self) -> Arc<Notify> {
        self.inner.wake.clone()
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The NATS prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// Files a complaint. A replay of the same idempotency key answers with the original status and the
    /// current view (and, within 24 h, the same reporter token).
    pub async fn submit(
        &self,
        sub: Submission,
        key: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Reply, ServiceError> {
        let started = std::time::Instant::now();
        let result = self.submit_inner(sub, key, now).await;
        self.inner.metrics.command("submit", &result, started.elapsed());
        result
    }

    async fn submit_inner(
        &self,
        mut sub: Submission,
        key: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Reply, ServiceError> {
        let key = key.or_else(|| sub.command_id.take());
        sub.command_id = None;
        let request_hash =
            sha256_hex(serde_json::to_string(&sub).map_err(|e| ServiceError::Internal(e.to_string()))?.as_bytes());
        let pack = self.pack();
        let (new, reporter) = validate_submission(&pack, &sub, now)?;
        for _ in 0..MAX_RETRIES {
            let mut tx = self.inner.store.begin().await?;
            if let Some(k) = &key {
                if let Some(rec) = tx.command("submit", k).await? {
                    tx.rollback().await?;
                    return self.replay(rec, &request_hash, now).await;
                }
            }
            let token = new_token();
            let mut new = new.clone();
            new.id = new_id();
            new.tracking_id = new_tracking_id();
            let p = pack.clone();
            let (mut case, outcome) = tokio::task::spawn_blocking(move || case::submit(&p, new, now))
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            case.state.reporter_token_sha256 = Some(sha256_hex(token.as_bytes()));
            let reporter_stored = reporter.as_ref().map(|r| {
                let json = serde_json::to_string(r).unwrap_or_default();
                if case.privacy == Privacy::Anonymous {
                    self.inner.key.seal(&json)
                } else {
                    json
                }
            });
            let mut row = case_row(&case, &pack, &sub.body, reporter_stored, now);
            row.head_seq = 0;
            row.head_hash = String::new();
            match tx.insert_case(&row).await {
                Err(StoreError::Conflict(_)) => {
                    tx.rollback().await?;
                    continue; // a tracking-id collision: draw again
                }
                other => other?,
            }
            let (row, timers) = self.append(&mut tx, row, 0, &case, &pack, outcome, "anyone", now).await?;
            if let Some(k) = &key {
                let rec = CommandRecord {
                    scope: "submit".into(),
                    key: k.clone(),
                    request_hash: request_hash.clone(),
                    status: 201,
                    complaint_id: Some(case.id.clone()),
                    reporter_token_sealed: Some(self.inner.key.seal(&token)),
                    created_at: now,
                };
                if let Err(StoreError::Conflict(_)) = tx.insert_command(&rec).await {
                    tx.rollback().await?;
                    continue; // a concurrent replay won: answer as a replay on the next round
                }
            }
            tx.commit().await?;
            self.inner.wake.notify_one();
            let mut view = self.render(&row, &timers, None)?;
            view.reporter_token = Some(token);
            return Ok(Reply { status: 201, view });
        }
        Err(ServiceError::Unavailable("could not commit the submission; retry".into()))
    }

    async fn replay(&self, rec: CommandRecord, request_hash: &str, now: DateTime<Utc>) -> Result<Reply, ServiceError> {
        if rec.request_hash != request_hash {
            return Err(ServiceError::IdempotencyReused);
        }
        let id = rec
            .complaint_id
            .clone()
            .ok_or_else(|| ServiceError::Internal("a replayed command names no case".into()))?;
        let row =
            self.inner.store.case_by_id(&id).await?.ok_or_else(|| ServiceError::NotFound(format!("complaint {id}")))?;
        let mut view = self.view_of(&row, false).await?;
        if rec.scope == "submit" && now - rec.created_at < TOKEN_REPLAY_WINDOW {
            view.reporter_token = rec.reporter_token_sealed.as_deref().and_then(|s| self.inner.key.open(s).ok());
        }
        Ok(Reply { status: rec.status as u16, view })
    }

    /// Takes a workflow action. `id` is the case id or its tracking id; `bearer` is the caller's token
    /// (the reporter token makes the caller the reporter; until tokens exist, anything else acts as
    /// `system`).
    pub async fn act(
        &self,
        id: &str,
        req: ActionRequest,
        key: Option<String>,
        bearer: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Reply, ServiceError> {
        let started = std::time::Instant::now();
        let action = req.action.clone().unwrap_or_default();
        let result = self.act_inner(id, req, key, bearer, now).await;
        self.inner.metrics.command(&action, &result, started.elapsed());
        result
    }

    async fn act_inner(
        &self,
        id: &str,
        mut req: ActionRequest,
        key: Option<String>,
        bearer: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Reply, ServiceError> {
        let now = to_millis(now);
        let key = key.or_else(|| req.command_id.take());
        req.command_id = None;
        req.complaint = None;
        let cmd = command_of(&req)?;
        let request_hash =
            sha256_hex(serde_json::to_string(&req).map_err(|e| ServiceError::Internal(e.to_string()))?.as_bytes());
        for _ in 0..MAX_RETRIES {
            let pack = self.pack();
            let mut tx = self.inner.store.begin().await?;
            let row = match tx.case_by_id(id).await? {
                Some(r) => r,
                None => match tx.case_by_tracking_id(id).await? {
                    Some(r) => r,
                    None => {
                        tx.rollback().await?;
                        return Err(ServiceError::NotFound(format!("no complaint `{id}`")));
                    }
                },
            };
            let scope = format!("{}:{}", row.id, cmd.action());
            if let Some(k) = &key {
                if let Some(rec) = tx.command(&scope, k).await? {
                    tx.rollback().await?;
                    return self.replay(rec, &request_hash, now).await;
                }
            }
            let timers = tx.timers(&row.id).await?;
            let case = case_of(&row, &timers)?;
            let actor = match (bearer, &case.state.reporter_token_sha256) {
                (Some(t), Some(h)) if sha256_hex(t.as_bytes()) == *h => Actor::reporter(),
                _ => Actor::system(),
            };
            let p = pack.clone();
            let c = cmd.clone();
            let a = actor.clone();
            let decided = tokio::task::spawn_blocking(move || {
                let mut case = case;
                case::decide(&p, &mut case, &a, &c, now).map(|out| (case, out))
            })
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
            let (case, outcome) = match decided {
                Ok(x) => x,
                Err(e) => {
                    tx.rollback().await?;
                    return Err(e.into());
                }
            };
            let head = row.head_seq;
            let new_row = row_after(&case, &pack, &row, now);
            let (new_row, timers) =
                match self.append(&mut tx, new_row, head, &case, &pack, outcome, &actor.label(), now).await {
                    Err(ServiceError::Conflict { .. }) => {
                        tx.rollback().await?;
                        continue;
                    }
                    other => other?,
                };
            if let Some(k) = &key {
                let rec = CommandRecord {
                    scope,
                    key: k.clone(),
                    request_hash: request_hash.clone(),
                    status: 200,
                    complaint_id: Some(row.id.clone()),
                    reporter_token_sealed: None,
                    created_at: now,
                };
                if let Err(StoreError::Conflict(_)) = tx.insert_command(&rec).await {
                    tx.rollback().await?;
                    continue;
                }
            }
            tx.commit().await?;
            self.inner.wake.notify_one();
            let view = self.render(&new_row, &timers, None)?;
            return Ok(Reply { status: 200, view });
        }
        Err(ServiceError::Unavailable("the case kept changing under the command; retry".into()))
    }

    /// Appends a decision's events (hash-chained), the new state, timers, holders and outbox rows.
    #[allow(clippy::too_many_arguments)]
    async fn append(
        &self,
        tx: &mut Tx,
        row: CaseRow,
        head_seq: i64,
        case: &Case,
        pack: &Pack,
        outcome: Outcome,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(CaseRow, Vec<TimerRow>), ServiceError> {
        let fired = if head_seq == 0 { Fired::new() } else { fired_of(tx, &case.id).await? };
        self.append_with(tx, row, head_seq, case, pack, outcome, actor, now, &fired).await
    }

    /// [`Service::append`] with the case's fired rungs already known.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn append_with(
        &self,
        tx: &mut Tx,
        mut row: CaseRow,
        head_seq: i64,
        case: &Case,
        pack: &Pack,
        outcome: Outcome,
        actor: &str,
        now: DateTime<Utc>,
        fired: &Fired,
    ) -> Result<(CaseRow, Vec<TimerRow>), ServiceError> {
        let mut prev = std::mem::take(&mut row.head_hash);
        let mut seq = head_seq;
        for ev in outcome.events {
            seq += 1;
            let msg = EventMessage {
                event_id: new_id(),
                complaint_id: Some(case.id.clone()),
                tracking_id: Some(case.tracking_id.clone()),
                event_type: ev.event_type.clone(),
                at: now,
                agency: case.agency.clone(),
                escalation_level: Some(case.escalation_level as i32),
                actor: actor.to_owned(),
                pack: pack.hash.clone(),
                data: ev.data,
            };
            let payload = serde_json::to_string(&msg).map_err(|e| ServiceError::Internal(e.to_string()))?;
            let hash = event_hash(&prev, &payload);
            let er = EventRow {
                id: msg.event_id.clone(),
                complaint_id: case.id.clone(),
                seq,
                event_type: msg.event_type.clone(),
                at: now,
                actor: actor.to_owned(),
                agency: case.agency.clone(),
                escalation_level: case.escalation_level as i32,
                pack: pack.hash.clone(),
                payload: payload.clone(),
                prev_hash: prev.clone(),
                hash: hash.clone(),
            };
            match tx.append_event(&er).await {
                Err(StoreError::Conflict(m)) => return Err(ServiceError::Conflict { detail: m, allowed: vec![] }),
                other => other?,
            }
            let subject = event_subject(&self.inner.prefix, case.agency.as_deref(), &msg.event_type);
            tx.insert_outbox(&msg.event_id, &subject, &payload, now).await?;
            prev = hash;
        }
        row.head_seq = seq;
        row.head_hash = prev;
        if head_seq == 0 {
            // A new case was inserted with an empty head; set it now.
            match tx.update_case(&row, 0).await {
                Err(StoreError::Conflict(m)) => return Err(ServiceError::Conflict { detail: m, allowed: vec![] }),
                other => other?,
            }
        } else {
            match tx.update_case(&row, head_seq).await {
                Err(StoreError::Conflict(m)) => return Err(ServiceError::Conflict { detail: m, allowed: vec![] }),
                other => other?,
            }
        }
        let timers = timer_rows(case, pack, fired, now);
        tx.replace_timers(&case.id, &timers).await?;
        for h in &outcome.new_holders {
            tx.add_holder(&case.id, h).await?;
        }
        if let Some(f) = &outcome.escalated_from {
            tx.mark_escalated_from(&case.id, f).await?;
        }
        Ok((row, timers))
    }

    /// The single view of a case by id or tracking id, with history.
    pub async fn get(&self, id: &str) -> Result<ComplaintView, ServiceError> {
        let row = match self.inner.store.case_by_id(id).await? {
            Some(r) => r,
            None => self
                .inner
                .store
                .case_by_tracking_id(id)
                .await?
                .ok_or_else(|| ServiceError::NotFound(format!("no complaint `{id}`")))?,
        };
        self.view_of(&row, true).await
    }

    async fn view_of(&self, row: &CaseRow, with_history: bool) -> Result<ComplaintView, ServiceError> {
        let timers = self.inner.store.timers(&row.id).await?;
        let history = if with_history {
            let events = self.inner.store.events(&row.id).await?;
            Some(
                events
                    .into_iter()
                    .map(|e| {
                        let data = serde_json::from_str::<Value>(&e.payload)
                            .ok()
                            .and_then(|v| v.get("data").cloned())
                            .unwrap_or(Value::Null);
                        HistoryEntry { event_type: e.event_type, at: e.at, actor: e.actor, data }
                    })
                    .collect(),
            )
        } else {
            None
        };
        self.render(row, &timers, history)
    }

    fn render(
        &self,
        row: &CaseRow,
        timers: &[TimerRow],
        history: Option<Vec<HistoryEntry>>,
    ) -> Result<ComplaintView, ServiceError> {
        let pack = self.pack();
        let case = case_of(row, timers)?;
        let deadlines = case
            .schedules(&pack)
            .into_iter()
            .map(|(clock, s)| DeadlineView {
                clock: clock.to_string(),
                due_at: s.due_at(),
                due_date: s.due_date().map(|d| d.to_string()),
                paused: s.paused,
                provisional: s.due.is_some_and(|d| d.provisional),
            })
            .collect();
        let reporter = row
            .reporter
            .as_deref()
            .and_then(|r| self.inner.key.open(r).ok())
            .and_then(|json| serde_json::from_str::<Reporter>(&json).ok());
        Ok(ComplaintView {
            id: row.id.clone(),
            tracking_id: row.tracking_id.clone(),
            kind: row.kind.clone(),
            channel: row.channel.clone(),
            category: row.category.clone(),
            region: row.region.clone(),
            privacy: row.privacy.clone(),
            status: row.status.clone(),
            title: Some(row.title.clone()),
            body: Some(row.body.clone()),
            reporter,
            agency: row.agency.clone(),
            escalation_level: row.escalation_level,
            deadlines,
            pack: row.pack.clone(),
            head_hash: row.head_hash.clone(),
            flags: serde_json::from_str(&row.flags).unwrap_or_default(),
            created_at: row.created_at,
            history,
            reporter_token: None,
        })
    }

    /// `GET /v1/complaints`: newest first, filtered, paged by cursor.
    pub async fn list(&self, q: ListQuery, now: DateTime<Utc>) -> Result<ComplaintList, ServiceError> {
        let limit = q.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ServiceError::invalid("limit", "between 1 and 200"));
        }
        let cursor = match &q.cursor {
            None => None,
            Some(c) => {
                let (ms, id) =
                    c.split_once('_').ok_or_else(|| ServiceError::invalid("cursor", "not a cursor from this API"))?;
                Some((
                    ms.parse::<i64>().map_err(|_| ServiceError::invalid("cursor", "not a cursor from this API"))?,
                    id.to_owned(),
                ))
            }
        };
        let filter = CaseFilter {
            agency: q.agency.clone(),
            status: q.status.clone(),
            overdue_at: q.overdue.then_some(now),
            limit: limit + 1,
            cursor,
        };
        let mut rows = self.inner.store.list_cases(&filter).await?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| format!("{}_{}", ms(r.created_at), r.id))
        } else {
            None
        };
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let timers = self.inner.store.timers(&r.id).await?;
            items.push(self.render(r, &timers, None)?);
        }
        Ok(ComplaintList { items, next_cursor })
    }

    /// `GET /v1/stats` (CONTRACT.md §7).
    pub async fn stats(
        &self,
        agency: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Stats, ServiceError> {
        let pack = self.pack();
        let scope = match agency {
            None => None,
            Some(a) => {
                let region = pack
                    .directory
                    .agency(a)
                    .and_then(|x| x.region.clone())
                    .or_else(|| CalendarRef::agency_region(a))
                    .map(|r| r.to_string());
                subtree_patterns(a).map(|agency_patterns| StatsScope { agency_patterns, region })
            }
        };
        let rows = self.inner.store.stats_rows(scope.as_ref(), from, to, now).await?;
        let count = |f: &dyn Fn(&crate::store::StatsRow) -> bool| rows.iter().filter(|r| f(r)).count() as u64;
        let mut firsts: Vec<i64> = rows
            .iter()
            .filter_map(|r| {
                let (a, f) = (r.first_assigned_at?, r.first_followup_at?);
                let agency = r.first_followup_agency.clone().unwrap_or_default();
                let cal = pack.calendar_for(&CalendarRef::Agency(agency));
                Some(cal.count_working_days(a, f).days.max(0))
            })
            .collect();
        firsts.sort_unstable();
        let median = match firsts.len() {
            0 => None,
            n if n % 2 == 1 => Some(firsts[n / 2] as f64),
            n => Some((firsts[n / 2 - 1] + firsts[n / 2]) as f64 / 2.0),
        };
        Ok(Stats {
            total: rows.len() as u64,
            resolved: count(&|r| r.status == "resolved" || r.status == "closed"),
            in_progress: count(&|r| r.status == "in_progress" || r.status == "awaiting_reporter"),
            not_followed_up: count(&|r| r.status == "assigned" && r.first_followup_at.is_none()),
            overdue: count(&|r| r.overdue),
            escalated: count(&|r| r.escalated_in_scope),
            archived: count(&|r| r.status == "archived"),
            median_first_response_working_days: median,
        })
    }
}

async fn fired_of(tx: &mut Tx, id: &str) -> Result<Fired, ServiceError> {
    Ok(fired_from_rows(tx.fired_rungs(id).await?))
}

/// Validates a submission into a new case (ids are drawn at commit) and the reporter identity.
fn validate_submission(
    pack: &Pack,
    sub: &Submission,
    now: DateTime<Utc>,
) -> Result<(NewCase, Option<Reporter>), ServiceError> {
    let kind: Kind = serde_json::from_value(Value::String(sub.kind.clone())).map_err(|_| {
        ServiceError::invalid("kind", format!("`{}` is not pengaduan, aspirasi or permintaan_informasi", sub.kind))
    })?;
    if !CHANNELS.contains(&sub.channel.as_str()) {
        return Err(ServiceError::invalid(
            "channel",
            format!("`{}` is not one of {}", sub.channel, CHANNELS.join(", ")),
        ));
    }
    if sub.title.trim().is_empty() {
        return Err(ServiceError::invalid("title", "required"));
    }
    if sub.title.chars().count() > 200 {
        return Err(ServiceError::invalid("title", "at most 200 characters"));
    }
    if sub.body.chars().count() > 20_000 {
        return Err(ServiceError::invalid("body", "at most 20,000 characters"));
    }
    let region = match &sub.region {
        None => None,
        Some(r) => Some(RegionCode::parse(r).map_err(|e| ServiceError::invalid("region", e.to_string()))?),
    };
    if let Some(c) = &sub.category {
        if !pack.directory.is_empty() && pack.directory.category(c).is_none() {
            return Err(ServiceError::invalid("category", format!("unknown category `{c}`")));
        }
    }
    let privacy = match sub.privacy.as_deref().unwrap_or("public") {
        "public" => Privacy::Public,
        "anonymous" => Privacy::Anonymous,
        "confidential" => Privacy::Confidential,
        other => {
            return Err(ServiceError::invalid("privacy", format!("`{other}` is not public, anonymous or confidential")))
        }
    };
    let received_at = match sub.received_at {
        None => now,
        Some(at) => {
            if !OFFLINE_CHANNELS.contains(&sub.channel.as_str()) {
                return Err(ServiceError::invalid(
                    "received_at",
                    format!("only for channels {}", OFFLINE_CHANNELS.join(", ")),
                ));
            }
            if at > now {
                return Err(ServiceError::invalid("received_at", "is in the future"));
            }
            if now - at > Duration::days(30) {
                return Err(ServiceError::invalid("received_at", "is more than 30 days back"));
            }
            at
        }
    };
    let new = NewCase {
        id: String::new(),
        tracking_id: String::new(),
        kind,
        channel: sub.channel.clone(),
        category: sub.category.clone(),
        region,
        privacy,
        title: sub.title.clone(),
        received_at,
    };
    Ok((new, sub.reporter.clone()))
}

/// Maps an action request to a core command, naming the first missing or wrong field.
fn command_of(req: &ActionRequest) -> Result<Command, ServiceError> {
    let action = req.action.as_deref().ok_or_else(|| ServiceError::invalid("action", "required"))?;
    let allowed: &[&str] = match action {
        "verify" => &["agency", "category", "investigation"],
        "archive" | "escalate" => &["reason"],
        "forward" => &["agency", "reason"],
        "respond" | "request_info" | "provide_info" | "resolve" | "reopen" => &["message"],
        "rate" => &["score"],
        other => return Err(ServiceError::invalid("action", format!("unknown action `{other}`"))),
    };
    let r = req;
    let set = [
        ("agency", r.agency.is_some()),
        ("category", r.category.is_some()),
        ("investigation", r.investigation.is_some()),
        ("reason", r.reason.is_some()),
        ("message", r.message.is_some()),
        ("score", r.score.is_some()),
    ];
    if let Some((f, _)) = set.iter().find(|(f, present)| *present && !allowed.contains(f)) {
        return Err(ServiceError::invalid(f, format!("not a field of `{action}`")));
    }
    let need = |v: &Option<String>, f: &str| {
        v.clone().ok_or_else(|| ServiceError::invalid(f, format!("required for `{action}`")))
    };
    Ok(match action {
        "verify" => {
            Command::Verify { agency: r.agency.clone(), category: r.category.clone(), investigation: r.investigation }
        }
        "archive" => Command::Archive { reason: need(&r.reason, "reason")? },
        "escalate" => Command::Escalate { reason: need(&r.reason, "reason")? },
        "forward" => Command::Forward { agency: need(&r.agency, "agency")?, reason: need(&r.reason, "reason")? },
        "rate" => {
            Command::Rate { score: r.score.ok_or_else(|| ServiceError::invalid("score", "required for `rate`"))? }
        }
        _ => {
            let message = need(&r.message, "message")?;
            match action {
                "respond" => Command::Respond { message },
                "request_info" => Command::RequestInfo { message },
                "provide_info" => Command::ProvideInfo { message },
                "resolve" => Command::Resolve { message },
                _ => Command::Reopen { message },
            }
        }
    })
}

/// The stored row of a case after a decision (title, body and reporter carried over by the caller).
pub(crate) fn case_row(case: &Case, pack: &Pack, body: &str, reporter: Option<String>, now: DateTime<Utc>) -> CaseRow {
    CaseRow {
        id: case.id.clone(),
        tracking_id: case.tracking_id.clone(),
        kind: case.kind.as_str().into(),
        channel: case.channel.clone(),
        category: case.category.clone(),
        region: case.region.as_ref().map(|r| r.to_string()),
        privacy: case.privacy.as_str().into(),
        status: case.status.clone(),
        agency: case.agency.clone(),
        escalation_level: case.escalation_level as i32,
        flags: serde_json::to_string(&case.flags).unwrap_or_else(|_| "[]".into()),
        title: case.title.clone(),
        body: body.to_owned(),
        reporter,
        state: serde_json::to_string(&case.state).unwrap_or_else(|_| "{}".into()),
        created_at: case.created_at,
        updated_at: now,
        pack: pack.hash.clone(),
        head_seq: 0,
        head_hash: String::new(),
        first_assigned_at: case.first_assigned_at,
        first_followup_at: case.first_followup_at,
        first_followup_agency: case.first_followup_agency.clone(),
    }
}

/// The row of an existing case after a decision: the case's new state, with what the core does not
/// hold (body, sealed reporter, creation time, title, current head hash) carried over from the stored row.
pub(crate) fn row_after(case: &Case, pack: &Pack, stored: &CaseRow, now: DateTime<Utc>) -> CaseRow {
    let mut row = case_row(case, pack, &stored.body, stored.reporter.clone(), now);
    row.created_at = stored.created_at;
    row.title = stored.title.clone();
    row.head_hash = stored.head_hash.clone();
    row
}

/// The timers of a case as rows, with their derived deadlines and the next instant a sweep has
/// something to do (given the rungs already fired).
pub fn timer_rows(case: &Case, pack: &Pack, fired: &Fired, now: DateTime<Utc>) -> Vec<TimerRow> {
    case.timers
        .iter()
        .map(|(clock, t)| {
            let s = t.timer.schedule(&pack.calendar_for(&t.timer.calendar));
            let (kind, budget) = match t.timer.budget {
                Budget::WorkingDays(n) => ("days", n),
                Budget::WorkingHours(n) => ("hours", n),
            };
            TimerRow {
                complaint_id: case.id.clone(),
                clock: clock.to_string(),
                generation: t.generation.get() as i64,
                budget_kind: kind.into(),
                budget: i64::from(budget),
                warn_permille: i32::from(t.timer.warn_permille),
                calendar_ref: t.timer.calendar.to_string(),
                started_at: t.timer.started_at,
                suspensions: serde_json::to_string(&t.timer.suspensions).unwrap_or_else(|_| "[]".into()),
                status: if s.paused { "paused" } else { "running" }.into(),
                due_at: s.due_at(),
                warn_at: s.warn_at,
                next_action_at: next_action_at(pack, case, clock, fired, now),
                sla_source: t.sla_source.clone(),
            }
        })
        .collect()
}

/// Rebuilds the core case from its rows.
pub fn case_of(row: &CaseRow, timers: &[TimerRow]) -> Result<Case, ServiceError> {
    let bad = |what: &str| ServiceError::Internal(format!("case {}: stored {what} is unreadable", row.id));
    let kind: Kind = serde_json::from_value(Value::String(row.kind.clone())).map_err(|_| bad("kind"))?;
    let privacy: Privacy = serde_json::from_value(Value::String(row.privacy.clone())).map_err(|_| bad("privacy"))?;
    let state: CaseState = serde_json::from_str(&row.state).map_err(|_| bad("state"))?;
    let mut map = BTreeMap::new();
    for t in timers {
        let budget = match t.budget_kind.as_str() {
            "hours" => Budget::WorkingHours(t.budget as u32),
            _ => Budget::WorkingDays(t.budget as u32),
        };
        let suspensions: Vec<Suspension> = serde_json::from_str(&t.suspensions).map_err(|_| bad("suspensions"))?;
        let calendar = CalendarRef::parse(&t.calendar_ref).ok_or_else(|| bad("calendar ref"))?;
        let timer = Timer {
            clock: Clock::from(t.clock.as_str()),
            budget,
            warn_permille: t.warn_permille as u16,
            calendar,
            started_at: t.started_at,
            suspensions,
        };
        map.insert(
            Clock::from(t.clock.as_str()),
            CaseTimer { timer, generation: Generation::new(t.generation as u64), sla_source: t.sla_source.clone() },
        );
    }
    Ok(Case {
        id: row.id.clone(),
        tracking_id: row.tracking_id.clone(),
        kind,
        channel: row.channel.clone(),
        category: row.category.clone(),
        region: row.region.as_deref().and_then(|r| RegionCode::parse(r).ok()),
        privacy,
        title: row.title.clone(),
        status: row.status.clone(),
        agency: row.agency.clone(),
        escalation_level: row.escalation_level.max(0) as u32,
        flags: serde_json::from_str(&row.flags).unwrap_or_default(),
        state,
        created_at: row.created_at,
        first_assigned_at: row.first_assigned_at,
        first_followup_at: row.first_followup_at,
        first_followup_agency: row.first_followup_agency.clone(),
        timers: map,
    })
}

/// A new UUID v7 (ids of cases and events).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Rows for the bulk path (`aduan seed`): cases with their hash-chained events (no outbox: seeded history
/// is not published), timers and holders.
#[allow(clippy::type_complexity)]
pub fn seed_rows(
    pack: &Pack,
    cases: &[(Case, Outcome)],
    now: DateTime<Utc>,
) -> (Vec<CaseRow>, Vec<EventRow>, Vec<TimerRow>, Vec<(String, String)>) {
    let mut rows = Vec::with_capacity(cases.len());
    let mut events = Vec::with_capacity(cases.len() * 2);
    let mut timers = Vec::with_capacity(cases.len() * 2);
    let mut holders = Vec::new();
    for (case, outcome) in cases {
        let mut prev = String::new();
        let mut seq = 0;
        for ev in &outcome.events {
            seq += 1;
            let msg = EventMessage {
                event_id: new_id(),
                complaint_id: Some(case.id.clone()),
                tracking_id: Some(case.tracking_id.clone()),
                event_type: ev.event_type.clone(),
                at: now,
                agency: case.agency.clone(),
                escalation_level: Some(case.escalation_level as i32),
                actor: "system:seed".into(),
                pack: pack.hash.clone(),
                data: ev.data.clone(),
            };
            let payload = serde_json::to_string(&msg).unwrap_or_default();
            let hash = event_hash(&prev, &payload);
            events.push(EventRow {
                id: msg.event_id,
                complaint_id: case.id.clone(),
                seq,
                event_type: msg.event_type,
                at: now,
                actor: msg.actor,
                agency: case.agency.clone(),
                escalation_level: case.escalation_level as i32,
                pack: pack.hash.clone(),
                payload,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        let mut row = case_row(case, pack, "Seeded for benchmarks and demos.", None, now);
        row.head_seq = seq;
        row.head_hash = prev;
        rows.push(row);
        timers.extend(timer_rows(case, pack, &Fired::new(), now));
        for h in &outcome.new_holders {
            holders.push((case.id.clone(), h.clone()));
        }
    }
    (rows, events, timers, holders)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(action: &str) -> ActionRequest {
        ActionRequest { action: Some(action.into()), ..ActionRequest::default() }
    }

    #[test]
    fn commands_name_the_field_at_fault() {
        let field = |r: &ActionRequest| match command_of(r) {
            Err(ServiceError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&ActionRequest { message: Some("x".into()), ..req("verify") }), "message");
        assert_eq!(field(&req("archive")), "reason");
        assert_eq!(field(&ActionRequest { reason: Some("x".into()), ..req("forward") }), "agency");
        assert_eq!(field(&ActionRequest { score: Some(3), ..req("respond") }), "score");
        assert_eq!(field(&req("rate")), "score");
        assert_eq!(field(&req("teleport")), "action");
        assert_eq!(field(&ActionRequest::default()), "action");
        let ok = command_of(&ActionRequest { agency: Some("pln".into()), reason: Some("x".into()), ..req("forward") });
        assert_eq!(ok, Ok(Command::Forward { agency: "pln".into(), reason: "x".into() }));
    }
}
