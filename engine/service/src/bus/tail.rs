//! What the event streams already hold: the `Nats-Msg-Id`s at the end of `{PREFIX}_EVT` and
//! `{PREFIX}_QUEUE`, read by the outbox relay when it takes the lease or comes back from a failure, so
//! an event it published but could not mark sent is marked, not published again: JetStream's duplicate
//! window (2 minutes) is not relied on (docs/nats.md#exactly-once).

use std::collections::HashSet;

use async_nats::jetstream::stream::RawMessageErrorKind;

use super::{Bus, BusError};

impl Bus {
    /// The event ids among the last `depth` messages of each event stream.
    pub async fn recent_event_ids(&self, depth: u64) -> Result<HashSet<String>, BusError> {
        let mut ids = HashSet::new();
        for name in [self.events_stream(), self.queue_stream()] {
            let unavailable = |e: &dyn std::fmt::Display| BusError::Unavailable(format!("read the end of {name}: {e}"));
            let mut stream = self.js.get_stream(&name).await.map_err(|e| unavailable(&e))?;
            let state = stream.info().await.map_err(|e| unavailable(&e))?.state.clone();
            if state.messages == 0 {
                continue;
            }
            let from = state.first_sequence.max(state.last_sequence.saturating_sub(depth.saturating_sub(1)));
            for seq in from..=state.last_sequence {
                match stream.get_raw_message(seq).await {
                    Ok(m) => {
                        if let Some(id) = m.headers.get("Nats-Msg-Id") {
                            ids.insert(id.to_string());
                        }
                    }
                    // A message removed by a limit or a purge: nothing to learn from it.
                    Err(e) if e.kind() == RawMessageErrorKind::NoMessageFound => {}
                    Err(e) => return Err(unavailable(&e)),
                }
            }
        }
        Ok(ids)
    }
}
