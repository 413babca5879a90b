//! The supervisor's behaviours, one per test:
//! connecting and opening; sending while open, down and closed; the open hook; backoff after
//! failures and its reset once stable; giving up by policy and by retry limit; stale socket
//! events; connect and heartbeat timeouts; `reconnect()`; `close()` from every state;
//! offline, online and visible; re-queueing what a dead connection may not have sent (what
//! `bufferedAmount` covers and the window before it), and reporting exactly what a connection
//! closed by `close()` never sent.

use super::notice::Notice;
use super::*;
use crate::{Backoff, CloseEvent, Error, Jitter, Message, Overflow, QueueLimits};
use std::time::Duration;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn text(s: &str) -> Message {
    Message::from(s)
}

/// Exact delays (no jitter) and no connect timeout, unless a test says otherwise.
fn config() -> MachineConfig {
    MachineConfig::default()
        .backoff(Backoff::default().jitter(Jitter::None))
        .connect_timeout(None)
}

fn abnormal() -> CloseEvent {
    CloseEvent {
        code: 1006,
        reason: String::new(),
        was_clean: false,
    }
}

fn closed_with(code: u16) -> CloseEvent {
    CloseEvent {
        code,
        reason: "bye".into(),
        was_clean: true,
    }
}

/// A machine and the actions of the last step.
struct Client {
    machine: Machine,
    out: Vec<Action>,
}

impl Client {
    fn new(config: MachineConfig) -> Self {
        Client {
            machine: Machine::new(config, 1).expect("valid test configuration"),
            out: Vec::new(),
        }
    }

    /// A client whose ledger keeps `window` bytes beyond `bufferedAmount` instead of
    /// [`RESEND_WINDOW`], so a few small messages can straddle the boundary.
    fn with_window(config: MachineConfig, window: u64) -> Self {
        let mut client = Client::new(config);
        client.machine.set_resend_window(window);
        client
    }

    fn step(&mut self, input: Input) -> Vec<Action> {
        self.out.clear();
        self.machine.handle(input, &mut self.out);
        self.out.clone()
    }

    fn send(&mut self, message: Message) -> Result<Vec<Action>, Error> {
        self.out.clear();
        self.machine.send(message, &mut self.out)?;
        Ok(self.out.clone())
    }

    fn close(&mut self) -> (Vec<Message>, Vec<Action>) {
        self.out.clear();
        let returned = self
            .machine
            .close(1000, "done", &mut self.out)
            .expect("valid close");
        (returned, self.out.clone())
    }

    /// Start and return the first socket's id.
    fn start(&mut self) -> u64 {
        connect_id(&self.step(Input::Start)).expect("start connects")
    }

    fn open(&mut self, id: u64) -> Vec<Action> {
        self.step(Input::Opened {
            id,
            protocol: "chat".into(),
        })
    }

    /// Start and open, returning the socket id.
    fn connected(&mut self) -> u64 {
        let id = self.start();
        self.open(id);
        id
    }

    fn lose(&mut self, id: u64, unsent_bytes: u64) -> Vec<Action> {
        self.step(Input::SocketClosed {
            id,
            event: abnormal(),
            reconnect: Retry::Yes,
            unsent_bytes,
        })
    }

    fn fire(&mut self, timer: Timer) -> Vec<Action> {
        self.step(Input::TimerFired {
            timer,
            buffered_amount: 0,
        })
    }

    /// Execute the transmits the way a driver does: the message goes back into the ledger.
    fn transmit_all(&mut self, actions: &[Action]) -> Vec<Message> {
        let mut sent = Vec::new();
        for action in actions {
            if let Action::Transmit { id, message } = action {
                sent.push(message.clone());
                self.machine.record_sent(*id, message.clone());
            }
        }
        sent
    }
}

fn connect_id(actions: &[Action]) -> Option<u64> {
    actions.iter().find_map(|action| match action {
        Action::Connect { id, .. } => Some(*id),
        _ => None,
    })
}

fn connects(actions: &[Action]) -> Vec<(u64, u32)> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Connect { id, attempt } => Some((*id, *attempt)),
            _ => None,
        })
        .collect()
}

fn events(actions: &[Action]) -> Vec<Event> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Emit(notice) => Some(Event::from(notice.clone())),
            _ => None,
        })
        .collect()
}

fn transmitted(actions: &[Action]) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Transmit { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

fn started_timers(actions: &[Action]) -> Vec<(Timer, Duration)> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::StartTimer { timer, after } => Some((*timer, *after)),
            _ => None,
        })
        .collect()
}

