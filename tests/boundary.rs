//! Browser tests of the boundary between resocket and the code that uses it: values, callbacks
//! and timing a hostile or careless user can produce. In a page a panic aborts the wasm module
//! and every connection on it, so each of these would abort this whole test module if the
//! library panicked.
//!
//! Covered, one behaviour per test:
//! - every callback of `Reconnecting` (URL provider, open hook, reconnect predicate, pong
//!   matcher) may call `close()`, `send()`, `reconnect()`, dispatch `offline`/`online`
//!   synchronously, or start a new client, and the client goes on;
//! - `close()` while the URL provider resolves (from inside it, or from outside while it
//!   awaits) opens no socket afterwards;
//! - the event stream ends after `GaveUp`, and `reconnect()` starts it again;
//! - a stream nobody reads keeps at most `max_unread_messages` messages, and says how many
//!   it let go (`Event::Lagged`);
//! - the open hook's writer refuses to send once the hook has ended;
//! - a connect timeout a browser timer cannot wait is an `InvalidOption`, for `WebSocket` and
//!   `Reconnecting`;
//! - thousands of generated option values give either a client or the documented error,
//!   and a fresh client still connects and echoes afterwards;
//! - after a connect timeout, no retry comes sooner than the timeout (so Firefox cannot pile
//!   up abandoned handshakes);
//! - a page that replaces `window.WebSocket` does not change what resocket constructs: the
//!   browser's constructor is captured when the module loads.
#![cfg(target_arch = "wasm32")]

mod common;

