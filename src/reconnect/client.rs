//! The browser driver of the supervisor: real sockets, real timers and the browser's
//! online/offline/visibility events, fed to [`Machine`] as inputs, its actions carried out.
//!
//! One task (spawned with `spawn_local`) polls every source: the URL provider, the socket,
//! the open hook, the timers and the browser events. It holds only a weak reference, so
//! dropping the [`Reconnecting`] handle drops every socket, timer and listener at once, and the
//! task ends the next time it is woken.

use super::options::{ReconnectOptions, UrlSource};
use super::{Action, Event, Input, Machine, State, Timer};
use crate::listener::EventListener;
use crate::socket::{Connection, ReadyState};
use crate::{default_should_reconnect, CloseEvent, ConnectOptions, Error, Message, Writer};
use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use futures_util::future::LocalBoxFuture;
use gloo_timers::future::TimeoutFuture;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};

/// A WebSocket connection that reconnects by itself.
///
/// It is a [`Sink`] of messages that accepts while disconnected (they are queued and sent, in
/// order, after the next open and its hook) and a [`Stream`] of [`Event`]s: messages, opens,
/// closes, reconnect delays, and giving up. Dropping it closes the connection and stops every
/// timer and listener it owns.
///
/// ```no_run
/// use futures::{SinkExt, StreamExt};
/// use resocket::{Event, Message, Reconnecting};
///
/// # async fn run() -> Result<(), resocket::Error> {
/// let mut client = Reconnecting::connect("wss://example.com/live")?;
/// client.send(Message::from("subscribe")).await?; // queued until the first open
/// while let Some(event) = client.next().await {
///     match event {
///         Event::Message(message) => println!("{message:?}"),
///         Event::Reconnecting { attempt, delay } => println!("retry {attempt} in {delay:?}"),
///         other => println!("{other:?}"),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Reconnecting {
    core: Rc<Core>,
}

struct Core {
    options: ReconnectOptions,
    inner: RefCell<Inner>,
}

/// A socket of the client's, with the bytes that `send` could not hand to the browser
/// because the socket had already closed (they count as unsent, like `bufferedAmount`).
struct Live {
    id: u64,
    connection: Rc<Connection>,
    opened: bool,
    unsent_after_close: u64,
}

