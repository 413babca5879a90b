//! Uses both clients, so every part of the crate is type-checked against the oldest
//! wasm-bindgen, js-sys and web-sys it allows.

use futures::{SinkExt, StreamExt};
use resocket::{Message, ReconnectOptions, Reconnecting, WebSocket};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub async fn echo_once(url: String) -> Result<(), JsValue> {
    let to_js = |error: resocket::Error| JsValue::from_str(&error.to_string());
    let mut socket = WebSocket::connect(&url).await.map_err(to_js)?;
    socket.send(Message::from("hello")).await.map_err(to_js)?;
    let _ = socket.next().await;
    let mut client = Reconnecting::connect_with(ReconnectOptions::new(url)).map_err(to_js)?;
    client.send(Message::from("hello")).await.map_err(to_js)?;
    let _ = client.next().await;
    Ok(())
}
