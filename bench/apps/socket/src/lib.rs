//! The smallest useful app on resocket's single connection: connect, exchange `count` echoes
//! (text and binary), close. scripts/bench measures its gzipped size and runs it once in the
//! benchmark page, so the size is that of an app that works.

use futures::{SinkExt, StreamExt};
use resocket::{Message, WebSocket};
use wasm_bindgen::prelude::*;

/// Sends `count` messages to an echo server and reads the answers; returns the bytes read.
#[wasm_bindgen]
pub async fn run(url: String, count: u32) -> Result<u32, JsValue> {
    let socket = WebSocket::connect(&url).await.map_err(to_js)?;
    let closer = socket.closer();
    let (mut writer, mut reader) = socket.split();
    let mut bytes = 0;
    for n in 0..count {
        let message = if n % 2 == 0 {
            Message::from("hello")
        } else {
            Message::from(vec![1u8, 2, 3])
        };
        writer.send(message).await.map_err(to_js)?;
        match reader.next().await {
            Some(Ok(message)) => bytes += message.len() as u32,
            Some(Err(error)) => return Err(to_js(error)),
            None => break,
        }
    }
    closer.close(1000, "done").map_err(to_js)?;
    Ok(bytes)
}

fn to_js(error: resocket::Error) -> JsValue {
    JsValue::from_str(&error.to_string())
}