/// An open hook in progress: its socket, the bytes sent on it before the hook, the hook.
type RunningHook = (u64, u64, LocalBoxFuture<'static, Result<(), Error>>);

struct Inner {
    machine: Machine,
    actions: Vec<Action>,
    socket: Option<Live>,
    /// A socket closed by the machine, kept until its `close` event so the machine can learn
    /// what it never sent.
    closing: Option<Live>,
    resolving: Option<(u64, LocalBoxFuture<'static, Result<String, Error>>)>,
    hook: Option<RunningHook>,
    timers: [Option<TimeoutFuture>; Timer::ALL.len()],
    browser_inputs: VecDeque<Input>,
    events: VecDeque<Event>,
    events_waker: Option<Waker>,
    driver_waker: Option<Waker>,
    _browser_listeners: Vec<EventListener>,
}

impl Reconnecting {
    /// Starts connecting to `url` with the default options; see [`connect_with`](Self::connect_with).
    ///
    /// # Errors
    ///
    /// As [`connect_with`](Self::connect_with).
    pub fn connect(url: &str) -> Result<Reconnecting, Error> {
        Reconnecting::connect_with(ReconnectOptions::new(url))
    }

    /// Starts connecting and returns at once; the first attempt is made right away (or when
    /// the browser is back online).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a setting out of range, [`Error::InvalidUrl`] for a fixed
    /// URL that can never work, [`Error::InvalidProtocol`] for a bad subprotocol: nothing is
    /// connected in these cases.
    pub fn connect_with(options: ReconnectOptions) -> Result<Reconnecting, Error> {
        crate::handshake::validate_protocols(&options.protocols)?;
        if let UrlSource::Fixed(url) = &options.url {
            crate::handshake::resolve_url(url)?;
        }
        let machine = Machine::new(options.machine.clone(), random_seed())?;
        let core = Rc::new(Core {
            options,
            inner: RefCell::new(Inner {
                machine,
                actions: Vec::new(),
                socket: None,
                closing: None,
                resolving: None,
                hook: None,
                timers: Default::default(),
                browser_inputs: VecDeque::new(),
                events: VecDeque::new(),
                events_waker: None,
                driver_waker: None,
                _browser_listeners: Vec::new(),
            }),
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
        Ok(Reconnecting { core })
    }

    /// Where the client is now.
    pub fn state(&self) -> State {
        self.core.inner.borrow().machine.state()
    }

    /// Bytes the current connection's browser socket holds unsent (its `bufferedAmount`);
    /// 0 while disconnected.
    pub fn buffered_amount(&self) -> u32 {
        let inner = self.core.inner.borrow();
        inner
            .socket
            .as_ref()
            .map_or(0, |live| live.connection.socket().buffered_amount())
    }

    /// How many messages wait in the queue for the next connection.
    pub fn queued(&self) -> usize {
        self.core.inner.borrow().machine.queue().len()
    }

    /// Closes the current connection, if any, and connects again at once, with the backoff
    /// started afresh. After the client gave up, this starts it again.
    pub fn reconnect(&self) {
        self.core.input(Input::Reconnect);
    }

    /// Closes the connection for good with `code` and `reason` and hands back every message
    /// that was still queued, oldest first. Messages still inside the browser's buffer when
    /// the socket finishes closing arrive afterwards as [`Event::Unsent`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`] or [`Error::CloseReasonTooLong`], as for
    /// [`WebSocket::close`](crate::WebSocket::close); nothing is closed then.
    pub fn close(&self, code: u16, reason: &str) -> Result<Vec<Message>, Error> {
        let mut inner = self.core.inner.borrow_mut();
        let mut actions = std::mem::take(&mut inner.actions);
        let result = inner.machine.close(code, reason, &mut actions);
        self.core.execute(&mut inner, &mut actions);
        inner.actions = actions;
        inner.wake_driver();
        result
    }
}

impl Core {
    fn input(&self, input: Input) {
        let mut inner = self.inner.borrow_mut();
        inner.browser_inputs.push_back(input);
        inner.wake_driver();
    }

    /// Carries out the machine's actions, in order.
    fn execute(&self, inner: &mut Inner, actions: &mut Vec<Action>) {
        for action in actions.drain(..) {
            match action {
                Action::Connect { id, .. } => match &self.options.url {
                    UrlSource::Fixed(url) => self.open_socket(inner, id, url),
                    UrlSource::Provider(provider) => inner.resolving = Some((id, provider())),
                },
                Action::CloseSocket { id, code, reason } => {
                    if inner
                        .resolving
                        .as_ref()
                        .is_some_and(|(pending, _)| *pending == id)
                    {
                        inner.resolving = None;
                    }
                    if inner.socket.as_ref().is_some_and(|live| live.id == id) {
                        if let Some(live) = inner.socket.take() {
                            let _ = live.connection.close(code, &reason);
                            inner.closing = Some(live);
                        }
                    }
                }
                Action::Transmit { id, message } => {
                    // The ledger of sent messages is trimmed against the browser's real
                    // bufferedAmount only once it outgrows the high-water mark, so the hot
                    // path makes no extra call into JavaScript per message.
                    let ledger_limit = 2 * u64::from(self.options.high_water_mark);
                    if inner.machine.in_flight().bytes() > ledger_limit {
                        if let Some(live) = inner.socket.as_ref().filter(|live| live.id == id) {
                            let buffered = u64::from(live.connection.socket().buffered_amount());
                            inner.machine.observe_buffered(id, buffered);
                        }
                    }
                    self.transmit(inner, id, &message);
                    inner.machine.record_sent(id, message);
                }
                Action::SendPing { id } => {
                    let ping = &self.options.ping;
                    self.transmit(inner, id, ping);
                    inner.machine.record_other(id, ping.len() as u64);
                }
                Action::RunOpenHook { id } => {
                    let hook = self.options.open_hook.clone();
                    match (hook, inner.socket.as_ref()) {
                        (Some(hook), Some(live)) if live.id == id => {
                            let sent_before = live.connection.bytes_sent();
                            let writer = Writer::from_connection(Rc::clone(&live.connection));
                            inner.hook = Some((id, sent_before, hook(writer)));
                        }
                        _ => inner
                            .browser_inputs
                            .push_back(Input::OpenHookDone { id, ok: true }),
                    }
                }
                Action::StartTimer { timer, after } => {
                    inner.timers[timer.index()] = Some(TimeoutFuture::new(millis(after)));
                }
                Action::CancelTimer(timer) => inner.timers[timer.index()] = None,
                Action::Emit(event) => inner.emit(event),
            }
        }
    }

    fn open_socket(&self, inner: &mut Inner, id: u64, url: &str) {
        let options = ConnectOptions::default()
            .protocols(self.options.protocols.iter().cloned())
            .high_water_mark(self.options.high_water_mark);
        match Connection::open(url, &options) {
            Ok(connection) => {
                inner.socket = Some(Live {
                    id,
                    connection: Rc::new(connection),
                    opened: false,
                    unsent_after_close: 0,
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
                    reconnect: true,
                    unsent_bytes: 0,
                });
            }
        }
    }

    fn transmit(&self, inner: &mut Inner, id: u64, message: &Message) {
        if let Some(live) = inner.socket.as_mut().filter(|live| live.id == id) {
            if live.connection.start_send(message).is_err() {
                // Closed under our feet: its close event is on its way, and these bytes
                // are counted as unsent so the message is queued again.
                live.unsent_after_close += message.len() as u64;
            }
        }
    }

    fn should_reconnect(&self, event: &CloseEvent) -> bool {
        match &self.options.should_reconnect {
            Some(predicate) => predicate(event),
            None => default_should_reconnect(event),
        }
    }

    fn is_pong(&self, message: &Message) -> bool {
        self.options
            .is_pong
            .as_ref()
            .is_some_and(|is_pong| is_pong(message))
    }

    /// Polls every source once and collects what happened as inputs.
    fn poll_sources(&self, cx: &mut Context<'_>, inputs: &mut Vec<Input>) {
        // The URL provider and the open hook are user code: they run with no borrow held,
        // so they may call back into the client.
        let resolving = self.inner.borrow_mut().resolving.take();
        if let Some((id, mut future)) = resolving {
            match future.as_mut().poll(cx) {
                Poll::Ready(Ok(url)) => {
                    let mut inner = self.inner.borrow_mut();
                    self.open_socket(&mut inner, id, &url);
                }
                Poll::Ready(Err(error)) => inputs.push(Input::SocketClosed {
                    id,
                    event: CloseEvent {
                        code: 1006,
                        reason: format!("URL provider failed: {error}"),
                        was_clean: false,
                    },
                    reconnect: true,
                    unsent_bytes: 0,
                }),
                Poll::Pending => self.inner.borrow_mut().resolving = Some((id, future)),
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
                Poll::Pending => self.inner.borrow_mut().hook = Some((id, sent_before, future)),
            }
        }

        let mut inner = self.inner.borrow_mut();
        inputs.extend(inner.browser_inputs.drain(..));
        self.poll_socket(&mut inner, cx, inputs);
        if let Some(closing) = inner.closing.as_ref() {
            if closing.connection.ready_state() == ReadyState::Closed {
                if let Some(closing) = inner.closing.take() {
                    inputs.push(closed_input(&closing, self.should_reconnect_closing()));
                }
            } else {
                closing.connection.register_close_waker(cx);
            }
        }
        for timer in Timer::ALL {
            let slot = &mut inner.timers[timer.index()];
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
    }

    /// A socket the machine already let go of: whether to retry does not matter any more.
    fn should_reconnect_closing(&self) -> bool {
        false
    }

    fn poll_socket(&self, inner: &mut Inner, cx: &mut Context<'_>, inputs: &mut Vec<Input>) {
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
                        let event = live.connection.close_event().unwrap_or(CloseEvent {
                            code: 1006,
                            reason: String::new(),
                            was_clean: false,
                        });
                        let reconnect = self.should_reconnect(&event);
                        inputs.push(Input::SocketClosed {
                            id,
                            event,
                            reconnect,
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
                Poll::Ready(Some(Ok(message))) => {
                    inputs.push(Input::MessageReceived { id });
                    if !self.is_pong(&message) {
                        inner.emit(Event::Message(message));
                    }
                }
                Poll::Ready(Some(Err(Error::ConnectionLost(_))) | None) => {
                    if let Some(live) = inner.socket.take() {
                        let event = live.connection.close_event();
                        let reconnect = event
                            .as_ref()
                            .is_none_or(|event| self.should_reconnect(event));
                        inputs.push(Input::SocketClosed {
                            id,
                            event: event.unwrap_or(CloseEvent {
                                code: 1006,
                                reason: String::new(),
                                was_clean: false,
                            }),
                            reconnect,
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

    /// Runs the client until nothing more can happen now. Ready once it is closed for good
    /// and nothing is left to watch.
    fn drive(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut inputs = Vec::new();
        loop {
            self.poll_sources(cx, &mut inputs);
            let mut inner = self.inner.borrow_mut();
            if inputs.is_empty() {
                inner.driver_waker = Some(cx.waker().clone());
                let finished = inner.machine.state() == State::Closed
                    && inner.socket.is_none()
                    && inner.closing.is_none();
                return if finished {
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
        }
    }
}

fn closed_input(live: &Live, reconnect: bool) -> Input {
    Input::SocketClosed {
        id: live.id,
        event: live.connection.close_event().unwrap_or(CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        }),
        reconnect,
        unsent_bytes: unsent_bytes(live),
    }
}

/// The bytes a socket never sent: what the browser still holds, plus what it refused after
/// closing.
fn unsent_bytes(live: &Live) -> u64 {
    u64::from(live.connection.socket().buffered_amount()) + live.unsent_after_close
}

impl Inner {
    fn emit(&mut self, event: Event) {
        self.events.push_back(event);
        if let Some(waker) = self.events_waker.take() {
            waker.wake();
        }
    }

    fn wake_driver(&mut self) {
        if let Some(waker) = self.driver_waker.take() {
            waker.wake();
        }
    }
}

/// The task that runs the client. It ends when the client is dropped or closed for good.
struct Driver {
    core: Weak<Core>,
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.core.upgrade() {
            Some(core) => core.drive(cx),
            None => Poll::Ready(()),
        }
    }
}

impl Drop for Reconnecting {
    fn drop(&mut self) {
        // Everything the client owns goes with the core; the task only needs to hear of it.
        if let Ok(mut inner) = self.core.inner.try_borrow_mut() {
            inner.wake_driver();
        }
    }
}

impl Stream for Reconnecting {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut inner = self.core.inner.borrow_mut();
        if let Some(event) = inner.events.pop_front() {
            return Poll::Ready(Some(event));
        }
        if inner.machine.state() == State::Closed
            && inner.socket.is_none()
            && inner.closing.is_none()
        {
            return Poll::Ready(None);
        }
        inner.events_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl FusedStream for Reconnecting {
    fn is_terminated(&self) -> bool {
        let inner = self.core.inner.borrow();
        inner.events.is_empty()
            && inner.machine.state() == State::Closed
            && inner.socket.is_none()
            && inner.closing.is_none()
    }
}

impl Sink<Message> for Reconnecting {
    type Error = Error;

    /// Waits only for the browser's buffer while connected; while disconnected the queue
    /// decides, in `start_send`.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let inner = self.core.inner.borrow();
        match (inner.machine.state(), inner.socket.as_ref()) {
            (State::Open, Some(live)) => match live.connection.poll_ready(cx) {
                Poll::Pending => Poll::Pending,
                // A closed socket is the driver's business: the message will be queued.
                Poll::Ready(_) => Poll::Ready(Ok(())),
            },
            _ => Poll::Ready(Ok(())),
        }
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        let mut inner = self.core.inner.borrow_mut();
        let mut actions = std::mem::take(&mut inner.actions);
        let result = inner.machine.send(message, &mut actions);
        self.core.execute(&mut inner, &mut actions);
        inner.actions = actions;
        result
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    /// Closes for good with code 1000; what was still queued is reported as
    /// [`Event::Unsent`] rather than lost.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let unsent = self.close(crate::NORMAL_CLOSURE, "")?;
        if !unsent.is_empty() {
            self.core.inner.borrow_mut().emit(Event::Unsent(unsent));
        }
        Poll::Ready(Ok(()))
    }
}

/// Listens for the browser going online or offline and the page becoming visible.
fn browser_listeners(core: &Rc<Core>) -> Result<Vec<EventListener>, JsValue> {
    let global: web_sys::EventTarget = js_sys::global().unchecked_into();
    let mut listeners = Vec::with_capacity(3);
    for (event_type, input) in [("online", Input::Online), ("offline", Input::Offline)] {
        let weak = Rc::downgrade(core);
        listeners.push(EventListener::new(
            &global,
            event_type,
            move |_: web_sys::Event| {
                if let Some(core) = weak.upgrade() {
                    core.input(input.clone());
                }
            },
        )?);
    }
    if let Some(document) = global_property(&global, "document") {
        let target: web_sys::EventTarget = document.clone().unchecked_into();
        let weak = Rc::downgrade(core);
        listeners.push(EventListener::new(
            &target,
            "visibilitychange",
            move |_: web_sys::Event| {
                let visible = global_property(&document, "visibilityState")
                    .and_then(|state| state.as_string())
                    .is_some_and(|state| state == "visible");
                if let (true, Some(core)) = (visible, weak.upgrade()) {
                    core.input(Input::Visible);
                }
            },
        )?);
    }
    Ok(listeners)
}

fn global_property(object: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

/// `navigator.onLine`, taken as true where there is no navigator to ask.
fn navigator_on_line() -> bool {
    global_property(&js_sys::global(), "navigator")
        .and_then(|navigator| global_property(&navigator, "onLine"))
        .and_then(|on_line| on_line.as_bool())
        .unwrap_or(true)
}

/// A seed for the backoff jitter that differs between clients and tabs.
fn random_seed() -> u64 {
    let high = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let low = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (high << 32) | low
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}
