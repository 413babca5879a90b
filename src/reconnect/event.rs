//! What a reconnecting client tells its user.

use super::state::GiveUpReason;
use crate::{CloseEvent, Error, Message};
use std::time::Duration;

#[cfg(doc)]
use super::{State, CLIENT_CLOSE_CODE, RECONNECT_CLOSE_CODE};

/// What the client tells its user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<P = Message> {
    /// A connection is open and ready: the open hook, if any, has finished, and everything
    /// queued while down has been handed to the socket.
    Open {
        /// Retries it took since the last reset (0: at the first try).
        attempt: u32,
        /// The subprotocol the server chose; empty if none.
        protocol: String,
    },
    /// A connection or connection attempt ended. For closes the browser reported, this is
    /// its event. For sockets the client abandoned by itself (timeouts, a failed open hook,
    /// `reconnect()`), it is made up at once, without waiting for the browser: the code
    /// and reason the client sent ([`CLIENT_CLOSE_CODE`] with "connect timeout", "open hook
    /// timeout", "open hook failed" or "heartbeat timeout"; [`RECONNECT_CLOSE_CODE`] with
    /// "reconnect requested"), and `was_clean: false`.
    Closed(CloseEvent),
    /// The next attempt is scheduled after `delay`. An immediate attempt (after `online`,
    /// `visible` or `reconnect()`) is not announced.
    Reconnecting {
        /// The retry that will be made, counted since the last reset.
        attempt: u32,
        /// How long until it is made.
        delay: Duration,
    },
    /// No more attempts will be made; see [`State::GaveUp`].
    GaveUp {
        /// Why.
        reason: GiveUpReason,
    },
    /// The queue was full under [`Overflow::DropOldest`](crate::Overflow::DropOldest): these
    /// messages, oldest first, were dropped to make room and will never be sent.
    Dropped(Vec<P>),
    /// After `close()`, the socket it closed reported these messages, oldest first, still
    /// inside the browser: they were never sent whole. They complete what `close()` handed
    /// back.
    Unsent(Vec<P>),
    /// A message from the server that is not a heartbeat answer.
    Message(P),
    /// Something arrived that could not be read as a message, or the browser refused to
    /// send one (the message is not sent, and not retried); the connection goes on.
    Error(Error),
    /// The event stream was not read for so long that `missed` messages from the server,
    /// which stood here, were let go to keep memory bounded (see
    /// [`ReconnectOptions::max_unread_messages`](crate::ReconnectOptions::max_unread_messages)).
    Lagged {
        /// How many messages were let go here.
        missed: u64,
    },
}
