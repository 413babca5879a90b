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

mod ledger;
mod page;
mod unread;

use super::options::{ClosePredicate, LocalBoxFuture, PongMatcher, Target, UrlSource};
use super::timer::PerTimer;
use super::{Action, Event, Input, Machine, MachineConfig, Retry, State, Timer};
use crate::listener::EventListener;
use crate::socket::{Connection, Messages, ReadyState, Wire};
use crate::{default_should_reconnect, CloseEvent, ConnectOptions, Error};
use gloo_timers::future::TimeoutFuture;
use ledger::{trim_idle_ledger, LEDGER_CHECK_EVERY, LEDGER_IDLE_TRIM_MS};
use page::{browser_listeners, navigator_on_line, random_seed};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The hook run after each open, given the new connection.
pub(crate) type OpenHook<P> =
    Rc<dyn Fn(Rc<Connection<P>>) -> LocalBoxFuture<'static, Result<(), Error>>>;

/// Where a driver hands its events, as they happen.
pub(crate) type EventCallback<P> = Rc<dyn Fn(Event<P>)>;

/// Everything a driver is configured with, for one kind of payload.
pub(crate) struct DriverConfig<P> {
    pub(crate) url: UrlSource,
    pub(crate) protocols: Vec<String>,
    pub(crate) high_water_mark: u32,
    pub(crate) machine: MachineConfig,
    pub(crate) ping: P,
    pub(crate) is_pong: Option<PongMatcher<P>>,
    pub(crate) should_reconnect: Option<ClosePredicate>,
    pub(crate) open_hook: Option<OpenHook<P>>,
    /// Where events go. `None`: they wait in a queue for [`Core::poll_event`]. `Some`: the
    /// driver hands them over as they happen, with no borrow held, so the callback may call
    /// back into the client.
    pub(crate) on_event: Option<EventCallback<P>>,
    /// Called with each new browser socket as it is created, before any of its events, so
    /// an owner can listen to it too. It is called with the client borrowed, so it must not
    /// call back into the client.
    pub(crate) on_socket: Option<SocketCallback>,
    /// Whether the driver reads the sockets' messages. [`Messages::Ignored`] leaves them to
    /// an owner that listens itself (through `on_socket`): the machine then hears of none,
    /// so choose it only when nothing needs judging per message (no pong matcher, heartbeat
    /// or open hook).
    pub(crate) messages: Messages,
    /// The `WebSocket` constructor to use; `None`: the platform's, as it was when the
    /// module loaded.
    pub(crate) socket_constructor: Option<js_sys::Function>,
    /// At most how many messages wait unread for [`Core::poll_event`]; past that the oldest
    /// go and [`Event::Lagged`] says so. Unused with `on_event`, which takes each at once.
    pub(crate) max_unread_messages: usize,
}

pub(crate) struct Core<P> {
    config: DriverConfig<P>,
    /// Taken from the configuration and let go once the client has finished, so a callback
    /// that reaches back to its JavaScript owner does not keep that owner alive for ever.
    on_event: RefCell<Option<EventCallback<P>>>,
    /// Let go with `on_event`, for the same reason.
    on_socket: RefCell<Option<SocketCallback>>,
    inner: RefCell<Inner<P>>,
    /// Inputs from the page's `online`/`offline`/`visibilitychange` listeners. Kept apart
    /// from `inner` and borrowed only to push or drain, so an event dispatched synchronously
    /// at any moment (even by code running while `inner` is borrowed) is never refused.
    page_inputs: RefCell<Vec<Input>>,
    /// The driver task's waker, outside `inner` for the same reason.
    driver_waker: Cell<Option<Waker>>,
}

/// See [`DriverConfig::on_socket`].
pub(crate) type SocketCallback = Rc<dyn Fn(&web_sys::WebSocket)>;

/// A socket of the client's, with the bytes that `send` could not hand to the browser
/// because the socket had already closed (they count as unsent, like `bufferedAmount`).
struct Live<P> {
    id: u64,
    connection: Rc<Connection<P>>,
    opened: bool,
    unsent_after_close: u64,
    /// Messages sent since `bufferedAmount` was last read to trim the ledger.
    sent_since_reading: u32,
}

