//! The dashboard (docs/web.md#dashboard): the queue of what the viewer's subtree holds (soonest deadline first), one case with its timeline, each
//! deadline explained, and the actions the viewer's role may take as forms. Every read and action
//! goes through the service with the session's own credentials.

use super::form::Fields;
use super::i18n::{action_label, state_label, Lang};
use super::layout::{encode, outcome_box, shell};
use super::present::{agency_name, deadline, facts, local_date, timeline};
use super::signin::{signed_in, Viewer};
use super::{page, redirect, PageError};
use crate::api::ApiState;
use crate::service::ListQuery;
use crate::store::CaseOrder;
use crate::wire::{ActionRequest, ComplaintView, Problem};
use aduan_core::directory::Directory;
use aduan_core::explain::DeadlineExplanation;
use aduan_core::pack::Pack;
use aduan_core::workflow::Action;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use std::sync::Arc;

/// The fields of an action form, as `ActionRequest` names them.
const ACTION_FIELDS: [&str; 8] =
    ["action", "agency", "category", "investigation", "reason", "message", "score", "command_id"];
/// The queue's page size.
const QUEUE_SIZE: i64 = 100;

#[derive(serde::Deserialize, Default)]
struct QueueParams {
    view: Option<String>,
    q: Option<String>,
}

/// Which queue a viewer looks at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum QueueView {
    All,
    ToVerify,
    Overdue,
}

impl QueueView {
    const EVERY: [QueueView; 3] = [QueueView::All, QueueView::ToVerify, QueueView::Overdue];

    fn parse(v: Option<&str>) -> QueueView {
        match v {
            Some("verify") => QueueView::ToVerify,
            Some("overdue") => QueueView::Overdue,
            _ => QueueView::All,
        }
    }

    fn code(self) -> &'static str {
        match self {
            QueueView::All => "all",
            QueueView::ToVerify => "verify",
            QueueView::Overdue => "overdue",
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        let t = lang.text();
        match self {
            QueueView::All => t.queue_all,
            QueueView::ToVerify => t.queue_verify,
            QueueView::Overdue => t.queue_overdue,
        }
    }
}

