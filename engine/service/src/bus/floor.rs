//! The JetStream floor of `aduan bench` (BENCHMARKS.md): raw publishes into the events stream, each
//! with its own `Nats-Msg-Id` as the relay sends them, awaiting the stream's acknowledgements, with no
//! outbox or database in between. One at a time (as a relay that awaits each ack), or with a window of
//! acknowledgements outstanding.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{event_subject, Bus, BusError, PendingPublish};

/// What the floor measured.
#[derive(Debug, Clone, Default)]
pub struct PublishRun {
    /// Publishes acknowledged by the stream.
    pub messages: u64,
    /// From the first publish to the last acknowledgement.
    pub seconds: f64,
}

impl Bus {
    /// Publishes `payload` to the events stream under this bus's prefix (type `floor`, no holder) for
    /// `duration`, with at most `in_flight` acknowledgements outstanding (1: each awaited before the
    /// next publish), then awaits the rest.
    pub async fn floor_publish(
        &self,
        payload: &[u8],
        in_flight: usize,
        duration: Duration,
    ) -> Result<PublishRun, BusError> {
        let subject = event_subject(self.prefix(), None, "floor");
        let window = in_flight.max(1);
        let run = self.new_inbox().replace(['.', '_'], "");
        let mut pending: VecDeque<PendingPublish> = VecDeque::with_capacity(window);
        let started = Instant::now();
        let mut sent = 0u64;
        while started.elapsed() < duration {
            if pending.len() >= window {
                if let Some(oldest) = pending.pop_front() {
                    oldest.acked().await?;
                }
            }
            pending.push_back(self.send_event(&subject, &format!("{run}-{sent}"), payload, None).await?);
            sent += 1;
        }
        for oldest in pending {
            oldest.acked().await?;
        }
        Ok(PublishRun { messages: sent, seconds: started.elapsed().as_secs_f64() })
    }
}
