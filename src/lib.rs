//! A WebSocket client for the browser: the browser's own `WebSocket` as a futures
//! `Stream`/`Sink`, with automatic reconnection, and teardown that leaks nothing.
//!
//! Two clients, for two needs:
//!
//! - [`WebSocket`]: one connection. [`connect`](WebSocket::connect) resolves once it is open;
//!   then it is a [`Stream`](futures_core::Stream) of [`Message`]s and a
//!   [`Sink`](futures_sink::Sink) with real backpressure, closable after
//!   [`split`](WebSocket::split) through a [`Closer`].
//! - [`Reconnecting`]: a connection that stays up through server restarts and flaky networks:
//!   backoff with jitter, a bounded queue for what is sent while down, an open hook, heartbeats,
//!   offline awareness, and the messages left unsent in the browser at an abrupt drop sent again.
//!
//! Both add their event listeners with `addEventListener` and remove them when dropped; nothing
//! is ever leaked with `Closure::forget`. Every error is an [`Error`] that names what went wrong.
//!
//! # One connection
//!
//! ```no_run
//! use futures::{SinkExt, StreamExt};
//! use resocket::{Message, WebSocket};
//!
//! # async fn run() -> Result<(), resocket::Error> {
//! let mut socket = WebSocket::connect("wss://example.com/echo").await?;
//! socket.send(Message::from("hello")).await?;
//! if let Some(reply) = socket.next().await {
//!     println!("{:?}", reply?);
//! }
//! socket.close(1000, "done")?;
//! # Ok(()) }
//! ```
//!
//! # Reading and writing in separate tasks
//!
//! ```no_run
//! use futures::{SinkExt, StreamExt};
//! use resocket::{Message, WebSocket};
//! use wasm_bindgen_futures::spawn_local;
//!
//! # async fn run() -> Result<(), resocket::Error> {
//! let socket = WebSocket::connect("/live").await?; // relative to the page
//! let closer = socket.closer();
//! let (mut writer, mut reader) = socket.split();
//!
//! spawn_local(async move {
//!     while let Some(message) = reader.next().await {
//!         match message {
//!             Ok(message) => println!("{message:?}"),
//!             Err(error) => println!("{error}"), // e.g. ConnectionLost, code 1006
//!         }
//!     }
//!     println!("ended: {:?}", reader.close_event());
//! });
//! spawn_local(async move {
//!     for n in 0..3 {
//!         // Waits while the browser's buffer is over the high-water mark; fails, never
//!         // hangs, once the socket is closed.
//!         if writer.send(Message::from(format!("tick {n}"))).await.is_err() {
//!             break;
//!         }
//!     }
//! });
//! // Later, from anywhere:
//! closer.close(1000, "bye")?;
//! # Ok(()) }
//! ```
//!
//! # Staying connected
//!
//! ```no_run
//! use futures::{SinkExt, StreamExt};
//! use resocket::{Backoff, Event, Message, ReconnectOptions, Reconnecting};
//!
//! # async fn run() -> Result<(), resocket::Error> {
//! let options = ReconnectOptions::new("wss://example.com/live")
//!     .backoff(Backoff::default().max_retries(Some(100)))
//!     .on_open(|mut writer| async move { writer.send(Message::from("auth token")).await });
//! let mut client = Reconnecting::connect_with(options)?;
//! client.send(Message::from("subscribe")).await?; // queued, sent after "auth token"
//! while let Some(event) = client.next().await {
//!     match event {
//!         Event::Message(message) => println!("{message:?}"),
//!         Event::Reconnecting { attempt, delay } => println!("retry {attempt} in {delay:?}"),
//!         Event::GaveUp { reason } => println!("{reason}"),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Layers
//!
//! The decisions (backoff, queue, the reconnect state machine) are plain Rust, tested
//! natively and simulated for a fleet of 100,000 clients (`examples/fleet.rs`, which reaches
//! the machine through the unstable `unstable-machine` feature); the browser glue only
//! carries them out.
//!
//! # Threads
//!
//! Every type that holds a browser object ([`WebSocket`], its halves, [`Reconnecting`] and
//! its handle) is `!Send` and `!Sync`, as browser objects are: use them on the thread (the
//! page or worker) that made them, with `wasm_bindgen_futures::spawn_local`. [`Error`],
//! [`Message`], [`CloseEvent`] and the options are `Send + Sync`.
#![deny(missing_docs)]
// In a page, a panic aborts the wasm module and every connection on it: no library code may
// reach one. These lints find the usual ways in; tests may use them freely.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::string_slice,
        clippy::get_unwrap,
        clippy::unwrap_in_result,
        clippy::panic_in_result_fn,
        clippy::disallowed_methods
    )
)]

// The README's Rust examples are compiled as doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod capacity;
mod close;
mod describe;
mod error;
mod handshake;
mod listener;
mod message;
mod payload;
mod socket;

pub use close::{validate_close, CloseEvent, MAX_CLOSE_REASON_BYTES, NORMAL_CLOSURE};
pub use error::Error;
#[doc(hidden)] // for leak checks in tests and the benchmark; not a promise
pub use listener::live_listeners;
pub use message::Message;
#[doc(hidden)] // inside `Error::Refused`, which only the npm binding's payload produces
pub use payload::Refusal;
pub use socket::{
    Closer, ConnectOptions, Reader, ReadyState, Receive, WebSocket, Writer, DEFAULT_HIGH_WATER_MARK,
};

// The reconnecting client: its pure core (backoff, queue, reconnect::Machine) and its driver.
mod backoff;
mod queue;
// The pure state machine is public for simulations such as examples/fleet.rs, behind the
// unstable-machine feature and outside semver.
#[cfg(feature = "unstable-machine")]
pub mod reconnect;
#[cfg(not(feature = "unstable-machine"))]
mod reconnect;

pub use backoff::{Backoff, Jitter, MAX_TIMER_DELAY};
pub use queue::{Overflow, QueueLimits};
pub use reconnect::{
    default_should_reconnect, server_requested_delay, Event, GiveUpReason,
    Handle as ReconnectingHandle, Heartbeat, ReconnectOptions, Reconnecting, Retry, State,
    CLIENT_CLOSE_CODE, RECONNECT_CLOSE_CODE, RESEND_WINDOW,
};

/// The pure parts under the state machine, for simulations. Unstable: behind the
/// `unstable-machine` feature, outside semver.
#[cfg(feature = "unstable-machine")]
pub use {
    backoff::BackoffSchedule,
    payload::Payload,
    queue::{Pushed, SendQueue},
};

/// The driver's generic core and the parts it is configured with, for resocket's own npm
/// binding (the `resocket-js` crate in `js/`), which drives it with JavaScript values as
/// payloads. Unstable: behind the `unstable-internals` feature, hidden, outside semver.
#[cfg(feature = "unstable-internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::payload::Payload;
    pub use crate::reconnect::driver::{
        Core, DriverConfig, EventCallback, OpenHook, SocketCallback,
    };
    pub use crate::reconnect::options::{LocalBoxFuture, Target, UrlProvider, UrlSource};
    pub use crate::reconnect::MachineConfig;
    pub use crate::socket::{Connection, Messages, Wire};

    /// A thrown JavaScript value as an [`Error::Browser`](crate::Error::Browser).
    pub fn browser_error(thrown: &wasm_bindgen::JsValue) -> crate::Error {
        crate::Error::from_js(thrown)
    }
}
