//! The page shell every page shares (header, navigation, language switch, footer) and the one
//! stylesheet, compiled in: a page is its HTML plus a few KB of CSS, nothing from elsewhere.

use super::i18n::Lang;
use crate::wire::Problem;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

/// The stylesheet, served at `/assets/aduan.css`.
const STYLESHEET: &str = include_str!("aduan.css");

/// `GET /assets/aduan.css`.
pub async fn stylesheet() -> Response {
    asset(STYLESHEET, "text/css; charset=utf-8")
}

/// A file compiled into the binary, cached for a day (it changes only with a release).
pub fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    resp
}

/// Which part of the site a page belongs to: the header's navigation differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area<'a> {
    /// The citizen's pages.
    Public,
    /// The dashboard, signed in as this name, with the CSRF token its sign-out form carries; a role that
    /// may read the failed webhooks (`Operation::ReadDeliveries`) also sees them in the navigation, and
    /// one that may back-date a submission the intake of walk-ins and letters.
    Dashboard { who: &'a str, csrf: &'a str, deliveries: bool, intake: bool },
    /// The dashboard's sign-in page.
    SignIn,
}

/// A whole page: `title` in the tab, `path` the page's own path (the language switch returns to it).
pub fn shell(lang: Lang, area: Area<'_>, title: &str, path: &str, body: Markup) -> Markup {
    let t = lang.text();
    let other = lang.other();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t.site) }
                link rel="stylesheet" href="/assets/aduan.css";
            }
            body {
                a.skip href="#isi" { (t.skip) }
                header.top {
                    div.brand { a href="/" { (t.site) } span { (t.tagline) } }
                    nav aria-label=(t.site) {
                        @match area {
                            Area::Public | Area::SignIn => {
                                a href="/" { (t.nav_file) }
                                a href="/track" { (t.nav_track) }
                                a href="/dashboard" { (t.nav_dashboard) }
                            }
                            Area::Dashboard { .. } => {
                                a href="/dashboard" { (t.nav_queue) }
                                a href="/dashboard/stats" { (t.nav_stats) }
                                a href="/dashboard/reports" { (t.nav_report) }
                                @if let Area::Dashboard { intake: true, .. } = area {
                                    a href="/dashboard/intake" { (t.nav_intake) }
                                }
                                @if let Area::Dashboard { deliveries: true, .. } = area {
                                    a href="/dashboard/webhooks" { (t.nav_webhooks) }
                                }
                            }
                        }
                        a lang=(other.code()) href={ "/lang/" (other.code()) "?back=" (encode(path)) } {
                            (other.text().language_name)
                        }
                    }
                    @if let Area::Dashboard { who, csrf, .. } = area {
                        form.signout method="post" action="/dashboard/logout" {
                            span { (t.signed_in_as) " " strong { (who) } }
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { (t.sign_out) }
                        }
                    }
                }
                main id="isi" { (body) }
                footer { p { (t.site) " · SP4N-LAPOR!" } }
            }
        }
    }
}

/// The page of a refusal or an error: what was wrong, in the service's words, and the field.
pub fn error_page(lang: Lang, problem: &Problem) -> Markup {
    let t = lang.text();
    shell(
        lang,
        Area::Public,
        t.error_heading,
        "/",
        html! {
            h1 { (t.error_heading) }
            (problem_box(problem))
            p { a href="/" { (t.nav_file) } " · " a href="/track" { (t.nav_track) } }
        },
    )
}

/// What a form just did, above the page it returns to: saved, or the problem.
pub fn outcome_box(lang: Lang, outcome: Option<Result<(), &Problem>>) -> Markup {
    html! {
        @match outcome {
            Some(Ok(())) => { div.notice.good role="status" { p { (lang.text().done) } } }
            Some(Err(p)) => { (problem_box(p)) }
            None => {}
        }
    }
}

/// A problem as a notice inside a page (a form shown again with what was wrong).
pub fn problem_box(problem: &Problem) -> Markup {
    html! {
        div.notice.bad role="alert" {
            p { strong { (problem.status) " " (problem.title) } }
            p { @if let Some(f) = &problem.field { code { (f) } ": " } (problem.detail) }
        }
    }
}

/// A query-string value, percent-encoded.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
