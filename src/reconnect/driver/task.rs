//! The task that runs a client: it polls every source (URL provider, socket, open hook,
//! timers, browser events), has user code judge what needs judging with no borrow held,
//! feeds the machine and hands its events on.

use super::*;

impl<P: Wire + Clone, B: Platform> Core<P, B> {
    fn should_reconnect(&self, event: &CloseEvent) -> Retry {
        match &self.config.should_reconnect {
            Some(predicate) => predicate(event),
            None => default_should_reconnect(event).into(),
        }
    }

    fn is_pong(&self, message: &P) -> bool {
        self.config
            .is_pong
            .as_ref()
            .is_some_and(|is_pong| is_pong(message))
    }

    /// Polls every source once and collects what happened as inputs.
    fn poll_sources(&self, cx: &mut Context<'_>, inputs: &mut Vec<Input>) {
        // The URL provider and the open hook are user code: they are called and polled with
        // no borrow held, so they may call back into the client. That may end the attempt
        // they belong to, so each result is used only if its attempt is still current.
        self.start_user_futures();
        let resolving = self.inner.borrow_mut().resolving.take();
        if let Some((id, mut future)) = resolving {
            match future.as_mut().poll(cx) {
                Poll::Ready(Ok((url, protocols))) => {
                    let mut inner = self.inner.borrow_mut();
                    if inner.machine.socket() == Some(id) {
                        self.open_socket(&mut inner, id, &url, protocols);
                    }
                }
                Poll::Ready(Err(error)) => inputs.push(Input::SocketClosed {
                    id,
                    event: CloseEvent {
                        code: 1006,
                        reason: format!("URL provider failed: {error}"),
                        was_clean: false,
                    },
                    reconnect: Retry::Yes,
                    unsent_bytes: 0,
                }),
                Poll::Pending => self
                    .inner
                    .borrow_mut()
                    .keep_if_current(id, future, |inner| &mut inner.resolving),
            }
        }

        let hook = self.inner.borrow_mut().hook.take();
        if let Some((id, sent_before, mut future)) = hook {
            match future.as_mut().poll(cx) {
                Poll::Ready(result) => {
                    let mut inner = self.inner.borrow_mut();
                    if let Some(live) = inner.socket.as_ref().filter(|live| live.id == id) {
                        let written = live.connection.bytes_sent() - sent_before;
                        inner.machine.record_other(id, written);
                    }
                    inputs.push(Input::OpenHookDone {
                        id,
                        ok: result.is_ok(),
                    });
                }
                Poll::Pending => {
                    let mut inner = self.inner.borrow_mut();
                    if inner.machine.socket() == Some(id) {
                        inner.hook = Some((id, sent_before, future));
                    } else {
                        inner.discard(future);
                    }
                }
            }
        }

        let mut observed = Vec::new();
        inputs.append(&mut self.page_inputs.borrow_mut());
        let mut inner = self.inner.borrow_mut();
        inputs.extend(inner.browser_inputs.drain(..));
        self.poll_socket(&mut inner, cx, inputs, &mut observed);
        if let Some(closing) = inner.closing.as_ref() {
            if closing.connection.ready_state() == ReadyState::Closed {
                if let Some(closing) = inner.closing.take() {
                    inputs.push(closed_input(&closing, self.should_reconnect_closing()));
                }
            } else {
                closing.connection.register_close_waker(cx);
            }
        }
        trim_idle_ledger(&mut inner, &self.platform, cx);
        for timer in Timer::ALL {
            let slot = inner.timers.get_mut(timer);
            if let Some(pending) = slot {
                if Pin::new(pending).poll(cx).is_ready() {
                    *slot = None;
                    let buffered_amount = inner.socket.as_ref().map_or(0, unsent_bytes);
                    inputs.push(Input::TimerFired {
                        timer,
                        buffered_amount,
                    });
                }
            }
        }
        drop(inner);
        self.judge(&mut observed, inputs);
    }

