//! Property tests: random sequences of plausible inputs, fed by a harness that models the
//! driver and the browser (sockets with an outgoing buffer that the browser hands on in order
//! and that then reaches the server; timers; online state), checking after every step that:
//! - at most one socket is alive, and `Connect` only comes when none is;
//! - nothing connects after `close()`, and nothing connects while offline;
//! - no attempt exceeds the retry limit;
//! - timers are started only when not pending and cancelled only when pending;
//! - transmits go only to the open, current socket, and nothing is queued while open.
//!
//! The model browser is Chromium's: what it takes off `bufferedAmount` goes to a network
//! stage that holds up to `held` bytes (no more than the machine's window) before they reach
//! the server, and that stage is lost when the connection ends without the client closing it
//! (a server close, a break, a heartbeat timeout). A connection the client closes itself
//! delivers everything it took off `bufferedAmount`.
//!
//! At the end, every message given to `send` is received by the server, or else exactly one
//! of: queued, still in a socket's buffer, handed back by `close()` or `Event::Unsent`,
//! refused with the message handed back, or reported dropped. A message the server received
//! may also be queued again or handed back (the window re-sends what may have been lost):
//! the server then sees it twice, but each connection delivers in send order, and the first
//! arrival of every message is in send order.

use super::notice::Notice;
use super::*;
use crate::{Backoff, CloseEvent, Error, Jitter, Message, Overflow, QueueLimits};
use proptest::prelude::*;
use std::collections::HashSet;
use std::time::Duration;

const USER_CLOSE_CODE: u16 = 4999;
const PING_BYTES: u64 = 4;
const HOOK_BYTES: u64 = 7;

#[derive(Debug, Clone)]
enum Op {
    Start,
    Open,
    HookDone(bool),
    /// The browser reports the current socket closed.
    Drop {
        reconnect: bool,
        clean: bool,
    },
    /// A late event about a socket the machine has left.
    StaleClose,
    StaleOpen,
    Fire(usize),
    Receive,
    Send {
        chars: u8,
        multibyte: bool,
    },
    /// The browser takes this many bytes off every live socket's `bufferedAmount`.
    Progress(u16),
    /// This many bytes the browser took reach the server.
    Arrive(u16),
    Observe,
    Close,
    Reconnect,
    Online,
    Offline,
    Visible,
    /// The socket `close()` closed reports its close event.
    ClosingClosed,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Start),
        4 => Just(Op::Open),
        2 => any::<bool>().prop_map(Op::HookDone),
        3 => (any::<bool>(), any::<bool>())
            .prop_map(|(reconnect, clean)| Op::Drop { reconnect: reconnect || clean, clean }),
        1 => Just(Op::StaleClose),
        1 => Just(Op::StaleOpen),
        5 => (0usize..5).prop_map(Op::Fire),
        2 => Just(Op::Receive),
        8 => (0u8..12, any::<bool>())
            .prop_map(|(chars, multibyte)| Op::Send { chars, multibyte }),
        4 => (0u16..40).prop_map(Op::Progress),
        4 => (0u16..40).prop_map(Op::Arrive),
        2 => Just(Op::Observe),
        1 => Just(Op::Close),
        1 => Just(Op::Reconnect),
        1 => Just(Op::Online),
        1 => Just(Op::Offline),
        1 => Just(Op::Visible),
        1 => Just(Op::ClosingClosed),
    ]
}

#[derive(Debug, Clone)]
struct Setup {
    max_retries: Option<u32>,
    open_hook: bool,
    heartbeat: bool,
    connect_timeout: bool,
    max_messages: usize,
    max_bytes: usize,
    overflow: Overflow,
    jitter: Jitter,
    seed: u64,
    /// The machine's window beyond `bufferedAmount`.
    window: u64,
    /// How many bytes the model browser holds beyond `bufferedAmount`: at most `window`.
    held: u64,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop::option::of(0u32..4),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0usize..6,
        10usize..80,
        prop_oneof![Just(Overflow::RejectNew), Just(Overflow::DropOldest)],
        prop_oneof![
            Just(Jitter::Full),
            Just(Jitter::Decorrelated),
            Just(Jitter::None)
        ],
        any::<u64>(),
        (0u64..40).prop_flat_map(|window| (Just(window), 0..=window)),
    )
        .prop_map(
            |(
                max_retries,
                open_hook,
                heartbeat,
                connect_timeout,
                max_messages,
                max_bytes,
                overflow,
                jitter,
                seed,
                (window, held),
            )| Setup {
                max_retries,
                open_hook,
                heartbeat,
                connect_timeout,
                max_messages,
                max_bytes,
                overflow,
                jitter,
                seed,
                window,
                held,
            },
        )
}

