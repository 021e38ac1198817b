//! The monthly report, "Laporan Bulanan" (docs/web.md#monthly-report): `Service::compliance` for the
//! viewer's subtree (or an agency in it) and a month, as a printable page with each row's zone, and
//! as the API's own CSV (`wire::compliance::csv`).

use super::i18n::Lang;
use super::layout::{encode, shell};
use super::signin::signed_in;
use super::{page, PageError};
use crate::api::ApiState;
use crate::wire::compliance::{csv, ComplianceFigures, ComplianceReport, ReportFormat};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::{html, Markup};

#[derive(serde::Deserialize, Default)]
struct Params {
    month: Option<String>,
    agency: Option<String>,
    format: Option<ReportFormat>,
}

/// `GET /dashboard/reports?month=YYYY-MM[&agency=][&format=csv]` (default: last month).
pub async fn show(State(s): State<ApiState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Response> {
    let lang = Lang::of(&headers);
    let who = signed_in(&s, &headers).await?;
    let p: Params = serde_urlencoded::from_str(q.as_deref().unwrap_or_default()).map_err(|e| {
        PageError::new(lang, crate::wire::Problem::new(422, format!("month, agency or format: {e}"))).into_response()
    })?;
    let month = p.month.unwrap_or_else(last_month);
    let report = s
        .service
        .compliance(p.agency.as_deref(), &month, &who.caller, crate::clock::now())
        .await
        .map_err(|e| PageError::service(lang, &e).into_response())?;
    if p.format == Some(ReportFormat::Csv) {
        let mut resp = csv(&report).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"laporan-bulanan.csv\""));
        return Ok(resp);
    }
    let title = lang.text().report_heading;
    Ok(page(StatusCode::OK, shell(lang, who.area(), title, "/dashboard/reports", body(lang, &report))))
}

/// The month before this one, `YYYY-MM`.
fn last_month() -> String {
    let today = Utc::now().date_naive();
    let first = today.checked_sub_months(chrono::Months::new(1)).unwrap_or(today);
    first.format("%Y-%m").to_string()
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{:.0} %", v * 100.0))
}

fn body(lang: Lang, r: &ComplianceReport) -> Markup {
    let t = lang.text();
    let csv = format!("/dashboard/reports?format=csv&month={}&agency={}", encode(&r.month), encode(&r.agency));
    let heads = [
        t.received,
        t.report_dispatched_on_time,
        t.report_followed_up_on_time,
        t.report_completed,
        t.overdue,
        t.escalated,
        t.report_first_response,
        t.report_rated,
        t.report_on_time,
        t.report_zone,
    ];
    html! {
        h1 { (t.report_heading) " " (r.month) }
        form.filters method="get" action="/dashboard/reports" {
            div { label for="month" { (t.report_month) } input id="month" type="month" name="month" value=(r.month); }
            input type="hidden" name="agency" value=(r.agency);
            button type="submit" { (t.show) }
        }
        p { a href=(csv) { (t.csv) } }
        @if let Some(z) = &r.zones {
            p.why { (t.report_zones_note) " " (z.note) }
        }
        div.wide tabindex="0" role="region" aria-label=(t.report_heading) { table {
            thead { tr { th { (t.agency) } @for h in heads { th { (h) } } } }
            tbody {
                @for row in &r.rows {
                    tr { td { (row.name) } (cells(&row.figures)) }
                }
                tr { th { (t.total) } (cells(&r.total)) }
            }
        } }
    }
}

fn cells(f: &ComplianceFigures) -> Markup {
    let of = |n: u64, d: u64| format!("{n} / {d}");
    html! {
        td { (f.received) }
        td { (of(f.dispatched_within_deadline, f.dispatched)) }
        td { (of(f.followed_up_within_deadline, f.followed_up)) }
        td { (of(f.completed_within_deadline, f.completed)) }
        td { (f.overdue) }
        td { (f.escalated) }
        td { (f.median_first_response_working_days.map_or_else(|| "—".to_owned(), |m| m.to_string())) }
        td { (share(f.rating_share)) }
        td { (share(f.on_time_share)) }
        td { @match f.zone { Some(z) => { span class={ "tag zone-" (z.as_str()) } { (z.as_str()) } } None => { "—" } } }
    }
}
