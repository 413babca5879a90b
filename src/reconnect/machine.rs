//! The reconnecting client's supervisor as a pure state machine: inputs in, actions out, no
//! clock, no socket, no JavaScript. See the [module documentation](super) for how a driver
//! runs it.
// Part of the pure API that simulations reach through the `unstable-machine` feature; without
// it, the client uses only some of it.
#![cfg_attr(not(feature = "unstable-machine"), allow(dead_code))]

use super::action::Action;
use super::config::MachineConfig;
use super::in_flight::InFlight;
use super::input::Input;
use super::notice::Notice;
use super::policy::{server_requested_delay, Retry, SERVICE_RESTART, TRY_AGAIN_LATER};
use super::state::{GiveUpReason, State};
use super::timer::{PerTimer, Timer};
use crate::backoff::{BackoffSchedule, MAX_TIMER_DELAY};
use crate::payload::{Payload, Refusal};
use crate::queue::{Pushed, SendQueue};
use crate::{validate_close, CloseEvent, Error, Message};
use std::time::Duration;

/// The close code the client sends when it gives up on a connection by itself: connect
/// timeout, heartbeat timeout, failed open hook. It is in the range reserved for
/// applications, the only one besides 1000 a browser may send.
pub const CLIENT_CLOSE_CODE: u16 = 4000;

/// The close code sent when `reconnect()` replaces a connection: nothing went wrong.
pub const RECONNECT_CLOSE_CODE: u16 = 1000;

const CONNECT_TIMEOUT_REASON: &str = "connect timeout";
const OPEN_HOOK_TIMEOUT_REASON: &str = "open hook timeout";
const OPEN_HOOK_FAILED_REASON: &str = "open hook failed";
const HEARTBEAT_TIMEOUT_REASON: &str = "heartbeat timeout";
const RECONNECT_REASON: &str = "reconnect requested";

/// The reconnecting client's supervisor. See the [module documentation](super) for the
/// driver's side of the contract.
#[derive(Debug, Clone)]
pub struct Machine<P = Message> {
    config: MachineConfig,
    schedule: BackoffSchedule,
    queue: SendQueue<P>,
    in_flight: InFlight<P>,
    state: State,
    /// The socket alive now, if any: set by `Connect`, cleared by its close or abandonment.
    socket: Option<u64>,
    /// The socket `close()` closed, whose `close` event is still to be forwarded.
    closing: Option<u64>,
    next_id: u64,
    online: bool,
    pending: PerTimer<bool>,
    /// The negotiated subprotocol, held while the open hook runs.
    protocol: String,
    /// Whether the delay being waited out is one the server asked for (1013, `retry-after`),
    /// which `online` and `visible` do not cut short.
    held_by_server: bool,
    /// Bytes handed to the current socket so far (messages, pings, the open hook's).
    sent_on_socket: u64,
    /// While a pong is awaited: `sent_on_socket` when the ping was queued, and how many of
    /// the bytes queued before it were still unsent at the last look. The ping waits behind
    /// them; while the socket keeps sending them, the wait for the answer is extended, so a
    /// slow upload is not taken for a dead connection.
    ping_queue: (u64, u64),
    /// Whether the current socket's messages wait in the network for a reader that is
    /// behind ([`Input::ReaderBehind`]): an answer to a ping may be among them.
    reader_behind: bool,
}

impl<P: Payload> Machine<P> {
    /// A machine in [`State::Idle`], assuming the browser is online; feed
    /// [`Input::Offline`] before [`Input::Start`] if it is not. `seed` drives the backoff
    /// jitter: give every client a different one (in the browser, from `Math.random()`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] if [`MachineConfig::validate`] refuses the configuration.
    pub fn new(config: MachineConfig, seed: u64) -> Result<Self, Error> {
        config.validate()?;
        Ok(Machine {
            schedule: BackoffSchedule::with_seed(config.backoff.clone(), seed),
            queue: SendQueue::new(config.queue),
            in_flight: InFlight::with_window(config.resend_window),
            config,
            state: State::Idle,
            socket: None,
            closing: None,
            next_id: 1,
            online: true,
            pending: PerTimer::default(),
            protocol: String::new(),
            held_by_server: false,
            sent_on_socket: 0,
            ping_queue: (0, 0),
            reader_behind: false,
        })
    }

