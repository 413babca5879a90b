//! The smallest useful app on resocket's reconnecting client: connect, exchange `count` echoes
//! (the first one queued before the connection is open), close. scripts/bench measures its
//! gzipped size and runs it once in the benchmark page.

use futures::{SinkExt, StreamExt};
use resocket::{Event, Message, Reconnecting};
use wasm_bindgen::prelude::*;

/// Sends `count` messages to an echo server through a reconnecting client and reads the
/// answers; returns how many came back.
#[wasm_bindgen]
pub async fn run(url: String, count: u32) -> Result<u32, JsValue> {
    let mut client = Reconnecting::connect(&url).map_err(to_js)?;
    let mut received = 0;
    if count > 0 {
        client.send(Message::from("hello")).await.map_err(to_js)?;
    }
    while received < count {
        match client.next().await {
            Some(Event::Message(_)) => {
                received += 1;
                if received < count {
                    client
                        .send(Message::from(vec![1u8, 2, 3]))
                        .await
                        .map_err(to_js)?;
                }
            }
            Some(_) => {}
            None => break,
        }
    }
    client.close(1000, "done").map_err(to_js)?;
    Ok(received)
}

fn to_js(error: resocket::Error) -> JsValue {
    JsValue::from_str(&error.to_string())
}
