//! What the clients built on a core call: starting it, and its state, `send`, `close`,
//! `reconnect` and events.

use super::task::Driver;
use super::*;

impl<P: Wire + Clone> Core<P, Browser> {
    /// Starts a client in the browser; see [`start_on`](Self::start_on).
    pub fn start(config: DriverConfig<P>) -> Result<Rc<Self>, Error> {
        Self::start_on(config, Browser)
    }
}

impl<P: Wire + Clone, B: Platform> Core<P, B> {
    /// Starts a client on `platform`: checks the configuration, starts watching the page and
    /// spawns the task that drives it. The first attempt is made at once (or when back
    /// online).
    pub fn start_on(mut config: DriverConfig<P, B>, platform: B) -> Result<Rc<Self>, Error> {
        crate::handshake::validate_protocols(&config.protocols)?;
        if let UrlSource::Fixed(url) = &config.url {
            crate::handshake::resolve_url(url)?;
        }
        // The machine waits for a hook exactly when there is one to run.
        config.machine.has_open_hook = config.open_hook.is_some();
        let machine = Machine::new(config.machine.clone(), platform.random_seed())?;
        let core = Rc::new(Core {
            platform,
            on_event: RefCell::new(config.on_event.take()),
            on_socket: RefCell::new(config.on_socket.take()),
            inner: RefCell::new(Inner {
                machine,
                actions: Vec::new(),
                socket: None,
                closing: None,
                resolve_next: None,
                resolving: None,
                hook_next: None,
                hook: None,
                discarded: Vec::new(),
                timers: Default::default(),
                ledger_timer: None,
                browser_inputs: VecDeque::new(),
                events: VecDeque::new(),
                events_waker: None,
                unread_messages: 0,
                max_unread_messages: config.max_unread_messages,
                reader_behind: None,
                _page_watch: None,
            }),
            config,
            page_inputs: RefCell::new(Vec::new()),
            driver_waker: Cell::new(None),
            reading_held: Cell::new(false),
        });
        let weak = Rc::downgrade(&core);
        let page_input: Rc<dyn Fn(Input)> = Rc::new(move |input| {
            if let Some(core) = weak.upgrade() {
                core.input(input);
            }
        });
        let watch = core.platform.watch_page(page_input)?;
        let on_line = core.platform.on_line();
        {
            let mut inner = core.inner.borrow_mut();
            inner._page_watch = Some(watch);
            if !on_line {
                inner.browser_inputs.push_back(Input::Offline);
            }
            inner.browser_inputs.push_back(Input::Start);
        }
        core.platform.spawn(Box::pin(Driver {
            core: Rc::downgrade(&core),
        }));
        Ok(core)
    }

    /// Where the client is.
    pub fn state(&self) -> State {
        self.inner.borrow().machine.state()
    }

    /// Messages waiting in the queue.
    pub fn queued(&self) -> usize {
        self.inner.borrow().machine.queue().len()
    }

    /// The current socket's `bufferedAmount`; 0 while disconnected.
    pub fn buffered_amount(&self) -> u32 {
        let inner = self.inner.borrow();
        inner
            .socket
            .as_ref()
            .map_or(0, |live| live.connection.buffered_amount())
    }

    /// With receive backpressure, stops taking messages from the connection while `held`
    /// (they stay in the network, and the server slows down), for an owner with a reader of
    /// its own that has fallen behind. The machine is told, as for the stream's reader, so a
    /// heartbeat's answer waiting in the network does not count as missing. Takes effect on
    /// the event path too, where it holds nothing back.
    #[cfg_attr(not(feature = "unstable-internals"), allow(dead_code))] // the npm binding calls it
    pub fn hold_reading(&self, held: bool) {
        if self.reading_held.replace(held) && !held {
            self.wake_driver();
        }
    }

    /// The current socket, open or opening.
    #[cfg_attr(not(feature = "unstable-internals"), allow(dead_code))] // the npm binding calls it
    pub fn socket(&self) -> Option<Rc<B::Socket<P>>> {
        let inner = self.inner.borrow();
        inner
            .socket
            .as_ref()
            .map(|live| Rc::clone(&live.connection))
    }

