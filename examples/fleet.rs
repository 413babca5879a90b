//! A fleet of 100,000 reconnecting clients whose server goes away for 30 seconds, simulated
//! in virtual time with the very state machine and backoff the browser client runs.
//!
//! Run with `cargo run --release --features unstable-machine --example fleet`.
//!
//! The model: every client connects at start-up, stays connected long enough for its
//! backoff to be reset, then loses its connection when the server stops (all within 5 ms of
//! each other). While the server is down an attempt is refused after 1 to 50 ms; once it is
//! back, a handshake takes 10 to 60 ms. The server is assumed to accept every attempt once
//! it is back (no overload modelled), so the figures show the load the fleet *offers*: the
//! peak number of connection attempts in any 100 ms window after the return, how long
//! until 99% of the clients are connected again, and how many attempts were made in all.
//!
//! It is a discrete-event simulation: a priority queue of (time, event) in microseconds, so
//! the whole scenario takes a few seconds of real time per strategy, whatever it simulates.
//!
//! The rows compare the default backoff with decorrelated jitter, with a shorter maximum
//! delay (the trade-off between a gentle return and a quick one), and with the same
//! exponential schedule without jitter, which brings the whole fleet back in the same
//! instant. The last rows show what a server gains by shedding the first wave after its
//! return (clients on the quick schedule, maximum delay 10 s): every connection that opens
//! in its first 5 seconds is closed at once, with 1013 (Try Again Later) and
//! `retry-after=20`, or, for comparison, with 1011 and no delay asked.

use resocket::reconnect::{Action, Input, Machine, MachineConfig, Notice, Timer};
use resocket::{default_should_reconnect, Backoff, CloseEvent, Jitter};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The machine's timers, each with a slot in a client's `generation`.
const TIMERS: [Timer; 5] = [
    Timer::Backoff,
    Timer::ConnectTimeout,
    Timer::Heartbeat,
    Timer::PongTimeout,
    Timer::Stable,
];

fn timer_index(timer: Timer) -> usize {
    TIMERS
        .iter()
        .position(|known| *known == timer)
        .expect("a timer kind this simulation knows")
}

const CLIENTS: usize = 100_000;
/// When the server stops, in microseconds; every client is connected and stable by then.
const OUTAGE_START: u64 = 10_000_000;
/// When it comes back: 30 s later.
const OUTAGE_END: u64 = OUTAGE_START + 30_000_000;
const WINDOW: u64 = 100_000;
/// Enough for the slowest schedule to bring everyone back.
const HORIZON: u64 = OUTAGE_END + 120_000_000;
/// How long after its return a shedding server closes every connection that opens.
const SHED_FOR: u64 = 5_000_000;

/// What an entry of the event queue means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A timer of the given kind, valid if its generation still matches.
    Timer(usize),
    /// The handshake of a socket ends: open if the server is up then, refused if not.
    Handshake,
    /// An attempt made while the server was down is refused.
    Refused,
    /// The server stops and the client's open connection drops.
    Drop,
}

/// xorshift64*: the simulation's own randomness (latencies), separate from the clients'.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

type Entry = (u64, u64, u32, Kind, u64);

struct Client {
    machine: Machine,
    /// Bumped whenever a timer of that kind is started or cancelled, so a queued firing of
    /// an older one is recognised and skipped, as `clearTimeout` would have prevented it.
    generation: [u64; 5],
    /// The id of the socket the client has created and not closed.
    socket: Option<u64>,
}

struct Outcome {
    peak_after_return: usize,
    reconnected_99: Option<f64>,
    reconnected_all: Option<f64>,
    attempts: usize,
    attempts_after_return: usize,
}

struct Simulation {
    clients: Vec<Client>,
    /// Earliest first: (time in µs, sequence number for a stable order, client, kind, the
    /// socket id or timer generation the entry is about).
    queue: BinaryHeap<Reverse<Entry>>,
    sequence: u64,
    rng: Rng,
    now: u64,
    /// Attempts from the start of the outage on (start-up connections are not counted).
    attempts: usize,
    attempt_times_after_return: Vec<u64>,
    reconnect_times: Vec<u64>,
    /// The close a shedding server answers its first wave with, if it sheds.
    shed_with: Option<CloseEvent>,
}

