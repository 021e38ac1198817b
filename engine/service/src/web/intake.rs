//! Counter and letter intake (docs/web.md#intake): an officer or admin records a complaint that came to
//! the counter, by letter or to the agency's WhatsApp number, with when it was received, through the
//! same `Service::submit` as any other (the session's own token: back-dating is an operation of the
//! access table). The case is like any other; the page gives the tracking id and the reporter token
//! to hand to the citizen.

use super::complaint_form::{complaint_form, filed_notice, SUBMISSION_FIELDS};
use super::form::Fields;
use super::i18n::Lang;
use super::layout::{problem_box, shell};
use super::signin::{signed_in, Viewer};
use super::{page, PageError};
use crate::api::ApiState;
use crate::wire::{Problem, Submission};
use aduan_core::directory::Directory;
use aduan_core::region::time_zone_of_code;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDateTime, TimeZone, Utc};
use maud::{html, Markup};

/// The channels a complaint typed in here came by, in the order the form offers them.
const CHANNELS: [&str; 3] = ["counter", "letter", "whatsapp"];
/// `datetime-local`'s format.
const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// `GET /dashboard/intake`: the form, received now.
pub async fn form(State(s): State<ApiState>, headers: HeaderMap) -> Result<Response, Response> {
    let lang = Lang::of(&headers);
    let who = signed_in(&s, &headers).await?;
    Ok(page(StatusCode::OK, intake_page(lang, &s.service.pack().directory, &who, &Fields::default(), None)))
}

/// `POST /dashboard/intake`: files it, or shows the form again, filled in, saying what was wrong.
pub async fn file(State(s): State<ApiState>, headers: HeaderMap, body: Bytes) -> Result<Response, Response> {
    let lang = Lang::of(&headers);
    let who = signed_in(&s, &headers).await?;
    let fields = Fields::read(&headers, &body).map_err(|p| PageError::new(lang, p).into_response())?;
    who.session.check_csrf(&fields).map_err(|p| PageError::new(lang, p).into_response())?;
    let pack = s.service.pack();
    let refused = |p: Problem| {
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
        page(status, intake_page(lang, &pack.directory, &who, &fields, Some(&p)))
    };
    let sub = match submission(&fields) {
        Ok(sub) => sub,
        Err(p) => return Ok(refused(p)),
    };
    match s.service.submit(sub, None, &who.caller, crate::clock::now()).await {
        Ok(reply) => {
            let t = lang.text();
            let view = reply.view;
            let body = html! {
                h1 { (t.filed_heading) }
                (filed_notice(lang, &view))
                p { a href={ "/dashboard/cases/" (view.id) } { (t.intake_open_case) } }
            };
            Ok(page(StatusCode::CREATED, shell(lang, who.area(), t.filed_heading, "/dashboard/intake", body)))
        }
        Err(e) => Ok(refused(crate::problem::problem(&e))),
    }
}

/// The form's fields as a submission: `received_at` is the local time of the case's region.
fn submission(fields: &Fields) -> Result<Submission, Problem> {
    let mut json = fields.json(&SUBMISSION_FIELDS);
    json["channel"] = fields.get("channel").unwrap_or("counter").into();
    let local = fields.get("received_at").unwrap_or_default();
    let naive = NaiveDateTime::parse_from_str(local, LOCAL_FORMAT).map_err(|_| {
        Problem::new(422, "received_at: a date and time, e.g. 2026-12-04T09:30").with_field("received_at")
    })?;
    let zone = time_zone_of_code(fields.get("region"));
    let at = zone
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| Problem::new(422, "received_at: no such local time").with_field("received_at"))?;
    json["received_at"] = at.with_timezone(&Utc).to_rfc3339().into();
    crate::problem::decode_json(&serde_json::to_vec(&json).unwrap_or_default())
}

fn intake_page(lang: Lang, dir: &Directory, who: &Viewer, f: &Fields, problem: Option<&Problem>) -> Markup {
    let t = lang.text();
    let channel = f.get("channel").unwrap_or("counter");
    let now = Utc::now().with_timezone(&time_zone_of_code(f.get("region"))).format(LOCAL_FORMAT).to_string();
    let extra = html! {
        input type="hidden" name="csrf" value=(who.session.csrf);
        fieldset {
            legend { (t.channel) }
            @for (value, label) in CHANNELS.iter().zip(t.intake_channels) {
                label { input type="radio" name="channel" value=(value) checked[channel == *value]; (label) }
            }
        }
        label for="received_at" { (t.received_at) " " small { "(" (t.received_at_hint) ")" } }
        input id="received_at" type="datetime-local" name="received_at" required value=(f.get("received_at").unwrap_or(&now));
    };
    let body = html! {
        h1 { (t.nav_intake) }
        p { (t.intake_intro) }
        @if let Some(p) = problem { (problem_box(p)) }
        (complaint_form(lang, dir, f, "/dashboard/intake", extra))
    };
    shell(lang, who.area(), t.nav_intake, "/dashboard/intake", body)
}
