//! Retry helpers shared by the relay and the consumer: a capped exponential backoff that yields to
//! shutdown, and an outage log that speaks once when a dependency goes away and once when it is back.

use std::fmt::Display;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio_util::sync::CancellationToken;

/// Exponential backoff from `min` to `max`, doubling after each wait, never giving up.
///
/// The delays are backon's (`ExponentialBuilder`, no jitter); what is ours is the loop's shape: the
/// relay and the consumer do not retry one call, they run forever and back off between failures of
/// whatever they were doing, so the backoff is a value they `wait` on and `reset` after a success.
pub(crate) struct Backoff {
    builder: ExponentialBuilder,
    delays: ExponentialBackoff,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Backoff {
        let builder =
            ExponentialBuilder::new().with_min_delay(min).with_max_delay(max).with_factor(2.0).without_max_times();
        Backoff { builder, delays: builder.build() }
    }

    /// Sleeps the current delay (returning early on shutdown); the next one is twice as long, up to the cap.
    pub(crate) async fn wait(&mut self, shutdown: &CancellationToken) {
        let delay = self.delays.next().unwrap_or(Duration::ZERO);
        sleep_or_shutdown(delay, shutdown).await;
    }

    /// Back to the shortest delay, after a success.
    pub(crate) fn reset(&mut self) {
        self.delays = self.builder.build();
    }
}

/// Sleeps `duration`, or less if `shutdown` fires.
pub(crate) async fn sleep_or_shutdown(duration: Duration, shutdown: &CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = shutdown.cancelled() => {}
    }
}

/// Logs a dependency's outage once when it starts and once when it ends, not on every retry.
pub(crate) struct Outage {
    task: &'static str,
    what: &'static str,
    down: bool,
}

impl Outage {
    /// `task` is who notices (`outbox relay`), `what` is what failed (`NATS`).
    pub(crate) fn new(task: &'static str, what: &'static str) -> Outage {
        Outage { task, what, down: false }
    }

    /// A failure: logged (warn) only if `what` was up until now.
    pub(crate) fn fail(&mut self, error: impl Display) {
        if !self.down {
            self.down = true;
            tracing::warn!(error = %error, "{}: {} unavailable; retrying until it is back", self.task, self.what);
        }
    }

    /// A success: logged (info) only if `what` was down.
    pub(crate) fn ok(&mut self) {
        if self.down {
            self.down = false;
            tracing::info!("{}: {} is back", self.task, self.what);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let ms: Vec<u128> = (0..7).map(|_| b.delays.next().unwrap().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 2000, 2000]);
        b.reset();
        assert_eq!(b.delays.next(), Some(Duration::from_millis(100)));
    }
}
