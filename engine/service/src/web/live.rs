//! The live queue (docs/web.md#dashboard): `GET /dashboard/events` streams server-sent events fed by
//! NATS, one `case` event (its data the complaint id, nothing else) for each event of the viewer's
//! subtree, and `queue.js` on the queue page reloads the queue when one arrives. A stream ends after
//! [`STREAM_LIFE`], and the browser's reconnection signs in again with the session's token, so a
//! revoked token stops hearing within that time.

use super::signin::signed_in;
use crate::api::ApiState;
use crate::bus::subtree_subjects;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long one stream lasts before the browser reconnects.
pub const STREAM_LIFE: Duration = Duration::from_secs(300);
/// Complaint ids buffered for a slow browser (more are dropped: the next reload shows them anyway).
const BUFFER: usize = 64;

/// The script of the queue page, served at `/assets/queue.js`.
const QUEUE_JS: &str = include_str!("queue.js");

/// `GET /assets/queue.js`.
pub async fn script() -> Response {
    super::layout::asset(QUEUE_JS, "text/javascript; charset=utf-8")
}

/// `GET /dashboard/events`: the viewer's subtree's events as they are published; 503 while NATS is
/// away (the browser retries).
pub async fn events(State(s): State<ApiState>, headers: HeaderMap) -> Result<Response, Response> {
    let who = signed_in(&s, &headers).await?;
    let bus = s.bus.read().unwrap_or_else(|e| e.into_inner()).clone();
    let Some(bus) = bus else { return Ok(StatusCode::SERVICE_UNAVAILABLE.into_response()) };
    let root = who.actor.agency.clone().unwrap_or_else(|| aduan_core::directory::ROOT.to_owned());
    let (tx, rx) = mpsc::channel(BUFFER);
    for subject in subtree_subjects(bus.prefix(), &root) {
        let mut sub = match bus.subscribe(&subject).await {
            Ok(sub) => sub,
            Err(_) => return Ok(StatusCode::SERVICE_UNAVAILABLE.into_response()),
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::sleep(STREAM_LIFE);
            tokio::pin!(deadline);
            loop {
                let msg = tokio::select! {
                    m = sub.next() => m,
                    () = &mut deadline => None,
                    () = tx.closed() => None,
                };
                let Some((_, payload)) = msg else { break };
                if let Some(id) = complaint_id(&payload) {
                    // A full buffer drops the id: the reload it would cause comes from the others.
                    let _ = tx.try_send(id);
                }
            }
        });
    }
    drop(tx);
    let stream = Ids(rx);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))).into_response())
}

/// The complaint an event is about, from its payload (only its id is read).
fn complaint_id(payload: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        complaint_id: Option<String>,
    }
    serde_json::from_slice::<Head>(payload).ok()?.complaint_id
}

/// The ids as server-sent events; the stream ends when every subscription has.
struct Ids(mpsc::Receiver<String>);

impl futures_core::Stream for Ids {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|id| id.map(|id| Ok(Event::default().event("case").data(id))))
    }
}
