//! The JavaScript class's payload: the caller's own JS value, never copied into wasm memory.

use resocket::internals::Payload;
use resocket::internals::Wire;
use resocket::Error;
use resocket::Refusal;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A string, `ArrayBuffer`, view or `Blob` as the caller gave it (or as the browser delivered
/// it), with its size in bytes as `bufferedAmount` counts it.
#[derive(Debug, Clone)]
pub(crate) struct JsPayload {
    pub(crate) value: JsValue,
    pub(crate) bytes: usize,
}

#[wasm_bindgen]
extern "C" {
    /// A browser `WebSocket`, seen through a `send` that takes any value, so strings are
    /// not copied through wasm on their way out.
    type AnySocket;

    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &AnySocket, data: &JsValue) -> Result<(), JsValue>;
}

impl Payload for JsPayload {
    fn byte_len(&self) -> usize {
        self.bytes
    }

    // The JavaScript caller still holds what it passed to `send`, so nothing needs handing
    // back: the error only says why.
    fn refused(self, refusal: Refusal) -> Error {
        Error::Refused { refusal }
    }
}

impl Wire for JsPayload {
    fn from_data(data: JsValue) -> Result<Self, Error> {
        Ok(JsPayload {
            value: data,
            bytes: 0,
        })
    }

    fn send_on(&self, socket: &web_sys::WebSocket) -> Result<(), JsValue> {
        socket.unchecked_ref::<AnySocket>().send(&self.value)
    }

    fn to_js(&self) -> JsValue {
        self.value.clone()
    }
}
