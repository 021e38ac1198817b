//! A case's parts as the pages show them: its facts, each deadline as a local date with its zone, and
//! the history as a timeline. They render a [`ComplaintView`] that the service already cut to what
//! the viewer may see; nothing here reads a case another way.

use super::i18n::{action_label, clock_label, event_label, state_label, Lang};
use aduan_core::directory::Directory;
use aduan_core::event::EventType;
use aduan_core::region::{time_zone_of_code, zone_abbreviation, NATIONAL_TIME_ZONE};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{html, Markup};
use serde_json::Value;

use crate::wire::{ComplaintView, DeadlineView, HistoryEntry, Location};

/// `10 Desember 2026`.
pub fn local_date(lang: Lang, d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), lang.text().months[d.month0() as usize], d.year())
}

/// `10 Desember 2026 09.15 WIB` (Indonesian writes the time with a dot).
pub fn local_time(lang: Lang, at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    let sep = if lang == Lang::Id { "." } else { ":" };
    let time = local.format(&format!("%H{sep}%M")).to_string();
    format!("{} {time} {}", local_date(lang, local.date_naive()), zone_abbreviation(tz))
}

/// The zone a case's times are shown in (`aduan_core::region::time_zone_of_code`).
pub fn case_zone(view: &ComplaintView) -> Tz {
    time_zone_of_code(view.region.as_deref())
}

/// An agency's name from the directory, else its id.
pub fn agency_name(dir: &Directory, id: &str) -> String {
    dir.agency(id).map_or_else(|| id.to_owned(), |a| a.name.clone())
}

/// Status, holder, kind and received date.
pub fn facts(lang: Lang, dir: &Directory, view: &ComplaintView) -> Markup {
    let t = lang.text();
    html! {
        dl.facts {
            dt { (t.tracking_id) } dd { code { (view.tracking_id) } }
            dt { (t.status) } dd { strong { (state_label(lang, &view.status)) } }
            dt { (t.held_by) } dd {
                @match &view.agency {
                    Some(a) => { (agency_name(dir, a)) }
                    None => { (t.not_dispatched) }
                }
            }
            @if let Some(c) = view.category.as_deref().and_then(|c| dir.category(c)) {
                dt { (t.category) } dd { (c.name) }
            }
            dt { (t.received) } dd { (local_time(lang, view.created_at, case_zone(view))) }
            @if let Some(place) = &view.location { (location(lang, place)) }
            @if let Some(url) = &view.media_url {
                dt { (t.attachment) } dd { a href=(url) rel="noopener noreferrer nofollow" { (t.attachment_open) } }
            }
        }
    }
}

/// Where the case is, as far as the submission said: the address, and the coordinates with a link to
/// a map (followed only when the viewer clicks; nothing is loaded from elsewhere).
fn location(lang: Lang, place: &Location) -> Markup {
    let t = lang.text();
    html! {
        @if let Some(address) = &place.address { dt { (t.address) } dd { (address) } }
        @if let (Some(lat), Some(long)) = (place.lat, place.long) {
            dt { (t.coordinates) }
            dd {
                (format!("{lat:.5}, {long:.5}")) " · "
                a href=(format!("https://www.openstreetmap.org/?mlat={lat}&mlon={long}#map=18/{lat}/{long}")) rel="noopener noreferrer" { (t.on_map) }
            }
        }
    }
}

/// One deadline: the clock, its last working day as a local date with its zone, paused or
/// provisional; `why` (the dashboard's explanation) under it when given.
pub fn deadline(lang: Lang, d: &DeadlineView, now: DateTime<Utc>, why: Option<Markup>) -> Markup {
    let t = lang.text();
    let tz: Tz = d.time_zone.parse().unwrap_or(NATIONAL_TIME_ZONE);
    let late = d.due_at.is_some_and(|due| due <= now);
    html! {
        li {
            strong { (clock_label(lang, &d.clock)) } ": "
            @if d.paused {
                span.tag.paused { (t.paused) }
            } @else if let Some(date) = d.due_date.as_deref().and_then(|s| s.parse::<NaiveDate>().ok()) {
                (t.due) " " (local_date(lang, date)) " (" (zone_abbreviation(tz)) ")"
                @if late { " " span.tag.late { (t.overdue) } }
            }
            @if d.provisional { " " small { "(" (t.provisional) ")" } }
            @if let Some(why) = why { div.why { (why) } }
        }
    }
}

/// The history, oldest first: what happened, when (in the case's zone), and the text the viewer may
/// read (a message, a reason, the agency it went to, a score).
pub fn timeline(lang: Lang, dir: &Directory, view: &ComplaintView, show_actor: bool) -> Markup {
    let zone = case_zone(view);
    let history: &[HistoryEntry] = view.history.as_deref().unwrap_or_default();
    html! {
        ol.timeline {
            @for e in history {
                li {
                    strong { (entry_label(lang, e)) }
                    " · " time datetime=(e.at.to_rfc3339()) { (local_time(lang, e.at, zone)) }
                    @if show_actor { " · " small { (e.actor) } }
                    (entry_detail(lang, dir, &e.data))
                }
            }
        }
    }
}

fn entry_label(lang: Lang, e: &HistoryEntry) -> String {
    EventType::parse(&e.event_type).map_or_else(|| action_label(lang, &e.event_type), |t| event_label(lang, t))
}

fn entry_detail(lang: Lang, dir: &Directory, data: &Value) -> Markup {
    let text = |k: &str| data.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let to = text("to").or_else(|| text("agency"));
    html! {
        @if let Some(a) = to { div { "→ " (agency_name(dir, a)) } }
        @if let Some(c) = text("clock") { div { (clock_label(lang, c)) } }
        @if let Some(m) = text("message") { blockquote { (m) } }
        @if let Some(r) = text("reason") { div { em { (lang.text().reason) ": " } (r) } }
        @if let Some(s) = data.get("score").and_then(Value::as_i64) { div { (lang.text().score) ": " (s) } }
    }
}