use common::reconnecting::*;
use common::*;
use futures::{SinkExt, StreamExt};
use resocket::{
    Backoff, ConnectOptions, Error, Event, Heartbeat, Jitter, Message, QueueLimits,
    ReconnectOptions, Reconnecting, ReconnectingHandle, State, WebSocket, Writer, MAX_TIMER_DELAY,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What a callback does to the client it belongs to.
#[derive(Debug, Clone, Copy)]
enum CallBack {
    Close,
    Send,
    Reconnect,
    /// Dispatches `offline` then `online` on the page, synchronously.
    OfflineOnline,
    /// Starts another client (kept until the test ends).
    NewClient,
}

const CALL_BACKS: [CallBack; 5] = [
    CallBack::Close,
    CallBack::Send,
    CallBack::Reconnect,
    CallBack::OfflineOnline,
    CallBack::NewClient,
];

/// Where a callback finds its own client, and what it did.
#[derive(Clone, Default)]
struct Slot {
    handle: Rc<RefCell<Option<ReconnectingHandle>>>,
    calls: Rc<Cell<u32>>,
    others: Rc<RefCell<Vec<Reconnecting>>>,
}

impl Slot {
    /// Does `what` to the client, the first time only (so `reconnect()` cannot loop for ever).
    fn call_back(&self, what: CallBack) {
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() > 1 {
            return;
        }
        let Some(handle) = self.handle.borrow().clone() else {
            panic!("the callback ran before connect_with returned");
        };
        match what {
            CallBack::Close => {
                handle.close(1000, "from a callback").expect("close");
            }
            CallBack::Send => {
                // Queued or sent: either is fine, as long as it is an answer, not a panic.
                let _ = handle.send(Message::from("from a callback"));
            }
            CallBack::Reconnect => handle.reconnect(),
            CallBack::OfflineOnline => {
                dispatch("offline");
                dispatch("online");
            }
            CallBack::NewClient => self.others.borrow_mut().push(start(options("/echo"))),
        }
    }
}

/// Starts a client with `options`, gives its callbacks their handle, and waits until a
/// callback has run and the client has settled: closed (after `close()`) or open.
async fn run_with_callback(options: ReconnectOptions, slot: &Slot, what: CallBack, name: &str) {
    let mut client = start(options);
    *slot.handle.borrow_mut() = Some(client.handle());
    within(10, &format!("{name} calling {what:?}"), async {
        while slot.calls.get() == 0 {
            match client.next().await {
                Some(_) => {}
                None => break,
            }
        }
    })
    .await;
    assert!(slot.calls.get() > 0, "{name} was never called");
    match what {
        CallBack::Close => {
            within(10, "the end of the events", async {
                while client.next().await.is_some() {}
            })
            .await;
            assert_eq!(client.state(), State::Closed);
        }
        _ => {
            client.reconnect();
            until_open(&mut client, 10).await;
        }
    }
    client.close(1000, "").expect("close");
    let others = std::mem::take(&mut *slot.others.borrow_mut());
    for mut other in others {
        other.close(1000, "").expect("close the other client");
        while other.next().await.is_some() {}
    }
}

#[wasm_bindgen_test]
async fn the_url_provider_may_call_back_into_the_client() {
    for what in CALL_BACKS {
        let slot = Slot::default();
        let inside = slot.clone();
        let options = ReconnectOptions::with_url_provider(move || {
            inside.call_back(what);
            async { Ok(url("/echo")) }
        })
        .backoff(quick_backoff());
        run_with_callback(options, &slot, what, "the URL provider").await;
    }
}

#[wasm_bindgen_test]
async fn the_open_hook_may_call_back_into_the_client() {
    for what in CALL_BACKS {
        let slot = Slot::default();
        let inside = slot.clone();
        let options = options("/echo").on_open(move |_writer| {
            inside.call_back(what);
            async { Ok(()) }
        });
        run_with_callback(options, &slot, what, "the open hook").await;
    }
}

#[wasm_bindgen_test]
async fn the_reconnect_predicate_may_call_back_into_the_client() {
    for what in CALL_BACKS {
        let slot = Slot::default();
        let inside = slot.clone();
        // The server closes cleanly 50 ms after each open, so the predicate is asked.
        let options = options("/close?code=4001&delay=50").should_reconnect(move |_| {
            inside.call_back(what);
            true
        });
        run_with_callback(options, &slot, what, "the reconnect predicate").await;
    }
}

#[wasm_bindgen_test]
async fn the_pong_matcher_may_call_back_into_the_client() {
    for what in CALL_BACKS {
        let slot = Slot::default();
        let inside = slot.clone();
        // Every message from the server is shown to the matcher; /burst sends some at once.
        let options = options("/burst?count=3").is_pong(move |_| {
            inside.call_back(what);
            false
        });
        run_with_callback(options, &slot, what, "the pong matcher").await;
    }
}

#[wasm_bindgen_test]
async fn close_from_inside_the_url_provider_opens_no_socket() {
    const ROUTE: &str = "/never-opened-from-inside";
    let attempts_before = attempts_on(ROUTE).await;
    let slot = Slot::default();
    let inside = slot.clone();
    let options = ReconnectOptions::with_url_provider(move || {
        inside.call_back(CallBack::Close);
        async { Ok(url(ROUTE)) }
    });
    let mut client = start(options);
    *slot.handle.borrow_mut() = Some(client.handle());
    within(5, "the end of the events", async {
        while client.next().await.is_some() {}
    })
    .await;
    assert_eq!(slot.calls.get(), 1);
    sleep(300).await;
    assert_eq!(
        attempts_on(ROUTE).await,
        attempts_before,
        "a socket was opened after close()"
    );
}

#[wasm_bindgen_test]
async fn close_while_an_async_url_provider_awaits_opens_no_socket() {
    const ROUTE: &str = "/never-opened-after-await";
    let attempts_before = attempts_on(ROUTE).await;
    // Closed from outside while the provider awaits.
    let options = ReconnectOptions::with_url_provider(|| async {
        sleep(200).await;
        Ok(url(ROUTE))
    });
    let mut client = start(options);
    sleep(50).await;
    assert!(matches!(client.state(), State::Connecting { .. }));
    client.close(1000, "").expect("close");
    within(5, "the end of the events", async {
        while client.next().await.is_some() {}
    })
    .await;
    // Closed from inside the provider, after an await, just before it answers.
    let slot = Slot::default();
    let inside = slot.clone();
    let options = ReconnectOptions::with_url_provider(move || {
        let inside = inside.clone();
        async move {
            sleep(100).await;
            inside.call_back(CallBack::Close);
            Ok(url(ROUTE))
        }
    });
    let mut client = start(options);
    *slot.handle.borrow_mut() = Some(client.handle());
    within(5, "the end of the events", async {
        while client.next().await.is_some() {}
    })
    .await;
    assert_eq!(slot.calls.get(), 1);
    sleep(400).await;
    assert_eq!(
        attempts_on(ROUTE).await,
        attempts_before,
        "a socket was opened after close()"
    );
}

#[wasm_bindgen_test]
async fn the_event_stream_ends_after_giving_up_and_reconnect_starts_it_again() {
    let refused = format!("ws://127.0.0.1:{}/", closed_port());
    let options = ReconnectOptions::new(refused)
        .backoff(quick_backoff().max_retries(Some(1)))
        .connect_timeout(ms(2000));
    let mut client = start(options);
    let mut events = Vec::new();
    within(10, "the end of the events", async {
        while let Some(event) = client.next().await {
            events.push(event);
        }
    })
    .await;
    assert!(
        matches!(events.last(), Some(Event::GaveUp { .. })),
        "the last event was not GaveUp: {events:?}"
    );
    assert_eq!(client.state(), State::GaveUp);
    assert!(futures::stream::FusedStream::is_terminated(&client));

    client.reconnect();
    assert!(!futures::stream::FusedStream::is_terminated(&client));
    let again = within(10, "events after reconnect()", client.next()).await;
    assert!(
        again.is_some(),
        "reconnect() did not start the stream again"
    );
    client.close(1000, "").expect("close");
    while within(10, "end", client.next()).await.is_some() {}
}

#[wasm_bindgen_test]
async fn an_unread_stream_keeps_a_bounded_number_of_messages_and_says_how_many_went() {
    let mut client = start(options("/burst?count=50").max_unread_messages(5));
    // Nobody reads while the burst arrives.
    sleep(1000).await;
    let mut seen = Vec::new();
    loop {
        let event = within(5, "the burst", client.next())
            .await
            .expect("events go on");
        let last = matches!(&event, Event::Message(message) if message.as_text() == Some("49"));
        seen.push(event);
        if last {
            break;
        }
    }
    let seen: Vec<String> = seen
        .into_iter()
        .filter_map(|event| match event {
            Event::Message(message) => Some(format!("message {}", message.as_text()?)),
            Event::Lagged { missed } => Some(format!("lagged {missed}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        seen,
        [
            "lagged 45",
            "message 45",
            "message 46",
            "message 47",
            "message 48",
            "message 49"
        ]
    );
    client.close(1000, "").expect("close");
    assert!(
        Reconnecting::connect_with(options("/echo").max_unread_messages(0)).is_err(),
        "a bound of 0 would lose every message"
    );
}

#[wasm_bindgen_test]
async fn the_open_hooks_writer_refuses_to_send_after_the_hook_ended() {
    let kept: Rc<RefCell<Option<Writer>>> = Rc::default();
    let keep = Rc::clone(&kept);
    let options = options("/echo").on_open(move |mut writer| {
        let keep = Rc::clone(&keep);
        async move {
            writer.send(Message::from("from the hook")).await?;
            *keep.borrow_mut() = Some(writer);
            Ok(())
        }
    });
    let mut client = start(options);
    until_open(&mut client, 10).await;
    assert_eq!(
        until_message(&mut client, 10).await,
        Message::from("from the hook")
    );
    let mut writer = kept.borrow_mut().take().expect("the hook kept its writer");
    assert_eq!(
        writer.send(Message::from("late")).await,
        Err(Error::Closed),
        "the hook's writer still sends after the hook"
    );
    client.close(1000, "").expect("close");
}

fn invalid_option(result: Result<impl Sized, Error>) -> Option<&'static str> {
    match result {
        Err(Error::InvalidOption { option, .. }) => Some(option),
        _ => None,
    }
}

#[wasm_bindgen_test]
async fn connect_timeouts_a_browser_timer_cannot_wait_are_invalid_options() {
    let too_long = [
        Duration::ZERO,
        MAX_TIMER_DELAY + ms(1),
        ms(1 << 31),
        ms(u64::from(u32::MAX) + 1),
        Duration::MAX,
    ];
    for timeout in too_long {
        let connect_options = ConnectOptions::default().connect_timeout(timeout);
        let result = WebSocket::connect_with(&url("/echo"), connect_options).await;
        assert_eq!(
            invalid_option(result),
            Some("connect_timeout"),
            "WebSocket with {timeout:?}"
        );
        let result = Reconnecting::connect_with(options("/echo").connect_timeout(timeout));
        assert_eq!(
            invalid_option(result),
            Some("connect_timeout"),
            "Reconnecting with {timeout:?}"
        );
    }
    // The longest that works still connects.
    let options = ConnectOptions::default().connect_timeout(MAX_TIMER_DELAY);
    let socket = WebSocket::connect_with(&url("/echo"), options).await;
    assert!(socket.is_ok(), "{:?}", socket.err());
}

/// A small deterministic generator, so a failure can be replayed.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<T: Copy>(&mut self, values: &[T]) -> T {
        values[(self.next() % values.len() as u64) as usize]
    }

    /// One of `valid` three times in four, else one of `odd`: most cases get past the first
    /// check, so every later one is reached too.
    fn mostly<T: Copy>(&mut self, valid: &[T], odd: &[T]) -> T {
        if self.next() % 4 == 0 {
            self.pick(odd)
        } else {
            self.pick(valid)
        }
    }
}

const GOOD_DURATIONS: [Duration; 5] = [
    Duration::from_nanos(1),
    Duration::from_millis(1),
    Duration::from_millis(500),
    Duration::from_secs(30),
    MAX_TIMER_DELAY,
];

const ODD_DURATIONS: [Duration; 5] = [
    Duration::ZERO,
    Duration::from_millis(i32::MAX as u64 + 1),
    Duration::from_millis(u32::MAX as u64 + 1),
    Duration::from_secs(u64::MAX),
    Duration::MAX,
];

/// What the documentation promises for one setting: `None` if valid.
fn timer_problem(duration: Duration, may_be_zero: bool) -> bool {
    (duration.is_zero() && !may_be_zero) || duration > MAX_TIMER_DELAY
}

#[wasm_bindgen_test]
async fn thousands_of_generated_options_give_a_client_or_the_documented_error() {
    let mut generator = Generator(0x5EED_1234_ABCD_0001);
    let (good, odd) = (&GOOD_DURATIONS, &ODD_DURATIONS);
    let good_factors = [1.0, 1.5, 2.0, 1e308];
    let odd_factors = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.0,
        0.0,
        0.5,
        -0.0,
    ];
    let counts = [0, 1, 1000, usize::MAX];
    let (mut clients, mut refused) = (0, 0);
    for case in 0..3000 {
        let min = generator.mostly(good, odd);
        let max = generator.mostly(good, odd);
        let stable = generator.mostly(good, odd);
        let factor = generator.mostly(&good_factors, &odd_factors);
        let timeout = generator.mostly(good, odd);
        let interval = generator.mostly(good, odd);
        let pong = generator.mostly(good, odd);
        let heartbeat = generator.next() % 2 == 0;
        let jitter = generator.pick(&[Jitter::None, Jitter::Full, Jitter::Decorrelated]);
        let retries = generator.pick(&[None, Some(0), Some(u32::MAX)]);
        let unread = generator.mostly(&[1, 1000, usize::MAX], &[0]);
        let backoff = Backoff::default()
            .min_delay(min)
            .max_delay(max)
            .stable_after(stable)
            .factor(factor)
            .jitter(jitter)
            .max_retries(retries);
        let mut options = ReconnectOptions::new(format!("ws://127.0.0.1:{}/", closed_port()))
            .backoff(backoff)
            .queue(
                QueueLimits::default()
                    .max_messages(generator.pick(&counts))
                    .max_bytes(generator.pick(&counts)),
            )
            .high_water_mark(generator.pick(&[0, 1, u32::MAX]))
            .connect_timeout(timeout)
            .max_unread_messages(unread);
        if heartbeat {
            options = options.heartbeat(Heartbeat::new(interval, pong));
        }
        // The documented rules, written out independently of the library, in the order
        // they are checked.
        let expected = if unread == 0 {
            Some("max_unread_messages")
        } else if min.is_zero() {
            Some("min_delay")
        } else if timer_problem(max, true) {
            Some("max_delay")
        } else if timer_problem(stable, true) {
            Some("stable_after")
        } else if min > max {
            Some("min_delay")
        } else if !factor.is_finite() || factor < 1.0 {
            Some("factor")
        } else if timer_problem(timeout, false) {
            Some("connect_timeout")
        } else if heartbeat && timer_problem(interval, false) {
            Some("heartbeat.interval")
        } else if heartbeat && timer_problem(pong, false) {
            Some("heartbeat.timeout")
        } else {
            None
        };
        match Reconnecting::connect_with(options) {
            Ok(mut client) => {
                assert_eq!(expected, None, "case {case}: accepted");
                // Closed before its first attempt: no socket is made.
                client.close(1000, "").expect("close");
                assert!(client.next().await.is_none());
                clients += 1;
            }
            Err(Error::InvalidOption { option, reason }) => {
                assert_eq!(Some(option), expected, "case {case}: {option}: {reason}");
                assert!(!reason.is_empty());
                refused += 1;
            }
            Err(other) => panic!("case {case}: not the documented error: {other}"),
        }
    }
    console_log!("generated options: {clients} clients, {refused} refused");
    assert!(
        clients > 100 && refused > 100,
        "the cases did not cover both"
    );

    // Values of the other entry points.
    for code in 0..=u16::MAX {
        let valid = code == 1000 || (3000..=4999).contains(&code);
        assert_eq!(
            resocket::validate_close(code, "").is_ok(),
            valid,
            "code {code}"
        );
    }
    let long = "é".repeat(62);
    assert!(matches!(
        resocket::validate_close(1000, &long),
        Err(Error::CloseReasonTooLong { bytes: 124 })
    ));
    let bad_urls = [
        "ftp://x",
        "ws://",
        "ws://[::1",
        "#",
        "ws://x/#f",
        "javascript:alert(1)",
        "ws://x:99999/",
        "http://[",
    ];
    for url in bad_urls {
        let result = Reconnecting::connect(url);
        assert!(
            matches!(result, Err(Error::InvalidUrl { .. })),
            "{url:?}: {:?}",
            result.err()
        );
    }
    for protocols in [vec![""], vec!["a b"], vec!["x", "x"], vec!["é"]] {
        let result = Reconnecting::connect_with(options("/echo").protocols(protocols.clone()));
        assert!(
            matches!(result, Err(Error::InvalidProtocol { .. })),
            "{protocols:?}: {:?}",
            result.err()
        );
    }

    // And the module is still alive: a fresh client connects and echoes.
    let mut client = start(options("/echo"));
    until_open(&mut client, 10).await;
    client
        .send(Message::from("still alive"))
        .await
        .expect("send");
    assert_eq!(
        until_message(&mut client, 10).await,
        Message::from("still alive")
    );
    client.close(1000, "").expect("close");
}

