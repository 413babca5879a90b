//! A Yew page showing a live feed from the bundled test server's `/ticker` route through
//! resocket's reconnecting client, with the connection state, and a button that sends
//! through the same client.
//!
//! The task that owns the client, and the feed it shows, are in `examples/feed`; the component
//! holds only a sender to that task. When the component unmounts, the effect's teardown closes
//! that channel, the task ends, and the client goes with it: no socket, timer or listener
//! outlives the page.

use futures::channel::mpsc::{self, UnboundedSender};
use resocket_example_feed::{run, Feed};
use wasm_bindgen::prelude::wasm_bindgen;
use yew::platform::spawn_local;
use yew::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<Ticker>::new().render();
}

#[function_component]
fn Ticker() -> Html {
    let feed = use_state(Feed::default);
    let outbox = use_state(|| None::<UnboundedSender<String>>);
    {
        let (feed, outbox) = (feed.setter(), outbox.setter());
        // Runs once after the first render; what it returns runs at unmount.
        use_effect_with((), move |()| {
            let (sender, inbox) = mpsc::unbounded();
            outbox.set(Some(sender.clone()));
            spawn_local(run(inbox, move |next| feed.set(next)));
            move || sender.close_channel()
        });
    }

    let send = {
        let (outbox, tick) = (outbox.clone(), feed.tick.unwrap_or_default());
        Callback::from(move |_: MouseEvent| {
            if let Some(outbox) = outbox.as_ref() {
                // Fails only once the task has ended, when there is nothing left to send to.
                let _ = outbox.unbounded_send(format!("hello at tick {tick}"));
            }
        })
    };

    html! {
        <>
            <h1>{ "resocket + Yew" }</h1>
            <dl>
                <dt>{ "Connection" }</dt>
                <dd id="state">{ feed.state }</dd>
                <dt>{ "Latest tick" }</dt>
                <dd id="tick">{ feed.tick.map_or("-".to_owned(), |t| t.to_string()) }</dd>
                <dt>{ "Ticks received" }</dt>
                <dd id="received">{ feed.received }</dd>
                <dt>{ "Reconnects" }</dt>
                <dd id="reconnects">{ feed.opens.saturating_sub(1) }</dd>
                <dt>{ "Messages sent" }</dt>
                <dd id="sent">{ feed.sent }</dd>
                <dt>{ "Last event" }</dt>
                <dd id="note">{ feed.note.clone() }</dd>
            </dl>
            <button id="send" onclick={send}>{ "Send hello" }</button>
        </>
    }
}