/// A browser socket as the model sees it: what was written, in order, how many of those
/// bytes the browser has taken off `bufferedAmount`, and how many have reached the server.
#[derive(Debug)]
struct Socket {
    id: u64,
    opened: bool,
    /// Each write: the message's sequence number (`None` for pings and hook writes) and
    /// its size.
    writes: Vec<(Option<u64>, u64)>,
    written: u64,
    transmitted: u64,
    arrived: u64,
    /// Writes wholly arrived so far.
    delivered: usize,
}

/// What the server received: a message's sequence number and the socket it came on.
type Arrival = (u64, u64);

impl Socket {
    fn new(id: u64) -> Self {
        Socket {
            id,
            opened: false,
            writes: Vec::new(),
            written: 0,
            transmitted: 0,
            arrived: 0,
            delivered: 0,
        }
    }

    fn buffered(&self) -> u64 {
        self.written - self.transmitted
    }

    /// An empty message written after everything before it arrived arrives at once.
    fn write(&mut self, seq: Option<u64>, bytes: u64, server: &mut Vec<Arrival>) {
        self.writes.push((seq, bytes));
        self.written += bytes;
        self.deliver(server);
    }

    /// The browser takes up to `bytes` off `bufferedAmount`, holding at most `held` of them
    /// before they reach the server.
    fn transmit(&mut self, bytes: u64, held: u64, server: &mut Vec<Arrival>) {
        self.transmitted = (self.transmitted + bytes).min(self.written);
        self.arrived = self.arrived.max(self.transmitted.saturating_sub(held));
        self.deliver(server);
    }

    /// Up to `bytes` of what the browser took reach the server; whole messages are received.
    fn arrive(&mut self, bytes: u64, server: &mut Vec<Arrival>) {
        self.arrived = (self.arrived + bytes).min(self.transmitted);
        self.deliver(server);
    }

    /// The connection ends as the client closed it: everything taken off `bufferedAmount`
    /// reaches the server.
    fn flush_transmitted(&mut self, server: &mut Vec<Arrival>) {
        self.arrived = self.transmitted;
        self.deliver(server);
    }

    fn deliver(&mut self, server: &mut Vec<Arrival>) {
        let mut end: u64 = self.writes[..self.delivered].iter().map(|w| w.1).sum();
        while let Some(&(seq, bytes)) = self.writes.get(self.delivered) {
            if end + bytes > self.arrived {
                break;
            }
            end += bytes;
            self.delivered += 1;
            if let Some(seq) = seq {
                server.push((seq, self.id));
            }
        }
    }

    /// Messages written but not yet received whole by the server.
    fn undelivered(&self) -> impl Iterator<Item = u64> + '_ {
        self.writes[self.delivered..].iter().filter_map(|w| w.0)
    }
}

struct Harness {
    setup: Setup,
    machine: Machine,
    out: Vec<Action>,
    alive: Option<Socket>,
    /// The socket `close()` closed, still draining its buffer.
    closing: Option<Socket>,
    old_ids: Vec<u64>,
    online: bool,
    user_closed: bool,
    pending: HashSet<Timer>,
    next_seq: u64,
    accepted: Vec<u64>,
    refused: Vec<u64>,
    server: Vec<Arrival>,
    handed_back: Vec<u64>,
    dropped: Vec<u64>,
}

fn seq_of(message: &Message) -> u64 {
    message
        .as_text()
        .and_then(|text| text.get(..8))
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(u64::MAX)
}

impl Harness {
    fn new(setup: Setup) -> Self {
        let heartbeat = Heartbeat::new(Duration::from_secs(10), Duration::from_secs(5));
        let config = MachineConfig::default()
            .backoff(
                Backoff::default()
                    .max_retries(setup.max_retries)
                    .jitter(setup.jitter),
            )
            .queue(
                QueueLimits::default()
                    .max_messages(setup.max_messages)
                    .max_bytes(setup.max_bytes)
                    .overflow(setup.overflow),
            )
            .connect_timeout(setup.connect_timeout.then_some(Duration::from_secs(3)))
            .heartbeat(setup.heartbeat.then_some(heartbeat))
            .has_open_hook(setup.open_hook);
        let mut machine = Machine::new(config, setup.seed).expect("valid configuration");
        machine.set_resend_window(setup.window);
        Harness {
            machine,
            setup,
            out: Vec::new(),
            alive: None,
            closing: None,
            old_ids: Vec::new(),
            online: true,
            user_closed: false,
            pending: HashSet::new(),
            next_seq: 0,
            accepted: Vec::new(),
            refused: Vec::new(),
            server: Vec::new(),
            handed_back: Vec::new(),
            dropped: Vec::new(),
        }
    }

