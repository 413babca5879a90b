//! The browser driver of the supervisor: real sockets, real timers and the browser's
//! online/offline/visibility events, fed to [`Machine`] as inputs, its actions carried out.
//!
//! One task (spawned with `spawn_local`) polls every source: the URL provider, the socket,
//! the open hook, the timers and the browser events. It holds only a weak reference, so
//! dropping the owner of the [`Core`] drops every socket, timer and listener at once, and the
//! task ends the next time it is woken.
//!
//! It is generic over the payload: the Rust client carries [`Message`](crate::Message)s, the
//! JavaScript class carries JS values that are never copied into wasm memory.
//!
//! Its parts: the types here; `handle` (what the clients built on a core call), `task` (the
//! task and the sources it polls), `actions` (carrying out what the machine decides),
//! `platform` (the sockets, timers and page events it runs on: the browser's, or a scripted
//! one in the native tests), `page` (the browser's online/offline/visibility events),
//! `ledger` and `unread` (bounds on what is kept).

mod actions;
mod handle;
mod ledger;
mod page;
mod platform;
mod task;
#[cfg(test)]
mod tests;
mod unread;

pub use platform::{Browser, Platform, Transport};

use super::options::{ClosePredicate, LocalBoxFuture, PongMatcher, Target, UrlSource};
use super::timer::PerTimer;
use super::{Action, Event, Input, Machine, MachineConfig, Retry, State, Timer};
use crate::socket::{Messages, ReadyState, Wire};
use crate::{default_should_reconnect, CloseEvent, ConnectOptions, Error, Receive};
use ledger::{trim_idle_ledger, LEDGER_CHECK_EVERY, LEDGER_IDLE_TRIM_MS};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The hook run after each open, given the new connection.
#[allow(type_alias_bounds)] // documents that `P` must travel on the platform's sockets
pub type OpenHook<P: Wire + Clone, B: Platform = Browser> =
    Rc<dyn Fn(Rc<B::Socket<P>>) -> LocalBoxFuture<'static, Result<(), Error>>>;

/// Where a driver hands its events, as they happen.
pub type EventCallback<P> = Rc<dyn Fn(Event<P>)>;

/// Everything a driver is configured with, for one kind of payload.
pub struct DriverConfig<P: Wire + Clone, B: Platform = Browser> {
    /// Where each attempt connects.
    pub url: UrlSource,
    /// The subprotocols offered, unless the URL provider names its own.
    pub protocols: Vec<String>,
    /// Each connection's high-water mark for `bufferedAmount`.
    pub high_water_mark: u32,
    /// The state machine's settings: backoff, queue, heartbeat, timeouts.
    pub machine: MachineConfig,
    /// What the heartbeat sends.
    pub ping: P,
    /// Which received messages answer a ping (they are not delivered); `None`: any message.
    pub is_pong: Option<PongMatcher<P>>,
    /// Decides, per close, whether to reconnect; `None`: [`default_should_reconnect`].
    pub should_reconnect: Option<ClosePredicate>,
    /// Run after each open, before the queue is flushed.
    pub open_hook: Option<OpenHook<P, B>>,
    /// Where events go. `None`: they wait in a queue for [`Core::poll_event`]. `Some`: the
    /// driver hands them over as they happen, with no borrow held, so the callback may call
    /// back into the client.
    pub on_event: Option<EventCallback<P>>,
    /// Called with each new browser socket as it is created, before any of its events, so
    /// an owner can listen to it too. It is called with the client borrowed, so it must not
    /// call back into the client.
    pub on_socket: Option<SocketCallback<B::Socket<P>>>,
    /// Whether the driver reads the sockets' messages. [`Messages::Ignored`] leaves them to
    /// an owner that listens itself (through `on_socket`): the machine then hears of none,
    /// so choose it only when nothing needs judging per message (no pong matcher, heartbeat
    /// or open hook).
    pub messages: Messages,
    /// The `WebSocket` constructor to use; `None`: the platform's, as it was when the
    /// module loaded.
    pub socket_constructor: Option<js_sys::Function>,
    /// At most how many messages wait unread for [`Core::poll_event`]; past that the oldest
    /// go and [`Event::Lagged`] says so. Unused with `on_event`, which takes each at once.
    pub max_unread_messages: usize,
    /// How each connection receives messages. With [`Receive::Backpressure`] the driver
    /// stops taking messages from a connection while `READER_AHEAD_MESSAGES` wait unread
    /// for [`Core::poll_event`], so they stay in the network and the server slows down.
    pub receive: Receive,
}

/// With receive backpressure, how many messages may wait unread for the stream before the
/// driver leaves the rest in the network (fewer if `max_unread_messages` is smaller, so
/// backpressure never drops one).
pub const READER_AHEAD_MESSAGES: usize = 64;