    /// Reacts to `input`, appending the actions it calls for to `out` (which is not
    /// cleared, so one buffer can be reused without allocating).
    pub fn handle(&mut self, input: Input, out: &mut Vec<Action<P>>) {
        match input {
            Input::Start => {
                if self.state == State::Idle {
                    self.connect(0, out);
                }
            }
            Input::Opened { id, protocol } => self.opened(id, protocol, out),
            Input::OpenHookDone { id, ok } => self.open_hook_done(id, ok, out),
            Input::SocketClosed {
                id,
                event,
                reconnect,
                unsent_bytes,
            } => self.socket_closed(id, event, reconnect, unsent_bytes, out),
            Input::TimerFired {
                timer,
                buffered_amount,
            } => self.timer_fired(timer, buffered_amount, out),
            Input::ReaderBehind { id, behind } => {
                if self.socket == Some(id) {
                    self.reader_behind = behind;
                }
            }
            Input::MessageReceived { id } => {
                if self.socket == Some(id) && *self.pending.get(Timer::PongTimeout) {
                    self.cancel_timer(Timer::PongTimeout, out);
                    if let Some(heartbeat) = self.config.heartbeat {
                        self.start_timer(Timer::Heartbeat, heartbeat.interval, out);
                    }
                }
            }
            Input::Reconnect => self.reconnect(RECONNECT_CLOSE_CODE, RECONNECT_REASON, out),
            Input::ReconnectWith { code, reason } => self.reconnect(code, &reason, out),
            Input::Online => {
                self.online = true;
                match self.state {
                    State::Paused { attempt } => self.connect(attempt, out),
                    State::Waiting { attempt, .. } if !self.held_by_server => {
                        self.cancel_timer(Timer::Backoff, out);
                        self.connect(attempt, out);
                    }
                    _ => {}
                }
            }
            Input::Offline => {
                self.online = false;
                // A delay the server asked for runs on: its attempt pauses if still offline.
                if let (State::Waiting { attempt, .. }, false) = (self.state, self.held_by_server) {
                    self.cancel_timer(Timer::Backoff, out);
                    self.state = State::Paused { attempt };
                }
            }
            Input::Visible => {
                if let (State::Waiting { attempt, .. }, false) = (self.state, self.held_by_server) {
                    self.cancel_timer(Timer::Backoff, out);
                    self.connect(attempt, out);
                }
            }
        }
    }

    /// Sends `message` if connected and ready ([`Action::Transmit`]), else queues it for
    /// the next connection. Under [`Overflow::DropOldest`](crate::Overflow::DropOldest) the
    /// messages dropped to make room are reported with [`Notice::Dropped`].
    ///
    /// # Errors
    ///
    /// The message is handed back inside the error:
    /// - [`Error::ClosedForGood`] after `close()` or after giving up;
    /// - [`Error::QueueFull`] or [`Error::MessageTooLarge`] if it had to be queued and the
    ///   queue refused it.
    pub fn send(&mut self, message: P, out: &mut Vec<Action<P>>) -> Result<(), Error> {
        match (self.state, self.socket) {
            (State::Closed | State::GaveUp, _) => Err(message.refused(Refusal::ClosedForGood)),
            (State::Open, Some(id)) => {
                out.push(Action::Transmit { id, message });
                Ok(())
            }
            _ => {
                if let Pushed::DroppedOldest(dropped) = self.queue.push(message)? {
                    out.push(Action::Emit(Notice::Dropped(dropped)));
                }
                Ok(())
            }
        }
    }