    /// Bytes waiting in the queue.
    #[cfg_attr(not(feature = "unstable-internals"), allow(dead_code))] // the npm binding calls it
    pub fn queued_bytes(&self) -> usize {
        self.inner.borrow().machine.queue().bytes()
    }

    /// Whether a socket closed by `close()` has yet to report its close event.
    #[cfg_attr(not(feature = "unstable-internals"), allow(dead_code))] // the npm binding calls it
    pub fn is_closing(&self) -> bool {
        self.inner.borrow().closing.is_some()
    }

    /// Takes effect at once, as `close` and `send` do: a client that gave up is starting
    /// again when this returns, so its event stream is live again.
    pub fn reconnect(&self) {
        self.reconnect_by(Input::Reconnect);
    }

    /// As [`reconnect`](Self::reconnect), closing the live connection with `code` and
    /// `reason` (already checked as `close()` checks them).
    pub fn reconnect_with(&self, code: u16, reason: String) {
        self.reconnect_by(Input::ReconnectWith { code, reason });
    }

    fn reconnect_by(&self, input: Input) {
        let Ok(mut inner) = self.inner.try_borrow_mut() else {
            // Only an owner's `on_socket` callback runs under the borrow (the npm binding hands
            // a new socket to its class there); never user code.
            self.input(input);
            return;
        };
        let mut actions = std::mem::take(&mut inner.actions);
        inner.machine.handle(input, &mut actions);
        self.execute(&mut inner, &mut actions);
        inner.actions = actions;
        drop(inner);
        self.wake_driver();
        self.drop_discarded();
    }

    /// Closes for good; see [`Machine::close`] for a close without a code.
    pub fn close(&self, code: Option<u16>, reason: &str) -> Result<Vec<P>, Error> {
        let mut inner = self.inner.borrow_mut();
        let mut actions = std::mem::take(&mut inner.actions);
        let result = inner.machine.close(code, reason, &mut actions);
        self.execute(&mut inner, &mut actions);
        inner.actions = actions;
        drop(inner);
        self.wake_driver();
        self.drop_discarded();
        result
    }

    /// Sends now when open, else queues; a refusal hands the message back in the error.
    pub fn send(&self, message: P) -> Result<(), Error> {
        let mut inner = self.inner.borrow_mut();
        let mut actions = std::mem::take(&mut inner.actions);
        let result = inner.machine.send(message, &mut actions);
        self.execute(&mut inner, &mut actions);
        inner.actions = actions;
        let wake = !inner.events.is_empty();
        drop(inner);
        if wake {
            self.wake_driver();
        }
        self.drop_discarded();
        result
    }

    /// Waits only for the browser's buffer while connected; while disconnected the queue
    /// decides, in `send`.
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner.borrow();
        match (inner.machine.state(), inner.socket.as_ref()) {
            (State::Open, Some(live)) => live.connection.poll_ready(cx).map(|_| ()),
            _ => Poll::Ready(()),
        }
    }

    /// The next event. The stream ends (`None`) once every event has been taken and the
    /// client has ended: closed for good, or given up (until `reconnect()` starts it again).
    pub fn poll_event(&self, cx: &mut Context<'_>) -> Poll<Option<Event<P>>> {
        let mut inner = self.inner.borrow_mut();
        if let Some(event) = inner.events.pop_front() {
            if matches!(event, Event::Message(_)) {
                inner.unread_messages = inner.unread_messages.saturating_sub(1);
                if inner.reader_behind.is_some() {
                    // The driver left messages in the network for this reader: read on.
                    drop(inner);
                    self.wake_driver();
                }
            }
            return Poll::Ready(Some(event));
        }
        // Wakes this stream again if `reconnect()` starts a client that gave up.
        inner.events_waker = Some(cx.waker().clone());
        if inner.has_ended() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    /// Whether [`poll_event`](Self::poll_event) has ended and has nothing left to yield.
    pub fn is_terminated(&self) -> bool {
        let inner = self.inner.borrow();
        inner.events.is_empty() && inner.has_ended()
    }

    /// Queues an event for the stream, as if the driver had emitted it.
    pub fn push_event(&self, event: Event<P>) {
        self.inner.borrow_mut().emit(event);
        self.wake_driver();
    }

    /// Tells the task its owner is gone, so it ends now rather than at its next wake-up.
    pub fn owner_dropped(&self) {
        self.wake_driver();
    }
}
