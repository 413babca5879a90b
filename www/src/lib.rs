//! The demo page: connects to the bundled server's echo route, sends what is typed and shows
//! what comes back, with the connection's state.

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use resocket::{Message, WebSocket};
use wasm_bindgen::prelude::*;
use web_sys::{Document, HtmlInputElement};

#[wasm_bindgen(start)]
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        if let Err(error) = run().await {
            show_state(&format!("error: {error}"));
        }
    });
}

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

fn show_state(text: &str) {
    if let Some(element) = document().and_then(|d| d.get_element_by_id("state")) {
        element.set_text_content(Some(text));
    }
}

fn append_line(text: &str) {
    let Some(document) = document() else { return };
    let (Some(log), Ok(line)) = (
        document.get_element_by_id("log"),
        document.create_element("li"),
    ) else {
        return;
    };
    line.set_text_content(Some(text));
    let _ = log.append_child(&line);
}

async fn run() -> Result<(), resocket::Error> {
    show_state("connecting");
    // A relative URL: resolved against the page, http: becoming ws:.
    let socket = WebSocket::connect("/echo").await?;
    show_state(&format!("open: {}", socket.url()));
    let (mut writer, mut reader) = socket.split();

    let (typed, mut to_send) = mpsc::unbounded::<String>();
    let input: Option<HtmlInputElement> = document()
        .and_then(|d| d.get_element_by_id("message"))
        .and_then(|element| element.dyn_into().ok());
    let button = document().and_then(|d| d.get_element_by_id("send"));
    // Owned by this task for the life of the page, so the listener stays as long as the page.
    let _on_click = match (input, button) {
        (Some(input), Some(button)) => {
            let on_click = Closure::<dyn FnMut()>::new(move || {
                let _ = typed.unbounded_send(input.value());
                input.set_value("");
            });
            let _ =
                button.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
            Some(on_click)
        }
        _ => None,
    };

    let sending = async {
        while let Some(text) = to_send.next().await {
            append_line(&format!("sent: {text}"));
            writer.send(Message::Text(text)).await?;
        }
        Ok::<(), resocket::Error>(())
    };
    let receiving = async {
        while let Some(message) = reader.next().await {
            match message? {
                Message::Text(text) => append_line(&format!("echo: {text}")),
                Message::Binary(bytes) => append_line(&format!("echo: {} bytes", bytes.len())),
            }
        }
        Ok::<(), resocket::Error>(())
    };
    futures::future::try_join(sending, receiving).await?;
    show_state(&format!("closed: {:?}", reader.close_event()));
    Ok(())
}
