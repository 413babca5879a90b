//! What the driver needs from where it runs, as two small traits: [`Platform`] makes sockets
//! and timers, watches the page and spawns the driver's task; [`Transport`] is one socket as
//! the driver uses it. [`Browser`] is the real one (browser sockets, `setTimeout`, the page's
//! events). The driver's native tests (`driver/tests.rs`) use a scripted one, so the driver's
//! races (user code calling back in, attempts that end while a provider or hook runs, timers
//! and sockets that fire in the same turn) are tested without a browser.

use super::page::{browser_listeners, navigator_on_line, random_seed};
use crate::reconnect::Input;
use crate::socket::{Connection, Messages, ReadyState, Wire};
use crate::{CloseEvent, ConnectOptions, Error};
use gloo_timers::future::TimeoutFuture;
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// One connection as the driver uses it. [`Connection`] is the browser's.
pub trait Transport<P> {
    /// Ready once the opening handshake has finished, or failed.
    fn poll_opened(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>>;
    /// The next message; `Err(ConnectionLost)` or `None` once the connection has ended.
    fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Result<P, Error>>>;
    /// Ready while the send buffer is under the high-water mark.
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>>;
    /// Hands `message` to the connection; [`Error::Closed`] once it is closing or closed.
    fn start_send(&self, message: &P) -> Result<(), Error>;
    /// Starts the closing handshake with `code` and `reason`.
    fn close(&self, code: u16, reason: &str) -> Result<(), Error>;
    /// Starts the closing handshake with no code.
    fn close_without_code(&self) -> Result<(), Error>;
    /// Bytes handed over and not yet sent (`bufferedAmount`).
    fn buffered_amount(&self) -> u32;
    /// The subprotocol the server chose.
    fn protocol(&self) -> String;
    /// Bytes handed over so far.
    fn bytes_sent(&self) -> u64;
    /// Where the connection is.
    fn ready_state(&self) -> ReadyState;
    /// Wakes `cx` when the connection closes.
    fn register_close_waker(&self, cx: &mut Context<'_>);
    /// How it closed, once it has.
    fn close_event(&self) -> Option<CloseEvent>;
    /// Whether it reads with backpressure (messages wait in the network until read).
    fn has_backpressure(&self) -> bool;
}

/// Where a driver runs: what makes its sockets and timers, tells it about the page, and runs
/// its task.
pub trait Platform: 'static {
    /// A connection carrying payloads `P`.
    type Socket<P: Wire + Clone>: Transport<P> + 'static;
    /// A one-shot timer.
    type Timer: Future<Output = ()> + Unpin + 'static;
    /// What [`watch_page`](Self::watch_page) returns; dropping it stops the watching.
    type PageWatch: 'static;

    /// Opens a connection to `url` (already resolved by the caller's checks).
    fn open<P: Wire + Clone>(
        &self,
        url: &str,
        options: &ConnectOptions,
        messages: Messages,
        constructor: Option<&js_sys::Function>,
    ) -> Result<Self::Socket<P>, Error>;
    /// A timer that fires after `millis` milliseconds.
    fn timer(&self, millis: u32) -> Self::Timer;
    /// Runs the driver's task until it ends.
    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()>>>);
    /// Starts passing the page's online, offline and visible events to `input`.
    fn watch_page(&self, input: Rc<dyn Fn(Input)>) -> Result<Self::PageWatch, Error>;
    /// Whether the platform believes it is online now.
    fn on_line(&self) -> bool;
    /// A seed for the backoff jitter that differs between clients.
    fn random_seed(&self) -> u64;
}

/// The browser (or a worker, or Node with a global `WebSocket`): its sockets, `setTimeout`,
/// the page's events, `spawn_local`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Browser;

impl Platform for Browser {
    type Socket<P: Wire + Clone> = Connection<P>;
    type Timer = TimeoutFuture;
    type PageWatch = Vec<Box<dyn Any>>;

    fn open<P: Wire + Clone>(
        &self,
        url: &str,
        options: &ConnectOptions,
        messages: Messages,
        constructor: Option<&js_sys::Function>,
    ) -> Result<Connection<P>, Error> {
        Connection::open_with(url, options, messages, constructor)
    }

    fn timer(&self, millis: u32) -> TimeoutFuture {
        TimeoutFuture::new(millis)
    }

    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()>>>) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn watch_page(&self, input: Rc<dyn Fn(Input)>) -> Result<Self::PageWatch, Error> {
        browser_listeners(input).map_err(|thrown| Error::from_js(&thrown))
    }

    fn on_line(&self) -> bool {
        navigator_on_line()
    }

    fn random_seed(&self) -> u64 {
        random_seed()
    }
}

impl<P: Wire> Transport<P> for Connection<P> {
    fn poll_opened(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Connection::poll_opened(self, cx)
    }
    fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Result<P, Error>>> {
        Connection::poll_next(self, cx)
    }
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Connection::poll_ready(self, cx)
    }
    fn start_send(&self, message: &P) -> Result<(), Error> {
        Connection::start_send(self, message)
    }
    fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        Connection::close(self, code, reason)
    }
    fn close_without_code(&self) -> Result<(), Error> {
        Connection::close_without_code(self)
    }
    fn buffered_amount(&self) -> u32 {
        self.socket().buffered_amount()
    }
    fn protocol(&self) -> String {
        self.socket().protocol()
    }
    fn bytes_sent(&self) -> u64 {
        Connection::bytes_sent(self)
    }
    fn ready_state(&self) -> ReadyState {
        Connection::ready_state(self)
    }
    fn register_close_waker(&self, cx: &mut Context<'_>) {
        Connection::register_close_waker(self, cx)
    }
    fn close_event(&self) -> Option<CloseEvent> {
        Connection::close_event(self)
    }
    fn has_backpressure(&self) -> bool {
        Connection::has_backpressure(self)
    }
}
