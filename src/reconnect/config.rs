//! What the supervisor is configured with: backoff, queue, timeouts and the heartbeat.
// Part of the pure API that simulations reach through the `unstable-machine` feature; without
// it, the client uses only some of it.
#![cfg_attr(not(feature = "unstable-machine"), allow(dead_code))]

use crate::backoff::{check_positive_timer, Backoff};
use crate::queue::QueueLimits;
use crate::Error;
use std::time::Duration;

/// Application-level heartbeat settings. Browsers cannot send WebSocket ping frames, so the
/// heartbeat is an ordinary message the server must answer; any message received counts as
/// an answer.
///
/// A ping waits behind whatever was sent before it. When `timeout` runs out and the socket
/// has sent some of that since the wait started (its `bufferedAmount`, less what was sent
/// after the ping, went down), the connection is busy, not dead: the wait starts again, once
/// more after the last of it has left the browser. So a slow upload is not taken for a dead
/// connection. What the operating system's TCP buffers hold the browser does not report:
/// `timeout` should cover the time to drain those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Heartbeat {
    /// The time from opening, or from the last answer to a ping, to the next ping. Messages
    /// in between do not put the ping off: a busy connection is pinged too.
    pub interval: Duration,
    /// How long to wait for any message after a ping before the connection is declared
    /// dead and replaced. A dead connection is therefore noticed at most
    /// `interval + timeout` after the last sign of life.
    pub timeout: Duration,
}

impl Heartbeat {
    /// A heartbeat that pings every `interval` (counted from the open or the last answer)
    /// and gives up `timeout` after a ping that gets no answer.
    pub fn new(interval: Duration, timeout: Duration) -> Self {
        Heartbeat { interval, timeout }
    }
}

/// Everything the supervisor needs to know, none of it about JavaScript.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MachineConfig {
    /// The reconnection schedule. Default: [`Backoff::default`].
    pub backoff: Backoff,
    /// Bounds of the queue that holds messages sent while down. Default:
    /// [`QueueLimits::default`].
    pub queue: QueueLimits,
    /// How long an attempt may take from creating the socket to being ready for messages
    /// (the opening handshake and, if there is one, the open hook) before it is abandoned
    /// and counted as failed. Browsers themselves may wait minutes for a stalled handshake.
    /// Default: 10 s.
    pub connect_timeout: Option<Duration>,
    /// Pings that detect a connection that died without a close. Default: `None`, because
    /// it needs a server that answers.
    pub heartbeat: Option<Heartbeat>,
    /// Whether an open hook runs after each open, before queued messages are sent (so an
    /// authentication message goes first). Default: `false`.
    pub has_open_hook: bool,
    /// How many bytes of sent messages, beyond what `bufferedAmount` still counts, are sent
    /// again after a close the client did not start; see
    /// [`RESEND_WINDOW`](super::RESEND_WINDOW), the default. 0 re-sends only what
    /// `bufferedAmount` counts: no duplicates, but Chromium may lose up to a few hundred KiB.
    pub resend_window: u64,
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig {
            backoff: Backoff::default(),
            queue: QueueLimits::default(),
            connect_timeout: Some(Duration::from_secs(10)),
            heartbeat: None,
            has_open_hook: false,
            resend_window: super::RESEND_WINDOW,
        }
    }
}

impl MachineConfig {
    /// Sets [`backoff`](#structfield.backoff).
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets [`queue`](#structfield.queue).
    #[must_use]
    pub fn queue(mut self, limits: QueueLimits) -> Self {
        self.queue = limits;
        self
    }

    /// Sets [`connect_timeout`](#structfield.connect_timeout).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`heartbeat`](#structfield.heartbeat).
    #[must_use]
    pub fn heartbeat(mut self, heartbeat: Option<Heartbeat>) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// Sets [`has_open_hook`](#structfield.has_open_hook).
    #[must_use]
    pub fn has_open_hook(mut self, has_open_hook: bool) -> Self {
        self.has_open_hook = has_open_hook;
        self
    }

    /// Checks every setting, the backoff's included.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] naming the first wrong setting: see [`Backoff::validate`];
    /// besides, a zero timeout or heartbeat interval, or one longer than a browser timer
    /// can wait ([`MAX_TIMER_DELAY`](crate::MAX_TIMER_DELAY)).
    pub fn validate(&self) -> Result<(), Error> {
        self.backoff.validate()?;
        if let Some(timeout) = self.connect_timeout {
            check_positive_timer("connect_timeout", timeout)?;
        }
        if let Some(heartbeat) = self.heartbeat {
            check_positive_timer("heartbeat.interval", heartbeat.interval)?;
            check_positive_timer("heartbeat.timeout", heartbeat.timeout)?;
        }
        Ok(())
    }
}