    fn feed(&mut self, input: Input) -> Result<(), TestCaseError> {
        self.out.clear();
        self.machine.handle(input, &mut self.out);
        self.execute()
    }

    fn buffered_now(&self) -> u64 {
        self.alive.as_ref().map_or(0, Socket::buffered)
    }

    fn apply(&mut self, op: Op) -> Result<(), TestCaseError> {
        match op {
            Op::Start => self.feed(Input::Start)?,
            Op::Open => {
                if let Some(id) = self.alive.as_ref().filter(|s| !s.opened).map(|s| s.id) {
                    if let Some(socket) = self.alive.as_mut() {
                        socket.opened = true;
                    }
                    self.feed(Input::Opened {
                        id,
                        protocol: String::new(),
                    })?;
                }
            }
            Op::HookDone(ok) => {
                if let State::OpenHook { .. } = self.machine.state() {
                    if let Some(id) = self.alive.as_ref().map(|s| s.id) {
                        self.feed(Input::OpenHookDone { id, ok })?;
                    }
                }
            }
            Op::Drop { reconnect, clean } => {
                if let Some(socket) = self.alive.take() {
                    self.old_ids.push(socket.id);
                    let event = CloseEvent {
                        code: if clean { 1000 } else { 1006 },
                        reason: String::new(),
                        was_clean: clean,
                    };
                    self.feed(Input::SocketClosed {
                        id: socket.id,
                        event,
                        reconnect: reconnect.into(),
                        unsent_bytes: socket.buffered(),
                    })?;
                }
            }
            Op::StaleClose => {
                if let Some(&id) = self.old_ids.last() {
                    if self.closing.as_ref().map(|s| s.id) != Some(id) {
                        self.out.clear();
                        self.machine.handle(
                            Input::SocketClosed {
                                id,
                                event: CloseEvent {
                                    code: 1006,
                                    reason: String::new(),
                                    was_clean: false,
                                },
                                reconnect: Retry::Yes,
                                unsent_bytes: 3,
                            },
                            &mut self.out,
                        );
                        prop_assert!(self.out.is_empty(), "stale close acted: {:?}", self.out);
                    }
                }
            }
            Op::StaleOpen => {
                if let Some(&id) = self.old_ids.first() {
                    self.out.clear();
                    self.machine.handle(
                        Input::Opened {
                            id,
                            protocol: String::new(),
                        },
                        &mut self.out,
                    );
                    prop_assert!(self.out.is_empty(), "stale open acted: {:?}", self.out);
                }
            }
            Op::Fire(index) => {
                let timer = [
                    Timer::Backoff,
                    Timer::ConnectTimeout,
                    Timer::Heartbeat,
                    Timer::PongTimeout,
                    Timer::Stable,
                ][index];
                let input = Input::TimerFired {
                    timer,
                    buffered_amount: self.buffered_now(),
                };
                if self.pending.remove(&timer) {
                    self.feed(input)?;
                } else {
                    self.out.clear();
                    self.machine.handle(input, &mut self.out);
                    prop_assert!(
                        self.out.is_empty(),
                        "stale {:?} acted: {:?}",
                        timer,
                        self.out
                    );
                }
            }
            Op::Receive => {
                if let Some(id) = self.alive.as_ref().filter(|s| s.opened).map(|s| s.id) {
                    self.feed(Input::MessageReceived { id })?;
                }
            }
            Op::Send { chars, multibyte } => {
                let seq = self.next_seq;
                self.next_seq += 1;
                let pad = if multibyte { "é" } else { "a" };
                let message = Message::from(format!("{seq:08}{}", pad.repeat(chars.into())));
                self.out.clear();
                match self.machine.send(message.clone(), &mut self.out) {
                    Ok(()) => {
                        self.accepted.push(seq);
                        self.execute()?;
                    }
                    Err(
                        Error::QueueFull { message: back, .. }
                        | Error::MessageTooLarge { message: back, .. }
                        | Error::ClosedForGood { message: back },
                    ) => {
                        prop_assert_eq!(back, message, "the refused message is handed back");
                        prop_assert!(self.out.is_empty());
                        self.refused.push(seq);
                    }
                    Err(other) => prop_assert!(false, "unexpected error {other:?}"),
                }
            }
            Op::Progress(bytes) => {
                let (bytes, held) = (u64::from(bytes), self.setup.held);
                if let Some(socket) = self.alive.as_mut().filter(|s| s.opened) {
                    socket.transmit(bytes, held, &mut self.server);
                }
                if let Some(socket) = self.closing.as_mut() {
                    socket.transmit(bytes, held, &mut self.server);
                }
            }
            Op::Arrive(bytes) => {
                let bytes = u64::from(bytes);
                for socket in self.alive.iter_mut().chain(self.closing.iter_mut()) {
                    socket.arrive(bytes, &mut self.server);
                }
            }
            Op::Observe => {
                if let Some(socket) = &self.alive {
                    self.machine.observe_buffered(socket.id, socket.buffered());
                }
            }
            Op::Close => {
                self.out.clear();
                let returned = self
                    .machine
                    .close(USER_CLOSE_CODE, "bye", &mut self.out)
                    .map_err(|e| TestCaseError::fail(format!("close failed: {e}")))?;
                if self.user_closed {
                    prop_assert!(returned.is_empty() && self.out.is_empty());
                }
                self.handed_back.extend(returned.iter().map(seq_of));
                self.user_closed = true;
                self.execute()?;
            }
            Op::Reconnect => self.feed(Input::Reconnect)?,
            Op::Online => {
                self.online = true;
                self.feed(Input::Online)?;
            }
            Op::Offline => {
                self.online = false;
                self.feed(Input::Offline)?;
            }
            Op::Visible => self.feed(Input::Visible)?,
            Op::ClosingClosed => {
                if let Some(mut socket) = self.closing.take() {
                    // Closed by the client: what the browser took off bufferedAmount is
                    // sent before the close frame.
                    socket.flush_transmitted(&mut self.server);
                    self.feed(Input::SocketClosed {
                        id: socket.id,
                        event: CloseEvent {
                            code: USER_CLOSE_CODE,
                            reason: "bye".into(),
                            was_clean: true,
                        },
                        reconnect: Retry::Yes,
                        unsent_bytes: socket.buffered(),
                    })?;
                }
            }
        }
        self.check_state()
    }