    /// Closes for good: cancels every timer, closes the socket if one is alive (its
    /// `close` event, if fed, is forwarded as [`Notice::Closed`], preceded by
    /// [`Notice::Unsent`] for messages it never sent), and returns every queued message,
    /// oldest first. Closing again returns nothing and does nothing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`] or [`Error::CloseReasonTooLong`] (see
    /// [`validate_close`]); nothing is changed then.
    ///
    /// `code` may be absent, as in the browser's `close()` with no arguments: the socket's
    /// close frame then carries no code (the other side sees 1005), unless there is a
    /// reason, which needs one: 1000, as the browser does.
    pub fn close(
        &mut self,
        code: impl Into<Option<u16>>,
        reason: &str,
        out: &mut Vec<Action<P>>,
    ) -> Result<Vec<P>, Error> {
        let code = code
            .into()
            .or((!reason.is_empty()).then_some(crate::NORMAL_CLOSURE));
        validate_close(code.unwrap_or(crate::NORMAL_CLOSURE), reason)?;
        if self.state == State::Closed {
            return Ok(Vec::new());
        }
        for timer in Timer::ALL {
            self.cancel_timer(timer, out);
        }
        match self.socket.take() {
            Some(id) => {
                out.push(Action::CloseSocket {
                    id,
                    code,
                    reason: reason.to_owned(),
                });
                // The ledger stays, to tell which messages this socket never sent.
                self.closing = Some(id);
            }
            None => self.in_flight.clear(),
        }
        self.state = State::Closed;
        self.protocol = String::new();
        Ok(self.queue.drain_all())
    }

    /// Takes back a message after the driver has sent it for [`Action::Transmit`], into the
    /// in-flight ledger. A message for a socket that is no longer current is dropped: it
    /// was written to a socket that was closed with `close()`, which still sends it.
    pub fn record_sent(&mut self, id: u64, message: P) {
        if self.socket == Some(id) {
            self.sent_on_socket = self
                .sent_on_socket
                .saturating_add(message.byte_len() as u64);
        }
        if self.is_ledger_socket(id) {
            self.in_flight.record(message);
        }
    }

    /// Reports `bytes` written to socket `id` outside [`Action::Transmit`] (the heartbeat
    /// ping, messages of the open hook), so the ledger keeps matching `bufferedAmount`.
    pub fn record_other(&mut self, id: u64, bytes: u64) {
        if self.socket == Some(id) {
            self.sent_on_socket = self.sent_on_socket.saturating_add(bytes);
        }
        if self.is_ledger_socket(id) {
            self.in_flight.record_other(bytes);
        }
    }

    /// Reports a reading of socket `id`'s `bufferedAmount`, letting the ledger forget what
    /// has left the browser. Do it before each send (where backpressure reads it anyway):
    /// that bounds the ledger's memory to about the high-water mark plus two messages.
    pub fn observe_buffered(&mut self, id: u64, buffered_amount: u64) {
        if self.is_ledger_socket(id) {
            self.in_flight.observe(buffered_amount);
        }
    }

    /// Replaces the (empty) ledger with one keeping `window` bytes beyond `bufferedAmount`,
    /// so tests can put the boundary among a few small messages.
    #[cfg(test)]
    pub(crate) fn set_resend_window(&mut self, window: u64) {
        self.in_flight = InFlight::with_window(window);
    }

    /// Where the client is now.
    pub fn state(&self) -> State {
        self.state
    }

    /// The id of the socket alive now, if any.
    pub fn socket(&self) -> Option<u64> {
        self.socket
    }

    /// Whether the machine believes the browser is online.
    pub fn is_online(&self) -> bool {
        self.online
    }

    /// The messages waiting for a connection.
    pub fn queue(&self) -> &SendQueue<P> {
        &self.queue
    }

