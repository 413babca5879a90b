//! The npm package's `ReconnectingWebSocket`: a drop-in for the browser's `WebSocket`.
//!
//! Compiled only with the `js` feature, which the npm package build turns on.
//!
//! The class itself is JavaScript (`js/reconnecting-websocket.js`): it extends `EventTarget`,
//! so every listener rule is the browser's own. Everything else (reconnecting, queueing,
//! timers, heartbeats) is the Rust driver, reached through [`ReconnectingCore`]. Message data
//! travels as the JS values themselves: what a listener receives is what the browser
//! delivered, never a copy made through wasm memory.

mod options;
mod payload;

use crate::reconnect::driver::{Core, DriverConfig, OpenHook};
use crate::reconnect::options::{LocalBoxFuture, Target, UrlProvider, UrlSource};
use crate::reconnect::{Event, State};
use crate::socket::{Connection, Messages};
use crate::Error;
use js_sys::{Array, Function, Reflect};
use payload::JsPayload;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/js/reconnecting-websocket.js")]
extern "C" {
    #[wasm_bindgen(js_name = defineReconnectingWebSocket)]
    fn define_class(create_core: &JsValue) -> JsValue;

    #[wasm_bindgen(js_name = byteLength, catch)]
    fn byte_length_js(data: &JsValue) -> Result<f64, JsValue>;

    /// A copy of binary data (strings and Blobs are immutable and come back as they are).
    #[wasm_bindgen(js_name = snapshot)]
    pub(crate) fn snapshot(data: &JsValue) -> JsValue;

    /// Reports an exception the way an uncaught one in an event listener is reported
    /// (`reportError`), from a microtask: `window` error listeners are user code, and this
    /// may be called while the client is borrowed.
    #[wasm_bindgen(js_name = reportLater)]
    fn report_error(error: &JsValue);

    /// The `onOpen` hook's socket, whose `send` calls `send` until the returned function
    /// (the second element) is called, and then throws an `InvalidStateError`.
    #[wasm_bindgen(js_name = openHookSocket)]
    fn open_hook_socket(send: &JsValue) -> Array;
}

#[wasm_bindgen]
extern "C" {
    /// The class's `emit(kind, a, b, c)` callback.
    type Emit;

    #[wasm_bindgen(method, catch, js_name = call)]
    fn call(
        this: &Emit,
        context: &JsValue,
        kind: u32,
        a: &JsValue,
        b: &JsValue,
        c: &JsValue,
    ) -> Result<(), JsValue>;
}

/// What `emit` reports; the numbers match the constants in `js/reconnecting-websocket.js`.
#[derive(Clone, Copy)]
enum EventKind {
    Open = 0,
    Message = 1,
    Close = 2,
    Reconnecting = 3,
    GiveUp = 4,
    Dropped = 5,
    Unsent = 6,
    Error = 7,
    /// A new browser socket, which the class listens to, and whose messages it reads itself
    /// when the second argument is true (see `on_socket`).
    Socket = 8,
}

/// The size in bytes of data for `send`, or the class's `TypeError` for anything else.
pub(crate) fn byte_length(data: &JsValue) -> Result<usize, JsValue> {
    Ok(byte_length_js(data)? as usize)
}

thread_local! {
    // One class per program, and the one closure it creates cores through.
    static CLASS: RefCell<Option<(JsValue, CreateCore)>> = const { RefCell::new(None) };
}

