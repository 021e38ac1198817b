//! The channel bridges' doors (docs/integrations.md#bridges): an SMS gateway's message, and the
//! WhatsApp Business Cloud API's webhook (its subscription handshake and its signed notifications).

use super::{caller, limited, ApiError, ApiState, JsonBody};
use crate::service::BridgeOutcome;
use crate::wire::{ComplaintView, Problem, SmsMessage};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::SocketAddr;

/// Longest challenge echoed back to Meta.
const MAX_CHALLENGE: usize = 200;
/// Largest notification read.
const WHATSAPP_BODY_LIMIT: usize = 1024 * 1024;

/// A text message from an SMS gateway, filed as a complaint (docs/integrations.md#bridges).
#[utoipa::path(post, path = "/v1/bridges/sms", request_body = SmsMessage,
    responses(
        (status = 201, description = "Filed (the gateway's retry of the same message id answers the same)", body = ComplaintView),
        (status = 401, description = "No token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a registered source's own token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database cannot take it now; retry", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))
    ))]
pub(super) async fn sms(
    State(s): State<ApiState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(msg): JsonBody<SmsMessage>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    let who = caller(&s, &headers).await?;
    limited(&s, &who, addr.ip())?;
    let reply = s.service.receive_sms(msg, &who, crate::clock::now()).await?;
    Ok((StatusCode::from_u16(reply.status).unwrap_or(StatusCode::CREATED), Json(reply.view)))
}

/// Meta's subscription handshake: `hub.challenge` back when `hub.mode` is `subscribe` and
/// `hub.verify_token` is the number's.
#[utoipa::path(get, path = "/v1/bridges/whatsapp/{source}",
    params(("source" = String, Path, description = "The registered source of the WhatsApp number"),
           ("hub.mode" = Option<String>, Query, description = "`subscribe`"),
           ("hub.verify_token" = Option<String>, Query, description = "The verify token given to `aduan source create`"),
           ("hub.challenge" = Option<String>, Query, description = "Echoed back")),
    responses(
        (status = 200, description = "The challenge, as text"),
        (status = 403, description = "Not this number's verify token", body = Problem, content_type = "application/problem+json")
    ))]
pub(super) async fn whatsapp_handshake(
    State(s): State<ApiState>,
    Path(source): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let query = q.unwrap_or_default();
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    s.service.whatsapp_handshake(&source, get("hub.mode"), get("hub.verify_token")).await?;
    let challenge: String = get("hub.challenge")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(MAX_CHALLENGE)
        .collect();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], challenge).into_response())
}

/// A notification Meta posts for a WhatsApp number, signed with the app's secret.
#[utoipa::path(post, path = "/v1/bridges/whatsapp/{source}",
    params(("source" = String, Path, description = "The registered source of the WhatsApp number"),
           ("X-Hub-Signature-256" = Option<String>, Header, description = "`sha256=HEX`: the HMAC-SHA256 of the body under the app's secret")),
    request_body(content = String, content_type = "application/json", description = "The Cloud API's notification"),
    responses(
        (status = 200, description = "`filed` and `skipped`: text messages filed (or found filed), the rest skipped"),
        (status = 401, description = "The signature does not verify", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such WhatsApp number", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a WhatsApp notification", body = Problem, content_type = "application/problem+json")
    ))]
pub(super) async fn whatsapp(
    State(s): State<ApiState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BridgeOutcome>, ApiError> {
    if body.len() > WHATSAPP_BODY_LIMIT {
        return Err(Problem::new(413, "the notification is over 1 MiB").into());
    }
    let signature = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    let outcome = s.service.receive_whatsapp(&source, &body, signature, crate::clock::now()).await?;
    Ok(Json(outcome))
}
