//! One browser `WebSocket` and the state its event listeners share with the futures side.
//!
//! The listeners only record what happened (a message, the open, the close) and wake whoever
//! waits; all decisions are taken in the `poll_*` methods. Listeners are attached before the
//! socket can open, so nothing the server sends first can be missed.

use super::stream::{self, StreamSocket};
use crate::handshake::{resolve_url, validate_protocols};
use crate::listener::EventListener;
use crate::payload::Payload;
use crate::{validate_close, CloseEvent, ConnectOptions, Error, Message, Receive, NORMAL_CLOSURE};
use gloo_timers::future::TimeoutFuture;
use js_sys::{ArrayBuffer, Uint8Array};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, MessageEvent};

/// How often a writer waiting for `bufferedAmount` to drain looks again: the browser fires no
/// event when it drains, so polling is the only way to learn it.
const DRAIN_POLL_MS: u32 = 1;

/// Who reads a connection's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Messages {
    /// The connection: they are queued for `poll_next`.
    Read,
    /// Whoever holds the browser socket: the connection attaches no `message` listener, so
    /// no message passes through it (for an owner with a listener of its own, such as the npm
    /// binding's class).
    #[cfg_attr(not(feature = "unstable-internals"), allow(dead_code))]
    Ignored,
}

/// Where a connection is: the browser's `readyState`
/// ([MDN](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket/readyState)), tracked
/// from the socket's events, so reading it needs no call into JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadyState {
    /// The opening handshake has not finished.
    Connecting,
    /// Open: messages can be sent and received.
    Open,
    /// The closing handshake has started: nothing more can be sent.
    Closing,
    /// Closed, or never opened.
    Closed,
}

/// A payload that can travel on a browser socket: read from a message event's data, and
/// handed to `send`. Rust code uses [`Message`] (copied once into wasm memory); the
/// JavaScript class uses the JS values themselves (never copied).
pub trait Wire: Payload + Sized {
    /// Turns a `message` event's data into a payload.
    fn from_data(data: JsValue) -> Result<Self, Error>;
    /// Hands the payload to the browser's `send`.
    fn send_on(&self, socket: &web_sys::WebSocket) -> Result<(), JsValue>;
    /// The payload as the JS value a `WebSocketStream` writer takes, which it may keep until
    /// written: never a view of wasm memory.
    fn to_js(&self) -> JsValue;
}

impl Wire for Message {
    fn from_data(data: JsValue) -> Result<Self, Error> {
        message_from_data(data)
    }

    fn send_on(&self, socket: &web_sys::WebSocket) -> Result<(), JsValue> {
        match self {
            Message::Text(text) => socket.send_with_str(text),
            Message::Binary(bytes) => socket.send_with_u8_array(bytes),
        }
    }

    fn to_js(&self) -> JsValue {
        match self {
            Message::Text(text) => JsValue::from_str(text),
            Message::Binary(bytes) => Uint8Array::from(bytes.as_slice()).into(),
        }
    }
}

/// What the listeners and the futures share.
struct Shared<P> {
    ready: ReadyState,
    incoming: VecDeque<Result<P, Error>>,
    /// The bytes of the messages in `incoming`, and the bound on them (`max_unread_bytes`).
    unread_bytes: usize,
    unread_limit: Option<usize>,
    /// Whether the bound closed the connection, and whether the reader has been told.
    unread_overflow: UnreadOverflow,
    close_event: Option<CloseEvent>,
    /// Whether the reader has been told that the connection ended abnormally.
    loss_reported: bool,
    /// The reader, or the connect future before there is one.
    read_waker: Option<Waker>,
    /// A writer waiting for the buffer to drain or for the close to finish.
    write_waker: Option<Waker>,
    /// A `WebSocketStream` that has read ahead as far as it may and waits for
    /// [`StreamSocket::pull`]; never set on the event path.
    stream_paused: bool,
}

