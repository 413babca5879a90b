//! Where a reconnecting client is, and why it stopped.

use crate::CloseEvent;
use std::fmt;
use std::time::Duration;

#[cfg(doc)]
use crate::Backoff;

/// Where the client is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Not started yet: sends are queued.
    Idle,
    /// A socket is being opened. `attempt` counts retries since the last reset: 0 for the
    /// first connection and for one asked for by `reconnect()`.
    Connecting {
        /// Retries made since the last reset.
        attempt: u32,
    },
    /// The socket is open and the open hook is running; sends are queued behind it.
    OpenHook {
        /// Retries made since the last reset.
        attempt: u32,
    },
    /// Connected and ready: sends go straight to the socket.
    Open,
    /// Waiting out a backoff delay before the next attempt; sends are queued.
    Waiting {
        /// The retry that will be made when the delay ends.
        attempt: u32,
        /// The delay being waited out.
        delay: Duration,
    },
    /// The browser is offline: no attempt is made until it is online again; sends are
    /// queued.
    Paused {
        /// The retry that will be made when the browser is online.
        attempt: u32,
    },
    /// Closed for good by `close()`. Sends are refused; nothing reconnects.
    Closed,
    /// Stopped reconnecting: the retry limit was reached, or a close was not worth
    /// retrying. Sends are refused; the queue is kept for `close()` to hand back, or for
    /// `reconnect()`, which starts again.
    GaveUp,
}

/// Why the client stopped reconnecting.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// [`Backoff::max_retries`](Backoff#structfield.max_retries) retries in a row failed.
    RetriesExhausted {
        /// How many retries were made.
        retries: u32,
    },
    /// The connection closed in a way the reconnect policy (the default by close code, or
    /// the user's predicate) said not to retry.
    NotRetryable(CloseEvent),
}

impl fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GiveUpReason::RetriesExhausted { retries } => {
                write!(f, "gave up after {retries} failed retries")
            }
            GiveUpReason::NotRetryable(event) => {
                write!(
                    f,
                    "the connection closed ({event}) and the policy says not to retry"
                )
            }
        }
    }
}
