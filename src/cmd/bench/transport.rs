//! How a load client sends its commands: HTTP/1.1 on one keep-alive connection (hyper's connection
//! API, lighter than a pooled client on the cores the server shares), or NATS commands with
//! `Aduan-Reply-To` on the client's own inbox.

use super::TransportKind;
use aduan_service::bus::{Bus, Subscription};
use anyhow::{anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;

/// How long a NATS command may wait for its reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// One client's way to the service.
// One value per load client (32 by default): the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(super) enum Transport {
    Http { sender: SendRequest<Full<Bytes>> },
    Nats { bus: Bus, inbox: String, replies: Subscription },
}

/// One command as a client sends it.
pub(super) struct Outgoing<'a> {
    /// `submit` or a workflow action.
    pub action: &'a str,
    /// The case (empty for `submit`).
    pub complaint: &'a str,
    /// The bearer token, if any.
    pub bearer: Option<&'a str>,
    /// The idempotency key (`Idempotency-Key`, `Nats-Msg-Id`).
    pub key: &'a str,
    /// The body as HTTP takes it (`{"action": …, …}` for an action).
    pub body: Value,
}

impl Transport {
    pub(super) async fn new(kind: TransportKind, addr: SocketAddr, bus: &Bus) -> anyhow::Result<Self> {
        Ok(match kind {
            TransportKind::Http => {
                let stream = TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
                tokio::spawn(conn);
                Transport::Http { sender }
            }
            TransportKind::Nats => {
                let inbox = bus.new_inbox();
                let replies = bus.subscribe(&inbox).await?;
                Transport::Nats { bus: bus.clone(), inbox, replies }
            }
        })
    }

    /// Sends one command and returns the view it answered; an error answer is an error.
    pub(super) async fn send(&mut self, cmd: Outgoing<'_>) -> anyhow::Result<Value> {
        match self {
            Transport::Http { sender } => http(sender, cmd).await,
            Transport::Nats { bus, inbox, replies } => nats(bus, inbox, replies, cmd).await,
        }
    }
}

async fn http(sender: &mut SendRequest<Full<Bytes>>, cmd: Outgoing<'_>) -> anyhow::Result<Value> {
    let path = match cmd.action {
        "submit" => "/v1/complaints".to_owned(),
        _ => format!("/v1/complaints/{}/actions", cmd.complaint),
    };
    let mut request = Request::post(path)
        .header("host", "bench")
        .header("content-type", "application/json")
        .header("idempotency-key", cmd.key);
    if let Some(t) = cmd.bearer {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let request = request.body(Full::new(Bytes::from(serde_json::to_vec(&cmd.body)?)))?;
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let v: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
    if !status.is_success() {
        bail!("{}: HTTP {status}: {v}", cmd.action);
    }
    Ok(v)
}

async fn nats(bus: &Bus, inbox: &str, replies: &mut Subscription, cmd: Outgoing<'_>) -> anyhow::Result<Value> {
    let mut body = cmd.body;
    if let Some(o) = body.as_object_mut() {
        o.remove("action");
        if cmd.action != "submit" {
            o.insert("complaint".into(), cmd.complaint.into());
        }
    }
    bus.send_command(cmd.action, serde_json::to_vec(&body)?, Some(cmd.key), Some(inbox), cmd.bearer).await?;
    let (_, payload) = tokio::time::timeout(REPLY_TIMEOUT, replies.next())
        .await
        .map_err(|_| anyhow!("{}: no reply in {} s", cmd.action, REPLY_TIMEOUT.as_secs()))?
        .ok_or_else(|| anyhow!("reply subscription closed"))?;
    let v: Value = serde_json::from_slice(&payload)?;
    if v["status"].is_number() {
        bail!("{}: {v}", cmd.action);
    }
    Ok(v)
}
