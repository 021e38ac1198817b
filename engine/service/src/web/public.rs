//! The citizen's pages (docs/web.md#public-pages): filing a complaint at `/`, and following it at
//! `/track/{tracking_id}` with the reporter's own actions (add information, reopen, rate) for the
//! holder of the reporter token. No login; the public's view under the visibility table.

use super::complaint_form::{complaint_form, filed_notice, SUBMISSION_FIELDS};
use super::form::Fields;
use super::i18n::{action_label, Lang};
use super::layout::{outcome_box, problem_box, shell, Area};
use super::present::{deadline, facts, timeline};
use super::{page, redirect, PageError};
use crate::api::{limited, ApiState};
use crate::service::Caller;
use crate::wire::{ActionRequest, ComplaintView, Problem, Submission};
use aduan_core::directory::Directory;
use aduan_core::workflow::Role;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use std::net::SocketAddr;

/// The fields of the reporter's action form, as `ActionRequest` names them.
const REPORTER_FIELDS: [&str; 4] = ["action", "message", "score", "command_id"];

/// `GET /`: the complaint form.
pub async fn file_form(State(s): State<ApiState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    page(StatusCode::OK, file_page(lang, &s.service.pack().directory, &Fields::default(), None))
}

/// `POST /`: files the complaint through `Service::submit` (channel `web`), then shows the tracking
/// id and the reporter token; a refusal shows the form again, filled in, saying what was wrong.
pub async fn file(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let lang = Lang::of(&headers);
    let fields = Fields::read(&headers, &body).map_err(|p| PageError::new(lang, p))?;
    limited(&s, &Caller::Public, addr.ip()).map_err(|e| PageError::new(lang, e.problem()))?;
    let pack = s.service.pack();
    let refused = |p: Problem| {
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
        page(status, file_page(lang, &pack.directory, &fields, Some(&p)))
    };
    let mut json = fields.json(&SUBMISSION_FIELDS);
    json["channel"] = "web".into();
    let sub: Submission = match crate::problem::decode_json(&serde_json::to_vec(&json).unwrap_or_default()) {
        Ok(sub) => sub,
        Err(p) => return Ok(refused(p)),
    };
    match s.service.submit(sub, None, &Caller::Public, crate::clock::now()).await {
        Ok(reply) => Ok(page(StatusCode::CREATED, filed_page(lang, &reply.view))),
        Err(e) => Ok(refused(crate::problem::problem(&e))),
    }
}

fn file_page(lang: Lang, dir: &Directory, f: &Fields, problem: Option<&Problem>) -> Markup {
    let t = lang.text();
    let body = html! {
        h1 { (t.file_heading) }
        p { (t.file_intro) }
        @if let Some(p) = problem { (problem_box(p)) }
        (complaint_form(lang, dir, f, "/", html! {}))
    };
    shell(lang, Area::Public, t.file_heading, "/", body)
}

fn filed_page(lang: Lang, view: &ComplaintView) -> Markup {
    let t = lang.text();
    let body = html! {
        h1 { (t.filed_heading) }
        (filed_notice(lang, view))
        p { a href={ "/track/" (view.tracking_id) } { (t.follow) } }
    };
    shell(lang, Area::Public, t.filed_heading, "/", body)
}

#[derive(serde::Deserialize)]
struct Lookup {
    id: Option<String>,
}

/// `GET /track` (`?id=` goes to that case's page): the form asking for a tracking id.
pub async fn track_lookup(headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let lang = Lang::of(&headers);
    let t = lang.text();
    let id = serde_urlencoded::from_str::<Lookup>(q.as_deref().unwrap_or_default()).ok().and_then(|l| l.id);
    if let Some(id) = id.map(|i| i.trim().to_ascii_uppercase()).filter(|i| crate::crypto::is_tracking_id(i)) {
        return redirect(&format!("/track/{id}"));
    }
    let body = html! {
        h1 { (t.track_heading) }
        form method="get" action="/track" {
            label for="id" { (t.track_intro) }
            input id="id" type="text" name="id" required maxlength="11" placeholder=(t.search_hint) autocomplete="off";
            button type="submit" { (t.track_button) }
        }
    };
    page(StatusCode::OK, shell(lang, Area::Public, t.track_heading, "/track", body))
}