impl Simulation {
    fn new(backoff: Backoff, shed_with: Option<CloseEvent>) -> Self {
        let config = MachineConfig::default().backoff(backoff);
        let clients = (0..CLIENTS as u64)
            .map(|index| Client {
                machine: Machine::new(
                    config.clone(),
                    index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03,
                )
                .unwrap_or_else(|error| panic!("invalid configuration: {error}")),
                generation: [0; 5],
                socket: None,
            })
            .collect();
        Simulation {
            clients,
            queue: BinaryHeap::new(),
            sequence: 0,
            rng: Rng(0x5DEE_CE66_D1CE_4E5B),
            now: 0,
            attempts: 0,
            attempt_times_after_return: Vec::new(),
            reconnect_times: Vec::new(),
            shed_with,
        }
    }

    fn server_up(&self, at: u64) -> bool {
        !(OUTAGE_START..OUTAGE_END).contains(&at)
    }

    /// The close the server answers a connection opening at `at` with, while it sheds.
    fn shedding(&self, at: u64) -> Option<CloseEvent> {
        let first_wave = (OUTAGE_END..OUTAGE_END + SHED_FOR).contains(&at);
        self.shed_with.clone().filter(|_| first_wave)
    }

    fn schedule(&mut self, at: u64, client: u32, kind: Kind, tag: u64) {
        self.sequence += 1;
        self.queue
            .push(Reverse((at, self.sequence, client, kind, tag)));
    }

    fn feed(&mut self, client: u32, input: Input, out: &mut Vec<Action>) {
        out.clear();
        self.clients[client as usize].machine.handle(input, out);
        self.execute(client, out);
    }

    /// What the browser driver does with each action, in simulated time.
    fn execute(&mut self, client: u32, out: &mut Vec<Action>) {
        for action in out.drain(..) {
            match action {
                Action::Connect { id, .. } => {
                    if self.now >= OUTAGE_START {
                        self.attempts += 1;
                    }
                    if self.now >= OUTAGE_END {
                        self.attempt_times_after_return.push(self.now);
                    }
                    self.clients[client as usize].socket = Some(id);
                    if self.server_up(self.now) {
                        let at = self.now + self.rng.between(10_000, 60_000);
                        self.schedule(at, client, Kind::Handshake, id);
                    } else {
                        let at = self.now + self.rng.between(1_000, 50_000);
                        self.schedule(at, client, Kind::Refused, id);
                    }
                }
                Action::CloseSocket { .. } => self.clients[client as usize].socket = None,
                Action::StartTimer { timer, after } => {
                    let index = timer_index(timer);
                    let state = &mut self.clients[client as usize];
                    state.generation[index] += 1;
                    let generation = state.generation[index];
                    let at = self.now + after.as_micros() as u64;
                    self.schedule(at, client, Kind::Timer(index), generation);
                }
                Action::CancelTimer(timer) => {
                    self.clients[client as usize].generation[timer_index(timer)] += 1;
                }
                Action::Emit(Notice::Open { .. })
                    if self.now >= OUTAGE_END && self.shedding(self.now).is_none() =>
                {
                    self.reconnect_times.push(self.now);
                }
                _ => {}
            }
        }
    }