impl<P> Shared<P> {
    fn wake_all(&mut self) {
        if let Some(waker) = self.read_waker.take() {
            waker.wake();
        }
        if let Some(waker) = self.write_waker.take() {
            waker.wake();
        }
    }
}

/// What `max_unread_bytes` has done to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnreadOverflow {
    /// Nothing: the reader keeps up, or there is no bound.
    No,
    /// The bound was passed and the connection closed with 4009; the reader is told after
    /// the messages it has yet to read.
    Closed,
    /// The reader has been told.
    Reported,
}

/// The close code sent when unread messages pass `max_unread_bytes`. RFC 6455's nearest is
/// 1009 (Message Too Big), but a page may send only 1000 and 3000-4999, so it is 4009.
const UNREAD_LIMIT_CLOSE_CODE: u16 = 4009;

/// The bytes a received item counts for against `max_unread_bytes`.
fn unread_size<P: Payload>(item: &Result<P, Error>) -> usize {
    item.as_ref().map_or(0, Payload::byte_len)
}

/// The owner of one browser socket. Dropping it closes the socket and removes every listener.
pub struct Connection<P = Message> {
    /// The browser's `WebSocket`, or a `WebSocketStream` in a wrapper shaped like one.
    socket: web_sys::WebSocket,
    /// The same object as `socket` when it is a `WebSocketStream`'s wrapper.
    stream: Option<StreamSocket>,
    shared: Rc<RefCell<Shared<P>>>,
    high_water_mark: u64,
    send_state: RefCell<SendState>,
    _listeners: Vec<EventListener>,
}

/// What the writer side keeps between calls.
#[derive(Default)]
struct SendState {
    /// An upper bound on `bufferedAmount`: the last value read from the browser plus every
    /// byte sent since. While it stays under the high-water mark, `poll_ready` needs no call
    /// into JavaScript.
    buffered_bound: u64,
    /// Every byte handed to the browser on this connection, so a caller can tell how much a
    /// piece of code it does not control (an open hook) wrote.
    bytes_sent: u64,
    drain_timer: Option<TimeoutFuture>,
}

impl<P: Wire> Connection<P> {
    /// Validates the input, creates the socket and attaches the listeners. The socket starts
    /// connecting at once.
    pub(crate) fn open(url: &str, options: &ConnectOptions) -> Result<Self, Error> {
        Self::open_with(url, options, Messages::Read, None)
    }

    /// As [`open`](Self::open), with `messages` saying whether this connection reads them,
    /// and the `WebSocket` constructor to use (`None`: the platform's).
    pub(crate) fn open_with(
        url: &str,
        options: &ConnectOptions,
        messages: Messages,
        constructor: Option<&js_sys::Function>,
    ) -> Result<Self, Error> {
        validate_protocols(&options.protocols)?;
        let resolved = resolve_url(url)?;
        // Backpressure needs the connection to read its own messages, and the platform's
        // `WebSocketStream`: a caller's own `WebSocket` constructor says which socket to use.
        let use_stream = options.receive == Receive::Backpressure
            && messages == Messages::Read
            && constructor.is_none()
            && stream::is_supported();
        let created = if use_stream {
            let read_ahead = options
                .max_unread_bytes
                .map_or(stream::READ_AHEAD_BYTES, |limit| {
                    limit.min(stream::READ_AHEAD_BYTES)
                });
            stream::open(&resolved, &options.protocols, read_ahead)
                .map(|stream| (stream.clone().unchecked_into(), Some(stream)))
        } else {
            super::native::new_socket(constructor, &resolved, &options.protocols)
                .map(|socket| (socket, None))
        };
        let (socket, stream): (web_sys::WebSocket, _) =
            created.map_err(|thrown| match crate::error::js_error_parts(&thrown) {
                (name, reason) if name == "SyntaxError" => Error::InvalidUrl {
                    url: url.to_owned(),
                    reason,
                },
                (name, message) => Error::Browser { name, message },
            })?;
        socket.set_binary_type(BinaryType::Arraybuffer);

        let shared = Rc::new(RefCell::new(Shared {
            ready: ReadyState::Connecting,
            incoming: VecDeque::new(),
            unread_bytes: 0,
            unread_limit: options.max_unread_bytes,
            unread_overflow: UnreadOverflow::No,
            close_event: None,
            loss_reported: false,
            read_waker: None,
            write_waker: None,
            stream_paused: false,
        }));
        let listeners = match attach_listeners(&socket, &shared, messages, stream.is_some()) {
            Ok(listeners) => listeners,
            Err(thrown) => {
                let _ = socket.close();
                return Err(Error::from_js(&thrown));
            }
        };
        Ok(Connection {
            socket,
            stream,
            shared,
            high_water_mark: u64::from(options.high_water_mark),
            send_state: RefCell::new(SendState::default()),
            _listeners: listeners,
        })
    }

