//! The reconnecting client's logic, in plain Rust: a supervisor state machine ([`Machine`])
//! that owns the backoff schedule, the send queue and the in-flight ledger, and a driver
//! that owns everything JavaScript (sockets, timers, listeners) and does what it is told.
//!
//! Public only with the `unstable-machine` feature, for simulations such as
//! `examples/fleet.rs`: not covered by semver.
//!
//! The machine never sees a clock or a socket. Inputs tell it what happened; it appends
//! [`Action`]s to a buffer the driver supplies and executes. That makes every decision
//! testable natively, and lets `examples/fleet.rs` run 100,000 clients in simulated time.
//!
//! # Driving the machine
//!
//! 1. Create it with [`Machine::new`] and a random seed (`Math.random()`). If
//!    `navigator.onLine` is false, feed [`Input::Offline`]; then feed [`Input::Start`].
//! 2. After every call to [`Machine::handle`], [`Machine::send`] or [`Machine::close`],
//!    execute the actions appended to the buffer, in order, then clear it. Hand
//!    [`Action::Emit`] events to user code only once the whole batch has run: a user callback
//!    that calls back into the machine then finds every earlier action done.
//! 3. Actions:
//!    - [`Action::Connect`] `{ id, attempt }`: resolve the URL (the URL provider is called
//!      here, once per attempt; if it fails, feed `SocketClosed` for `id` with code 1006),
//!      create the `WebSocket`, set `binaryType`, attach listeners. The machine counts the
//!      socket as alive from this action on, and `connect_timeout` covers the provider too.
//!    - [`Action::CloseSocket`] `{ id, code, reason }`: `close(code, reason)`. The machine
//!      no longer counts it; its later events may be fed or dropped (they are ignored,
//!      except after [`Machine::close`], where its `close` event completes the picture).
//!    - [`Action::Transmit`] `{ id, message }`: read `bufferedAmount` and pass it to
//!      [`Machine::observe_buffered`] (backpressure reads it anyway), `send(&message)`, then
//!      give the message back with [`Machine::record_sent`]. The message moves through the
//!      action and back into the ledger: it is never cloned.
//!    - [`Action::SendPing`] `{ id }`: send the ping, then [`Machine::record_other`] with its
//!      size in bytes.
//!    - [`Action::RunOpenHook`] `{ id }`: run the hook; report what it writes with
//!      `record_other`; when it ends, feed [`Input::OpenHookDone`].
//!    - [`Action::StartTimer`] / [`Action::CancelTimer`]: one browser timer per [`Timer`]
//!      kind; when one fires, feed [`Input::TimerFired`] with the current socket's
//!      `bufferedAmount`.
//!    - [`Action::Emit`]: hand the [`Event`] to the user.
//! 4. Socket events, each tagged with the socket's id: `open` → [`Input::Opened`];
//!    `message` → [`Input::MessageReceived`] (and deliver it unless it is a pong);
//!    `close` → [`Input::SocketClosed`] with the user predicate's verdict (else
//!    [`default_should_reconnect`]) and `bufferedAmount` read in the handler. `error` is
//!    not fed: `close` always follows it, and reacting to both is how other libraries open
//!    two connections at once.
//! 5. Page events: `online` → [`Input::Online`], `offline` → [`Input::Offline`],
//!    `visibilitychange` to visible → [`Input::Visible`].
//! 6. User calls: `send` → [`Machine::send`], whose error hands the message back;
//!    `reconnect()` → [`Input::Reconnect`]; `close(code, reason)` → [`Machine::close`],
//!    whose result is every queued message.
//!
//! # What happens to a message given to `send`
//!
//! Exactly one of the following; a message queued again after a close (last case) may also
//! have arrived already, so the server can see it twice, but none is lost unreported:
//! - refused at once, and handed back in the error ([`Error::QueueFull`],
//!   [`Error::MessageTooLarge`], [`Error::ClosedForGood`]);
//! - dropped later to make room under `DropOldest`, and reported in [`Event::Dropped`];
//! - handed back by `close()`, or reported in [`Event::Unsent`] after it;
//! - still queued;
//! - written to a socket, in send order. If that socket then ends without the client
//!   closing it (the server closes it, cleanly or not, or the connection breaks), the
//!   messages its final `bufferedAmount` covers, and those covering the [`RESEND_WINDOW`]
//!   (1 MiB) of bytes written before them, are queued again ahead of newer ones, and this
//!   list starts over for them. A heartbeat timeout does the same with the reading the
//!   driver passes with the timer, since the connection is judged dead.
//!
//! Why the window: "not in `bufferedAmount`" does not mean "left the browser". Chromium
//! takes a message off `bufferedAmount` when it hands it to its network process, which drops
//! what it still holds when it answers a server's close frame or the connection breaks.
//! `node bench/close-loss.mjs` measured, for 1 KiB messages streamed at full speed while a
//! server reading as fast as data came closed with 1001 or 1012 at a random moment: Chromium
//! lost up to 456 KiB beyond `bufferedAmount` (median about 110 KiB, whatever the high-water
//! mark), and up to 643 KiB on a TCP cut; Firefox sends everything before answering a close
//! and lost nothing. The window covers these with a margin of 1.6 or more. So after such a
//! close the server can see some messages twice: in Firefox, the newest 1 MiB it had already
//! received; in Chromium, those of them that got through. A message is re-sent whole; each
//! connection delivers in send order, and the first arrival of every message is in send
//! order.
//!
//! Not covered, because no fixed window covers it:
//! - a server that reads too slowly to reach the client's close frame in time: Chromium then
//!   loses what the server left unread (measured up to 1.12 MiB beyond `bufferedAmount`
//!   behind a reader of 4 MiB/s, 2.03 MiB behind one of 512 KiB/s; Firefox lost nothing);
//! - bytes the operating system holds when the connection breaks, beyond the window (a TCP
//!   cut in Firefox lost up to 4.2 MiB, all of it out of the browser, over loopback).
//!
//! Messages on a connection the client closes itself are sent: on one replaced by
//! `reconnect()` or closed by `close()`, the browser sends what it still buffers, and what
//! it took off `bufferedAmount`, before its close frame (measured: nothing lost), unless the
//! connection is already broken; after `close()`, feeding the socket's `close` event reports
//! exactly the ones still in `bufferedAmount` in [`Event::Unsent`]. Messages the old
//! connection still buffered when `reconnect()` replaced it travel on a different TCP
//! connection from the new one's, so the server may see them after newer ones.
//!
//! Memory: the ledger keeps, besides what `bufferedAmount` covers, the newest
//! [`RESEND_WINDOW`] bytes of messages written to the current connection (and an entry of
//! 24 bytes on wasm32 for each), also while idle: 1.94 MiB of Rust heap once 100,000
//! messages of 32 bytes have reached the server (`tests/fates.rs`), 0 before the window.
//! After such a close the queue may hold `bufferedAmount` plus the window beyond its limits
//! until it is flushed.
//!
//! # Invariants (checked by the property tests)
//!
//! - At most one socket alive: `Connect` is only emitted when the previous socket was
//!   closed by a `CloseSocket` action or reported closed.
//! - No `Connect` after `close()`, and none while offline.
//! - At most `max_retries` retries in a row.
//! - Every message sent is accounted for as above, when the browser holds no more than the
//!   window beyond `bufferedAmount`; each connection delivers in send order, and the first
//!   arrival of every message is in send order.

mod action;
mod config;
mod event;
mod in_flight;
mod input;
mod machine;
mod notice;
mod policy;
mod state;
mod timer;

pub use action::Action;
pub use config::{Heartbeat, MachineConfig};
pub use event::Event;
#[cfg(feature = "unstable-machine")]
pub use in_flight::InFlight;
pub use in_flight::RESEND_WINDOW;
pub use input::Input;
pub use machine::{Machine, CLIENT_CLOSE_CODE, RECONNECT_CLOSE_CODE};
#[cfg(feature = "unstable-machine")]
pub use notice::Notice;
pub use policy::{default_should_reconnect, server_requested_delay, Retry};
pub use state::{GiveUpReason, State};
pub use timer::Timer;

#[cfg(doc)]
use crate::Error;

#[cfg(test)]
mod tests;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties;

mod client;
pub(crate) mod driver;
pub(crate) mod options;

pub use client::{Handle, Reconnecting};
pub use options::ReconnectOptions;
