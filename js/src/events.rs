//! How the core's events reach the class: one call of its `emit(kind, a, b, c)` each.

use super::*;

#[wasm_bindgen]
extern "C" {
    /// The class's `emit(kind, a, b, c)` callback.
    pub(super) type Emit;

    #[wasm_bindgen(method, catch, js_name = call)]
    pub(super) fn call(
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
pub(super) enum EventKind {
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

/// Turns one event into a call of the class's `emit`.
pub(super) fn deliver(emit: &Emit, event: Event<JsPayload>, extensions: &str) {
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
        // `Lagged`: only a stream that is not read lags, and the class is handed every event
        // at once. An event kind this binding does not know yet (the enum is
        // non-exhaustive) is not the class's to announce: it has no listener name for it.
        _ => return,
    };
    if let Err(thrown) = emit.call(&JsValue::UNDEFINED, kind as u32, &a, &b, &c) {
        // Listeners' exceptions are caught by dispatchEvent; this is one from the class
        // itself. It must not unwind through the driver, so it is reported, not thrown.
        report_error(&thrown);
    }
}

pub(super) fn values(messages: Vec<JsPayload>) -> JsValue {
    messages
        .into_iter()
        .map(|message| message.value)
        .collect::<Array>()
        .into()
}