/// `GET /track/{tracking_id}`: the case as the public may see it.
pub async fn track(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lang = Lang::of(&headers);
    let view = public_view(&s, addr, lang, &id).await?;
    Ok(page(StatusCode::OK, track_page(&s, lang, &view, &Fields::default(), None)))
}

/// `POST /track/{tracking_id}`: the reporter's action with the reporter token typed into the form,
/// through `Service::act`; the page again with what happened.
pub async fn reporter_act(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let lang = Lang::of(&headers);
    let fields = Fields::read(&headers, &body).map_err(|p| PageError::new(lang, p))?;
    let view = public_view(&s, addr, lang, &id).await?;
    let outcome = async {
        let req: ActionRequest = fields.decode(&REPORTER_FIELDS)?;
        let caller = match fields.get("token") {
            Some(token) => s.service.authenticate(Some(token)).await.map_err(|e| crate::problem::problem(&e))?,
            None => return Err(Problem::new(401, "the reporter token is needed").with_field("token")),
        };
        s.service.act(&id, req, None, &caller, crate::clock::now()).await.map_err(|e| crate::problem::problem(&e))
    }
    .await;
    Ok(match outcome {
        Ok(_) => {
            let view = public_view(&s, addr, lang, &id).await?;
            page(StatusCode::OK, track_page(&s, lang, &view, &Fields::default(), Some(Ok(()))))
        }
        Err(p) => {
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
            page(status, track_page(&s, lang, &view, &fields, Some(Err(&p))))
        }
    })
}

/// The public's view of a case by tracking id (rate-limited per client IP, as the API's).
async fn public_view(s: &ApiState, addr: SocketAddr, lang: Lang, id: &str) -> Result<ComplaintView, PageError> {
    let id = id.trim().to_ascii_uppercase();
    if !crate::crypto::is_tracking_id(&id) {
        return Err(PageError::new(
            lang,
            Problem::new(404, format!("`{}` is not a tracking id", id.chars().take(40).collect::<String>())),
        ));
    }
    limited(s, &Caller::Public, addr.ip()).map_err(|e| PageError::new(lang, e.problem()))?;
    s.service.get(&id, &Caller::Public).await.map_err(|e| PageError::service(lang, &e))
}

fn track_page(
    s: &ApiState,
    lang: Lang,
    view: &ComplaintView,
    f: &Fields,
    outcome: Option<Result<(), &Problem>>,
) -> Markup {
    let t = lang.text();
    let pack = s.service.pack();
    let now = chrono::Utc::now();
    let path = format!("/track/{}", view.tracking_id);
    let reporter_actions: Vec<String> = pack
        .workflow
        .allowed_from(&view.status)
        .into_iter()
        .filter(|a| pack.workflow.action(a).is_some_and(|a| a.roles.contains(&Role::Reporter)))
        .collect();
    let body = html! {
        h1 { (t.track_heading) " " code { (view.tracking_id) } }
        (outcome_box(lang, outcome))
        (facts(lang, &pack.directory, view))
        @if let Some(title) = &view.title { h2 { (title) } }
        @match &view.body {
            Some(b) => { p { (b) } }
            None => { p { em { (t.withheld) } } }
        }
        @if !view.deadlines.is_empty() {
            h2 { (t.deadlines) }
            ul { @for d in &view.deadlines { (deadline(lang, d, now, None)) } }
        }
        h2 { (t.history) }
        (timeline(lang, &pack.directory, view, false))
        @if !reporter_actions.is_empty() {
            h2 { (t.reporter_actions) }
            p { (t.reporter_actions_intro) }
            form method="post" action=(path) {
                input type="hidden" name="command_id" value=(crate::service::new_id());
                label for="token" { (t.reporter_token) }
                input id="token" type="password" name="token" required autocomplete="off";
                label for="action" { (t.action) }
                select id="action" name="action" {
                    @for a in &reporter_actions {
                        option value=(a) selected[f.get("action") == Some(a.as_str())] { (action_label(lang, a)) }
                    }
                }
                label for="message" { (t.message) }
                textarea id="message" name="message" maxlength="20000" { (f.value("message")) }
                label for="score" { (t.score) }
                input id="score" type="number" name="score" min="1" max="5" value=(f.value("score"));
                button type="submit" { (t.send) }
            }
        }
    };
    shell(lang, Area::Public, t.track_heading, &path, body)
}