/// An open hook in progress: its socket, the bytes sent on it before the hook, the hook.
type RunningHook = (u64, u64, LocalBoxFuture<'static, Result<(), Error>>);

struct Inner<P> {
    machine: Machine<P>,
    actions: Vec<Action<P>>,
    socket: Option<Live<P>>,
    /// A socket closed by the machine, kept until its `close` event so the machine can learn
    /// what it never sent.
    closing: Option<Live<P>>,
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
    timers: PerTimer<Option<TimeoutFuture>>,
    /// Armed while the in-flight ledger holds entries; see [`LEDGER_IDLE_TRIM_MS`].
    ledger_timer: Option<TimeoutFuture>,
    browser_inputs: VecDeque<Input>,
    events: VecDeque<Event<P>>,
    events_waker: Option<Waker>,
    /// Message events waiting in `events`, and at most how many may wait; see
    /// [`DriverConfig::max_unread_messages`].
    unread_messages: usize,
    max_unread_messages: usize,
    _browser_listeners: Vec<EventListener>,
}

impl<P: Wire + Clone> Core<P> {
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

    /// Carries out the machine's actions, in order.
    fn execute(&self, inner: &mut Inner<P>, actions: &mut Vec<Action<P>>) {
        for action in actions.drain(..) {
            match action {
                // The socket is made by the driver task, on its next turn: a `close()` that
                // follows a `reconnect()` (or the start) at once then opens no socket at all,
                // and a failed connection is never made for nothing (browsers throttle a page
                // that makes many).
                Action::Connect { id, .. } => {
                    inner.resolve_next = Some(id);
                    self.wake_driver();
                }
                Action::CloseSocket { id, code, reason } => {
                    if inner.resolve_next == Some(id) {
                        inner.resolve_next = None;
                    }
                    if let Some((_, future)) =
                        inner.resolving.take_if(|(pending, _)| *pending == id)
                    {
                        inner.discard(future);
                    }
                    if inner.socket.as_ref().is_some_and(|live| live.id == id) {
                        if let Some(live) = inner.socket.take() {
                            let _ = match code {
                                None => live.connection.close_without_code(),
                                Some(code) => live.connection.close(code, &reason),
                            };
                            inner.closing = Some(live);
                        }
                    }
                }
                Action::Transmit { id, message } => {
                    // The ledger of sent messages is trimmed against the browser's real
                    // bufferedAmount every LEDGER_CHECK_EVERY sends, or sooner once it
                    // outgrows the high-water mark: no extra call into JavaScript per message,
                    // and small messages cannot pile up (each entry costs more than 32 bytes).
                    let ledger_limit = 2 * u64::from(self.config.high_water_mark)
                        + inner.machine.in_flight().window();
                    let ledger_bytes = inner.machine.in_flight().bytes();
                    if let Some(live) = inner.socket.as_mut().filter(|live| live.id == id) {
                        live.sent_since_reading += 1;
                        if live.sent_since_reading >= LEDGER_CHECK_EVERY
                            || ledger_bytes > ledger_limit
                        {
                            live.sent_since_reading = 0;
                            let buffered = u64::from(live.connection.socket().buffered_amount());
                            inner.machine.observe_buffered(id, buffered);
                        }
                    }
                    if self.transmit(inner, id, &message) {
                        inner.machine.record_sent(id, message);
                    }
                    if inner.ledger_timer.is_none() {
                        inner.ledger_timer = Some(TimeoutFuture::new(LEDGER_IDLE_TRIM_MS));
                        // The driver task polls the new timer, whoever sent.
                        self.wake_driver();
                    }
                }
                Action::SendPing { id } => {
                    let ping = &self.config.ping;
                    if self.transmit(inner, id, ping) {
                        inner.machine.record_other(id, ping.byte_len() as u64);
                    }
                }
                Action::RunOpenHook { id } => {
                    inner.hook_next = Some(id);
                    self.wake_driver();
                }
                Action::StartTimer { timer, after } => {
                    *inner.timers.get_mut(timer) = Some(TimeoutFuture::new(millis(after)));
                }
                Action::CancelTimer(timer) => *inner.timers.get_mut(timer) = None,
                Action::Emit(notice) => inner.emit(notice.into()),
            }
        }
    }

    fn open_socket(
        &self,
        inner: &mut Inner<P>,
        id: u64,
        url: &str,
        protocols: Option<Vec<String>>,
    ) {
        let protocols = protocols.unwrap_or_else(|| self.config.protocols.clone());
        let options = ConnectOptions::default()
            .protocols(protocols)
            .high_water_mark(self.config.high_water_mark);
        let owner = self.on_socket.borrow().clone();
        let constructor = self.config.socket_constructor.as_ref();
        match Connection::open_with(url, &options, self.config.messages, constructor) {
            Ok(connection) => {
                if let Some(owner) = owner {
                    owner(connection.socket());
                }
                inner.socket = Some(Live {
                    id,
                    connection: Rc::new(connection),
                    opened: false,
                    unsent_after_close: 0,
                    sent_since_reading: 0,
                });
            }
            Err(error) => {
                // An unusable URL from the provider: a failed attempt, retried on schedule,
                // with the reason in the close event the user sees.
                let event = CloseEvent {
                    code: 1006,
                    reason: error.to_string(),
                    was_clean: false,
                };
                inner.browser_inputs.push_back(Input::SocketClosed {
                    id,
                    event,
                    reconnect: Retry::Yes,
                    unsent_bytes: 0,
                });
            }
        }
    }

    /// Sends `message` on socket `id`. Whether it was sent: a message the browser refused
    /// (its `send` threw) is reported in [`Event::Error`] and must not enter the ledger.
    fn transmit(&self, inner: &mut Inner<P>, id: u64, message: &P) -> bool {
        let Some(live) = inner.socket.as_mut().filter(|live| live.id == id) else {
            return true;
        };
        match live.connection.start_send(message) {
            Ok(()) => true,
            Err(Error::Closed) => {
                // Closed under our feet: its close event is on its way, and these bytes
                // are counted as unsent so the message is queued again.
                live.unsent_after_close += message.byte_len() as u64;
                true
            }
            Err(error) => {
                // The socket is open but refused these bytes: sending them again would
                // fail again, so the user is told instead.
                inner.emit(Event::Error(error));
                false
            }
        }
    }

    fn should_reconnect(&self, event: &CloseEvent) -> Retry {
        match &self.config.should_reconnect {
            Some(predicate) => predicate(event),
            None => default_should_reconnect(event).into(),
        }
    }

    fn is_pong(&self, message: &P) -> bool {
        self.config
            .is_pong
            .as_ref()
            .is_some_and(|is_pong| is_pong(message))
    }

    /// Polls every source once and collects what happened as inputs.
    fn poll_sources(&self, cx: &mut Context<'_>, inputs: &mut Vec<Input>) {
        // The URL provider and the open hook are user code: they are called and polled with
        // no borrow held, so they may call back into the client. That may end the attempt
        // they belong to, so each result is used only if its attempt is still current.
        self.start_user_futures();
        let resolving = self.inner.borrow_mut().resolving.take();
        if let Some((id, mut future)) = resolving {
            match future.as_mut().poll(cx) {
                Poll::Ready(Ok((url, protocols))) => {
                    let mut inner = self.inner.borrow_mut();
                    if inner.machine.socket() == Some(id) {
                        self.open_socket(&mut inner, id, &url, protocols);
                    }
                }
                Poll::Ready(Err(error)) => inputs.push(Input::SocketClosed {
                    id,
                    event: CloseEvent {
                        code: 1006,
                        reason: format!("URL provider failed: {error}"),
                        was_clean: false,
                    },
                    reconnect: Retry::Yes,
                    unsent_bytes: 0,
                }),
                Poll::Pending => self
                    .inner
                    .borrow_mut()
                    .keep_if_current(id, future, |inner| &mut inner.resolving),
            }
        }

        let hook = self.inner.borrow_mut().hook.take();
        if let Some((id, sent_before, mut future)) = hook {
            match future.as_mut().poll(cx) {
                Poll::Ready(result) => {
                    let mut inner = self.inner.borrow_mut();
                    if let Some(live) = inner.socket.as_ref().filter(|live| live.id == id) {
                        let written = live.connection.bytes_sent() - sent_before;
                        inner.machine.record_other(id, written);
                    }
                    inputs.push(Input::OpenHookDone {
                        id,
                        ok: result.is_ok(),
                    });
                }
                Poll::Pending => {
                    let mut inner = self.inner.borrow_mut();
                    if inner.machine.socket() == Some(id) {
                        inner.hook = Some((id, sent_before, future));
                    } else {
                        inner.discard(future);
                    }
                }
            }
        }

        let mut observed = Vec::new();
        inputs.append(&mut self.page_inputs.borrow_mut());
        let mut inner = self.inner.borrow_mut();
        inputs.extend(inner.browser_inputs.drain(..));
        self.poll_socket(&mut inner, cx, inputs, &mut observed);
        if let Some(closing) = inner.closing.as_ref() {
            if closing.connection.ready_state() == ReadyState::Closed {
                if let Some(closing) = inner.closing.take() {
                    inputs.push(closed_input(&closing, self.should_reconnect_closing()));
                }
            } else {
                closing.connection.register_close_waker(cx);
            }
        }
        trim_idle_ledger(&mut inner, cx);
        for timer in Timer::ALL {
            let slot = inner.timers.get_mut(timer);
            if let Some(pending) = slot {
                if Pin::new(pending).poll(cx).is_ready() {
                    *slot = None;
                    let buffered_amount = inner.socket.as_ref().map_or(0, unsent_bytes);
                    inputs.push(Input::TimerFired {
                        timer,
                        buffered_amount,
                    });
                }
            }
        }
        drop(inner);
        self.judge(&mut observed, inputs);
    }

    /// Calls the URL provider and starts the open hook the machine asked for, with no borrow
    /// held, and keeps each future only if its attempt is still current afterwards.
    fn start_user_futures(&self) {
        let (resolve, hook) = {
            let mut inner = self.inner.borrow_mut();
            (inner.resolve_next.take(), inner.hook_next.take())
        };
        match (resolve, &self.config.url) {
            (Some(id), UrlSource::Fixed(url)) => {
                let mut inner = self.inner.borrow_mut();
                if inner.machine.socket() == Some(id) {
                    self.open_socket(&mut inner, id, url, None);
                }
            }
            (Some(id), UrlSource::Provider(provider)) => {
                let future = provider();
                self.inner
                    .borrow_mut()
                    .keep_if_current(id, future, |inner| &mut inner.resolving);
            }
            (None, _) => {}
        }
        let Some(id) = hook else {
            return;
        };
        let connection = {
            let inner = self.inner.borrow();
            inner
                .socket
                .as_ref()
                .filter(|live| live.id == id)
                .map(|live| Rc::clone(&live.connection))
        };
        match (connection, self.config.open_hook.as_ref()) {
            (Some(connection), Some(hook)) => {
                let sent_before = connection.bytes_sent();
                let future = hook(connection);
                let mut inner = self.inner.borrow_mut();
                if inner.machine.socket() == Some(id) {
                    inner.hook = Some((id, sent_before, future));
                } else {
                    inner.discard(future);
                }
            }
            // No hook, or its socket is gone (the machine then ignores this).
            _ => self
                .inner
                .borrow_mut()
                .browser_inputs
                .push_back(Input::OpenHookDone { id, ok: true }),
        }
    }

    /// A socket the machine already let go of: whether to retry does not matter any more.
    fn should_reconnect_closing(&self) -> Retry {
        Retry::No
    }

    /// Polls the current socket. What needs user code to judge (is a message a pong, should a
    /// close be retried) is only collected here, while the state is borrowed, and judged later.
    fn poll_socket(
        &self,
        inner: &mut Inner<P>,
        cx: &mut Context<'_>,
        inputs: &mut Vec<Input>,
        observed: &mut Vec<Observed<P>>,
    ) {
        let Some(live) = inner.socket.as_mut() else {
            return;
        };
        let id = live.id;
        if !live.opened {
            match live.connection.poll_opened(cx) {
                Poll::Ready(Ok(())) => {
                    live.opened = true;
                    inputs.push(Input::Opened {
                        id,
                        protocol: live.connection.socket().protocol(),
                    });
                }
                Poll::Ready(Err(_)) => {
                    if let Some(live) = inner.socket.take() {
                        observed.push(Observed::Closed {
                            id,
                            event: close_event_of(&live),
                            unsent_bytes: 0,
                        });
                    }
                    return;
                }
                Poll::Pending => return,
            }
        }
        loop {
            let Some(live) = inner.socket.as_ref() else {
                return;
            };
            match live.connection.poll_next(cx) {
                Poll::Ready(Some(Ok(message))) => observed.push(Observed::Message(id, message)),
                Poll::Ready(Some(Err(Error::ConnectionLost(_))) | None) => {
                    if let Some(live) = inner.socket.take() {
                        observed.push(Observed::Closed {
                            id,
                            event: close_event_of(&live),
                            unsent_bytes: unsent_bytes(&live),
                        });
                    }
                    return;
                }
                Poll::Ready(Some(Err(error))) => inner.emit(Event::Error(error)),
                Poll::Pending => return,
            }
        }
    }

    /// Judges what the socket reported, with no borrow held: the pong matcher and the
    /// reconnect predicate are user code and may call back into the client.
    fn judge(&self, observed: &mut Vec<Observed<P>>, inputs: &mut Vec<Input>) {
        for item in observed.drain(..) {
            match item {
                Observed::Message(id, message) => {
                    inputs.push(Input::MessageReceived { id });
                    if !self.is_pong(&message) {
                        self.inner.borrow_mut().emit(Event::Message(message));
                    }
                }
                Observed::Closed {
                    id,
                    event,
                    unsent_bytes,
                } => {
                    let reconnect = self.should_reconnect(&event);
                    inputs.push(Input::SocketClosed {
                        id,
                        event,
                        reconnect,
                        unsent_bytes,
                    });
                }
            }
        }
    }

    /// Runs the client until nothing more can happen now. Ready once it is closed for good
    /// and nothing is left to watch.
    fn drive(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut inputs = Vec::new();
        loop {
            self.poll_sources(cx, &mut inputs);
            self.drop_discarded();
            let mut inner = self.inner.borrow_mut();
            if inputs.is_empty() {
                self.driver_waker.set(Some(cx.waker().clone()));
                let finished = inner.is_finished();
                drop(inner);
                self.deliver_events();
                return if finished && self.inner.borrow().events.is_empty() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                };
            }
            let mut actions = std::mem::take(&mut inner.actions);
            for input in inputs.drain(..) {
                inner.machine.handle(input, &mut actions);
                self.execute(&mut inner, &mut actions);
            }
            inner.actions = actions;
            drop(inner);
            self.deliver_events();
        }
    }

    /// Hands queued events to the `on_event` callback, if there is one, one at a time and
    /// with no borrow held: the callback is user code and may call back into the client.
    fn deliver_events(&self) {
        let Some(on_event) = self.on_event.borrow().clone() else {
            return;
        };
        loop {
            let next = self.inner.borrow_mut().events.pop_front();
            match next {
                Some(event) => on_event(event),
                None => break,
            }
        }
        if self.inner.borrow().is_finished() {
            self.on_event.borrow_mut().take();
            self.on_socket.borrow_mut().take();
        }
    }

    /// Starts a client: checks the configuration, attaches the browser listeners and spawns
    /// the task that drives it. The first attempt is made at once (or when back online).
    pub(crate) fn start(mut config: DriverConfig<P>) -> Result<Rc<Core<P>>, Error> {
        crate::handshake::validate_protocols(&config.protocols)?;
        if let UrlSource::Fixed(url) = &config.url {
            crate::handshake::resolve_url(url)?;
        }
        // The machine waits for a hook exactly when there is one to run.
        config.machine.has_open_hook = config.open_hook.is_some();
        let machine = Machine::new(config.machine.clone(), random_seed())?;
        let core = Rc::new(Core {
            on_event: RefCell::new(config.on_event.take()),
            on_socket: RefCell::new(config.on_socket.take()),
            inner: RefCell::new(Inner {
                machine,
                actions: Vec::new(),
                socket: None,
                closing: None,
                resolve_next: None,
                resolving: None,
                hook_next: None,
                hook: None,
                discarded: Vec::new(),
                timers: Default::default(),
                ledger_timer: None,
                browser_inputs: VecDeque::new(),
                events: VecDeque::new(),
                events_waker: None,
                unread_messages: 0,
                max_unread_messages: config.max_unread_messages,
                _browser_listeners: Vec::new(),
            }),
            config,
            page_inputs: RefCell::new(Vec::new()),
            driver_waker: Cell::new(None),
        });
        let listeners = browser_listeners(&core).map_err(|thrown| Error::from_js(&thrown))?;
        {
            let mut inner = core.inner.borrow_mut();
            inner._browser_listeners = listeners;
            if !navigator_on_line() {
                inner.browser_inputs.push_back(Input::Offline);
            }
            inner.browser_inputs.push_back(Input::Start);
        }
        wasm_bindgen_futures::spawn_local(Driver {
            core: Rc::downgrade(&core),
        });
        Ok(core)
    }

    pub(crate) fn state(&self) -> State {
        self.inner.borrow().machine.state()
    }

    pub(crate) fn queued(&self) -> usize {
        self.inner.borrow().machine.queue().len()
    }

    /// The current socket's `bufferedAmount`; 0 while disconnected.
    pub(crate) fn buffered_amount(&self) -> u32 {
        let inner = self.inner.borrow();
        inner
            .socket
            .as_ref()
            .map_or(0, |live| live.connection.socket().buffered_amount())
    }

    #[cfg(feature = "js")] // read only by the JS class
    /// The current socket, open or opening.
    pub(crate) fn socket(&self) -> Option<web_sys::WebSocket> {
        let inner = self.inner.borrow();
        inner
            .socket
            .as_ref()
            .map(|live| live.connection.socket().clone())
    }

    #[cfg(feature = "js")] // read only by the JS class
    /// Bytes waiting in the queue.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.inner.borrow().machine.queue().bytes()
    }

    #[cfg(feature = "js")] // read only by the JS class
    /// Whether a socket closed by `close()` has yet to report its close event.
    pub(crate) fn is_closing(&self) -> bool {
        self.inner.borrow().closing.is_some()
    }

    /// Takes effect at once, as `close` and `send` do: a client that gave up is starting
    /// again when this returns, so its event stream is live again.
    pub(crate) fn reconnect(&self) {
        self.reconnect_by(Input::Reconnect);
    }

    /// As [`reconnect`](Self::reconnect), closing the live connection with `code` and
    /// `reason` (already checked as `close()` checks them).
    pub(crate) fn reconnect_with(&self, code: u16, reason: String) {
        self.reconnect_by(Input::ReconnectWith { code, reason });
    }

    fn reconnect_by(&self, input: Input) {
        let Ok(mut inner) = self.inner.try_borrow_mut() else {
            // Only the class's own socket hand-over runs under the borrow; never user code.
            self.input(input);
            return;
        };
        let mut actions = std::mem::take(&mut inner.actions);
        inner.machine.handle(input, &mut actions);
        self.execute(&mut inner, &mut actions);
        inner.actions = actions;
        drop(inner);
        self.wake_driver();
        self.drop_discarded();
    }

    /// Closes for good; see [`Machine::close`] for a close without a code.
    pub(crate) fn close(&self, code: Option<u16>, reason: &str) -> Result<Vec<P>, Error> {
        let mut inner = self.inner.borrow_mut();
        let mut actions = std::mem::take(&mut inner.actions);
        let result = inner.machine.close(code, reason, &mut actions);
        self.execute(&mut inner, &mut actions);
        inner.actions = actions;
        drop(inner);
        self.wake_driver();
        self.drop_discarded();
        result
    }

    pub(crate) fn send(&self, message: P) -> Result<(), Error> {
        let mut inner = self.inner.borrow_mut();
        let mut actions = std::mem::take(&mut inner.actions);
        let result = inner.machine.send(message, &mut actions);
        self.execute(&mut inner, &mut actions);
        inner.actions = actions;
        let wake = !inner.events.is_empty();
        drop(inner);
        if wake {
            self.wake_driver();
        }
        self.drop_discarded();
        result
    }

    /// Waits only for the browser's buffer while connected; while disconnected the queue
    /// decides, in `send`.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner.borrow();
        match (inner.machine.state(), inner.socket.as_ref()) {
            (State::Open, Some(live)) => live.connection.poll_ready(cx).map(|_| ()),
            _ => Poll::Ready(()),
        }
    }

    /// The next event. The stream ends (`None`) once every event has been taken and the
    /// client has ended: closed for good, or given up (until `reconnect()` starts it again).
    pub(crate) fn poll_event(&self, cx: &mut Context<'_>) -> Poll<Option<Event<P>>> {
        let mut inner = self.inner.borrow_mut();
        if let Some(event) = inner.events.pop_front() {
            if matches!(event, Event::Message(_)) {
                inner.unread_messages = inner.unread_messages.saturating_sub(1);
            }
            return Poll::Ready(Some(event));
        }
        // Wakes this stream again if `reconnect()` starts a client that gave up.
        inner.events_waker = Some(cx.waker().clone());
        if inner.has_ended() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    pub(crate) fn is_terminated(&self) -> bool {
        let inner = self.inner.borrow();
        inner.events.is_empty() && inner.has_ended()
    }

    /// Queues an event for the stream, as if the driver had emitted it.
    pub(crate) fn push_event(&self, event: Event<P>) {
        self.inner.borrow_mut().emit(event);
        self.wake_driver();
    }

    /// Tells the task its owner is gone, so it ends now rather than at its next wake-up.
    pub(crate) fn owner_dropped(&self) {
        self.wake_driver();
    }
}