    /// Calls the URL provider and starts the open hook the machine asked for, with no borrow
    /// held, and keeps each future only if its attempt is still current afterwards.
    fn start_user_futures(&self) {
        let (resolve, hook) = {
            let mut inner = self.inner.borrow_mut();
            (inner.resolve_next.take(), inner.hook_next.take())
        };
        match (resolve, &self.config.url) {
            (Some(id), UrlSource::Fixed(url)) => {
                let mut inner = self.inner.borrow_mut();
                if inner.machine.socket() == Some(id) {
                    self.open_socket(&mut inner, id, url, None);
                }
            }
            (Some(id), UrlSource::Provider(provider)) => {
                let future = provider();
                self.inner
                    .borrow_mut()
                    .keep_if_current(id, future, |inner| &mut inner.resolving);
            }
            (None, _) => {}
        }
        let Some(id) = hook else {
            return;
        };
        let connection = {
            let inner = self.inner.borrow();
            inner
                .socket
                .as_ref()
                .filter(|live| live.id == id)
                .map(|live| Rc::clone(&live.connection))
        };
        match (connection, self.config.open_hook.as_ref()) {
            (Some(connection), Some(hook)) => {
                let sent_before = connection.bytes_sent();
                let future = hook(connection);
                let mut inner = self.inner.borrow_mut();
                if inner.machine.socket() == Some(id) {
                    inner.hook = Some((id, sent_before, future));
                } else {
                    inner.discard(future);
                }
            }
            // No hook, or its socket is gone (the machine then ignores this).
            _ => self
                .inner
                .borrow_mut()
                .browser_inputs
                .push_back(Input::OpenHookDone { id, ok: true }),
        }
    }

    /// A socket the machine already let go of: whether to retry does not matter any more.
    fn should_reconnect_closing(&self) -> Retry {
        Retry::No
    }

    /// Polls the current socket. What needs user code to judge (is a message a pong, should a
    /// close be retried) is only collected here, while the state is borrowed, and judged later.
    fn poll_socket(
        &self,
        inner: &mut Inner<P, B>,
        cx: &mut Context<'_>,
        inputs: &mut Vec<Input>,
        observed: &mut Vec<Observed<P>>,
    ) {
        let Some(live) = inner.socket.as_mut() else {
            return;
        };
        let id = live.id;
        if !live.opened {
            match live.connection.poll_opened(cx) {
                Poll::Ready(Ok(())) => {
                    live.opened = true;
                    inputs.push(Input::Opened {
                        id,
                        protocol: live.connection.protocol(),
                    });
                }
                Poll::Ready(Err(_)) => {
                    if let Some(live) = inner.socket.take() {
                        observed.push(Observed::Closed {
                            id,
                            event: close_event_of(&live),
                            unsent_bytes: 0,
                        });
                    }
                    return;
                }
                Poll::Pending => return,
            }
        }
        loop {
            let Some(live) = inner.socket.as_ref() else {
                return;
            };
            // With backpressure, messages the stream's reader is not ready for stay in the
            // network, until the connection has closed (then what the browser already
            // holds comes before the close). `poll_event` (or `hold_reading(false)`) wakes
            // the task as the reader catches up, the connection as it closes.
            let stream_behind = self.on_event.borrow().is_none()
                && inner.unread_messages >= READER_AHEAD_MESSAGES.min(inner.max_unread_messages);
            let behind = live.connection.has_backpressure()
                && (stream_behind || self.reading_held.get())
                && live.connection.ready_state() != ReadyState::Closed;
            if behind {
                live.connection.register_close_waker(cx);
            }
            if behind != (inner.reader_behind == Some(id)) {
                inner.reader_behind = behind.then_some(id);
                inputs.push(Input::ReaderBehind { id, behind });
            }
            if behind {
                return;
            }
            match live.connection.poll_next(cx) {
                Poll::Ready(Some(Ok(message))) => observed.push(Observed::Message(id, message)),
                Poll::Ready(Some(Err(Error::ConnectionLost(_))) | None) => {
                    if let Some(live) = inner.socket.take() {
                        observed.push(Observed::Closed {
                            id,
                            event: close_event_of(&live),
                            unsent_bytes: unsent_bytes(&live),
                        });
                    }
                    return;
                }
                Poll::Ready(Some(Err(error))) => inner.emit(Event::Error(error)),
                Poll::Pending => return,
            }
        }
    }