    /// The browser socket.
    pub fn socket(&self) -> &web_sys::WebSocket {
        &self.socket
    }

    /// Whether messages arrive through a `WebSocketStream`, with backpressure.
    pub(crate) fn has_backpressure(&self) -> bool {
        self.stream.is_some()
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        self.shared.borrow().ready
    }

    pub(crate) fn close_event(&self) -> Option<CloseEvent> {
        self.shared.borrow().close_event.clone()
    }

    /// Ready once the socket has opened, or with the close event if it closed first.
    pub(crate) fn poll_opened(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut shared = self.shared.borrow_mut();
        match shared.ready {
            ReadyState::Open => Poll::Ready(Ok(())),
            ReadyState::Connecting => {
                shared.read_waker = Some(cx.waker().clone());
                Poll::Pending
            }
            ReadyState::Closing | ReadyState::Closed => Poll::Ready(Err(Error::ConnectFailed(
                shared.close_event.clone().unwrap_or(CloseEvent {
                    code: 1006,
                    reason: String::new(),
                    was_clean: false,
                }),
            ))),
        }
    }

    /// The next message; after the last one, an error if the connection ended abnormally,
    /// then the end of the stream.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Result<P, Error>>> {
        let mut shared = self.shared.borrow_mut();
        if let Some(item) = shared.incoming.pop_front() {
            shared.unread_bytes = shared.unread_bytes.saturating_sub(unread_size(&item));
            return Poll::Ready(Some(item));
        }
        if shared.ready != ReadyState::Closed {
            shared.read_waker = Some(cx.waker().clone());
            // Everything read ahead has been taken: let the stream read on.
            let pull = std::mem::take(&mut shared.stream_paused);
            drop(shared);
            if let (true, Some(stream)) = (pull, &self.stream) {
                stream.pull();
            }
            return Poll::Pending;
        }
        if shared.unread_overflow == UnreadOverflow::Closed {
            shared.unread_overflow = UnreadOverflow::Reported;
            let limit = shared.unread_limit.unwrap_or_default();
            return Poll::Ready(Some(Err(Error::UnreadLimitExceeded { limit })));
        }
        match shared.close_event.clone() {
            Some(event) if !event.was_clean && !shared.loss_reported => {
                shared.loss_reported = true;
                Poll::Ready(Some(Err(Error::ConnectionLost(event))))
            }
            _ => Poll::Ready(None),
        }
    }

    /// Whether the stream has ended: closed, every message taken, any loss reported.
    pub(crate) fn is_terminated(&self) -> bool {
        let shared = self.shared.borrow();
        shared.ready == ReadyState::Closed
            && shared.incoming.is_empty()
            && shared.unread_overflow != UnreadOverflow::Closed
            && (shared.loss_reported
                || shared
                    .close_event
                    .as_ref()
                    .is_none_or(|event| event.was_clean))
    }

    /// Ready to send once the browser's buffer is at or below the high-water mark; an error
    /// once the connection is closing or closed, so a writer never waits on a dead socket.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut send = self.send_state.borrow_mut();
        loop {
            if self.ready_state() != ReadyState::Open {
                send.drain_timer = None;
                return Poll::Ready(Err(Error::Closed));
            }
            if send.buffered_bound <= self.high_water_mark {
                return Poll::Ready(Ok(()));
            }
            send.buffered_bound = u64::from(self.socket.buffered_amount());
            if send.buffered_bound <= self.high_water_mark {
                send.drain_timer = None;
                return Poll::Ready(Ok(()));
            }
            // Woken by whichever comes first: the next drain check or the close event.
            self.shared.borrow_mut().write_waker = Some(cx.waker().clone());
            let timer = send
                .drain_timer
                .get_or_insert_with(|| TimeoutFuture::new(DRAIN_POLL_MS));
            match Pin::new(timer).poll(cx) {
                Poll::Ready(()) => send.drain_timer = None,
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Hands one message to the browser.
    pub fn start_send(&self, message: &P) -> Result<(), Error> {
        if self.ready_state() != ReadyState::Open {
            return Err(Error::Closed);
        }
        let bytes = message.byte_len() as u64;
        match &self.stream {
            None => message.send_on(&self.socket),
            Some(stream) => stream.send(&message.to_js(), bytes as f64),
        }
        .map_err(|thrown| Error::from_js(&thrown))?;
        let mut send = self.send_state.borrow_mut();
        send.buffered_bound += bytes;
        send.bytes_sent += bytes;
        Ok(())
    }

    /// Every byte handed to the browser so far.
    pub(crate) fn bytes_sent(&self) -> u64 {
        self.send_state.borrow().bytes_sent
    }

    /// Wakes `cx` when the close event arrives, for an owner that reads no more messages.
    pub(crate) fn register_close_waker(&self, cx: &mut Context<'_>) {
        self.shared.borrow_mut().read_waker = Some(cx.waker().clone());
    }

    /// What was sent is in the browser's hands; it only fails if the connection closed with
    /// bytes still unsent, which means they are lost.
    pub(crate) fn poll_flush(&self) -> Poll<Result<(), Error>> {
        if self.ready_state() == ReadyState::Closed && self.socket.buffered_amount() > 0 {
            return Poll::Ready(Err(Error::Closed));
        }
        Poll::Ready(Ok(()))
    }

    /// Starts a normal close if none is under way, then waits for the close event.
    pub(crate) fn poll_close(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if matches!(
            self.ready_state(),
            ReadyState::Connecting | ReadyState::Open
        ) {
            self.close(NORMAL_CLOSURE, "")?;
        }
        let mut shared = self.shared.borrow_mut();
        if shared.ready == ReadyState::Closed {
            return Poll::Ready(Ok(()));
        }
        shared.write_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Starts the closing handshake with a checked code and reason. Closing a connection
    /// that is already closing or closed does nothing, as in the browser.
    pub(crate) fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        validate_close(code, reason)?;
        if matches!(self.ready_state(), ReadyState::Closing | ReadyState::Closed) {
            return Ok(());
        }
        self.socket
            .close_with_code_and_reason(code, reason)
            .map_err(|thrown| Error::from_js(&thrown))?;
        self.shared.borrow_mut().ready = ReadyState::Closing;
        Ok(())
    }
}

impl<P: Wire> Connection<P> {
    /// Starts the closing handshake with no code, as the browser's `close()` with no
    /// arguments (the other side sees 1005).
    pub(crate) fn close_without_code(&self) -> Result<(), Error> {
        if matches!(self.ready_state(), ReadyState::Closing | ReadyState::Closed) {
            return Ok(());
        }
        self.socket
            .close()
            .map_err(|thrown| Error::from_js(&thrown))?;
        self.shared.borrow_mut().ready = ReadyState::Closing;
        Ok(())
    }
}

impl<P> Drop for Connection<P> {
    fn drop(&mut self) {
        // The listeners go with the fields; the socket has to be told. Errors cannot be
        // reported from a Drop, and closing an open socket with a valid code does not throw.
        let _ = match self.shared.borrow().ready {
            ReadyState::Connecting => self.socket.close(),
            ReadyState::Open => self.socket.close_with_code(NORMAL_CLOSURE),
            ReadyState::Closing | ReadyState::Closed => Ok(()),
        };
    }
}

fn attach_listeners<P: Wire>(
    socket: &web_sys::WebSocket,
    shared: &Rc<RefCell<Shared<P>>>,
    messages: Messages,
    stream: bool,
) -> Result<Vec<EventListener>, JsValue> {
    let on_open = {
        let shared = Rc::clone(shared);
        EventListener::new(socket, "open", move |_: web_sys::Event| {
            let mut shared = shared.borrow_mut();
            if shared.ready == ReadyState::Connecting {
                shared.ready = ReadyState::Open;
            }
            let waker = shared.read_waker.take();
            drop(shared);
            if let Some(waker) = waker {
                waker.wake();
            }
        })?
    };
    let on_message = match messages {
        Messages::Ignored => None,
        Messages::Read => Some({
            let shared = Rc::clone(shared);
            let owner = socket.clone();
            EventListener::new(socket, "message", move |event: MessageEvent| {
                let item = P::from_data(event.data());
                let mut shared = shared.borrow_mut();
                shared.unread_bytes = shared.unread_bytes.saturating_add(unread_size(&item));
                shared.incoming.push_back(item);
                // Past the bound the connection is closed, once; what already arrived is
                // still delivered, and so is whatever the browser hands over while closing.
                let over = shared.unread_overflow == UnreadOverflow::No
                    && shared
                        .unread_limit
                        .is_some_and(|limit| shared.unread_bytes > limit);
                if over {
                    shared.unread_overflow = UnreadOverflow::Closed;
                }
                let waker = shared.read_waker.take();
                drop(shared);
                if over {
                    let reason = "too many bytes waiting unread";
                    let _ = owner.close_with_code_and_reason(UNREAD_LIMIT_CLOSE_CODE, reason);
                }
                if let Some(waker) = waker {
                    waker.wake();
                }
            })?
        }),
    };
    let on_close = {
        let shared = Rc::clone(shared);
        EventListener::new(socket, "close", move |event: web_sys::CloseEvent| {
            let mut shared = shared.borrow_mut();
            shared.ready = ReadyState::Closed;
            shared.close_event = Some(CloseEvent {
                code: event.code(),
                reason: event.reason(),
                was_clean: event.was_clean(),
            });
            shared.wake_all();
        })?
    };
    // Only a `WebSocketStream`'s wrapper pauses; see `super::stream`.
    let on_pause = match stream {
        false => None,
        true => Some({
            let shared = Rc::clone(shared);
            EventListener::new(socket, "pause", move |_: web_sys::Event| {
                let mut shared = shared.borrow_mut();
                shared.stream_paused = true;
                // A reader that has already taken everything is waiting: it pulls.
                let waker = shared.read_waker.take();
                drop(shared);
                if let Some(waker) = waker {
                    waker.wake();
                }
            })?
        }),
    };
    Ok([Some(on_open), on_message, Some(on_close), on_pause]
        .into_iter()
        .flatten()
        .collect())
}

/// Copies a message event's data into Rust, once. Text arrives as a JS string, binary as an
/// `ArrayBuffer` (the socket's `binaryType` is always `arraybuffer`); anything else is
/// reported rather than dropped.
fn message_from_data(data: JsValue) -> Result<Message, Error> {
    if let Some(text) = data.as_string() {
        return Ok(Message::Text(text));
    }
    if data.is_instance_of::<ArrayBuffer>() {
        return Ok(Message::Binary(Uint8Array::new(&data).to_vec()));
    }
    Err(Error::Browser {
        name: "TypeError".to_owned(),
        message: format!("a message arrived as {data:?}, neither text nor an ArrayBuffer"),
    })
}
