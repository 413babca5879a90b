//! bench/apps/socket's app on web-sys alone: connect, exchange `count` echoes (text and
//! binary), close. Errors are strings and there is no backpressure, no typed close, no
//! listener cleanup beyond dropping the closures: the least an app can do, for its size.

use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

enum Incoming {
    Open,
    Message(JsValue),
    Closed,
}

/// Sends `count` messages to an echo server and reads the answers; returns the bytes read.
#[wasm_bindgen]
pub async fn run(url: String, count: u32) -> Result<u32, JsValue> {
    let socket = WebSocket::new(&url)?;
    socket.set_binary_type(BinaryType::Arraybuffer);
    let (sender, mut incoming) = mpsc::unbounded();
    let on_open = {
        let sender = sender.clone();
        Closure::<dyn FnMut()>::new(move || {
            let _ = sender.unbounded_send(Incoming::Open);
        })
    };
    let on_message = {
        let sender = sender.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let _ = sender.unbounded_send(Incoming::Message(event.data()));
        })
    };
    let on_close = Closure::<dyn FnMut()>::new(move || {
        let _ = sender.unbounded_send(Incoming::Closed);
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    if !matches!(incoming.next().await, Some(Incoming::Open)) {
        return Err("closed before it opened".into());
    }
    let mut bytes = 0;
    for n in 0..count {
        if n % 2 == 0 {
            socket.send_with_str("hello")?;
        } else {
            socket.send_with_u8_array(&[1, 2, 3])?;
        }
        match incoming.next().await {
            Some(Incoming::Message(data)) => {
                bytes += match data.as_string() {
                    Some(text) => text.len() as u32,
                    None => Uint8Array::new(&data.unchecked_into::<ArrayBuffer>()).length(),
                }
            }
            _ => break,
        }
    }
    socket.close_with_code_and_reason(1000, "done")?;
    Ok(bytes)
}