    /// Judges what the socket reported, with no borrow held: the pong matcher and the
    /// reconnect predicate are user code and may call back into the client.
    fn judge(&self, observed: &mut Vec<Observed<P>>, inputs: &mut Vec<Input>) {
        for item in observed.drain(..) {
            match item {
                Observed::Message(id, message) => {
                    inputs.push(Input::MessageReceived { id });
                    if !self.is_pong(&message) {
                        self.inner.borrow_mut().emit(Event::Message(message));
                    }
                }
                Observed::Closed {
                    id,
                    event,
                    unsent_bytes,
                } => {
                    let reconnect = self.should_reconnect(&event);
                    inputs.push(Input::SocketClosed {
                        id,
                        event,
                        reconnect,
                        unsent_bytes,
                    });
                }
            }
        }
    }

    /// Runs the client until nothing more can happen now. Ready once it is closed for good
    /// and nothing is left to watch.
    fn drive(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut inputs = Vec::new();
        loop {
            self.poll_sources(cx, &mut inputs);
            self.drop_discarded();
            let mut inner = self.inner.borrow_mut();
            if inputs.is_empty() {
                self.driver_waker.set(Some(cx.waker().clone()));
                let finished = inner.is_finished();
                drop(inner);
                self.deliver_events();
                return if finished && self.inner.borrow().events.is_empty() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                };
            }
            let mut actions = std::mem::take(&mut inner.actions);
            for input in inputs.drain(..) {
                inner.machine.handle(input, &mut actions);
                self.execute(&mut inner, &mut actions);
            }
            inner.actions = actions;
            drop(inner);
            self.deliver_events();
        }
    }

    /// Hands queued events to the `on_event` callback, if there is one, one at a time and
    /// with no borrow held: the callback is user code and may call back into the client.
    fn deliver_events(&self) {
        let Some(on_event) = self.on_event.borrow().clone() else {
            return;
        };
        loop {
            let next = self.inner.borrow_mut().events.pop_front();
            match next {
                Some(event) => on_event(event),
                None => break,
            }
        }
        if self.inner.borrow().is_finished() {
            self.on_event.borrow_mut().take();
            self.on_socket.borrow_mut().take();
        }
    }
}

/// What a socket reported that user code must judge before the machine hears of it.
enum Observed<P> {
    Message(u64, P),
    Closed {
        id: u64,
        event: CloseEvent,
        unsent_bytes: u64,
    },
}

/// The close event a socket reported; 1006 if it somehow reported none.
fn close_event_of<P: Wire + Clone, B: Platform>(live: &Live<P, B>) -> CloseEvent {
    live.connection.close_event().unwrap_or(CloseEvent {
        code: 1006,
        reason: String::new(),
        was_clean: false,
    })
}

fn closed_input<P: Wire + Clone, B: Platform>(live: &Live<P, B>, reconnect: Retry) -> Input {
    Input::SocketClosed {
        id: live.id,
        event: close_event_of(live),
        reconnect,
        unsent_bytes: unsent_bytes(live),
    }
}

/// The bytes a socket never sent: what the browser still holds, plus what it refused after
/// closing.
fn unsent_bytes<P: Wire + Clone, B: Platform>(live: &Live<P, B>) -> u64 {
    u64::from(live.connection.buffered_amount()) + live.unsent_after_close
}

/// The task that runs the client. It ends when the client is dropped or closed for good.
pub(super) struct Driver<P: Wire + Clone, B: Platform> {
    pub(super) core: Weak<Core<P, B>>,
}

impl<P: Wire + Clone, B: Platform> Future for Driver<P, B> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.core.upgrade() {
            Some(core) => core.drive(cx),
            None => Poll::Ready(()),
        }
    }
}
