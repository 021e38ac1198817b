//! The statistics page (docs/web.md#statistics): for the viewer's subtree and a period, the counts of
//! `GET /v1/stats` as charts (cases by month, each status, overdue by unit) and a table per unit
//! directly below the viewer's agency, with the same table as CSV. Read-only for every role.

use super::i18n::Lang;
use super::layout::{encode, shell};
use super::present::{agency_name, local_date};
use super::{page, PageError};
use crate::api::ApiState;
use crate::wire::{Problem, Stats};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use maud::{html, Markup};

/// Units shown in the table (and the CSV) at most.
const MAX_UNITS: usize = 100;
/// Months in the cases-over-time chart.
const MONTHS_SHOWN: u32 = 6;

#[derive(serde::Deserialize, Default)]
struct Params {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: Option<String>,
}

/// One row of the table: an agency and its subtree's counts.
struct UnitRow {
    agency: String,
    name: String,
    stats: Stats,
}

/// `GET /dashboard/stats?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]`.
pub async fn show(State(s): State<ApiState>, headers: HeaderMap, RawQuery(q): RawQuery) -> Result<Response, Response> {
    let s = &s;
    let q = q.as_deref();
    let lang = Lang::of(&headers);
    let who = super::signin::signed_in(s, &headers).await?;
    let refused = |p: Problem| PageError::new(lang, p).into_response();
    let p: Params = serde_urlencoded::from_str(q.unwrap_or_default())
        .map_err(|e| refused(Problem::new(422, format!("from/to: {e} (dates as YYYY-MM-DD)"))))?;
    let today = Utc::now().date_naive();
    let to = p.to.unwrap_or(today);
    let from = p.from.unwrap_or_else(|| to.checked_sub_months(Months::new(1)).unwrap_or(to));
    let root = who.actor.agency.clone().unwrap_or_else(|| aduan_core::directory::ROOT.to_owned());
    let count = |agency: String, from: NaiveDate, to: NaiveDate| {
        let caller = who.caller.clone();
        async move {
            s.service
                .stats(
                    Some(&agency),
                    Some(start_of(from)),
                    Some(start_of(to + chrono::Days::new(1))),
                    &caller,
                    crate::clock::now(),
                )
                .await
        }
    };
    let service_refused = |e: crate::service::ServiceError| PageError::service(lang, &e).into_response();
    let total = count(root.clone(), from, to).await.map_err(service_refused)?;
    let pack = s.service.pack();
    let dir = &pack.directory;
    let mut units = Vec::new();
    for a in dir.children(&root).into_iter().take(MAX_UNITS) {
        let stats = count(a.id.clone(), from, to).await.map_err(service_refused)?;
        if stats.total > 0 {
            units.push(UnitRow { agency: a.id.clone(), name: a.name.clone(), stats });
        }
    }
    if p.format.as_deref() == Some("csv") {
        return Ok(csv_response(&root, &agency_name(dir, &root), &total, &units));
    }
    let mut months = Vec::new();
    for back in (0..MONTHS_SHOWN).rev() {
        let first = to.with_day(1).and_then(|d| d.checked_sub_months(Months::new(back))).unwrap_or(to);
        let last = first.checked_add_months(Months::new(1)).unwrap_or(first) - chrono::Days::new(1);
        let stats = count(root.clone(), first, last).await.map_err(service_refused)?;
        months.push((first, stats.total));
    }
    let body = body(lang, &agency_name(dir, &root), from, to, &total, &units, &months);
    Ok(page(StatusCode::OK, shell(lang, who.area(), lang.text().stats_heading, "/dashboard/stats", body)))
}

