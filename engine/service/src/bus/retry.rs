//! Retry helpers shared by the relay and the consumer: a capped exponential backoff that yields to
//! shutdown, and an outage log that speaks once when a dependency goes away and once when it is back.

use std::fmt::Display;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Exponential backoff from `min` to `max`, doubling after each wait.
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Backoff {
        Backoff { min, max, current: min }
    }

    /// Sleeps the current delay (returning early on shutdown), then doubles it up to the cap.
    pub(crate) async fn wait(&mut self, shutdown: &CancellationToken) {
        sleep_or_shutdown(self.current, shutdown).await;
        self.current = (self.current * 2).min(self.max);
    }

    /// Back to the shortest delay, after a success.
    pub(crate) fn reset(&mut self) {
        self.current = self.min;
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
