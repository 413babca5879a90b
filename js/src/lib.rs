//! The npm package's `ReconnectingWebSocket`: a drop-in for the browser's `WebSocket`.
//!
//! Its own crate (`resocket-js`, in `js/`, not published to crates.io): `scripts/build-package`
//! builds it into the npm package with wasm-pack. It drives the library's reconnecting core
//! (`resocket::internals`, an unstable, hidden API) with JS values as payloads, so the
//! library itself has no JS types and no `cdylib`.
//!
//! The class itself is JavaScript (`js/reconnecting-websocket.js`): it extends `EventTarget`,
//! so every listener rule is the browser's own. Everything else (reconnecting, queueing,
//! timers, heartbeats) is the Rust driver, reached through [`ReconnectingCore`]. Message data
//! travels as the JS values themselves: what a listener receives is what the browser
//! delivered, never a copy made through wasm memory.

// In a page, a panic aborts the wasm module and every client on it; the library's rule holds
// here too (see its lib.rs).
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

mod arguments;
mod errors;
mod events;
mod hook;
mod options;
mod payload;

use arguments::{answer, call_maybe_async, protocol_list, retry_answer, url_source};
use errors::to_js_error;
use events::{deliver, Emit, EventKind};
use hook::open_hook;
use js_sys::{Array, Function, Reflect};
use payload::JsPayload;
use resocket::internals::{Connection, Messages};
use resocket::internals::{Core, DriverConfig, OpenHook};
use resocket::internals::{LocalBoxFuture, Target, UrlProvider, UrlSource};
use resocket::Error;
use resocket::{Event, State};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/reconnecting-websocket.js")]
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
        let options = options::read(&options)?;
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
        // With backpressure the core reads, so the class can hold its reading back.
        let reads_itself = options.is_pong.is_none()
            && options.machine.heartbeat.is_none()
            && options.on_open.is_none()
            && options.receive == resocket::Receive::Events;
        let on_socket = {
            let emit: Emit = JsValue::clone(&emit).unchecked_into();
            move |connection: &Connection<JsPayload>| {
                let none = JsValue::UNDEFINED;
                let reads = JsValue::from_bool(reads_itself);
                let socket = connection.socket();
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
                        .map(|connection| connection.socket().extensions())
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
                let predicate: Rc<dyn Fn(&resocket::CloseEvent) -> resocket::Retry> =
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
            // Events unless the class was asked for backpressure: a drop-in for the
            // browser's socket receives as it does.
            receive: options.receive,
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
            .map(|connection| connection.socket().url())
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

    /// Whether a connection that reads through `WebSocketStream` stops reading: the class's
    /// async iterators hold this many messages unread (`receive: 'backpressure'`).
    #[wasm_bindgen(js_name = holdReading)]
    pub fn hold_reading(&self, held: bool) {
        self.core.hold_reading(held);
    }
}

impl Drop for ReconnectingCore {
    fn drop(&mut self) {
        self.core.owner_dropped();
    }
}
