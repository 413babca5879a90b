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
