//! The failed webhooks (docs/integrations.md#webhooks): the deliveries to source systems that were
//! dead-lettered after their last attempt, for the admins whose reach holds the case
//! (`Service::failed_webhooks`).

use super::i18n::{event_label, Lang};
use super::layout::shell;
use super::present::local_time;
use super::signin::signed_in;
use super::{page, PageError};
use crate::api::ApiState;
use aduan_core::event::EventType;
use aduan_core::region::NATIONAL_TIME_ZONE;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;

/// `GET /dashboard/webhooks`.
pub async fn show(State(s): State<ApiState>, headers: HeaderMap) -> Result<Response, Response> {
    let lang = Lang::of(&headers);
    let t = lang.text();
    let who = signed_in(&s, &headers).await?;
    let failed =
        s.service.failed_webhooks(&who.caller).await.map_err(|e| PageError::service(lang, &e).into_response())?;
    let body = html! {
        h1 { (t.nav_webhooks) }
        p { (t.webhooks_intro) }
        @if failed.is_empty() {
            p data-testid="no-failed-webhooks" { (t.webhooks_none) }
        } @else {
            div.wide role="region" aria-label=(t.nav_webhooks) tabindex="0" {
                table {
                    thead { tr {
                        th scope="col" { (t.webhook_failed_at) } th scope="col" { (t.webhook_source) }
                        th scope="col" { (t.tracking_id) } th scope="col" { (t.webhook_event) }
                        th scope="col" { (t.webhook_attempts) } th scope="col" { (t.webhook_error) }
                    } }
                    tbody {
                        @for v in &failed {
                            @let f = &v.delivery;
                            tr data-testid="failed-webhook" {
                                td { (local_time(lang, f.failed_at, NATIONAL_TIME_ZONE)) }
                                td { code { (f.source) } }
                                td { a href={ "/dashboard/cases/" (f.complaint_id) } { code { (v.tracking_id) } } }
                                td { @match EventType::parse(&f.event_type) {
                                    Some(e) => { (event_label(lang, e)) }
                                    None => { code { (f.event_type) } }
                                } }
                                td { (f.attempts) }
                                td { (f.last_error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(StatusCode::OK, shell(lang, who.area(), t.nav_webhooks, "/dashboard/webhooks", body)))
}