fn closes(actions: &[Action]) -> Vec<(u64, u16, String)> {
    actions
        .iter()
        .filter_map(|action| match action {
            // 1005 is what the other side sees for a close frame without a code.
            Action::CloseSocket { id, code, reason } => {
                Some((*id, code.unwrap_or(1005), reason.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn start_connects_once_with_attempt_zero_and_a_connect_timeout() {
    let mut client = Client::new(MachineConfig::default());
    let actions = client.step(Input::Start);
    assert_eq!(connects(&actions), [(1, 0)]);
    assert_eq!(
        started_timers(&actions),
        [(Timer::ConnectTimeout, ms(10_000))]
    );
    assert_eq!(client.machine.state(), State::Connecting { attempt: 0 });
    assert_eq!(client.machine.socket(), Some(1));
    assert!(
        client.step(Input::Start).is_empty(),
        "a second start does nothing"
    );
}

#[test]
fn invalid_configuration_is_refused_with_the_option_named() {
    let bad = [
        (
            MachineConfig::default().connect_timeout(Some(Duration::ZERO)),
            "connect_timeout",
        ),
        (
            MachineConfig::default().heartbeat(Some(Heartbeat::new(Duration::ZERO, ms(1)))),
            "heartbeat.interval",
        ),
        (
            MachineConfig::default()
                .heartbeat(Some(Heartbeat::new(ms(1), crate::MAX_TIMER_DELAY * 2))),
            "heartbeat.timeout",
        ),
        (
            MachineConfig::default().backoff(Backoff::default().factor(0.0)),
            "factor",
        ),
    ];
    for (config, name) in bad {
        match Machine::<Message>::new(config, 0) {
            Err(Error::InvalidOption { option, .. }) => assert_eq!(option, name),
            other => panic!("expected InvalidOption for {name}, got {other:?}"),
        }
    }
}

#[test]
fn opening_flushes_the_queue_in_order_before_announcing_open() {
    let mut client = Client::new(config());
    let id = client.start();
    for s in ["1", "2", "3"] {
        assert_eq!(client.send(text(s)), Ok(vec![]), "queued while connecting");
    }
    assert_eq!(client.machine.queue().len(), 3);
    let actions = client.open(id);
    assert_eq!(transmitted(&actions), [text("1"), text("2"), text("3")]);
    let open_at = actions
        .iter()
        .position(|a| matches!(a, Action::Emit(Notice::Open { .. })))
        .expect("open emitted");
    let last_transmit = actions
        .iter()
        .rposition(|a| matches!(a, Action::Transmit { .. }))
        .expect("transmits");
    assert!(
        last_transmit < open_at,
        "queued messages go before the Open event"
    );
    assert_eq!(
        events(&actions),
        [Event::Open {
            attempt: 0,
            protocol: "chat".into()
        }]
    );
    assert_eq!(client.machine.state(), State::Open);
    assert!(client.machine.queue().is_empty());
}

#[test]
fn sending_while_open_transmits_at_once_with_one_action() {
    let mut client = Client::new(config());
    let id = client.connected();
    assert_eq!(
        client.send(text("hi")),
        Ok(vec![Action::Transmit {
            id,
            message: text("hi")
        }])
    );
}

#[test]
fn sending_on_the_hot_path_reuses_the_output_buffer() {
    let mut client = Client::new(config());
    let id = client.connected();
    let mut out = Vec::with_capacity(4);
    let capacity = out.capacity();
    for i in 0..1000 {
        client
            .machine
            .send(Message::from(format!("{i}")), &mut out)
            .expect("open");
        for action in out.drain(..) {
            if let Action::Transmit { id, message } = action {
                client.machine.record_sent(id, message);
            }
        }
        client.machine.observe_buffered(id, 0);
    }
    assert_eq!(out.capacity(), capacity);
    assert!(client.machine.in_flight().is_trimmed());
}

#[test]
fn open_hook_runs_first_and_queued_messages_follow_it() {
    let mut client = Client::new(config().has_open_hook(true));
    let id = client.start();
    client.send(text("early")).expect("queued");
    let actions = client.open(id);
    assert!(actions.contains(&Action::RunOpenHook { id }));
    assert!(transmitted(&actions).is_empty());
    assert!(events(&actions).is_empty(), "Open waits for the hook");
    assert_eq!(client.machine.state(), State::OpenHook { attempt: 0 });
    assert_eq!(
        client.send(text("during")),
        Ok(vec![]),
        "queued behind the hook"
    );
    let actions = client.step(Input::OpenHookDone { id, ok: true });
    assert_eq!(transmitted(&actions), [text("early"), text("during")]);
    assert_eq!(
        events(&actions),
        [Event::Open {
            attempt: 0,
            protocol: "chat".into()
        }]
    );
}

#[test]
fn a_failed_open_hook_abandons_the_connection_and_retries() {
    let mut client = Client::new(config().has_open_hook(true));
    let id = client.start();
    client.open(id);
    client.send(text("kept")).expect("queued");
    let actions = client.step(Input::OpenHookDone { id, ok: false });
    assert_eq!(
        closes(&actions),
        [(id, CLIENT_CLOSE_CODE, "open hook failed".to_owned())]
    );
    assert_eq!(started_timers(&actions), [(Timer::Backoff, ms(500))]);
    assert_eq!(
        client.machine.state(),
        State::Waiting {
            attempt: 1,
            delay: ms(500)
        }
    );
    assert_eq!(client.machine.queue().len(), 1, "queued messages survive");
}

#[test]
fn a_lost_connection_waits_out_the_backoff_then_connects_again() {
    let mut client = Client::new(config());
    let id = client.connected();
    let actions = client.lose(id, 0);
    assert_eq!(
        events(&actions),
        [
            Event::Closed(abnormal()),
            Event::Reconnecting {
                attempt: 1,
                delay: ms(500)
            }
        ]
    );
    assert_eq!(started_timers(&actions), [(Timer::Backoff, ms(500))]);
    assert!(
        connect_id(&actions).is_none(),
        "no attempt before the delay"
    );
    assert_eq!(client.machine.socket(), None);
    let actions = client.fire(Timer::Backoff);
    assert_eq!(connects(&actions), [(id + 1, 1)]);
}

#[test]
fn failed_attempts_grow_the_delay() {
    let mut client = Client::new(config());
    let mut id = client.start();
    let mut delays = Vec::new();
    for _ in 0..5 {
        let actions = client.lose(id, 0);
        delays.extend(started_timers(&actions).into_iter().map(|(_, d)| d));
        id = connect_id(&client.fire(Timer::Backoff)).expect("reconnects");
    }
    assert_eq!(delays, [ms(500), ms(1000), ms(2000), ms(4000), ms(8000)]);
}

#[test]
fn a_stable_connection_resets_the_backoff() {
    let mut client = Client::new(config());
    let mut id = client.start();
    for _ in 0..3 {
        client.lose(id, 0);
        id = connect_id(&client.fire(Timer::Backoff)).expect("reconnects");
    }
    let actions = client.open(id);
    assert!(started_timers(&actions).contains(&(Timer::Stable, ms(5000))));
    assert!(matches!(
        events(&actions)[..],
        [Event::Open { attempt: 3, .. }]
    ));
    client.fire(Timer::Stable);
    let actions = client.lose(id, 0);
    assert!(events(&actions).contains(&Event::Reconnecting {
        attempt: 1,
        delay: ms(500)
    }));
}

#[test]
fn a_connection_lost_before_it_was_stable_keeps_growing_the_backoff() {
    let mut client = Client::new(config());
    let id = client.connected();
    client.lose(id, 0);
    let id = connect_id(&client.fire(Timer::Backoff)).expect("reconnects");
    let actions = client.open(id);
    assert!(matches!(
        events(&actions)[..],
        [Event::Open { attempt: 1, .. }]
    ));
    let actions = client.lose(id, 0);
    assert!(events(&actions).contains(&Event::Reconnecting {
        attempt: 2,
        delay: ms(1000)
    }));
}

#[test]
fn a_close_the_policy_refuses_gives_up_with_the_event() {
    let mut client = Client::new(config());
    let id = client.connected();
    client.send(text("x")).expect("sent");
    let actions = client.step(Input::SocketClosed {
        id,
        event: closed_with(1008),
        reconnect: Retry::No,
        unsent_bytes: 0,
    });
    assert_eq!(
        events(&actions),
        [
            Event::Closed(closed_with(1008)),
            Event::GaveUp {
                reason: GiveUpReason::NotRetryable(closed_with(1008))
            }
        ]
    );
    assert!(started_timers(&actions).is_empty());
    assert_eq!(client.machine.state(), State::GaveUp);
    assert!(matches!(
        client.send(text("later")),
        Err(Error::ClosedForGood { message }) if message == text("later")
    ));
}

#[test]
fn the_retry_limit_is_honoured() {
    let mut client =
        Client::new(config().backoff(Backoff::default().jitter(Jitter::None).max_retries(Some(2))));
    let mut id = client.start();
    for attempt in 1..=2 {
        client.lose(id, 0);
        let actions = client.fire(Timer::Backoff);
        assert_eq!(connects(&actions), [(id + 1, attempt)]);
        id += 1;
    }
    let actions = client.lose(id, 0);
    assert!(connect_id(&actions).is_none());
    assert_eq!(
        events(&actions).last(),
        Some(&Event::GaveUp {
            reason: GiveUpReason::RetriesExhausted { retries: 2 }
        })
    );
    assert_eq!(
        GiveUpReason::RetriesExhausted { retries: 2 }.to_string(),
        "gave up after 2 failed retries"
    );
}

#[test]
fn events_from_a_replaced_socket_are_ignored() {
    let mut client = Client::new(config());
    let old = client.connected();
    client.step(Input::Reconnect);
    let new = client.machine.socket().expect("new socket");
    assert_ne!(old, new);
    assert!(
        client.lose(old, 0).is_empty(),
        "late close of the old socket"
    );
    assert!(client.open(old).is_empty());
    assert!(client.step(Input::MessageReceived { id: old }).is_empty());
    assert_eq!(client.machine.state(), State::Connecting { attempt: 0 });
    assert!(client.lose(999, 0).is_empty(), "an id never seen");
}

#[test]
fn a_stalled_handshake_times_out_and_is_retried() {
    let mut client = Client::new(config().connect_timeout(Some(ms(3000))));
    let id = client.start();
    client.send(text("waiting")).expect("queued");
    let actions = client.fire(Timer::ConnectTimeout);
    assert_eq!(
        closes(&actions),
        [(id, CLIENT_CLOSE_CODE, "connect timeout".to_owned())]
    );
    assert_eq!(
        events(&actions),
        [
            Event::Closed(CloseEvent {
                code: CLIENT_CLOSE_CODE,
                reason: "connect timeout".into(),
                was_clean: false
            }),
            // Not the backoff's 500 ms: never sooner than the timeout itself.
            Event::Reconnecting {
                attempt: 1,
                delay: ms(3000)
            }
        ]
    );
    assert!(
        client.lose(id, 0).is_empty(),
        "its late close event is ignored"
    );
    let actions = client.fire(Timer::Backoff);
    assert_eq!(connects(&actions), [(id + 1, 1)]);
    assert!(started_timers(&actions).contains(&(Timer::ConnectTimeout, ms(3000))));
    assert_eq!(client.machine.queue().len(), 1);
}

#[test]
fn after_a_connect_timeout_a_longer_backoff_delay_still_wins() {
    let mut client = Client::new(config().connect_timeout(Some(ms(200))));
    let mut delays = Vec::new();
    client.start();
    for _ in 0..4 {
        let actions = client.fire(Timer::ConnectTimeout);
        delays.extend(started_timers(&actions).into_iter().map(|(_, delay)| delay));
        client.fire(Timer::Backoff);
    }
    assert_eq!(delays, [ms(500), ms(1000), ms(2000), ms(4000)]);
}

#[test]
fn the_connect_timeout_covers_the_open_hook() {
    let mut client = Client::new(config().has_open_hook(true).connect_timeout(Some(ms(3000))));
    let id = client.start();
    let actions = client.open(id);
    assert!(!actions.contains(&Action::CancelTimer(Timer::ConnectTimeout)));
    let actions = client.fire(Timer::ConnectTimeout);
    assert_eq!(
        closes(&actions),
        [(id, CLIENT_CLOSE_CODE, "open hook timeout".to_owned())]
    );
    assert!(client.step(Input::OpenHookDone { id, ok: true }).is_empty());
}

#[test]
fn opening_cancels_the_connect_timeout() {
    let mut client = Client::new(config().connect_timeout(Some(ms(3000))));
    let id = client.start();
    let actions = client.open(id);
    assert!(actions.contains(&Action::CancelTimer(Timer::ConnectTimeout)));
    assert!(
        client.fire(Timer::ConnectTimeout).is_empty(),
        "a stale fire does nothing"
    );
}

#[test]
fn heartbeat_pings_after_the_interval_and_any_message_answers() {
    let heartbeat = Heartbeat::new(ms(20_000), ms(5_000));
    let mut client = Client::new(config().heartbeat(Some(heartbeat)));
    let id = client.start();
    let actions = client.open(id);
    assert!(started_timers(&actions).contains(&(Timer::Heartbeat, ms(20_000))));
    assert!(
        client.step(Input::MessageReceived { id }).is_empty(),
        "messages cost nothing while no pong is awaited"
    );
    let actions = client.fire(Timer::Heartbeat);
    assert_eq!(
        actions,
        [
            Action::SendPing { id },
            Action::StartTimer {
                timer: Timer::PongTimeout,
                after: ms(5_000)
            }
        ]
    );
    let actions = client.step(Input::MessageReceived { id });
    assert_eq!(
        actions,
        [
            Action::CancelTimer(Timer::PongTimeout),
            Action::StartTimer {
                timer: Timer::Heartbeat,
                after: ms(20_000)
            }
        ]
    );
    assert_eq!(client.machine.state(), State::Open);
}

#[test]
fn a_heartbeat_timeout_replaces_the_connection_and_requeues_what_it_held() {
    let heartbeat = Heartbeat::new(ms(20_000), ms(5_000));
    let mut client = Client::with_window(config().heartbeat(Some(heartbeat)), 2);
    let id = client.connected();
    for s in ["a", "aaaa", "bb", "cccccc"] {
        let actions = client.send(text(s)).expect("open");
        client.transmit_all(&actions);
    }
    client.fire(Timer::Heartbeat);
    client.machine.record_other(id, 4); // the ping, after "cccccc"

    // 11 bytes still buffered (the 4-byte ping, "cccccc", and 1 byte of "bb") and a window
    // of 2 before them, which reaches 1 byte into "aaaa": the connection is judged dead, so
    // what the browser took off bufferedAmount may not have got out either.
    let actions = client.step(Input::TimerFired {
        timer: Timer::PongTimeout,
        buffered_amount: 11,
    });
    assert_eq!(
        closes(&actions),
        [(id, CLIENT_CLOSE_CODE, "heartbeat timeout".to_owned())]
    );
    assert_eq!(
        events(&actions)[0],
        Event::Closed(CloseEvent {
            code: CLIENT_CLOSE_CODE,
            reason: "heartbeat timeout".into(),
            was_clean: false
        })
    );
    assert!(actions.contains(&Action::CancelTimer(Timer::Stable)));
    assert_eq!(
        client.machine.queue().iter().cloned().collect::<Vec<_>>(),
        [text("aaaa"), text("bb"), text("cccccc")]
    );
    let id = connect_id(&client.fire(Timer::Backoff)).expect("reconnects");
    assert_eq!(
        transmitted(&client.open(id)),
        [text("aaaa"), text("bb"), text("cccccc")]
    );
}

#[test]
fn a_pong_wait_is_extended_while_the_socket_sends_what_the_ping_waits_behind() {
    let heartbeat = Heartbeat::new(ms(20_000), ms(5_000));
    let mut client = Client::new(config().heartbeat(Some(heartbeat)));
    let id = client.connected();
    let fire = |client: &mut Client, timer, buffered_amount| {
        client.step(Input::TimerFired {
            timer,
            buffered_amount,
        })
    };
    // A big upload is under way: 10,000 bytes are unsent when the ping is queued behind them.
    fire(&mut client, Timer::Heartbeat, 10_000);
    let extended = [Action::StartTimer {
        timer: Timer::PongTimeout,
        after: ms(5_000),
    }];
    // Each time the wait ends with fewer bytes unsent, the connection is alive: wait again.
    assert_eq!(fire(&mut client, Timer::PongTimeout, 6_000), extended);
    assert_eq!(fire(&mut client, Timer::PongTimeout, 1_000), extended);
    assert_eq!(client.machine.state(), State::Open);
    // No progress over a whole wait: the connection is judged dead, as without an upload.
    let actions = fire(&mut client, Timer::PongTimeout, 1_000);
    assert_eq!(
        closes(&actions),
        [(id, CLIENT_CLOSE_CODE, "heartbeat timeout".to_owned())]
    );
}

#[test]
fn a_pong_wait_is_extended_while_the_reader_is_behind_and_judged_once_it_caught_up() {
    let heartbeat = Heartbeat::new(ms(20_000), ms(5_000));
    let mut client = Client::new(config().heartbeat(Some(heartbeat)));
    let id = client.connected();
    client.fire(Timer::Heartbeat);
    // The app stopped reading: the answer may be in the network, behind what it has not read.
    client.step(Input::ReaderBehind { id, behind: true });
    let extended = [Action::StartTimer {
        timer: Timer::PongTimeout,
        after: ms(5_000),
    }];
    assert_eq!(client.fire(Timer::PongTimeout), extended);
    assert_eq!(client.fire(Timer::PongTimeout), extended);
    assert_eq!(client.machine.state(), State::Open);
    // A stale report about another socket changes nothing.
    client.step(Input::ReaderBehind {
        id: id + 1,
        behind: false,
    });
    assert_eq!(client.fire(Timer::PongTimeout), extended);
    // Caught up, and still no answer after a whole wait: dead, as without backpressure.
    client.step(Input::ReaderBehind { id, behind: false });
    assert_eq!(
        closes(&client.fire(Timer::PongTimeout)),
        [(id, CLIENT_CLOSE_CODE, "heartbeat timeout".to_owned())]
    );
}

#[test]
fn a_new_socket_does_not_inherit_a_reader_behind() {
    let heartbeat = Heartbeat::new(ms(20_000), ms(5_000));
    let mut client = Client::new(config().heartbeat(Some(heartbeat)));
    let id = client.connected();
    client.step(Input::ReaderBehind { id, behind: true });
    client.step(Input::Reconnect);
    let id = client.machine.socket().expect("reconnects at once");
    client.open(id);
    client.fire(Timer::Heartbeat);
    assert_eq!(
        closes(&client.fire(Timer::PongTimeout)),
        [(id, CLIENT_CLOSE_CODE, "heartbeat timeout".to_owned())]
    );
}

#[test]
fn what_is_sent_after_the_ping_does_not_count_as_progress() {
    let heartbeat = Heartbeat::new(ms(20_000), ms(5_000));
    let mut client = Client::new(config().heartbeat(Some(heartbeat)));
    let id = client.connected();
    client.step(Input::TimerFired {
        timer: Timer::Heartbeat,
        buffered_amount: 1_000,
    });
    client.machine.record_other(id, 4); // the ping
    let actions = client.send(text(&"x".repeat(496))).expect("open");
    client.transmit_all(&actions);
    // 1,500 buffered, of which the last 500 (the ping and the message) came after the ping:
    // 1,000 still before it, as many as when the wait started. No progress.
    let actions = client.step(Input::TimerFired {
        timer: Timer::PongTimeout,
        buffered_amount: 1_500,
    });
    assert_eq!(
        closes(&actions),
        [(id, CLIENT_CLOSE_CODE, "heartbeat timeout".to_owned())]
    );
}

#[test]
fn progress_ahead_of_the_ping_counts_even_while_more_is_sent_behind_it() {
    let heartbeat = Heartbeat::new(ms(20_000), ms(5_000));
    let mut client = Client::new(config().heartbeat(Some(heartbeat)));
    let id = client.connected();
    client.step(Input::TimerFired {
        timer: Timer::Heartbeat,
        buffered_amount: 1_000,
    });
    client.machine.record_other(id, 4);
    let actions = client.send(text(&"x".repeat(496))).expect("open");
    client.transmit_all(&actions);
    // 1,200 buffered: 700 before the ping, 300 fewer than at the start.
    let actions = client.step(Input::TimerFired {
        timer: Timer::PongTimeout,
        buffered_amount: 1_200,
    });
    assert_eq!(
        actions,
        [Action::StartTimer {
            timer: Timer::PongTimeout,
            after: ms(5_000)
        }]
    );
}

#[test]
fn a_pong_wait_gets_one_more_timeout_once_everything_before_the_ping_has_left() {
    let heartbeat = Heartbeat::new(ms(20_000), ms(5_000));
    let mut client = Client::new(config().heartbeat(Some(heartbeat)));
    let id = client.connected();
    client.step(Input::TimerFired {
        timer: Timer::Heartbeat,
        buffered_amount: 500,
    });
    // All of it left during the wait, the ping perhaps only just: its answer gets a full wait.
    let actions = client.fire(Timer::PongTimeout);
    assert!(closes(&actions).is_empty(), "{actions:?}");
    let actions = client.fire(Timer::PongTimeout);
    assert_eq!(
        closes(&actions),
        [(id, CLIENT_CLOSE_CODE, "heartbeat timeout".to_owned())]
    );
    // With nothing unsent behind the ping, one wait is all it gets.
    let id = connect_id(&client.fire(Timer::Backoff)).expect("reconnects");
    client.open(id);
    client.fire(Timer::Heartbeat);
    let actions = client.fire(Timer::PongTimeout);
    assert_eq!(
        closes(&actions),
        [(id, CLIENT_CLOSE_CODE, "heartbeat timeout".to_owned())]
    );
}

#[test]
fn an_abrupt_drop_requeues_the_unsent_messages_and_the_window_before_them_ahead_of_newer_ones() {
    // 6 + 6 + 6 bytes written; 7 still buffered: all of "日本" and 1 byte of "wörld". With no
    // window, exactly those; with a window of 6 bytes, 13 bytes reach 1 byte into "héllo".
    for (window, requeued) in [
        (0, vec![text("wörld"), text("日本")]),
        (5, vec![text("wörld"), text("日本")]),
        (6, vec![text("héllo"), text("wörld"), text("日本")]),
    ] {
        let mut client = Client::with_window(config(), window);
        let id = client.connected();
        for s in ["héllo", "wörld", "日本"] {
            let actions = client.send(text(s)).expect("open");
            client.transmit_all(&actions);
        }
        client.lose(id, 7);
        client.send(text("while down")).expect("queued");
        let id = connect_id(&client.fire(Timer::Backoff)).expect("reconnects");
        let mut expected = requeued;
        expected.push(text("while down"));
        assert_eq!(transmitted(&client.open(id)), expected, "window {window}");
    }
}

#[test]
fn a_close_with_nothing_buffered_requeues_only_the_window() {
    let mut client = Client::with_window(config(), 0);
    let id = client.connected();
    let actions = client.send(text("delivered")).expect("open");
    client.transmit_all(&actions);
    client.lose(id, 0);
    assert!(client.machine.queue().is_empty());

    // With the default window, the browser may have dropped it after taking it off
    // bufferedAmount (Chromium does, when the server closes): it is sent again.
    let mut client = Client::new(config());
    let id = client.connected();
    let actions = client.send(text("maybe delivered")).expect("open");
    client.transmit_all(&actions);
    client.step(Input::SocketClosed {
        id,
        event: closed_with(1001),
        reconnect: Retry::Yes,
        unsent_bytes: 0,
    });
    assert_eq!(
        client.machine.queue().iter().cloned().collect::<Vec<_>>(),
        [text("maybe delivered")]
    );
}

#[test]
fn a_server_close_requeues_the_default_window_of_one_mebibyte_beyond_buffered_amount() {
    let mut client = Client::new(
        config().queue(
            QueueLimits::default()
                .max_messages(10_000)
                .max_bytes(16 << 20),
        ),
    );
    let id = client.connected();
    let kib = "x".repeat(1024);
    for i in 0..5_000u32 {
        let actions = client.send(text(&format!("{i:04}{kib}"))).expect("open");
        client.transmit_all(&actions);
        if i % 256 == 0 {
            // As the driver does: a reading now and then, here of 1 MiB still buffered.
            client.machine.observe_buffered(id, 1 << 20);
        }
    }
    let kept = client.machine.in_flight().bytes();
    assert!(
        kept <= (1 << 20) + RESEND_WINDOW + 257 * 1028,
        "the ledger keeps {kept} bytes"
    );
    // 1 MiB buffered at the close and 1 MiB beyond: the newest 2 MiB, covered by 2,041
    // messages of 1,028 bytes (the oldest of them only partly).
    client.step(Input::SocketClosed {
        id,
        event: closed_with(1012),
        reconnect: Retry::Yes,
        unsent_bytes: 1 << 20,
    });
    let queued: Vec<Message> = client.machine.queue().iter().cloned().collect();
    assert_eq!(queued.len(), 2_041);
    assert_eq!(
        queued.first().and_then(Message::as_text).map(|t| &t[..4]),
        Some("2959")
    );
    assert_eq!(
        queued.last().and_then(Message::as_text).map(|t| &t[..4]),
        Some("4999")
    );
}

#[test]
fn a_close_the_client_started_reports_only_what_was_buffered() {
    // close(): the browser sends what it took off bufferedAmount before its close frame,
    // so the window does not apply: nothing that was sent is reported unsent.
    let mut client = Client::new(config());
    let id = client.connected();
    for s in ["sent", "stuck"] {
        let actions = client.send(text(s)).expect("open");
        client.transmit_all(&actions);
    }
    client.close();
    let actions = client.lose(id, 0);
    assert_eq!(events(&actions), [Event::Closed(abnormal())]);
}

#[test]
fn a_late_record_for_a_replaced_socket_is_dropped() {
    let mut client = Client::new(config());
    let old = client.connected();
    client.step(Input::Reconnect);
    client.machine.record_sent(old, text("late"));
    client.machine.record_other(old, 10);
    client.machine.observe_buffered(old, 0);
    assert!(client.machine.in_flight().is_empty());
}

#[test]
fn reconnect_closes_the_socket_and_connects_at_once() {
    let mut client = Client::new(config());
    let id = client.connected();
    let actions = client.step(Input::Reconnect);
    assert_eq!(
        closes(&actions),
        [(id, RECONNECT_CLOSE_CODE, "reconnect requested".to_owned())]
    );
    assert_eq!(connects(&actions), [(id + 1, 0)]);
    let close_at = actions
        .iter()
        .position(|a| matches!(a, Action::CloseSocket { .. }));
    let connect_at = actions
        .iter()
        .position(|a| matches!(a, Action::Connect { .. }));
    assert!(close_at < connect_at, "the old socket goes first");
    assert!(actions.contains(&Action::CancelTimer(Timer::Stable)));
}

#[test]
fn reconnect_during_a_backoff_delay_is_immediate_and_resets_the_schedule() {
    let mut client = Client::new(config());
    let mut id = client.start();
    for _ in 0..3 {
        client.lose(id, 0);
        id = connect_id(&client.fire(Timer::Backoff)).expect("reconnects");
    }
    client.lose(id, 0);
    assert!(matches!(
        client.machine.state(),
        State::Waiting { attempt: 4, .. }
    ));
    let actions = client.step(Input::Reconnect);
    assert!(actions.contains(&Action::CancelTimer(Timer::Backoff)));
    assert_eq!(connects(&actions), [(id + 1, 0)]);
    let actions = client.lose(id + 1, 0);
    assert!(events(&actions).contains(&Event::Reconnecting {
        attempt: 1,
        delay: ms(500)
    }));
}

#[test]
fn reconnect_after_giving_up_starts_again_with_the_queue_kept() {
    let mut client =
        Client::new(config().backoff(Backoff::default().jitter(Jitter::None).max_retries(Some(0))));
    let id = client.start();
    client.send(text("kept")).expect("queued");
    client.lose(id, 0);
    assert_eq!(client.machine.state(), State::GaveUp);
    let actions = client.step(Input::Reconnect);
    assert_eq!(connects(&actions), [(id + 1, 0)]);
    assert_eq!(transmitted(&client.open(id + 1)), [text("kept")]);
}

#[test]
fn close_while_open_closes_the_socket_and_hands_back_the_queue() {
    let mut client = Client::new(config());
    let id = client.connected();
    let (returned, actions) = client.close();
    assert!(returned.is_empty(), "nothing is queued while open");
    assert_eq!(closes(&actions), [(id, 1000, "done".to_owned())]);
    assert!(actions.contains(&Action::CancelTimer(Timer::Stable)));
    assert_eq!(client.machine.state(), State::Closed);
}

#[test]
fn close_while_connecting_returns_what_was_queued() {
    let mut client = Client::new(MachineConfig::default());
    let id = client.start();
    client.send(text("a")).expect("queued");
    client.send(text("b")).expect("queued");
    let (returned, actions) = client.close();
    assert_eq!(returned, [text("a"), text("b")]);
    assert_eq!(closes(&actions), [(id, 1000, "done".to_owned())]);
    assert!(actions.contains(&Action::CancelTimer(Timer::ConnectTimeout)));
    assert!(client.open(id).is_empty(), "its late open is ignored");
}

#[test]
fn close_during_a_backoff_delay_cancels_it_and_connects_no_more() {
    let mut client = Client::new(config());
    let id = client.connected();
    client.lose(id, 0);
    client.send(text("q")).expect("queued");
    let (returned, actions) = client.close();
    assert_eq!(returned, [text("q")]);
    assert_eq!(actions, [Action::CancelTimer(Timer::Backoff)]);
    for input in [
        Input::Start,
        Input::Online,
        Input::Visible,
        Input::Reconnect,
        Input::TimerFired {
            timer: Timer::Backoff,
            buffered_amount: 0,
        },
    ] {
        assert!(client.step(input).is_empty());
    }
    assert_eq!(client.machine.state(), State::Closed);
}

#[test]
fn after_close_sends_are_refused_and_the_message_handed_back() {
    let mut client = Client::new(config());
    client.connected();
    client.close();
    assert_eq!(
        client.send(text("late")),
        Err(Error::ClosedForGood {
            message: text("late")
        })
    );
    let (again, actions) = client.close();
    assert!(
        again.is_empty() && actions.is_empty(),
        "closing twice is harmless"
    );
}

#[test]
fn after_close_the_socket_reports_its_close_and_what_it_never_sent() {
    let mut client = Client::new(config());
    let id = client.connected();
    for s in ["sent", "stuck"] {
        let actions = client.send(text(s)).expect("open");
        client.transmit_all(&actions);
    }
    client.close();
    let actions = client.step(Input::SocketClosed {
        id,
        event: closed_with(1000),
        reconnect: Retry::Yes,
        unsent_bytes: 5,
    });
    assert_eq!(
        events(&actions),
        [
            Event::Unsent(vec![text("stuck")]),
            Event::Closed(closed_with(1000))
        ]
    );
    assert!(connect_id(&actions).is_none());
    assert!(client.lose(id, 0).is_empty(), "only once");
}

#[test]
fn after_giving_up_close_hands_back_the_queue() {
    let mut client = Client::new(config());
    let id = client.start();
    client.send(text("q")).expect("queued");
    client.step(Input::SocketClosed {
        id,
        event: closed_with(1008),
        reconnect: Retry::No,
        unsent_bytes: 0,
    });
    let (returned, actions) = client.close();
    assert_eq!(returned, [text("q")]);
    assert!(actions.is_empty());
    assert_eq!(client.machine.state(), State::Closed);
}

#[test]
fn close_checks_code_and_reason_and_changes_nothing_when_they_are_wrong() {
    let mut client = Client::new(config());
    let id = client.connected();
    let mut out = Vec::new();
    assert_eq!(
        client.machine.close(1001, "", &mut out),
        Err(Error::InvalidCloseCode { code: 1001 })
    );
    assert!(matches!(
        client.machine.close(1000, &"x".repeat(124), &mut out),
        Err(Error::CloseReasonTooLong { bytes: 124 })
    ));
    assert!(out.is_empty());
    assert_eq!(client.machine.socket(), Some(id));
    assert_eq!(client.machine.state(), State::Open);
}

#[test]
fn offline_pauses_a_backoff_delay_and_online_connects_at_once() {
    let mut client = Client::new(config());
    let id = client.connected();
    client.lose(id, 0);
    let actions = client.step(Input::Offline);
    assert_eq!(actions, [Action::CancelTimer(Timer::Backoff)]);
    assert_eq!(client.machine.state(), State::Paused { attempt: 1 });
    assert!(
        client.fire(Timer::Backoff).is_empty(),
        "the cancelled delay is stale"
    );
    assert!(client.step(Input::Visible).is_empty(), "still offline");
    let actions = client.step(Input::Online);
    assert_eq!(connects(&actions), [(id + 1, 1)]);
}

#[test]
fn no_attempt_starts_while_offline() {
    let mut client = Client::new(config());
    client.step(Input::Offline);
    assert!(client.step(Input::Start).is_empty());
    assert_eq!(client.machine.state(), State::Paused { attempt: 0 });
    client.send(text("q")).expect("queued while offline");
    let actions = client.step(Input::Reconnect);
    assert!(connect_id(&actions).is_none());
    let actions = client.step(Input::Online);
    assert_eq!(connects(&actions), [(1, 0)]);
}

#[test]
fn a_connection_lost_while_offline_waits_for_online_without_a_timer() {
    let mut client = Client::new(config());
    let id = client.connected();
    assert!(
        client.step(Input::Offline).is_empty(),
        "an open socket is left alone"
    );
    let actions = client.lose(id, 0);
    assert!(started_timers(&actions).is_empty());
    assert_eq!(events(&actions), [Event::Closed(abnormal())]);
    assert_eq!(client.machine.state(), State::Paused { attempt: 1 });
    assert_eq!(connects(&client.step(Input::Online)), [(id + 1, 1)]);
}

#[test]
fn becoming_visible_cuts_a_backoff_delay_short() {
    let mut client = Client::new(config());
    let id = client.connected();
    client.lose(id, 0);
    let actions = client.step(Input::Visible);
    assert_eq!(actions[0], Action::CancelTimer(Timer::Backoff));
    assert_eq!(connects(&actions), [(id + 1, 1)]);
    assert!(
        client.step(Input::Visible).is_empty(),
        "not while connecting"
    );
}

#[test]
fn a_full_queue_hands_the_new_message_back() {
    let mut client = Client::new(config().queue(QueueLimits::default().max_messages(1)));
    client.start();
    client.send(text("1")).expect("queued");
    assert!(matches!(
        client.send(text("2")),
        Err(Error::QueueFull { message, .. }) if message == text("2")
    ));
}

#[test]
fn drop_oldest_reports_the_dropped_messages_as_an_event() {
    let mut client = Client::new(
        config().queue(
            QueueLimits::default()
                .max_messages(2)
                .overflow(Overflow::DropOldest),
        ),
    );
    client.start();
    client.send(text("1")).expect("queued");
    client.send(text("2")).expect("queued");
    assert_eq!(
        client.send(text("3")),
        Ok(vec![Action::Emit(Notice::Dropped(vec![text("1")]))])
    );
}

#[test]
fn pings_written_between_messages_are_not_requeued() {
    let heartbeat = Heartbeat::new(ms(1000), ms(1000));
    let mut client = Client::with_window(config().heartbeat(Some(heartbeat)), 0);
    let id = client.connected();
    let actions = client.send(text("aaaa")).expect("open");
    client.transmit_all(&actions);
    client.fire(Timer::Heartbeat);
    client.machine.record_other(id, 4);
    client.step(Input::MessageReceived { id });
    let actions = client.send(text("bbbb")).expect("open");
    client.transmit_all(&actions);
    // 6 bytes: "bbbb" and half the ping: "aaaa" has left.
    client.lose(id, 6);
    assert_eq!(
        client.machine.queue().iter().cloned().collect::<Vec<_>>(),
        [text("bbbb")]
    );
}

/// The backoff delay the machine chose after `event` closed an open connection, with the
/// predicate's answer `retry`. Default backoff without jitter: the first delay is 500 ms.
fn delay_after(client: &mut Client, event: CloseEvent, retry: Retry) -> Duration {
    let id = client.connected();
    let actions = client.step(Input::SocketClosed {
        id,
        event,
        reconnect: retry,
        unsent_bytes: 0,
    });
    match started_timers(&actions).as_slice() {
        [(Timer::Backoff, delay)] => *delay,
        other => panic!("expected one backoff timer, got {other:?}"),
    }
}

fn server_close(code: u16, reason: &str) -> CloseEvent {
    CloseEvent {
        code,
        reason: reason.into(),
        was_clean: true,
    }
}

#[test]
fn try_again_later_without_a_delay_waits_at_least_the_maximum_delay() {
    let mut client = Client::new(config());
    let delay = delay_after(&mut client, server_close(1013, ""), Retry::Yes);
    // 30 s (max_delay) plus the first backoff delay, 500 ms, as jitter.
    assert_eq!(delay, ms(30_500));
}

#[test]
fn a_retry_after_in_the_reason_is_waited_out_with_any_code() {
    for code in [1013, 1001, 1011, 4000] {
        let mut client = Client::new(config());
        let delay = delay_after(
            &mut client,
            server_close(code, "busy; retry-after=20"),
            Retry::Yes,
        );
        assert_eq!(delay, ms(20_500), "code {code}");
    }
}

#[test]
fn the_predicate_may_ask_for_a_delay_and_it_wins_over_the_reason() {
    let mut client = Client::new(config());
    let event = server_close(1013, "retry-after=20");
    let delay = delay_after(&mut client, event, Retry::After(ms(3000)));
    assert_eq!(delay, ms(3500));
}

#[test]
fn service_restart_spreads_the_retry_over_the_minimum_delay_window() {
    let mut delays = Vec::new();
    for seed in 0..200 {
        let mut client = Client {
            machine: Machine::new(config(), seed).expect("valid"),
            out: Vec::new(),
        };
        delays.push(delay_after(&mut client, server_close(1012, ""), Retry::Yes));
    }
    assert!(delays.iter().all(|delay| *delay < ms(500)), "{delays:?}");
    let early = delays.iter().filter(|delay| **delay < ms(250)).count();
    assert!(
        (60..140).contains(&early),
        "not spread: {early} of 200 in the first half"
    );
}

#[test]
fn a_delay_the_server_asked_for_is_not_cut_short_by_online_or_visible() {
    let mut client = Client::new(config());
    delay_after(&mut client, server_close(1013, "retry-after=5"), Retry::Yes);
    for input in [Input::Visible, Input::Offline, Input::Online] {
        let actions = client.step(input);
        assert!(connects(&actions).is_empty(), "cut short");
    }
    assert!(matches!(client.machine.state(), State::Waiting { .. }));
    // An ordinary delay still is.
    let mut client = Client::new(config());
    delay_after(&mut client, abnormal(), Retry::Yes);
    assert_eq!(connects(&client.step(Input::Visible)).len(), 1);
}

#[test]
fn a_predicates_no_gives_up_whatever_the_reason_asks() {
    let mut client = Client::new(config());
    let id = client.connected();
    let actions = client.step(Input::SocketClosed {
        id,
        event: server_close(1013, "retry-after=1"),
        reconnect: Retry::No,
        unsent_bytes: 0,
    });
    assert!(matches!(
        events(&actions).last(),
        Some(Event::GaveUp { .. })
    ));
}

#[test]
fn close_without_a_code_sends_none_unless_there_is_a_reason() {
    let mut client = Client::new(config());
    let id = client.connected();
    let mut out = Vec::new();
    client.machine.close(None, "", &mut out).expect("close");
    assert!(out.contains(&Action::CloseSocket {
        id,
        code: None,
        reason: String::new()
    }));
    // A reason needs a code: 1000, as the browser's close(undefined, reason) sends.
    let mut client = Client::new(config());
    let id = client.connected();
    let mut out = Vec::new();
    client.machine.close(None, "bye", &mut out).expect("close");
    assert!(out.contains(&Action::CloseSocket {
        id,
        code: Some(1000),
        reason: "bye".into()
    }));
}
