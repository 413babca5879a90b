//! Event listeners that remove themselves.
//!
//! A listener is added with `addEventListener` (never an `on*` property, which would clobber
//! a handler someone else set) and owned by an [`EventListener`] guard: dropping the guard
//! removes the listener and frees its closure. Nothing here is ever forgotten, so a client that
//! reconnects all day does not leak a closure per connection.

use std::cell::Cell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, EventTarget};

thread_local! {
    // Counted so tests can show that no listener outlives its socket.
    static LIVE_LISTENERS: Cell<usize> = const { Cell::new(0) };
}

/// How many listeners resocket has in place right now, across all sockets.
///
/// Meant for leak checks: after every connection has been dropped it is zero.
pub fn live_listeners() -> usize {
    LIVE_LISTENERS.with(Cell::get)
}

/// A listener for one event type on one target; dropping it removes the listener.
#[must_use = "the listener is removed as soon as the guard is dropped"]
pub(crate) struct EventListener {
    target: EventTarget,
    event_type: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl EventListener {
    /// Adds `callback` as a listener for `event_type` on `target`.
    ///
    /// The callback receives the event as `E` without a runtime type check: web-sys getters
    /// are plain property reads, so an event of an unexpected class reads as `undefined`
    /// fields instead of failing, and each caller treats those as "not for us".
    pub(crate) fn new<E, F>(
        target: &EventTarget,
        event_type: &'static str,
        mut callback: F,
    ) -> Result<Self, JsValue>
    where
        E: JsCast,
        F: FnMut(E) + 'static,
    {
        let callback = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            callback(event.unchecked_into::<E>());
        });
        target.add_event_listener_with_callback(event_type, callback.as_ref().unchecked_ref())?;
        LIVE_LISTENERS.with(|live| live.set(live.get() + 1));
        Ok(EventListener {
            target: target.clone(),
            event_type,
            callback,
        })
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        // removeEventListener does not throw for a listener that is already gone, and a Drop
        // has nobody to report to, so the result is deliberately ignored.
        let _ = self.target.remove_event_listener_with_callback(
            self.event_type,
            self.callback.as_ref().unchecked_ref(),
        );
        LIVE_LISTENERS.with(|live| live.set(live.get().saturating_sub(1)));
    }
}