    /// Does what a driver does with each action, checking each against the model.
    fn execute(&mut self) -> Result<(), TestCaseError> {
        let actions = std::mem::take(&mut self.out);
        for action in actions {
            match action {
                Action::Connect { id, attempt } => {
                    prop_assert!(self.alive.is_none(), "Connect {id} while a socket is alive");
                    prop_assert!(!self.user_closed, "Connect after close()");
                    prop_assert!(self.online, "Connect while offline");
                    if let Some(limit) = self.setup.max_retries {
                        prop_assert!(attempt <= limit, "attempt {attempt} over limit {limit}");
                    }
                    self.alive = Some(Socket::new(id));
                }
                Action::CloseSocket { id, code, .. } => {
                    let socket = self.alive.take();
                    prop_assert_eq!(socket.as_ref().map(|s| s.id), Some(id));
                    self.old_ids.push(id);
                    if let Some(mut socket) = socket {
                        if code == Some(USER_CLOSE_CODE) {
                            self.closing = Some(socket);
                        } else if code == Some(RECONNECT_CLOSE_CODE) {
                            // A healthy connection sends its buffer before the close frame.
                            let all = socket.buffered();
                            socket.transmit(all, 0, &mut self.server);
                        } else {
                            // Judged dead: nothing more gets through, not even what the
                            // browser took off bufferedAmount.
                            prop_assert_eq!(code, Some(CLIENT_CLOSE_CODE));
                        }
                    }
                }
                Action::Transmit { id, message } => {
                    let socket = self.alive.as_mut();
                    prop_assert!(
                        socket.as_ref().is_some_and(|s| s.id == id && s.opened),
                        "Transmit to {id}, which is not the open socket"
                    );
                    if let Some(socket) = socket {
                        socket.write(
                            Some(seq_of(&message)),
                            message.len() as u64,
                            &mut self.server,
                        );
                    }
                    self.machine.record_sent(id, message);
                }
                Action::SendPing { id } => {
                    if let Some(socket) = self.alive.as_mut().filter(|s| s.id == id) {
                        socket.write(None, PING_BYTES, &mut self.server);
                    }
                    self.machine.record_other(id, PING_BYTES);
                }
                Action::RunOpenHook { id } => {
                    if let Some(socket) = self.alive.as_mut().filter(|s| s.id == id) {
                        socket.write(None, HOOK_BYTES, &mut self.server);
                    }
                    self.machine.record_other(id, HOOK_BYTES);
                }
                Action::StartTimer { timer, .. } => {
                    prop_assert!(!self.user_closed, "{timer:?} started after close()");
                    prop_assert!(self.pending.insert(timer), "{timer:?} started twice");
                }
                Action::CancelTimer(timer) => {
                    prop_assert!(self.pending.remove(&timer), "{timer:?} not pending");
                }
                Action::Emit(Notice::Dropped(messages)) => {
                    prop_assert!(!messages.is_empty());
                    self.dropped.extend(messages.iter().map(seq_of));
                }
                Action::Emit(Notice::Unsent(messages)) => {
                    self.handed_back.extend(messages.iter().map(seq_of));
                }
                Action::Emit(_) => {}
            }
        }
        Ok(())
    }