fn start_of(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

fn body(
    lang: Lang,
    root_name: &str,
    from: NaiveDate,
    to: NaiveDate,
    total: &Stats,
    units: &[UnitRow],
    months: &[(NaiveDate, u64)],
) -> Markup {
    let t = lang.text();
    let statuses = [
        (state_words(lang, 0), total.resolved),
        (state_words(lang, 1), total.in_progress),
        (state_words(lang, 2), total.not_followed_up),
        (state_words(lang, 3), total.archived),
        (t.queue_overdue.to_owned(), total.overdue),
        (t.escalated.to_owned(), total.escalated),
    ];
    let month_bars: Vec<(String, u64)> =
        months.iter().map(|(m, n)| (format!("{} {}", &t.months[m.month0() as usize][..3], m.year()), *n)).collect();
    let overdue_bars: Vec<(String, u64)> = units.iter().map(|u| (u.name.clone(), u.stats.overdue)).collect();
    let csv = format!("/dashboard/stats?format=csv&from={}&to={}", encode(&from.to_string()), encode(&to.to_string()));
    html! {
        h1 { (t.stats_heading) ": " (root_name) }
        p { (t.stats_intro) " " (local_date(lang, from)) " – " (local_date(lang, to)) "." }
        form.filters method="get" action="/dashboard/stats" {
            div { label for="from" { (t.from) } input id="from" type="date" name="from" value=(from.to_string()); }
            div { label for="to" { (t.to) } input id="to" type="date" name="to" value=(to.to_string()); }
            button type="submit" { (t.show) }
        }
        p { a href=(csv) { (t.csv) } }
        p data-testid="stats-total" { strong { (t.total) ": " (total.total) } " · " (t.within_deadline) ": "
            (within_share(total)) }
        h2 { (t.by_status) }
        (bars(&statuses.iter().map(|(l, n)| (l.clone(), *n)).collect::<Vec<_>>(), t.by_status))
        h2 { (t.received) }
        (bars(&month_bars, t.received))
        @if !overdue_bars.is_empty() {
            h2 { (t.queue_overdue) }
            (bars(&overdue_bars, t.queue_overdue))
        }
        h2 { (t.agency) }
        table {
            thead { tr { th { (t.agency) } th { (t.total) } th { (state_words(lang, 0)) } th { (state_words(lang, 1)) }
                th { (state_words(lang, 2)) } th { (t.queue_overdue) } th { (t.escalated) } } }
            tbody {
                @for u in units {
                    tr { td { (u.name) } td { (u.stats.total) } td { (u.stats.resolved) } td { (u.stats.in_progress) }
                        td { (u.stats.not_followed_up) } td { (u.stats.overdue) } td { (u.stats.escalated) } }
                }
            }
        }
    }
}

/// A bar's label, cut to what fits beside the bar.
fn short(label: &str) -> String {
    if label.chars().count() <= 28 {
        return label.to_owned();
    }
    format!("{}…", label.chars().take(27).collect::<String>())
}

/// The share of cases neither overdue nor escalated.
fn within_share(s: &Stats) -> String {
    if s.total == 0 {
        return "—".to_owned();
    }
    let late = s.overdue + s.escalated;
    format!("{:.0} %", 100.0 * (s.total.saturating_sub(late)) as f64 / s.total as f64)
}

/// The words of `Stats`' status groups: resolved, in progress, not followed up, archived.
fn state_words(lang: Lang, i: usize) -> String {
    let words = match lang {
        Lang::Id => ["Selesai", "Dalam proses", "Belum ditindaklanjuti", "Diarsipkan"],
        Lang::En => ["Resolved", "In progress", "Not followed up", "Archived"],
    };
    words[i].to_owned()
}

/// A horizontal bar chart as inline SVG (no script, no style attribute: the page's CSP allows
/// neither), each bar labelled with its count, with a text alternative.
fn bars(rows: &[(String, u64)], title: &str) -> Markup {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let row_h = 28;
    let height = row_h * rows.len().max(1) + 4;
    html! {
        svg.chart role="img" aria-label=(title) viewBox={ "0 0 640 " (height) } width="640" height=(height) {
            title { (title) }
            @for (i, (label, n)) in rows.iter().enumerate() {
                @let y = i * row_h + 2;
                @let w = (*n as f64 / max as f64 * 360.0).round() as u64;
                text x="0" y=(y + 18) font-size="14" fill="#1b1f24" { (short(label)) }
                rect x="240" y=(y + 4) width=(w.max(1)) height="18" fill="#0b5cab" {}
                text x=(248 + w) y=(y + 18) font-size="14" fill="#1b1f24" { (n) }
            }
        }
    }
}

fn csv_response(root: &str, root_name: &str, total: &Stats, units: &[UnitRow]) -> Response {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(CSV_COLUMNS);
    let rows = std::iter::once((root, root_name, total))
        .chain(units.iter().map(|u| (u.agency.as_str(), u.name.as_str(), &u.stats)));
    for (agency, name, s) in rows {
        let median = s.median_first_response_working_days.map(|m| m.to_string()).unwrap_or_default();
        let counts = [s.total, s.resolved, s.in_progress, s.not_followed_up, s.overdue, s.escalated, s.archived];
        let mut line = vec![agency.to_owned(), name.to_owned()];
        line.extend(counts.iter().map(u64::to_string));
        line.push(median);
        let _ = w.write_record(&line);
    }
    let mut resp = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default().into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"statistik.csv\""));
    resp
}

/// The columns of the statistics CSV, in order.
const CSV_COLUMNS: [&str; 10] = [
    "agency",
    "name",
    "total",
    "resolved",
    "in_progress",
    "not_followed_up",
    "overdue",
    "escalated",
    "archived",
    "median_first_response_working_days",
];
