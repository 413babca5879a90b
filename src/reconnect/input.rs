//! What the driver tells the supervisor: what happened.

use super::policy::Retry;
use super::timer::Timer;
use crate::CloseEvent;

#[cfg(doc)]
use super::{Action, Machine};

/// Something that happened, for the machine to react to. Inputs about a socket carry its id
/// and are ignored when the id is not the current socket's, so a late event from a replaced
/// socket cannot act twice.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// Start connecting. Only the first `Start` counts.
    Start,
    /// The socket's `open` event fired.
    Opened {
        /// The socket.
        id: u64,
        /// Its `protocol` property.
        protocol: String,
    },
    /// The open hook started by [`Action::RunOpenHook`] finished.
    OpenHookDone {
        /// The socket it ran for.
        id: u64,
        /// Whether it succeeded. A failure abandons the connection and counts as a failed
        /// attempt.
        ok: bool,
    },
    /// The socket's `close` event fired, whether or not it ever opened. Feed it once per
    /// socket, from `close` only (never from `error`, which browsers fire just before
    /// `close` for the same failure).
    SocketClosed {
        /// The socket.
        id: u64,
        /// The event, as the browser reported it.
        event: CloseEvent,
        /// Whether to retry, and after how long at least, as decided by the user's predicate,
        /// or else by [`default_should_reconnect`](super::default_should_reconnect).
        reconnect: Retry,
        /// The socket's `bufferedAmount` read in the `close` handler: the bytes it never
        /// handed on. The messages they belong to, and those covering the
        /// [`InFlight::window`](super::InFlight::window) of bytes before them (which the
        /// browser may have dropped), are queued again, ahead of the rest.
        unsent_bytes: u64,
    },
    /// A timer started by [`Action::StartTimer`] fired.
    TimerFired {
        /// Which one.
        timer: Timer,
        /// The current socket's `bufferedAmount` (0 if there is none). Used when a
        /// heartbeat timeout abandons the connection: the messages those bytes belong to
        /// are queued again.
        buffered_amount: u64,
    },
    /// The socket received a message (of any kind, pong or not: anything proves the
    /// connection is alive). Cheap: it produces no action unless a pong is awaited.
    MessageReceived {
        /// The socket.
        id: u64,
    },
    /// The socket's reader fell behind and its messages now wait in the network
    /// (`behind: true`), or caught up again (`false`): only with receive backpressure
    /// ([`Receive::Backpressure`](crate::Receive::Backpressure)). While it is behind, a
    /// heartbeat's answer may be waiting unread, so a missing one is not taken for a dead
    /// connection.
    ReaderBehind {
        /// The socket.
        id: u64,
        /// Whether the reader is behind.
        behind: bool,
    },
    /// The user asked to reconnect now: the current socket, if any, is closed and a new
    /// attempt starts at once (or when back online), with the backoff reset. Before
    /// [`Input::Start`] or after giving up, this starts the client; after `close()` it does
    /// nothing.
    Reconnect,
    /// As [`Input::Reconnect`], closing the live connection, if any, with this code and
    /// reason instead of the default ones ([`RECONNECT_CLOSE_CODE`](super::RECONNECT_CLOSE_CODE),
    /// "reconnect requested"). The code must be one `close()` accepts (1000 or 3000-4999).
    ReconnectWith {
        /// The close code sent to the server.
        code: u16,
        /// The close reason sent to the server.
        reason: String,
    },
    /// The browser went online (`online` event).
    Online,
    /// The browser went offline (`offline` event, or `navigator.onLine` false at start). A
    /// pending backoff delay is dropped and no attempt starts until [`Input::Online`]; a
    /// socket already open or opening is left alone, since `navigator.onLine` is only a hint
    /// (a local server can still be reached).
    Offline,
    /// The page became visible (`visibilitychange` with `document.visibilityState ==
    /// "visible"`): a pending backoff delay is cut short.
    Visible,
}
