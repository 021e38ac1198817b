//! Publishing events to JetStream: the relay's primitives (invariant 3), one at a time or pipelined.

use async_nats::connection::State;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;

use super::{publish_error, Bus, BusError};

/// An event sent to JetStream whose acknowledgement has not been awaited yet.
///
/// Several can be in flight at once: the relay keeps a window of them and awaits their
/// acknowledgements in the order it sent them.
pub struct PendingPublish {
    subject: String,
    ack: PublishAckFuture,
}

impl PendingPublish {
    /// Waits for the stream's acknowledgement (at most 5 s); a duplicate within the window is
    /// acknowledged too, and stored once.
    pub async fn acked(self) -> Result<(), BusError> {
        self.ack.await.map(drop).map_err(|e| publish_error(&self.subject, e))
    }
}

impl Bus {
    /// Sends one event with `Nats-Msg-Id: msg_id`, without waiting for its acknowledgement.
    ///
    /// With `after` (the event id the relay sent last to the same stream), the stream stores the event
    /// only if that event is its last message (`Nats-Expected-Last-Msg-Id`): when an earlier publish of
    /// a window failed, the ones after it fail too instead of overtaking it. Only the outbox relay calls
    /// this (invariant 3). [`BusError::Unavailable`] when disconnected.
    pub async fn send_event(
        &self,
        subject: &str,
        msg_id: &str,
        payload: &[u8],
        after: Option<&str>,
    ) -> Result<PendingPublish, BusError> {
        if self.client.connection_state() != State::Connected {
            return Err(BusError::Unavailable("not connected".to_string()));
        }
        let mut publish = PublishMessage::build().payload(payload.to_vec().into()).message_id(msg_id);
        if let Some(last) = after {
            publish = publish.expected_last_message_id(last);
        }
        let ack = self.js.send_publish(subject.to_string(), publish).await.map_err(|e| publish_error(subject, e))?;
        Ok(PendingPublish { subject: subject.to_string(), ack })
    }

    /// Publishes one event with `Nats-Msg-Id: msg_id` and waits for its acknowledgement
    /// ([`Bus::send_event`] then [`PendingPublish::acked`]).
    pub async fn publish_event(&self, subject: &str, msg_id: &str, payload: &[u8]) -> Result<(), BusError> {
        self.send_event(subject, msg_id, payload, None).await?.acked().await
    }

    /// The stream an event subject is stored in: `{PREFIX}_QUEUE` for a region's copy
    /// ([`super::queue_subject`]), `{PREFIX}_EVT` for the rest.
    pub fn stream_of(&self, subject: &str) -> String {
        let queue = format!("{}.queue.", self.prefix);
        if subject.starts_with(&queue) {
            self.queue_stream()
        } else {
            self.events_stream()
        }
    }
}
