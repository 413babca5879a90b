//! Carrying out the machine's actions: opening sockets, sending, closing, timers and events.

use super::*;

impl<P: Wire + Clone, B: Platform> Core<P, B> {
    /// Carries out the machine's actions, in order.
    pub(super) fn execute(&self, inner: &mut Inner<P, B>, actions: &mut Vec<Action<P>>) {
        for action in actions.drain(..) {
            match action {
                // The socket is made by the driver task, on its next turn: a `close()` that
                // follows a `reconnect()` (or the start) at once then opens no socket at all,
                // and a failed connection is never made for nothing (browsers throttle a page
                // that makes many).
                Action::Connect { id, .. } => {
                    inner.resolve_next = Some(id);
                    self.wake_driver();
                }
                Action::CloseSocket { id, code, reason } => {
                    if inner.resolve_next == Some(id) {
                        inner.resolve_next = None;
                    }
                    if let Some((_, future)) =
                        inner.resolving.take_if(|(pending, _)| *pending == id)
                    {
                        inner.discard(future);
                    }
                    if inner.socket.as_ref().is_some_and(|live| live.id == id) {
                        if let Some(live) = inner.socket.take() {
                            let _ = match code {
                                None => live.connection.close_without_code(),
                                Some(code) => live.connection.close(code, &reason),
                            };
                            inner.closing = Some(live);
                        }
                    }
                }
                Action::Transmit { id, message } => {
                    // The ledger of sent messages is trimmed against the browser's real
                    // bufferedAmount every LEDGER_CHECK_EVERY sends, or sooner once it
                    // outgrows the high-water mark: no extra call into JavaScript per message,
                    // and small messages cannot pile up (each entry costs more than 32 bytes).
                    let ledger_limit = 2 * u64::from(self.config.high_water_mark)
                        + inner.machine.in_flight().window();
                    let ledger_bytes = inner.machine.in_flight().bytes();
                    if let Some(live) = inner.socket.as_mut().filter(|live| live.id == id) {
                        live.sent_since_reading += 1;
                        if live.sent_since_reading >= LEDGER_CHECK_EVERY
                            || ledger_bytes > ledger_limit
                        {
                            live.sent_since_reading = 0;
                            let buffered = u64::from(live.connection.buffered_amount());
                            inner.machine.observe_buffered(id, buffered);
                        }
                    }
                    if self.transmit(inner, id, &message) {
                        inner.machine.record_sent(id, message);
                    }
                    if inner.ledger_timer.is_none() {
                        inner.ledger_timer = Some(self.platform.timer(LEDGER_IDLE_TRIM_MS));
                        // The driver task polls the new timer, whoever sent.
                        self.wake_driver();
                    }
                }
                Action::SendPing { id } => {
                    let ping = &self.config.ping;
                    if self.transmit(inner, id, ping) {
                        inner.machine.record_other(id, ping.byte_len() as u64);
                    }
                }
                Action::RunOpenHook { id } => {
                    inner.hook_next = Some(id);
                    self.wake_driver();
                }
                Action::StartTimer { timer, after } => {
                    *inner.timers.get_mut(timer) = Some(self.platform.timer(millis(after)));
                }
                Action::CancelTimer(timer) => *inner.timers.get_mut(timer) = None,
                Action::Emit(notice) => inner.emit(notice.into()),
            }
        }
    }

    pub(super) fn open_socket(
        &self,
        inner: &mut Inner<P, B>,
        id: u64,
        url: &str,
        protocols: Option<Vec<String>>,
    ) {
        let protocols = protocols.unwrap_or_else(|| self.config.protocols.clone());
        let options = ConnectOptions::default()
            .protocols(protocols)
            .high_water_mark(self.config.high_water_mark)
            .receive(self.config.receive);
        let owner = self.on_socket.borrow().clone();
        let constructor = self.config.socket_constructor.as_ref();
        match self
            .platform
            .open(url, &options, self.config.messages, constructor)
        {
            Ok(connection) => {
                if let Some(owner) = owner {
                    owner(&connection);
                }
                inner.socket = Some(Live {
                    id,
                    connection: Rc::new(connection),
                    opened: false,
                    unsent_after_close: 0,
                    sent_since_reading: 0,
                });
            }
            Err(error) => {
                // An unusable URL from the provider: a failed attempt, retried on schedule,
                // with the reason in the close event the user sees.
                let event = CloseEvent {
                    code: 1006,
                    reason: error.to_string(),
                    was_clean: false,
                };
                inner.browser_inputs.push_back(Input::SocketClosed {
                    id,
                    event,
                    reconnect: Retry::Yes,
                    unsent_bytes: 0,
                });
            }
        }
    }

    /// Sends `message` on socket `id`. Whether it was sent: a message the browser refused
    /// (its `send` threw) is reported in [`Event::Error`] and must not enter the ledger.
    fn transmit(&self, inner: &mut Inner<P, B>, id: u64, message: &P) -> bool {
        let Some(live) = inner.socket.as_mut().filter(|live| live.id == id) else {
            return true;
        };
        match live.connection.start_send(message) {
            Ok(()) => true,
            Err(Error::Closed) => {
                // Closed under our feet: its close event is on its way, and these bytes
                // are counted as unsent so the message is queued again.
                live.unsent_after_close += message.byte_len() as u64;
                true
            }
            Err(error) => {
                // The socket is open but refused these bytes: sending them again would
                // fail again, so the user is told instead.
                inner.emit(Event::Error(error));
                false
            }
        }
    }
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}