/// What a socket reported that user code must judge before the machine hears of it.
enum Observed<P> {
    Message(u64, P),
    Closed {
        id: u64,
        event: CloseEvent,
        unsent_bytes: u64,
    },
}

/// The close event a socket reported; 1006 if it somehow reported none.
fn close_event_of<P: Wire>(live: &Live<P>) -> CloseEvent {
    live.connection.close_event().unwrap_or(CloseEvent {
        code: 1006,
        reason: String::new(),
        was_clean: false,
    })
}

fn closed_input<P: Wire>(live: &Live<P>, reconnect: Retry) -> Input {
    Input::SocketClosed {
        id: live.id,
        event: close_event_of(live),
        reconnect,
        unsent_bytes: unsent_bytes(live),
    }
}

/// The bytes a socket never sent: what the browser still holds, plus what it refused after
/// closing.
fn unsent_bytes<P: Wire>(live: &Live<P>) -> u64 {
    u64::from(live.connection.socket().buffered_amount()) + live.unsent_after_close
}

impl<P: Wire> Inner<P> {
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

/// The task that runs the client. It ends when the client is dropped or closed for good.
struct Driver<P> {
    core: Weak<Core<P>>,
}

impl<P: Wire + Clone> Future for Driver<P> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.core.upgrade() {
            Some(core) => core.drive(cx),
            None => Poll::Ready(()),
        }
    }
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}