    fn check_state(&self) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.machine.socket(), self.alive.as_ref().map(|s| s.id));
        if self.machine.state() == State::Open {
            prop_assert!(
                self.machine.queue().is_empty(),
                "messages queued while open"
            );
        }
        if self.user_closed {
            prop_assert_eq!(self.machine.state(), State::Closed);
        }
        Ok(())
    }

    fn check_accounting(&self) -> Result<(), TestCaseError> {
        let mut by_socket: std::collections::HashMap<u64, Vec<u64>> = Default::default();
        let mut received = HashSet::new();
        let mut first_arrivals = Vec::new();
        for &(seq, id) in &self.server {
            by_socket.entry(id).or_default().push(seq);
            if received.insert(seq) {
                first_arrivals.push(seq);
            }
        }
        for (id, seqs) in &by_socket {
            prop_assert!(
                seqs.windows(2).all(|pair| pair[0] < pair[1]),
                "socket {} delivered {:?}: not in send order",
                id,
                seqs
            );
        }
        prop_assert!(
            first_arrivals.windows(2).all(|pair| pair[0] < pair[1]),
            "the server first saw {:?}: not in send order",
            first_arrivals
        );
        let mut others: Vec<u64> = Vec::new();
        others.extend(&self.handed_back);
        others.extend(&self.dropped);
        others.extend(self.machine.queue().iter().map(seq_of));
        for socket in self.alive.iter().chain(&self.closing) {
            others.extend(socket.undelivered());
        }
        others.sort_unstable();
        prop_assert!(
            others.windows(2).all(|pair| pair[0] != pair[1]),
            "a message has two fates besides arriving: {:?}",
            others
        );
        let mut fates: Vec<u64> = received.iter().copied().chain(others).collect();
        fates.sort_unstable();
        fates.dedup();
        let mut expected = self.accepted.clone();
        expected.sort_unstable();
        prop_assert_eq!(
            fates,
            expected,
            "every accepted message arrived or has one other fate; refused: {:?}",
            self.refused
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn supervisor_invariants_hold_for_any_input_sequence(
        setup in setup(),
        ops in prop::collection::vec(op(), 1..150),
    ) {
        let mut harness = Harness::new(setup);
        for op in ops {
            harness.apply(op)?;
        }
        harness.check_accounting()?;
    }

    #[test]
    fn retries_stop_at_the_limit_when_every_attempt_fails(
        limit in 0u32..6,
        seed in any::<u64>(),
    ) {
        let setup = Setup {
            max_retries: Some(limit),
            open_hook: false,
            heartbeat: false,
            connect_timeout: false,
            max_messages: 10,
            max_bytes: 100,
            overflow: Overflow::RejectNew,
            jitter: Jitter::Full,
            seed,
            window: 0,
            held: 0,
        };
        let mut harness = Harness::new(setup);
        harness.apply(Op::Start)?;
        let mut connects = 1;
        while harness.alive.is_some() {
            harness.apply(Op::Drop { reconnect: true, clean: false })?;
            harness.apply(Op::Fire(0))?;
            connects += usize::from(harness.alive.is_some());
        }
        prop_assert_eq!(connects, limit as usize + 1);
        prop_assert_eq!(harness.machine.state(), State::GaveUp);
    }
}
