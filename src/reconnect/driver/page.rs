//! What the driver hears from the page: online, offline and visibility, through listeners on
//! the global object and the document, and the randomness each client's jitter starts from.

use crate::listener::EventListener;
use crate::reconnect::Input;
use std::any::Any;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// Listens for the browser going online or offline and the page becoming visible, and
/// passes each to `input`. The listeners stay until the returned list is dropped.
pub(super) fn browser_listeners(input: Rc<dyn Fn(Input)>) -> Result<Vec<Box<dyn Any>>, JsValue> {
    let global = js_sys::global();
    let mut listeners: Vec<Box<dyn Any>> = Vec::with_capacity(3);
    // Node, and other runtimes with no page: nothing to hear.
    if !global_property(&global, "addEventListener").is_some_and(|add| add.is_function()) {
        return Ok(listeners);
    }
    let global: web_sys::EventTarget = global.unchecked_into();
    for (event_type, event) in [("online", Input::Online), ("offline", Input::Offline)] {
        let input = Rc::clone(&input);
        listeners.push(Box::new(EventListener::new(
            &global,
            event_type,
            move |_: web_sys::Event| input(event.clone()),
        )?));
    }
    if let Some(document) = global_property(&global, "document") {
        let target: web_sys::EventTarget = document.clone().unchecked_into();
        listeners.push(Box::new(EventListener::new(
            &target,
            "visibilitychange",
            move |_: web_sys::Event| {
                let visible = global_property(&document, "visibilityState")
                    .and_then(|state| state.as_string())
                    .is_some_and(|state| state == "visible");
                if visible {
                    input(Input::Visible);
                }
            },
        )?));
    }
    Ok(listeners)
}

fn global_property(object: &JsValue, name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

/// `navigator.onLine`, taken as true where there is no navigator to ask.
pub(super) fn navigator_on_line() -> bool {
    global_property(&js_sys::global(), "navigator")
        .and_then(|navigator| global_property(&navigator, "onLine"))
        .and_then(|on_line| on_line.as_bool())
        .unwrap_or(true)
}

/// A seed for the backoff jitter that differs between clients and tabs.
pub(super) fn random_seed() -> u64 {
    let high = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let low = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (high << 32) | low
}