type CreateCore =
    Closure<dyn Fn(JsValue, JsValue, JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>;

/// The `ReconnectingWebSocket` class (its constructor), created once per program, for code
/// that has the module loaded already (the tests). The package's entry defines the class
/// itself, before the module has loaded, and takes [`create_core`] from it.
#[wasm_bindgen(js_name = reconnectingWebSocketClass)]
pub fn reconnecting_websocket_class() -> JsValue {
    CLASS.with(|class| {
        let mut class = class.borrow_mut();
        let (constructor, _) = class.get_or_insert_with(|| {
            let create: CreateCore = Closure::new(|url, protocols, options, emit, constructor| {
                create_core(url, protocols, options, emit, constructor).map(JsValue::from)
            });
            (define_class(create.as_ref()), create)
        });
        constructor.clone()
    })
}

/// Makes the Rust core of one `ReconnectingWebSocket`, which calls `emit(kind, a, b, c)` for
/// what happens. The class (`js/reconnecting-websocket.js`) calls this with its arguments
/// converted and its options checked; not meant to be used directly.
///
/// # Errors
///
/// The `TypeError` or `SyntaxError` the class would throw for these arguments.
#[wasm_bindgen(js_name = createCore)]
pub fn create_core(
    url: JsValue,
    protocols: JsValue,
    options: JsValue,
    emit: JsValue,
    constructor: JsValue,
) -> Result<ReconnectingCore, JsValue> {
    ReconnectingCore::new(url, protocols, options, emit, constructor)
}

/// The Rust side of one `ReconnectingWebSocket`. Not meant to be used directly.
#[wasm_bindgen]
pub struct ReconnectingCore {
    core: Rc<Core<JsPayload>>,
}

impl ReconnectingCore {
    fn new(
        url: JsValue,
        protocols: JsValue,
        options: JsValue,
        emit: JsValue,
        constructor: JsValue,
    ) -> Result<Self, JsValue> {
        let options = options::parse(&options)?;
        let socket_constructor = if constructor.is_undefined() || constructor.is_null() {
            None
        } else {
            Some(constructor.dyn_into::<Function>().map_err(|_| {
                JsValue::from(js_sys::TypeError::new(
                    "ReconnectingWebSocket: option \"WebSocket\" must be a WebSocket constructor",
                ))
            })?)
        };
        let emit: Emit = emit
            .dyn_into::<Function>()
            .map_err(|_| JsValue::from(js_sys::TypeError::new("emit must be a function")))?
            .unchecked_into();
        let url = url_source(url, protocols.clone())?;
        let protocols = match &url {
            UrlSource::Fixed(_) => protocol_list(&protocols)?,
            UrlSource::Provider(_) => Vec::new(),
        };
        let reads_itself = options.is_pong.is_none()
            && options.machine.heartbeat.is_none()
            && options.on_open.is_none();
        let on_socket = {
            let emit: Emit = JsValue::clone(&emit).unchecked_into();
            move |socket: &web_sys::WebSocket| {
                let none = JsValue::UNDEFINED;
                let reads = JsValue::from_bool(reads_itself);
                if let Err(thrown) =
                    emit.call(&none, EventKind::Socket as u32, socket, &reads, &none)
                {
                    report_error(&thrown);
                }
            }
        };
        let core_slot: Rc<RefCell<Option<std::rc::Weak<Core<JsPayload>>>>> = Rc::default();
        let on_event = {
            let core_slot = Rc::clone(&core_slot);
            move |event: Event<JsPayload>| {
                let extensions = if matches!(event, Event::Open { .. }) {
                    core_slot
                        .borrow()
                        .as_ref()
                        .and_then(std::rc::Weak::upgrade)
                        .and_then(|core| core.socket())
                        .map(|socket| socket.extensions())
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                deliver(&emit, event, &extensions);
            }
        };
        let config = DriverConfig {
            url,
            protocols,
            high_water_mark: options.high_water_mark,
            machine: options.machine,
            ping: options.ping,
            // A user callback that throws is reported, and its answer taken as false: the
            // message is delivered as a message, the close is not retried.
            is_pong: options.is_pong.map(|is_pong| {
                let is_pong: Rc<dyn Fn(&JsPayload) -> bool> =
                    Rc::new(move |message: &JsPayload| {
                        answer(is_pong.call1(&JsValue::UNDEFINED, &message.value))
                    });
                is_pong
            }),
            should_reconnect: options.should_reconnect.map(|predicate| {
                let predicate: Rc<dyn Fn(&crate::CloseEvent) -> crate::Retry> =
                    Rc::new(move |event| {
                        let init = web_sys::CloseEventInit::new();
                        init.set_code(event.code);
                        init.set_reason(&event.reason);
                        init.set_was_clean(event.was_clean);
                        retry_answer(
                            web_sys::CloseEvent::new_with_event_init_dict("close", &init)
                                .and_then(|event| predicate.call1(&JsValue::UNDEFINED, &event)),
                        )
                    });
                predicate
            }),
            open_hook: options.on_open.map(open_hook),
            on_event: Some(Rc::new(on_event)),
            // The class listens to each socket too (for the browser's `error`), and reads its
            // messages itself, with no call into wasm per message, whenever the driver has
            // nothing to judge per message.
            on_socket: Some(Rc::new(on_socket)),
            messages: if reads_itself {
                Messages::Ignored
            } else {
                Messages::Read
            },
            socket_constructor,
            // Events go to `on_event` as they happen; none wait unread.
            max_unread_messages: usize::MAX,
        };
        let core = Core::start(config).map_err(to_js_error)?;
        *core_slot.borrow_mut() = Some(Rc::downgrade(&core));
        Ok(ReconnectingCore { core })
    }
}

#[wasm_bindgen]
impl ReconnectingCore {
    /// The current connection's URL, as the browser resolved it; empty before the first.
    pub fn url(&self) -> String {
        self.core
            .socket()
            .map(|socket| socket.url())
            .unwrap_or_default()
    }

    /// The socket's `bufferedAmount` plus the bytes queued for the next connection.
    #[wasm_bindgen(js_name = bufferedAmount)]
    pub fn buffered_amount(&self) -> f64 {
        f64::from(self.core.buffered_amount()) + self.core.queued_bytes() as f64
    }

    /// How many messages are queued.
    pub fn queued(&self) -> u32 {
        u32::try_from(self.core.queued()).unwrap_or(u32::MAX)
    }

    /// Sends now if open, else queues.
    ///
    /// # Errors
    ///
    /// An `InvalidStateError` after `close()` or giving up; an `Error` naming the limit when
    /// the queue refuses it.
    pub fn send(&self, data: JsValue, bytes: f64) -> Result<(), JsValue> {
        let payload = JsPayload {
            value: data,
            bytes: bytes as usize,
        };
        self.core.send(payload).map_err(to_js_error)
    }

    /// Closes for good, a client that gave up too. Returns the data of the queued messages
    /// it will never send, for the class's `unsent` event: returned rather than queued as an
    /// event, because the class may free this core at once (after giving up, nothing else
    /// would deliver it).
    ///
    /// # Errors
    ///
    /// The class checks the code and reason first, so this fails only on a browser error.
    pub fn close(&self, code: Option<u16>, reason: Option<String>) -> Result<Array, JsValue> {
        // No code: a close frame without one, as the browser's close() sends.
        let unsent = self
            .core
            .close(code, reason.as_deref().unwrap_or(""))
            .map_err(to_js_error)?;
        Ok(unsent.into_iter().map(|message| message.value).collect())
    }

    /// Whether a socket closed by `close()` will still report its close event.
    #[wasm_bindgen(js_name = isClosing)]
    pub fn is_closing(&self) -> bool {
        self.core.is_closing()
    }

    /// Closes the current connection, if any (with `code` and `reason` when a code is given,
    /// which the class has checked as `close()` checks them), and connects again at once.
    pub fn reconnect(&self, code: Option<u16>, reason: Option<String>) {
        match code {
            None => self.core.reconnect(),
            Some(code) => self.core.reconnect_with(code, reason.unwrap_or_default()),
        }
    }

    /// Whether the client gave up reconnecting.
    #[wasm_bindgen(js_name = gaveUp)]
    pub fn gave_up(&self) -> bool {
        self.core.state() == State::GaveUp
    }

    /// Whether the client will make no more attempts (closed for good, or gave up).
    #[wasm_bindgen(js_name = isFinished)]
    pub fn is_finished(&self) -> bool {
        matches!(self.core.state(), State::Closed | State::GaveUp)
    }
}

impl Drop for ReconnectingCore {
    fn drop(&mut self) {
        self.core.owner_dropped();
    }
}

/// `shouldReconnect`'s answer: a number of milliseconds above 0 retries after at least that
/// long (plus the backoff's jitter); otherwise its truthiness; false (reported) if it threw.
fn retry_answer(result: Result<JsValue, JsValue>) -> crate::Retry {
    match &result {
        Ok(value) => match value.as_f64() {
            Some(millis) if millis > 0.0 => {
                let millis = millis.min(crate::MAX_TIMER_DELAY.as_secs_f64() * 1000.0);
                // Whole milliseconds: the cast saturates, and the value is capped above.
                crate::Retry::After(std::time::Duration::from_millis(millis as u64))
            }
            _ => answer(result).into(),
        },
        Err(_) => answer(result).into(),
    }
}

/// A user predicate's answer: its truthiness, or false (reported) if it threw.
fn answer(result: Result<JsValue, JsValue>) -> bool {
    match result {
        Ok(answer) => answer.is_truthy(),
        Err(thrown) => {
            report_error(&thrown);
            false
        }
    }
}

/// Turns one event into a call of the class's `emit`.
fn deliver(emit: &Emit, event: Event<JsPayload>, extensions: &str) {
    let none = JsValue::UNDEFINED;
    let (kind, a, b, c) = match event {
        Event::Message(message) => (
            EventKind::Message,
            message.value,
            none.clone(),
            none.clone(),
        ),
        Event::Open { attempt, protocol } => (
            EventKind::Open,
            attempt.into(),
            protocol.into(),
            extensions.into(),
        ),
        Event::Closed(event) => (
            EventKind::Close,
            event.code.into(),
            event.reason.into(),
            event.was_clean.into(),
        ),
        Event::Reconnecting { attempt, delay } => (
            EventKind::Reconnecting,
            attempt.into(),
            (delay.as_secs_f64() * 1000.0).into(),
            none.clone(),
        ),
        Event::GaveUp { reason } => (
            EventKind::GiveUp,
            reason.to_string().into(),
            none.clone(),
            none.clone(),
        ),
        Event::Dropped(messages) => (
            EventKind::Dropped,
            values(messages),
            none.clone(),
            none.clone(),
        ),
        Event::Unsent(messages) => (
            EventKind::Unsent,
            values(messages),
            none.clone(),
            none.clone(),
        ),
        Event::Error(error) => (
            EventKind::Error,
            error.to_string().into(),
            none.clone(),
            none.clone(),
        ),
        // Only a stream that is not read lags; the class is handed every event at once.
        Event::Lagged { .. } => return,
    };
    if let Err(thrown) = emit.call(&JsValue::UNDEFINED, kind as u32, &a, &b, &c) {
        // Listeners' exceptions are caught by dispatchEvent; this is one from the class
        // itself. It must not unwind through the driver, so it is reported, not thrown.
        report_error(&thrown);
    }
}

fn values(messages: Vec<JsPayload>) -> JsValue {
    messages
        .into_iter()
        .map(|message| message.value)
        .collect::<Array>()
        .into()
}

/// An `Error` as the matching JavaScript exception.
fn to_js_error(error: Error) -> JsValue {
    let dom = |name: &str| -> JsValue {
        web_sys::DomException::new_with_message_and_name(&error.to_string(), name)
            .map_or_else(|thrown| thrown, JsValue::from)
    };
    match &error {
        Error::InvalidUrl { .. } | Error::InvalidProtocol { .. } => dom("SyntaxError"),
        Error::InvalidCloseCode { .. } => dom("InvalidAccessError"),
        Error::CloseReasonTooLong { .. } => dom("SyntaxError"),
        Error::Refused {
            refusal: crate::Refusal::ClosedForGood,
        } => dom("InvalidStateError"),
        Error::InvalidOption { .. } => js_sys::TypeError::new(&error.to_string()).into(),
        _ => js_sys::Error::new(&error.to_string()).into(),
    }
}

/// A URL as a string: a string, or anything with an `href` (a `URL`).
fn url_string(value: &JsValue) -> Option<String> {
    value.as_string().or_else(|| {
        Reflect::get(value, &JsValue::from_str("href"))
            .ok()
            .and_then(|href| href.as_string())
    })
}

/// The subprotocols argument: absent, a string, or an array of strings.
fn protocol_list(protocols: &JsValue) -> Result<Vec<String>, JsValue> {
    if protocols.is_undefined() || protocols.is_null() {
        return Ok(Vec::new());
    }
    if let Some(protocol) = protocols.as_string() {
        return Ok(vec![protocol]);
    }
    if Array::is_array(protocols) {
        return Array::from(protocols)
            .iter()
            .map(|protocol| {
                protocol.as_string().ok_or_else(|| {
                    JsValue::from(js_sys::TypeError::new("each subprotocol must be a string"))
                })
            })
            .collect();
    }
    Err(
        js_sys::TypeError::new("protocols must be a string, an array of strings or a function")
            .into(),
    )
}

/// Calls the user's `function` with `argument` and awaits its result if it is a promise.
/// What it throws or rejects with is reported (`reportError`) and returned as the error.
async fn call_maybe_async(function: &Function, argument: &JsValue) -> Result<JsValue, Error> {
    let reported = |thrown: JsValue| {
        report_error(&thrown);
        Error::from_js(&thrown)
    };
    let result = function
        .call1(&JsValue::UNDEFINED, argument)
        .map_err(reported)?;
    match result.dyn_into::<js_sys::Promise>() {
        Ok(promise) => JsFuture::from(promise).await.map_err(reported),
        Err(value) => Ok(value),
    }
}

/// The URL argument: a string or `URL`, or a function (sync or async) called before every
/// attempt. Subprotocols given as a function make the target a provider too.
fn url_source(url: JsValue, protocols: JsValue) -> Result<UrlSource, JsValue> {
    let url_function = url.dyn_ref::<Function>().cloned();
    let protocols_function = protocols.dyn_ref::<Function>().cloned();
    if url_function.is_none() && protocols_function.is_none() {
        return match url_string(&url) {
            Some(url) => Ok(UrlSource::Fixed(url)),
            None => Err(js_sys::TypeError::new("url must be a string, a URL or a function").into()),
        };
    }
    let fixed_url = url_string(&url);
    if url_function.is_none() && fixed_url.is_none() {
        return Err(js_sys::TypeError::new("url must be a string, a URL or a function").into());
    }
    let fixed_protocols = match protocols_function {
        Some(_) => None,
        None => Some(protocol_list(&protocols)?),
    };
    let provider: UrlProvider = Rc::new(move || {
        let url_function = url_function.clone();
        let protocols_function = protocols_function.clone();
        let fixed_url = fixed_url.clone();
        let fixed_protocols = fixed_protocols.clone();
        let future: LocalBoxFuture<'static, Result<Target, Error>> = Box::pin(async move {
            let url = match (&url_function, fixed_url) {
                (Some(function), _) => {
                    let value = call_maybe_async(function, &JsValue::UNDEFINED).await?;
                    url_string(&value).ok_or_else(|| {
                        let reason = "the URL function must return a string or a URL";
                        report_error(
                            &js_sys::TypeError::new(&format!("ReconnectingWebSocket: {reason}"))
                                .into(),
                        );
                        Error::InvalidUrl {
                            url: format!("{value:?}"),
                            reason: reason.to_owned(),
                        }
                    })?
                }
                (None, Some(url)) => url,
                (None, None) => String::new(),
            };
            let protocols = match (&protocols_function, fixed_protocols) {
                (Some(function), _) => {
                    let value = call_maybe_async(function, &JsValue::UNDEFINED).await?;
                    protocol_list(&value).map_err(|thrown| {
                        report_error(&thrown);
                        Error::from_js(&thrown)
                    })?
                }
                (None, protocols) => protocols.unwrap_or_default(),
            };
            Ok((url, Some(protocols)))
        });
        future
    });
    Ok(UrlSource::Provider(provider))
}

