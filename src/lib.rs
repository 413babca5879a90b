//! A WebSocket client for the browser: the browser's own `WebSocket` as a futures
//! `Stream`/`Sink`, with automatic reconnection, and teardown that leaks nothing.
#![deny(missing_docs)]

mod close;
mod error;
mod handshake;
mod listener;
mod message;
mod socket;

pub use close::{validate_close, CloseEvent, MAX_CLOSE_REASON_BYTES, NORMAL_CLOSURE};
pub use error::Error;
pub use listener::live_listeners;
pub use message::Message;
pub use socket::{Closer, ConnectOptions, Reader, WebSocket, Writer, DEFAULT_HIGH_WATER_MARK};

// pure reconnect core
mod backoff;
mod queue;
pub mod reconnect;

pub use backoff::{Backoff, BackoffSchedule, Jitter, MAX_TIMER_DELAY};
pub use queue::{Overflow, Pushed, QueueLimits, SendQueue};
pub use reconnect::{
    default_should_reconnect, Event, GiveUpReason, Heartbeat, ReconnectOptions, Reconnecting, State,
};
