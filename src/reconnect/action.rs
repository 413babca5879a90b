//! What the supervisor tells the driver to do.

use super::notice::Notice;
use super::timer::Timer;
use crate::Message;
use std::time::Duration;

#[cfg(doc)]
use super::{Input, Machine};

/// Something the driver must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action<P = Message> {
    /// Create a socket for this id: resolve the URL (the URL provider is called here, once
    /// per attempt), `new WebSocket(url, protocols)`, listeners attached before returning.
    /// Never emitted while another socket is alive.
    Connect {
        /// The new socket's id. Ids only grow.
        id: u64,
        /// Retries since the last reset.
        attempt: u32,
    },
    /// Close this socket with `close(code, reason)` and stop treating it as current. Its
    /// later events may still be fed (they are ignored, except after `close()`).
    CloseSocket {
        /// The socket.
        id: u64,
        /// The code to send; `None`: a close frame without one (`close()` with no code).
        code: Option<u16>,
        /// The reason to send.
        reason: String,
    },
    /// Send `message` on socket `id` with `send()`, then hand it back with
    /// [`Machine::record_sent`] so the in-flight ledger can re-queue it if the connection
    /// dies before it leaves the browser.
    Transmit {
        /// The socket.
        id: u64,
        /// The message, moved out of the machine: nothing is copied.
        message: P,
    },
    /// Send the heartbeat ping on socket `id`, then report its size with
    /// [`Machine::record_other`].
    SendPing {
        /// The socket.
        id: u64,
    },
    /// Run the open hook for socket `id`, then feed [`Input::OpenHookDone`]. Whatever the
    /// hook writes to the socket must be reported with [`Machine::record_other`].
    RunOpenHook {
        /// The socket.
        id: u64,
    },
    /// Start `timer` to fire after `after`. Never emitted while a timer of that kind is
    /// pending.
    StartTimer {
        /// Which timer.
        timer: Timer,
        /// When it fires.
        after: Duration,
    },
    /// Cancel the pending `timer`.
    CancelTimer(Timer),
    /// Tell the user.
    Emit(Notice<P>),
}