/// The `onOpen` option as the driver's hook: called with an object whose `send` writes on the
/// fresh connection, ahead of everything queued; awaited if it returns a promise. What it
/// throws or rejects with is reported and fails the attempt.
fn open_hook(hook: Function) -> OpenHook<JsPayload> {
    Rc::new(move |connection: Rc<Connection<JsPayload>>| {
        let hook = hook.clone();
        Box::pin(async move {
            let socket = HookSocket::new(connection);
            call_maybe_async(&hook, &socket.object).await?;
            Ok(())
        })
    })
}

/// The socket the `onOpen` hook gets. It works only while the hook runs: dropping this (when
/// the hook has settled, or its attempt was abandoned) makes its `send` throw an
/// `InvalidStateError` that says so, and lets the closure go.
struct HookSocket {
    object: JsValue,
    end: Function,
    _send: Closure<dyn Fn(JsValue) -> Result<(), JsValue>>,
}

impl HookSocket {
    fn new(connection: Rc<Connection<JsPayload>>) -> Self {
        let send = Closure::<dyn Fn(JsValue) -> Result<(), JsValue>>::new(move |data: JsValue| {
            let bytes = byte_length(&data)?;
            connection
                .start_send(&JsPayload { value: data, bytes })
                .map_err(to_js_error)
        });
        let parts = open_hook_socket(send.as_ref());
        HookSocket {
            object: parts.get(0),
            end: parts.get(1).unchecked_into(),
            _send: send,
        }
    }
}

impl Drop for HookSocket {
    fn drop(&mut self) {
        // Before the closure goes: afterwards the socket must no longer reach it.
        let _ = self.end.call0(&JsValue::UNDEFINED);
    }
}
