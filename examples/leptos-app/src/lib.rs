//! A Leptos page (client-side rendering) showing a live feed from the bundled test server's
//! `/ticker` route through resocket's reconnecting client, with the connection state, and a
//! button that sends through the same client.
//!
//! The task that owns the client, and the feed it shows, are in `examples/feed`; the component
//! holds only a sender to that task. When the component is cleaned up it closes that channel,
//! the task ends, and the client goes with it: no socket, timer or listener outlives the page.

use futures::channel::mpsc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use resocket_example_feed::{run, Feed};
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(Ticker);
}

#[component]
fn Ticker() -> impl IntoView {
    let feed = RwSignal::new(Feed::default());
    let (outbox, inbox) = mpsc::unbounded::<String>();
    spawn_local(run(inbox, move |next| feed.set(next)));
    let closer = outbox.clone();
    on_cleanup(move || closer.close_channel());

    let send = move |_| {
        let tick = feed.read().tick.unwrap_or_default();
        // Fails only once the task has ended, when there is nothing left to send to.
        let _ = outbox.unbounded_send(format!("hello at tick {tick}"));
    };

    view! {
        <h1>"resocket + Leptos"</h1>
        <dl>
            <dt>"Connection"</dt>
            <dd id="state">{move || feed.read().state}</dd>
            <dt>"Latest tick"</dt>
            <dd id="tick">{move || feed.read().tick.map_or("-".to_owned(), |t| t.to_string())}</dd>
            <dt>"Ticks received"</dt>
            <dd id="received">{move || feed.read().received}</dd>
            <dt>"Reconnects"</dt>
            <dd id="reconnects">{move || feed.read().opens.saturating_sub(1)}</dd>
            <dt>"Messages sent"</dt>
            <dd id="sent">{move || feed.read().sent}</dd>
            <dt>"Last event"</dt>
            <dd id="note">{move || feed.read().note.clone()}</dd>
        </dl>
        <button id="send" on:click=send>"Send hello"</button>
    }
}