#[wasm_bindgen_test]
async fn no_retry_comes_sooner_than_the_connect_timeout() {
    const TIMEOUT: u64 = 300;
    let attempts_before = attempts_on("/stall").await;
    let options = options("/stall")
        .backoff(Backoff::default().min_delay(ms(10)).jitter(Jitter::None))
        .connect_timeout(ms(TIMEOUT));
    let mut client = start(options);
    sleep(2100).await;
    let attempts = attempts_on("/stall").await - attempts_before;
    client.close(1000, "").expect("close");
    let mut delays = Vec::new();
    while let Some(event) = within(5, "the events", client.next()).await {
        if let Event::Reconnecting { delay, .. } = event {
            delays.push(delay);
        }
    }
    assert!(delays.len() >= 2, "too few retries to judge: {delays:?}");
    assert!(
        delays.iter().all(|delay| *delay >= ms(TIMEOUT)),
        "a retry came sooner than the connect timeout: {delays:?}"
    );
    // Handshakes at 0, 600, 1200 and 1800 ms at most, where the bare backoff (10, 20, 40,
    // 80, 160 ms after each 300 ms timeout) would have started six.
    assert!(attempts <= 4, "{attempts} handshakes in 2.1 s");
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
let saved;
export function replace_global_web_socket() {
  saved = globalThis.WebSocket;
  let constructed = 0;
  globalThis.WebSocket = function () { constructed += 1; throw new Error('the replaced global was constructed'); };
  globalThis.WebSocket.constructed = () => constructed;
}
export function replaced_constructions() { return globalThis.WebSocket.constructed(); }
export function restore_global_web_socket() { globalThis.WebSocket = saved; }
"#)]
extern "C" {
    fn replace_global_web_socket();
    fn replaced_constructions() -> u32;
    fn restore_global_web_socket();
}

#[wasm_bindgen_test]
async fn a_page_that_replaces_the_global_web_socket_does_not_change_what_resocket_opens() {
    replace_global_web_socket();
    let socket = WebSocket::connect(&url("/echo")).await;
    let mut client = start(options("/echo"));
    let opened = within(10, "open", async {
        loop {
            match client.next().await {
                Some(Event::Open { .. }) => return true,
                Some(_) => {}
                None => return false,
            }
        }
    })
    .await;
    let constructed = replaced_constructions();
    restore_global_web_socket();
    assert!(socket.is_ok(), "{:?}", socket.err());
    assert!(opened, "the reconnecting client did not open");
    assert_eq!(constructed, 0, "resocket constructed the replaced global");
    client.close(1000, "").expect("close");
}