    /// The ledger of messages handed to the current socket that may not have left the
    /// browser yet.
    pub fn in_flight(&self) -> &InFlight<P> {
        &self.in_flight
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &MachineConfig {
        &self.config
    }

    fn is_ledger_socket(&self, id: u64) -> bool {
        self.socket == Some(id) || self.closing == Some(id)
    }

    /// Creates a socket for `attempt`, or pauses if the browser is offline.
    fn connect(&mut self, attempt: u32, out: &mut Vec<Action<P>>) {
        if !self.online {
            self.state = State::Paused { attempt };
            return;
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.socket = Some(id);
        self.sent_on_socket = 0;
        self.reader_behind = false;
        self.in_flight.clear();
        self.state = State::Connecting { attempt };
        out.push(Action::Connect { id, attempt });
        if let Some(timeout) = self.config.connect_timeout {
            self.start_timer(Timer::ConnectTimeout, timeout, out);
        }
    }

    fn opened(&mut self, id: u64, protocol: String, out: &mut Vec<Action<P>>) {
        let State::Connecting { attempt } = self.state else {
            return;
        };
        if self.socket != Some(id) {
            return;
        }
        if let Some(heartbeat) = self.config.heartbeat {
            self.start_timer(Timer::Heartbeat, heartbeat.interval, out);
        }
        if self.config.has_open_hook {
            self.state = State::OpenHook { attempt };
            self.protocol = protocol;
            out.push(Action::RunOpenHook { id });
        } else {
            self.ready(id, attempt, protocol, out);
        }
    }

    fn open_hook_done(&mut self, id: u64, ok: bool, out: &mut Vec<Action<P>>) {
        let State::OpenHook { attempt } = self.state else {
            return;
        };
        if self.socket != Some(id) {
            return;
        }
        if ok {
            let protocol = std::mem::take(&mut self.protocol);
            self.ready(id, attempt, protocol, out);
        } else {
            self.abandon(CLIENT_CLOSE_CODE, OPEN_HOOK_FAILED_REASON, None, out);
            self.retry(out);
        }
    }

    /// The connection is usable: flush the queue, then tell the user. Transmits come before
    /// the `Open` event so that a user who sends from the event's handler cannot overtake
    /// messages queued earlier.
    fn ready(&mut self, id: u64, attempt: u32, protocol: String, out: &mut Vec<Action<P>>) {
        self.cancel_timer(Timer::ConnectTimeout, out);
        self.state = State::Open;
        self.start_timer(Timer::Stable, self.config.backoff.stable_after, out);
        out.reserve(self.queue.len() + 1);
        while let Some(message) = self.queue.pop_front() {
            out.push(Action::Transmit { id, message });
        }
        out.push(Action::Emit(Notice::Open { attempt, protocol }));
    }

    fn socket_closed(
        &mut self,
        id: u64,
        event: CloseEvent,
        reconnect: Retry,
        unsent_bytes: u64,
        out: &mut Vec<Action<P>>,
    ) {
        if self.closing == Some(id) {
            self.closing = None;
            let unsent = self.in_flight.unsent(unsent_bytes);
            if !unsent.is_empty() {
                out.push(Action::Emit(Notice::Unsent(unsent)));
            }
            out.push(Action::Emit(Notice::Closed(event)));
            return;
        }
        if self.socket != Some(id) {
            return;
        }
        self.socket = None;
        self.cancel_socket_timers(out);
        self.protocol = String::new();
        // The client did not close this socket: the server did, or the connection broke.
        // The browser may then have dropped more than `bufferedAmount` says (Chromium drops
        // what its network process holds), so the window beyond it is queued again too.
        // Sent earlier than anything queued while this socket was opening, so they go
        // first. The ledger is empty if the socket never opened.
        let unsent = self.in_flight.possibly_unsent(unsent_bytes);
        self.queue.push_front_batch(unsent);
        out.push(Action::Emit(Notice::Closed(event.clone())));
        match reconnect {
            Retry::No => self.give_up(GiveUpReason::NotRetryable(event), out),
            retry => self.retry_after_close(&event, retry, out),
        }
    }

    /// Of `buffered_amount`, the bytes queued before the awaited ping: everything handed to
    /// the socket since the ping (the ping too) is behind it, at the end of the buffer.
    fn unsent_before_ping(&self, buffered_amount: u64) -> u64 {
        let behind = self.sent_on_socket.saturating_sub(self.ping_queue.0);
        buffered_amount.saturating_sub(behind)
    }

    fn timer_fired(&mut self, timer: Timer, buffered_amount: u64, out: &mut Vec<Action<P>>) {
        // A timer the machine does not think pending is stale: ignore it.
        if !std::mem::take(self.pending.get_mut(timer)) {
            return;
        }
        match (timer, self.state) {
            (Timer::Backoff, State::Waiting { attempt, .. }) => self.connect(attempt, out),
            (Timer::ConnectTimeout, State::Connecting { .. }) => {
                self.abandon(CLIENT_CLOSE_CODE, CONNECT_TIMEOUT_REASON, None, out);
                // Firefox keeps a handshake abandoned by `close()` open at the server for
                // about 30 s, and holds later connections to that host behind it: retrying
                // sooner than the timeout itself would pile them up.
                let floor = self.config.connect_timeout.unwrap_or_default();
                self.retry_no_sooner_than(floor, out);
            }
            (Timer::ConnectTimeout, State::OpenHook { .. }) => {
                self.abandon(CLIENT_CLOSE_CODE, OPEN_HOOK_TIMEOUT_REASON, None, out);
                self.retry(out);
            }
            (Timer::Heartbeat, State::OpenHook { .. } | State::Open) => {
                if let (Some(id), Some(heartbeat)) = (self.socket, self.config.heartbeat) {
                    out.push(Action::SendPing { id });
                    self.ping_queue = (self.sent_on_socket, buffered_amount);
                    self.start_timer(Timer::PongTimeout, heartbeat.timeout, out);
                }
            }
            (Timer::PongTimeout, State::OpenHook { .. } | State::Open)
                if self.unsent_before_ping(buffered_amount) < self.ping_queue.1 =>
            {
                // The socket sent some of what the ping waits behind since the last look:
                // the connection is alive, just busy. Wait again, from what is left. (Once
                // all of it has left the browser, the ping may have only just: one more
                // wait. What the system's own buffers hold, the browser does not tell.)
                if let Some(heartbeat) = self.config.heartbeat {
                    self.ping_queue.1 = self.unsent_before_ping(buffered_amount);
                    self.start_timer(Timer::PongTimeout, heartbeat.timeout, out);
                }
            }
            (Timer::PongTimeout, State::OpenHook { .. } | State::Open) if self.reader_behind => {
                // The answer cannot be read while the reader is behind: it may be waiting
                // in the network behind the messages not yet read. Wait again.
                if let Some(heartbeat) = self.config.heartbeat {
                    self.start_timer(Timer::PongTimeout, heartbeat.timeout, out);
                }
            }
            (Timer::PongTimeout, State::OpenHook { .. } | State::Open) => {
                // The connection is judged dead, so what the browser still holds will not
                // be sent by it: queue it again.
                self.abandon(
                    CLIENT_CLOSE_CODE,
                    HEARTBEAT_TIMEOUT_REASON,
                    Some(buffered_amount),
                    out,
                );
                self.retry(out);
            }
            (Timer::Stable, State::Open) => self.schedule.reset(),
            _ => {}
        }
    }

    fn reconnect(&mut self, code: u16, reason: &str, out: &mut Vec<Action<P>>) {
        if self.state == State::Closed {
            return;
        }
        if self.socket.is_some() {
            // A live connection closed with `close()` still sends what it buffered, so
            // nothing is queued again.
            self.abandon(code, reason, None, out);
        }
        self.cancel_timer(Timer::Backoff, out);
        self.schedule.reset();
        self.connect(0, out);
    }

    /// Drops the current socket without waiting for its `close` event: closes it, reports
    /// a made-up close, and queues again the messages it still held if `requeue` gives its
    /// `bufferedAmount`.
    fn abandon(&mut self, code: u16, reason: &str, requeue: Option<u64>, out: &mut Vec<Action<P>>) {
        let Some(id) = self.socket.take() else {
            return;
        };
        self.cancel_socket_timers(out);
        self.protocol = String::new();
        match requeue {
            Some(buffered_amount) => {
                // Judged dead: what the browser took off `bufferedAmount` may not have got
                // out either, so the window beyond it is queued again, as after a close the
                // client did not start.
                let unsent = self.in_flight.possibly_unsent(buffered_amount);
                self.queue.push_front_batch(unsent);
            }
            None => self.in_flight.clear(),
        }
        out.push(Action::CloseSocket {
            id,
            code: Some(code),
            reason: reason.to_owned(),
        });
        out.push(Action::Emit(Notice::Closed(CloseEvent {
            code,
            reason: reason.to_owned(),
            was_clean: false,
        })));
    }

    /// After a failed or lost connection: wait for the next delay, or give up.
    fn retry(&mut self, out: &mut Vec<Action<P>>) {
        self.retry_no_sooner_than(Duration::ZERO, out);
    }

    /// As [`retry`](Self::retry), waiting at least `floor`.
    fn retry_no_sooner_than(&mut self, floor: Duration, out: &mut Vec<Action<P>>) {
        if let Some(delay) = self.next_delay(out) {
            self.held_by_server = false;
            self.wait(delay.max(floor), out);
        }
    }

    /// After the other side closed (or the connection broke) and the policy said to retry:
    /// the delay the server or the predicate asked for comes first, plus the backoff's own
    /// delay as jitter, so a fleet told "not yet" does not come back all at once.
    /// - `Retry::After(d)`, else `retry-after=S` in the reason (any code): at least that.
    /// - 1013 (Try Again Later) without a delay: at least the maximum backoff delay.
    /// - 1012 (Service Restart) without a delay: spread over the minimum delay's window.
    fn retry_after_close(&mut self, event: &CloseEvent, retry: Retry, out: &mut Vec<Action<P>>) {
        let asked = match retry {
            Retry::After(delay) => Some(delay),
            _ => server_requested_delay(&event.reason),
        };
        let Some(backoff) = self.next_delay(out) else {
            return;
        };
        let delay = match (asked, event.code) {
            (Some(floor), _) => floor.saturating_add(backoff),
            (None, TRY_AGAIN_LATER) => self.config.backoff.max_delay.saturating_add(backoff),
            (None, SERVICE_RESTART) => self.schedule.draw_below(self.config.backoff.min_delay),
            (None, _) => backoff,
        };
        // The server's "not yet" is not cut short by `online` or the page becoming visible.
        self.held_by_server = asked.is_some() || event.code == TRY_AGAIN_LATER;
        self.wait(delay.min(MAX_TIMER_DELAY), out);
    }

    /// The backoff's next delay, counting the retry; `None` after giving up (retries spent).
    fn next_delay(&mut self, out: &mut Vec<Action<P>>) -> Option<Duration> {
        let delay = self.schedule.next_delay();
        if delay.is_none() {
            let retries = self.schedule.attempt();
            self.give_up(GiveUpReason::RetriesExhausted { retries }, out);
        }
        delay
    }

    /// Waits `delay` before the next attempt, or pauses until the browser is online.
    fn wait(&mut self, delay: Duration, out: &mut Vec<Action<P>>) {
        let attempt = self.schedule.attempt();
        if self.online {
            self.state = State::Waiting { attempt, delay };
            self.start_timer(Timer::Backoff, delay, out);
            out.push(Action::Emit(Notice::Reconnecting { attempt, delay }));
        } else {
            self.state = State::Paused { attempt };
        }
    }

    fn give_up(&mut self, reason: GiveUpReason, out: &mut Vec<Action<P>>) {
        self.cancel_timer(Timer::Backoff, out);
        self.state = State::GaveUp;
        out.push(Action::Emit(Notice::GaveUp { reason }));
    }

    fn cancel_socket_timers(&mut self, out: &mut Vec<Action<P>>) {
        for timer in [
            Timer::ConnectTimeout,
            Timer::Heartbeat,
            Timer::PongTimeout,
            Timer::Stable,
        ] {
            self.cancel_timer(timer, out);
        }
    }

    fn start_timer(&mut self, timer: Timer, after: Duration, out: &mut Vec<Action<P>>) {
        self.cancel_timer(timer, out);
        *self.pending.get_mut(timer) = true;
        out.push(Action::StartTimer { timer, after });
    }

    fn cancel_timer(&mut self, timer: Timer, out: &mut Vec<Action<P>>) {
        if std::mem::take(self.pending.get_mut(timer)) {
            out.push(Action::CancelTimer(timer));
        }
    }
}