/// A running reconnecting client, generic over its payload: the machine, its current socket,
/// timers and page listeners, and the task that drives them. Made by [`Core::start`].
pub struct Core<P: Wire + Clone, B: Platform = Browser> {
    platform: B,
    config: DriverConfig<P, B>,
    /// Taken from the configuration and let go once the client has finished, so a callback
    /// that reaches back to its JavaScript owner does not keep that owner alive for ever.
    on_event: RefCell<Option<EventCallback<P>>>,
    /// Let go with `on_event`, for the same reason.
    on_socket: RefCell<Option<SocketCallback<B::Socket<P>>>>,
    inner: RefCell<Inner<P, B>>,
    /// Inputs from the page's `online`/`offline`/`visibilitychange` listeners. Kept apart
    /// from `inner` and borrowed only to push or drain, so an event dispatched synchronously
    /// at any moment (even by code running while `inner` is borrowed) is never refused.
    page_inputs: RefCell<Vec<Input>>,
    /// The driver task's waker, outside `inner` for the same reason.
    driver_waker: Cell<Option<Waker>>,
    /// Set by an owner whose own reader is behind ([`Core::hold_reading`]): with receive
    /// backpressure the driver then takes no messages from the connection, as when its
    /// stream's reader is behind. Outside `inner`, so an event callback may set it.
    reading_held: Cell<bool>,
}

/// See [`DriverConfig::on_socket`].
pub type SocketCallback<S> = Rc<dyn Fn(&S)>;

/// A socket of the client's, with the bytes that `send` could not hand to the browser
/// because the socket had already closed (they count as unsent, like `bufferedAmount`).
struct Live<P: Wire + Clone, B: Platform> {
    id: u64,
    connection: Rc<B::Socket<P>>,
    opened: bool,
    unsent_after_close: u64,
    /// Messages sent since `bufferedAmount` was last read to trim the ledger.
    sent_since_reading: u32,
}

/// An open hook in progress: its socket, the bytes sent on it before the hook, the hook.
type RunningHook = (u64, u64, LocalBoxFuture<'static, Result<(), Error>>);

struct Inner<P: Wire + Clone, B: Platform> {
    machine: Machine<P>,
    actions: Vec<Action<P>>,
    socket: Option<Live<P, B>>,
    /// A socket closed by the machine, kept until its `close` event so the machine can learn
    /// what it never sent.
    closing: Option<Live<P, B>>,
    /// The attempt whose URL provider is to be called. It is called by the driver task with
    /// no borrow held (it is user code, which may call back into the client), never here.
    resolve_next: Option<u64>,
    resolving: Option<(u64, LocalBoxFuture<'static, Result<Target, Error>>)>,
    /// The socket whose open hook is to be started, likewise with no borrow held.
    hook_next: Option<u64>,
    hook: Option<RunningHook>,
    /// User futures let go of while the client was borrowed: dropped once it is not, since
    /// their `Drop` is user code too.
    discarded: Vec<Box<dyn Any>>,
    timers: PerTimer<Option<B::Timer>>,
    /// Armed while the in-flight ledger holds entries; see [`LEDGER_IDLE_TRIM_MS`].
    ledger_timer: Option<B::Timer>,
    browser_inputs: VecDeque<Input>,
    events: VecDeque<Event<P>>,
    events_waker: Option<Waker>,
    /// Message events waiting in `events`, and at most how many may wait; see
    /// [`DriverConfig::max_unread_messages`].
    unread_messages: usize,
    max_unread_messages: usize,
    /// The connection whose messages the driver leaves unread because the stream's reader
    /// is behind (receive backpressure only), as last reported to the machine.
    reader_behind: Option<u64>,
    /// The page's online/offline/visibility events, heard until this is dropped.
    _page_watch: Option<B::PageWatch>,
}

impl<P: Wire + Clone, B: Platform> Core<P, B> {
    fn input(&self, input: Input) {
        self.page_inputs.borrow_mut().push(input);
        self.wake_driver();
    }

    fn wake_driver(&self) {
        if let Some(waker) = self.driver_waker.take() {
            waker.wake();
        }
    }

    /// Drops what was discarded while the client was borrowed; see [`Inner::discard`].
    fn drop_discarded(&self) {
        let discarded = std::mem::take(&mut self.inner.borrow_mut().discarded);
        drop(discarded);
    }
}

impl<P: Wire + Clone, B: Platform> Inner<P, B> {
    /// Drops a user future after the borrow of the client ends; see [`Core::drop_discarded`].
    fn discard<T: 'static>(&mut self, future: T) {
        self.discarded.push(Box::new(future));
    }

    /// Keeps `future` in `slot` if attempt `id` is still the machine's current one, else
    /// discards it: the attempt ended while user code ran.
    fn keep_if_current<T: 'static>(
        &mut self,
        id: u64,
        future: T,
        slot: impl FnOnce(&mut Self) -> &mut Option<(u64, T)>,
    ) {
        if self.machine.socket() == Some(id) {
            *slot(self) = Some((id, future));
        } else {
            self.discard(future);
        }
    }

    /// Whether the event stream has ended: closed for good or given up, nothing left to hear.
    fn has_ended(&self) -> bool {
        self.is_finished() || self.machine.state() == State::GaveUp
    }

    /// Closed for good, and no socket left to hear from.
    fn is_finished(&self) -> bool {
        self.machine.state() == State::Closed && self.socket.is_none() && self.closing.is_none()
    }
}