    fn closed(&mut self, client: u32, id: u64, out: &mut Vec<Action>) {
        let event = CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        };
        self.closed_with(client, id, event, out);
    }

    fn closed_with(&mut self, client: u32, id: u64, event: CloseEvent, out: &mut Vec<Action>) {
        let reconnect = default_should_reconnect(&event).into();
        self.clients[client as usize].socket = None;
        self.feed(
            client,
            Input::SocketClosed {
                id,
                event,
                reconnect,
                unsent_bytes: 0,
            },
            out,
        );
    }

    fn run(mut self) -> Outcome {
        let mut out = Vec::new();
        for client in 0..CLIENTS as u32 {
            // Start-up is spread over the first second, as page loads would be.
            self.now = self.rng.between(0, 1_000_000);
            self.feed(client, Input::Start, &mut out);
            let drop_at = OUTAGE_START + self.rng.between(0, 5_000);
            self.schedule(drop_at, client, Kind::Drop, 0);
        }
        self.now = 0;
        while let Some(Reverse((at, _, client, kind, tag))) = self.queue.pop() {
            if at > HORIZON {
                break;
            }
            self.now = at;
            let state = &self.clients[client as usize];
            match kind {
                Kind::Timer(index) if state.generation[index] == tag => {
                    let input = Input::TimerFired {
                        timer: TIMERS[index],
                        buffered_amount: 0,
                    };
                    self.feed(client, input, &mut out);
                }
                Kind::Handshake if state.socket == Some(tag) => {
                    if self.server_up(at) {
                        let input = Input::Opened {
                            id: tag,
                            protocol: String::new(),
                        };
                        self.feed(client, input, &mut out);
                        if let Some(event) = self.shedding(at) {
                            self.closed_with(client, tag, event, &mut out);
                        }
                    } else {
                        self.closed(client, tag, &mut out);
                    }
                }
                Kind::Refused if state.socket == Some(tag) => self.closed(client, tag, &mut out),
                Kind::Drop => {
                    if let Some(id) = state.socket {
                        self.closed(client, id, &mut out);
                    }
                }
                _ => {}
            }
        }
        self.outcome()
    }

    fn outcome(&self) -> Outcome {
        let times = &self.attempt_times_after_return;
        let mut peak = 0;
        let mut start = 0;
        for (end, &time) in times.iter().enumerate() {
            while times[start] + WINDOW <= time {
                start += 1;
            }
            peak = peak.max(end + 1 - start);
        }
        let seconds_after_return = |index: usize| {
            self.reconnect_times
                .get(index)
                .map(|&t| (t - OUTAGE_END) as f64 / 1e6)
        };
        Outcome {
            peak_after_return: peak,
            reconnected_99: seconds_after_return(CLIENTS * 99 / 100 - 1),
            reconnected_all: seconds_after_return(CLIENTS - 1),
            attempts: self.attempts,
            attempts_after_return: times.len(),
        }
    }
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "never".to_owned(), |s| format!("{s:.2} s"))
}

fn main() {
    let default = Backoff::default();
    let strategies = [
        ("default (full jitter)", default.clone()),
        (
            "decorrelated jitter",
            default.clone().jitter(Jitter::Decorrelated),
        ),
        (
            "full jitter, max 10 s",
            default
                .clone()
                .max_delay(std::time::Duration::from_secs(10)),
        ),
        ("no jitter (baseline)", default.clone().jitter(Jitter::None)),
    ];
    let quick = default
        .clone()
        .max_delay(std::time::Duration::from_secs(10));
    let shed = |code: u16, reason: &str| CloseEvent {
        code,
        reason: reason.to_owned(),
        was_clean: true,
    };
    let shedding = [
        (
            "max 10 s; server sheds its first 5 s with 1013 retry-after=20",
            shed(1013, "retry-after=20"),
        ),
        (
            "max 10 s; server sheds its first 5 s with 1011 (no delay asked)",
            shed(1011, ""),
        ),
    ];
    let rows = strategies
        .into_iter()
        .map(|(name, backoff)| (name, backoff, None))
        .chain(
            shedding
                .into_iter()
                .map(|(name, close)| (name, quick.clone(), Some(close))),
        );
    println!(
        "{CLIENTS} clients; server down from t=0 for 30 s; backoff min {:?}, max {:?}, factor {}",
        default.min_delay, default.max_delay, default.factor
    );
    println!();
    println!(
        "| backoff | peak attempts in any 100 ms after return | 99% reconnected after | all reconnected after | attempts after return | attempts since the outage began |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, backoff, shed_with) in rows {
        let outcome = Simulation::new(backoff, shed_with).run();
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            outcome.peak_after_return,
            seconds(outcome.reconnected_99),
            seconds(outcome.reconnected_all),
            outcome.attempts_after_return,
            outcome.attempts,
        );
    }
}