/// `GET /dashboard`: the queue, soonest deadline first; `q` with a tracking id opens that case.
pub async fn queue(State(s): State<ApiState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Response> {
    let lang = Lang::of(&headers);
    let who = signed_in(&s, &headers).await?;
    let params: QueueParams = serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default();
    if let Some(id) = params.q.as_deref().map(|i| i.trim().to_ascii_uppercase()).filter(|i| !i.is_empty()) {
        return Ok(redirect(&format!("/dashboard/cases/{}", encode(&id))));
    }
    let view = QueueView::parse(params.view.as_deref());
    let pack = s.service.pack();
    let query = ListQuery {
        status: (view == QueueView::ToVerify).then(|| pack.workflow.meaning().awaiting_dispatch.clone()),
        overdue: view == QueueView::Overdue,
        limit: Some(QUEUE_SIZE),
        order: CaseOrder::SoonestDue,
        ..ListQuery::default()
    };
    let list = s
        .service
        .list(query, &who.caller, crate::clock::now())
        .await
        .map_err(|e| PageError::service(lang, &e).into_response())?;
    let t = lang.text();
    let now = chrono::Utc::now();
    let body = html! {
        h1 { (t.queue_heading) }
        div.filters {
            nav aria-label=(t.queue_heading) {
                @for v in QueueView::EVERY {
                    a href={ "/dashboard?view=" (v.code()) } aria-current=[(v == view).then_some("page")] { (v.label(lang)) }
                    " "
                }
            }
            form method="get" action="/dashboard" role="search" {
                label for="q" { (t.search) }
                input id="q" type="search" name="q" placeholder=(t.search_hint);
                button type="submit" { (t.open_case) }
            }
        }
        p.hint id="live" aria-live="polite" data-updated=(t.live) {}
        div id="queue" {
            @if list.items.is_empty() {
                p { (t.empty_queue) }
            } @else {
                (queue_table(lang, &pack.directory, &list.items, now))
            }
        }
        script src="/assets/queue.js" defer {}
    };
    Ok(page(StatusCode::OK, shell(lang, who.area(), t.queue_heading, "/dashboard", body)))
}

fn queue_table(lang: Lang, dir: &Directory, items: &[ComplaintView], now: chrono::DateTime<chrono::Utc>) -> Markup {
    let t = lang.text();
    html! {
        table {
            thead { tr { th { (t.tracking_id) } th { (t.title) } th { (t.status) } th { (t.held_by) } th { (t.deadlines) } } }
            tbody {
                @for c in items {
                    @let next = c.deadlines.iter().filter(|d| d.due_at.is_some()).min_by_key(|d| d.due_at);
                    tr data-testid="queue-row" {
                        td { a href={ "/dashboard/cases/" (c.id) } { code { (c.tracking_id) } } }
                        td { (c.title.as_deref().unwrap_or("—")) }
                        td { (state_label(lang, &c.status)) }
                        td { (c.agency.as_deref().map_or_else(|| t.not_dispatched.to_owned(), |a| agency_name(dir, a))) }
                        td {
                            @if let Some(d) = next {
                                @if let Some(date) = d.due_date.as_deref().and_then(|s| s.parse().ok()) { (local_date(lang, date)) }
                                @if d.due_at.is_some_and(|due| due <= now) { " " span.tag.late { (t.overdue) } }
                            }
                            @if c.deadlines.iter().any(|d| d.paused) { " " span.tag.paused { (t.paused) } }
                        }
                    }
                }
            }
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct CaseParams {
    done: Option<String>,
}

/// `GET /dashboard/cases/{id}`: one case as the viewer may see it, with its actions.
pub async fn case(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, Response> {
    let lang = Lang::of(&headers);
    let who = signed_in(&s, &headers).await?;
    let params: CaseParams = serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).unwrap_or_default();
    let done = params.done.is_some();
    case_response(&s, lang, &who, &id, &Fields::default(), done.then_some(Ok(())), StatusCode::OK).await
}

/// `POST /dashboard/cases/{id}`: one action through `Service::act`, then back to the case (303); a
/// refusal shows the case again with the form as filled in and what was wrong.
pub async fn act(
    State(s): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Response> {
    let lang = Lang::of(&headers);
    let who = signed_in(&s, &headers).await?;
    let fields = Fields::read(&headers, &body).map_err(|p| PageError::new(lang, p).into_response())?;
    who.session.check_csrf(&fields).map_err(|p| PageError::new(lang, p).into_response())?;
    let outcome = match fields.decode::<ActionRequest>(&ACTION_FIELDS) {
        Ok(req) => s
            .service
            .act(&id, req, None, &who.caller, crate::clock::now())
            .await
            .map_err(|e| crate::problem::problem(&e)),
        Err(p) => Err(p),
    };
    match outcome {
        Ok(reply) => Ok(redirect(&format!("/dashboard/cases/{}?done=1", reply.view.id))),
        Err(p) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
            case_response(&s, lang, &who, &id, &fields, Some(Err(&p)), status).await
        }
    }
}

async fn case_response(
    s: &ApiState,
    lang: Lang,
    who: &Viewer,
    id: &str,
    fields: &Fields,
    outcome: Option<Result<(), &Problem>>,
    status: StatusCode,
) -> Result<Response, Response> {
    let refused = |e: crate::service::ServiceError| PageError::service(lang, &e).into_response();
    let view = s.service.get(id, &who.caller).await.map_err(refused)?;
    let why = s.service.explain_deadlines(id, &who.caller).await.map_err(refused)?;
    let pack = s.service.pack();
    let path = format!("/dashboard/cases/{}", view.id);
    let body = case_body(lang, &pack, who, &view, &why, fields, outcome);
    Ok(page(status, shell(lang, who.area(), &view.tracking_id, &path, body)))
}

fn case_body(
    lang: Lang,
    pack: &Arc<Pack>,
    who: &Viewer,
    view: &ComplaintView,
    why: &[DeadlineExplanation],
    fields: &Fields,
    outcome: Option<Result<(), &Problem>>,
) -> Markup {
    let t = lang.text();
    let now = chrono::Utc::now();
    html! {
        h1 { (t.case_heading) " " code { (view.tracking_id) } }
        (outcome_box(lang, outcome))
        (facts(lang, &pack.directory, view))
        @if let Some(r) = &view.reporter {
            h2 { (t.reporter) }
            p data-testid="reporter" { (r.name.as_deref().unwrap_or("—")) " · " (r.contact.as_deref().unwrap_or("—")) }
        }
        @if let Some(title) = &view.title { h2 { (title) } }
        @match &view.body { Some(b) => { p { (b) } } None => { p { em { (t.withheld) } } } }
        @if let Some(found) = view.duplicates.as_deref().filter(|d| !d.is_empty()) {
            h2 { (t.duplicates) }
            p { (t.duplicates_intro) }
            ul data-testid="duplicates" {
                @for d in found {
                    li {
                        a href={ "/dashboard/cases/" (d.id) } { code { (d.tracking_id) } }
                        " · " (t.similarity) " " (format!("{:.0}%", d.score * 100.0))
                    }
                }
            }
        }
        @if !view.deadlines.is_empty() {
            h2 { (t.deadlines) }
            ul {
                @for d in &view.deadlines {
                    @let e = why.iter().find(|e| e.clock.as_str() == d.clock);
                    (deadline(lang, d, now, e.map(|e| explanation(lang, e))))
                }
            }
        }
        h2 { (t.actions) }
        (action_forms(lang, pack, who, view, fields))
        h2 { (t.history) }
        (timeline(lang, &pack.directory, view, true))
    }
}

/// The `policy explain` answer for one deadline: budget, SLA layer, calendar and the days skipped.
fn explanation(lang: Lang, e: &DeadlineExplanation) -> Markup {
    html! {
        details {
            summary { (lang.text().explain) }
            p { (e.budget) " · " (e.sla_source) }
            p { (e.calendar) }
            @if !e.skipped.is_empty() {
                ul { @for d in &e.skipped { li { (local_date(lang, d.date)) ": " (d.reason) } } }
            }
        }
    }
}

/// One form per action the workflow allows in the case's state and the viewer's role may take.
fn action_forms(lang: Lang, pack: &Pack, who: &Viewer, view: &ComplaintView, f: &Fields) -> Markup {
    let t = lang.text();
    let path = format!("/dashboard/cases/{}", view.id);
    let actions: Vec<_> = pack
        .workflow
        .allowed_from(&view.status)
        .into_iter()
        .filter_map(|a| pack.workflow.action(&a).cloned())
        .filter(|a| a.roles.contains(&who.actor.role))
        .collect();
    let tried = f.get("action");
    let blank = Fields::default();
    html! {
        @if actions.is_empty() {
            p data-testid="no-actions" { (t.no_actions) }
        } @else {
            (agency_list(&pack.directory, view))
            div.actions {
                @for a in &actions {
                    details open[tried == Some(a.name.as_str())] {
                        summary { (action_label(lang, &a.name)) }
                        form method="post" action=(path) data-action=(a.name) {
                            input type="hidden" name="csrf" value=(who.session.csrf);
                            input type="hidden" name="action" value=(a.name);
                            input type="hidden" name="command_id" value=(crate::service::new_id());
                            (action_fields(lang, pack, a, view, if tried == Some(a.name.as_str()) { f } else { &blank }))
                            button type="submit" { (action_label(lang, &a.name)) }
                        }
                    }
                }
            }
        }
    }
}

/// The inputs an action takes: what the workflow says it requires, and what the engine reads
/// besides (`verify`'s agency, category and investigation).
fn action_fields(lang: Lang, pack: &Pack, a: &Action, view: &ComplaintView, f: &Fields) -> Markup {
    let t = lang.text();
    let needs = |field: &str| a.requires.iter().any(|r| r == field);
    let is_verify = a.name == "verify";
    let id = |field: &str| format!("{}-{field}", a.name);
    html! {
        @if needs("agency") || is_verify {
            label for=(id("agency")) { (t.agency) @if !needs("agency") { " " small { "(" (t.optional) ")" } } }
            input id=(id("agency")) type="text" name="agency" list="agencies" required[needs("agency")] value=(f.value("agency"));
        }
        @if is_verify {
            label for=(id("category")) { (t.category) }
            select id=(id("category")) name="category" {
                option value="" { "—" }
                @for c in pack.directory.categories() {
                    option value=(c.id) selected[f.get("category").or(view.category.as_deref()) == Some(c.id.as_str())] { (c.name) }
                }
            }
            label { input type="checkbox" name="investigation" checked[f.get("investigation").is_some()]; " " (t.investigation) }
        }
        @if needs("reason") {
            label for=(id("reason")) { (t.reason) }
            textarea id=(id("reason")) name="reason" required maxlength="2000" { (f.value("reason")) }
        }
        @if needs("message") {
            label for=(id("message")) { (t.message) }
            textarea id=(id("message")) name="message" required maxlength="20000" { (f.value("message")) }
        }
        @if needs("score") {
            label for=(id("score")) { (t.score) }
            input id=(id("score")) type="number" name="score" min="1" max="5" required value=(f.value("score"));
        }
    }
}

/// The agencies an agency field suggests: the national bodies and the governments and units of the
/// case's province.
fn agency_list(dir: &Directory, view: &ComplaintView) -> Markup {
    let province = view.region.as_deref().map(|r| r.get(..2).unwrap_or(r));
    let mut agencies: Vec<_> = dir
        .agencies()
        .filter(|a| match (&a.region, province) {
            (None, _) => true,
            (Some(r), Some(p)) => r.province() == p,
            (Some(_), None) => false,
        })
        .collect();
    agencies.sort_by(|a, b| a.id.cmp(&b.id));
    html! {
        datalist id="agencies" {
            @for a in agencies { option value=(a.id) { (a.name) } }
        }
    }
}
