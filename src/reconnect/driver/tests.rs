//! The driver's races, natively: a scripted [`Platform`] (sockets the test opens, fails and
//! closes; a clock the test moves; a task queue the test runs) under the real driver and
//! machine. Each test is a moment where the browser, the timers and user code can interleave:
//! user code calling back into the client, an attempt ending while its URL provider or open
//! hook runs, a socket and a timer reporting in the same turn, the client dropped mid-flight.

use super::*;
use crate::reconnect::options::UrlProvider;
use crate::{Backoff, Jitter, Message};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Wake;

/// A socket as the test sees it (its state, downcast) and as `World::run` does (its ending).
type Opened = (Rc<dyn Any>, Rc<dyn Ending>);
/// Where the driver's page watch sends online, offline and visible.
type PageInput = Rc<dyn Fn(Input)>;

/// Everything the scripted platform holds; the test's hands on the world.
#[derive(Default)]
struct World {
    now: Cell<u64>,
    timer_wakers: RefCell<Vec<Waker>>,
    /// Every socket opened, as its state (for the test) and as its ending (for `run`).
    sockets: RefCell<Vec<Opened>>,
    page: RefCell<Option<PageInput>>,
    offline: Cell<bool>,
    tasks: RefCell<Vec<Pin<Box<dyn Future<Output = ()>>>>>,
}

/// One scripted socket carrying `P` (the tests drive the Rust client's [`Message`]s).
struct SocketState<P = Message> {
    url: String,
    ready: Cell<ReadyState>,
    opened: Cell<bool>,
    inbox: RefCell<VecDeque<P>>,
    sent: RefCell<Vec<P>>,
    bytes_sent: Cell<u64>,
    close_event: RefCell<Option<CloseEvent>>,
    closed_by_client: RefCell<Option<(Option<u16>, String)>>,
    wakers: RefCell<Vec<Waker>>,
    dropped: Cell<bool>,
}

/// A socket's side of [`World::run`], whatever it carries.
trait Ending {
    /// Completes a close the client started (the browser's `close` event); whether there
    /// was one to complete.
    fn complete_client_close(&self) -> bool;
}

impl<P: 'static> Ending for SocketState<P> {
    fn complete_client_close(&self) -> bool {
        if self.ready.get() != ReadyState::Closing {
            return false;
        }
        let (code, reason) = self
            .closed_by_client
            .borrow()
            .clone()
            .unwrap_or((None, String::new()));
        self.end(code.unwrap_or(1005), &reason, true);
        true
    }
}

impl<P> SocketState<P> {
    fn wake(&self) {
        for waker in self.wakers.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    fn end(&self, code: u16, reason: &str, was_clean: bool) {
        *self.close_event.borrow_mut() = Some(CloseEvent {
            code,
            reason: reason.to_owned(),
            was_clean,
        });
        self.ready.set(ReadyState::Closed);
        self.wake();
    }
}

impl SocketState<Message> {
    fn sent_texts(&self) -> Vec<String> {
        self.sent
            .borrow()
            .iter()
            .map(|message| match message {
                Message::Text(text) => text.clone(),
                Message::Binary(bytes) => format!("{bytes:?}"),
            })
            .collect()
    }
}

/// The driver's handle on a scripted socket.
struct ScriptedSocket<P>(Rc<SocketState<P>>);

impl<P> Drop for ScriptedSocket<P> {
    fn drop(&mut self) {
        self.0.dropped.set(true);
    }
}

impl<P: Wire + Clone> Transport<P> for ScriptedSocket<P> {
    fn poll_opened(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match (self.0.opened.get(), self.0.ready.get()) {
            (true, _) => Poll::Ready(Ok(())),
            (false, ReadyState::Closed) => Poll::Ready(Err(Error::Closed)),
            _ => {
                self.0.wakers.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Result<P, Error>>> {
        if let Some(message) = self.0.inbox.borrow_mut().pop_front() {
            return Poll::Ready(Some(Ok(message)));
        }
        if self.0.ready.get() == ReadyState::Closed {
            return Poll::Ready(None);
        }
        self.0.wakers.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }

    fn poll_ready(&self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(&self, message: &P) -> Result<(), Error> {
        if self.0.ready.get() != ReadyState::Open {
            return Err(Error::Closed);
        }
        self.0
            .bytes_sent
            .set(self.0.bytes_sent.get() + message.byte_len() as u64);
        self.0.sent.borrow_mut().push(message.clone());
        Ok(())
    }

    fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        *self.0.closed_by_client.borrow_mut() = Some((Some(code), reason.to_owned()));
        if self.0.ready.get() != ReadyState::Closed {
            self.0.ready.set(ReadyState::Closing);
        }
        Ok(())
    }

    fn close_without_code(&self) -> Result<(), Error> {
        *self.0.closed_by_client.borrow_mut() = Some((None, String::new()));
        if self.0.ready.get() != ReadyState::Closed {
            self.0.ready.set(ReadyState::Closing);
        }
        Ok(())
    }

    fn buffered_amount(&self) -> u32 {
        0
    }
    fn protocol(&self) -> String {
        String::new()
    }
    fn bytes_sent(&self) -> u64 {
        self.0.bytes_sent.get()
    }
    fn ready_state(&self) -> ReadyState {
        self.0.ready.get()
    }
    fn register_close_waker(&self, cx: &mut Context<'_>) {
        self.0.wakers.borrow_mut().push(cx.waker().clone());
    }
    fn close_event(&self) -> Option<CloseEvent> {
        self.0.close_event.borrow().clone()
    }
    fn has_backpressure(&self) -> bool {
        false
    }
}

struct ScriptedTimer {
    deadline: u64,
    world: Rc<World>,
}

impl Future for ScriptedTimer {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.world.now.get() >= self.deadline {
            return Poll::Ready(());
        }
        self.world
            .timer_wakers
            .borrow_mut()
            .push(cx.waker().clone());
        Poll::Pending
    }
}

#[derive(Clone)]
struct Scripted(Rc<World>);

impl Platform for Scripted {
    type Socket<P: Wire + Clone> = ScriptedSocket<P>;
    type Timer = ScriptedTimer;
    type PageWatch = ();

    fn open<P: Wire + Clone>(
        &self,
        url: &str,
        _: &ConnectOptions,
        _: Messages,
        _: Option<&js_sys::Function>,
    ) -> Result<ScriptedSocket<P>, Error> {
        let state = Rc::new(SocketState::<P> {
            url: url.to_owned(),
            ready: Cell::new(ReadyState::Connecting),
            opened: Cell::new(false),
            inbox: RefCell::default(),
            sent: RefCell::default(),
            bytes_sent: Cell::new(0),
            close_event: RefCell::default(),
            closed_by_client: RefCell::default(),
            wakers: RefCell::default(),
            dropped: Cell::new(false),
        });
        let (any, ending): (Rc<dyn Any>, Rc<dyn Ending>) = (state.clone(), state.clone());
        self.0.sockets.borrow_mut().push((any, ending));
        Ok(ScriptedSocket(state))
    }

    fn timer(&self, millis: u32) -> ScriptedTimer {
        ScriptedTimer {
            deadline: self.0.now.get() + u64::from(millis),
            world: Rc::clone(&self.0),
        }
    }

    fn spawn(&self, task: Pin<Box<dyn Future<Output = ()>>>) {
        self.0.tasks.borrow_mut().push(task);
    }

    fn watch_page(&self, input: Rc<dyn Fn(Input)>) -> Result<(), Error> {
        *self.0.page.borrow_mut() = Some(input);
        Ok(())
    }

    fn on_line(&self) -> bool {
        !self.0.offline.get()
    }

    fn random_seed(&self) -> u64 {
        7
    }
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl World {
    /// Runs every task until none is woken, completing client-initiated closes (as the
    /// browser's `close` events) whenever the tasks are idle.
    fn run(&self) {
        for _ in 0..10_000 {
            let flag = Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(Arc::clone(&flag));
            let mut cx = Context::from_waker(&waker);
            let mut tasks = std::mem::take(&mut *self.tasks.borrow_mut());
            tasks.retain_mut(|task| task.as_mut().poll(&mut cx).is_pending());
            let spawned = !self.tasks.borrow().is_empty();
            let mut all = tasks;
            all.append(&mut self.tasks.borrow_mut());
            *self.tasks.borrow_mut() = all;
            if flag.0.load(Ordering::SeqCst) || spawned {
                continue;
            }
            let endings: Vec<_> = self
                .sockets
                .borrow()
                .iter()
                .map(|(_, e)| e.clone())
                .collect();
            // Every one is completed (no short cut): each close event is due.
            let completed = endings
                .iter()
                .filter(|ending| ending.complete_client_close())
                .count()
                > 0;
            if !completed {
                return;
            }
        }
        panic!("the driver never settled");
    }

    /// Moves the clock on by `millis`, firing every timer due, then runs.
    fn advance(&self, millis: u64) {
        self.now.set(self.now.get() + millis);
        for waker in self.timer_wakers.borrow_mut().drain(..) {
            waker.wake();
        }
        self.run();
    }

    fn socket(&self, n: usize) -> Rc<SocketState> {
        let any = Rc::clone(&self.sockets.borrow()[n].0);
        any.downcast().expect("a socket of Messages")
    }

    fn socket_count(&self) -> usize {
        self.sockets.borrow().len()
    }

    /// The server accepts socket `n`.
    fn accept(&self, n: usize) {
        let socket = self.socket(n);
        socket.opened.set(true);
        socket.ready.set(ReadyState::Open);
        socket.wake();
    }

    /// The server sends `text` on socket `n`.
    fn receive(&self, n: usize, text: &str) {
        let socket = self.socket(n);
        socket.inbox.borrow_mut().push_back(Message::from(text));
        socket.wake();
    }

    /// The page goes online or offline.
    fn page(&self, input: Input) {
        let page = self.page.borrow().clone();
        if let Some(page) = page {
            page(input);
        }
    }
}

type Events = Rc<RefCell<Vec<String>>>;
type Slot = Rc<RefCell<Option<Weak<Core<Message, Scripted>>>>>;

fn describe(event: &Event<Message>) -> String {
    match event {
        Event::Open { attempt, .. } => format!("open {attempt}"),
        Event::Message(Message::Text(text)) => format!("message {text}"),
        Event::Message(Message::Binary(_)) => "message (binary)".to_owned(),
        Event::Closed(event) => format!("closed {}", event.code),
        Event::Reconnecting { attempt, delay } => {
            format!("reconnecting {attempt} in {} ms", delay.as_millis())
        }
        Event::GaveUp { .. } => "gave up".to_owned(),
        other => format!("{other:?}"),
    }
}

/// A provider answering at once with the scripted server's URL.
fn url_now() -> UrlSource {
    UrlSource::Provider(Rc::new(|| {
        Box::pin(async { Ok(("ws://scripted/".to_owned(), None)) })
    }))
}

fn config(url: UrlSource) -> DriverConfig<Message, Scripted> {
    let backoff = Backoff::default()
        .min_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(1000))
        .jitter(Jitter::None);
    DriverConfig {
        url,
        protocols: Vec::new(),
        high_water_mark: 1 << 20,
        machine: MachineConfig::default().backoff(backoff),
        ping: Message::from("ping"),
        is_pong: None,
        should_reconnect: None,
        open_hook: None,
        on_event: None,
        on_socket: None,
        messages: Messages::Read,
        socket_constructor: None,
        max_unread_messages: 10_000,
        receive: Receive::Events,
    }
}

/// Starts a client whose events are recorded, and whose event callback runs `react` with
/// the client (user code calling back in).
fn start_with(
    world: &Rc<World>,
    mut config: DriverConfig<Message, Scripted>,
    react: impl Fn(&Core<Message, Scripted>, &Event<Message>) + 'static,
) -> (Rc<Core<Message, Scripted>>, Events) {
    let events: Events = Rc::default();
    let slot: Slot = Rc::default();
    let (record, core_slot) = (Rc::clone(&events), Rc::clone(&slot));
    config.on_event = Some(Rc::new(move |event| {
        record.borrow_mut().push(describe(&event));
        let core = core_slot.borrow().as_ref().and_then(Weak::upgrade);
        if let Some(core) = core {
            react(&core, &event);
        }
    }));
    let core = Core::start_on(config, Scripted(Rc::clone(world))).expect("starts");
    *slot.borrow_mut() = Some(Rc::downgrade(&core));
    world.run();
    (core, events)
}

fn start(world: &Rc<World>) -> (Rc<Core<Message, Scripted>>, Events) {
    start_with(world, config(url_now()), |_, _| {})
}

#[test]
fn an_event_callback_that_closes_the_client_on_open_closes_it_cleanly() {
    let world = Rc::new(World::default());
    let (core, events) = start_with(&world, config(url_now()), |core, event| {
        if matches!(event, Event::Open { .. }) {
            core.close(Some(4000), "from the callback").expect("close");
        }
    });
    world.accept(0);
    world.run();
    assert_eq!(
        *world.socket(0).closed_by_client.borrow(),
        Some((Some(4000), "from the callback".to_owned()))
    );
    assert_eq!(core.state(), State::Closed);
    assert_eq!(world.socket_count(), 1, "no second attempt after close()");
    assert_eq!(events.borrow().first().map(String::as_str), Some("open 0"));
    world.advance(60_000);
    assert_eq!(world.socket_count(), 1);
    assert!(core.is_terminated());
}

#[test]
fn a_message_sent_from_the_open_callback_goes_out_on_that_socket() {
    let world = Rc::new(World::default());
    let (core, _) = start_with(&world, config(url_now()), |core, event| {
        if matches!(event, Event::Open { .. }) {
            core.send(Message::from("hello from open")).expect("send");
        }
    });
    core.send(Message::from("queued before open"))
        .expect("send");
    world.accept(0);
    world.run();
    assert_eq!(
        world.socket(0).sent_texts(),
        ["queued before open", "hello from open"]
    );
}

#[test]
fn a_url_provider_that_answers_after_close_opens_nothing() {
    let world = Rc::new(World::default());
    let (answer, answered) = futures::channel::oneshot::channel::<()>();
    let answered = RefCell::new(Some(answered));
    let provider: UrlProvider = Rc::new(move || {
        let answered = answered.borrow_mut().take();
        Box::pin(async move {
            if let Some(answered) = answered {
                let _ = answered.await;
            }
            Ok(("ws://scripted/late".to_owned(), None))
        })
    });
    let (core, _) = start_with(&world, config(UrlSource::Provider(provider)), |_, _| {});
    assert_eq!(world.socket_count(), 0, "the provider has not answered");
    core.close(Some(1000), "").expect("close");
    world.run();
    let _ = answer.send(());
    world.run();
    world.advance(60_000);
    assert_eq!(world.socket_count(), 0, "a closed client opened a socket");
    assert!(core.is_terminated());
}

#[test]
fn reconnect_while_the_provider_runs_asks_it_again_and_uses_only_the_new_answer() {
    let world = Rc::new(World::default());
    let calls = Rc::new(Cell::new(0));
    let senders: Rc<RefCell<Vec<futures::channel::oneshot::Sender<String>>>> = Rc::default();
    let (counter, pending) = (Rc::clone(&calls), Rc::clone(&senders));
    let provider: UrlProvider = Rc::new(move || {
        counter.set(counter.get() + 1);
        let (sender, receiver) = futures::channel::oneshot::channel::<String>();
        pending.borrow_mut().push(sender);
        Box::pin(async move {
            let url = receiver.await.unwrap_or_default();
            Ok((url, None))
        })
    });
    let (core, _) = start_with(&world, config(UrlSource::Provider(provider)), |_, _| {});
    assert_eq!(calls.get(), 1);
    core.reconnect();
    world.run();
    world.advance(1000);
    assert_eq!(calls.get(), 2, "reconnect() asks the provider again");
    let mut senders = std::mem::take(&mut *senders.borrow_mut());
    let second = senders.pop().expect("second call");
    let first = senders.pop().expect("first call");
    let _ = first.send("ws://scripted/stale".to_owned());
    world.run();
    assert_eq!(world.socket_count(), 0, "the stale answer opened a socket");
    let _ = second.send("ws://scripted/fresh".to_owned());
    world.run();
    assert_eq!(world.socket_count(), 1);
    assert_eq!(world.socket(0).url, "ws://scripted/fresh");
}

#[test]
fn an_open_hook_cut_short_by_a_drop_is_let_go_and_runs_again_on_the_next_socket() {
    let world = Rc::new(World::default());
    let runs = Rc::new(Cell::new(0));
    let released = Rc::new(Cell::new(0));
    let (counter, drops) = (Rc::clone(&runs), Rc::clone(&released));
    let mut config = config(url_now());
    config.open_hook = Some(Rc::new(move |_connection| {
        counter.set(counter.get() + 1);
        let guard = DropCounter(Rc::clone(&drops));
        Box::pin(async move {
            let _guard = guard;
            futures::future::pending::<()>().await;
            Ok(())
        })
    }));
    let (core, events) = start_with(&world, config, |_, _| {});
    core.send(Message::from("waits for the hook"))
        .expect("send");
    world.accept(0);
    world.run();
    assert_eq!(runs.get(), 1);
    assert!(
        world.socket(0).sent_texts().is_empty(),
        "sent before the hook ended"
    );
    world.socket(0).end(1006, "", false);
    world.run();
    assert_eq!(released.get(), 1, "the cut-short hook was not let go");
    world.advance(100);
    assert_eq!(
        world.socket_count(),
        2,
        "no second attempt after the backoff"
    );
    world.accept(1);
    world.run();
    assert_eq!(runs.get(), 2);
    assert!(events.borrow().iter().any(|event| event == "closed 1006"));
    assert!(world.socket(1).sent_texts().is_empty());
}

struct DropCounter(Rc<Cell<u32>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn a_message_and_a_drop_in_the_same_turn_deliver_the_message_first() {
    let world = Rc::new(World::default());
    let (_core, events) = start(&world);
    world.accept(0);
    world.run();
    world.receive(0, "last words");
    world.socket(0).end(1006, "", false);
    world.run();
    let events = events.borrow();
    let message = events.iter().position(|e| e == "message last words");
    let closed = events.iter().position(|e| e == "closed 1006");
    assert!(message.is_some() && message < closed, "{events:?}");
}

#[test]
fn an_open_and_a_connect_timeout_in_the_same_turn_leave_one_consistent_socket() {
    let world = Rc::new(World::default());
    let mut config = config(url_now());
    config.machine.connect_timeout = Some(Duration::from_millis(500));
    let (core, events) = start_with(&world, config, |_, _| {});
    // The server's accept and the timeout land between two turns of the driver.
    world.accept(0);
    world.advance(500);
    let first = world.socket(0);
    let live: Vec<_> = (0..world.socket_count())
        .map(|n| world.socket(n))
        .filter(|socket| socket.ready.get() == ReadyState::Open)
        .map(|socket| socket.url.clone())
        .collect();
    assert!(live.len() <= 1, "two open sockets: {live:?}");
    match core.state() {
        State::Open => assert_eq!(first.ready.get(), ReadyState::Open, "{events:?}"),
        _ => assert!(first.closed_by_client.borrow().is_some(), "{events:?}"),
    }
}

#[test]
fn a_reconnect_predicate_that_sends_queues_the_message_for_the_next_socket() {
    let world = Rc::new(World::default());
    let slot: Slot = Rc::default();
    let reach = Rc::clone(&slot);
    let mut config = config(url_now());
    config.should_reconnect = Some(Rc::new(move |_event: &CloseEvent| {
        let core = reach.borrow().as_ref().and_then(Weak::upgrade);
        if let Some(core) = core {
            core.send(Message::from("sent from the predicate"))
                .expect("send");
        }
        Retry::Yes
    }));
    let (core, _) = start_with(&world, config, |_, _| {});
    *slot.borrow_mut() = Some(Rc::downgrade(&core));
    world.accept(0);
    world.run();
    world.socket(0).end(1001, "going away", true);
    world.run();
    world.advance(1000);
    world.accept(1);
    world.run();
    assert_eq!(world.socket(1).sent_texts(), ["sent from the predicate"]);
}

#[test]
fn sends_made_offline_go_out_in_order_once_the_page_is_online() {
    let world = Rc::new(World::default());
    world.offline.set(true);
    let (core, _) = start(&world);
    assert_eq!(world.socket_count(), 0, "connected while offline");
    for text in ["one", "two", "three"] {
        core.send(Message::from(text)).expect("send");
    }
    world.page(Input::Online);
    world.run();
    assert_eq!(world.socket_count(), 1);
    world.accept(0);
    world.run();
    assert_eq!(world.socket(0).sent_texts(), ["one", "two", "three"]);
}

#[test]
fn dropping_the_client_mid_attempt_lets_the_socket_go_and_ends_the_task() {
    let world = Rc::new(World::default());
    let (core, _) = start(&world);
    assert_eq!(world.socket_count(), 1);
    assert_eq!(world.tasks.borrow().len(), 1);
    drop(core);
    world.run();
    assert!(
        world.socket(0).dropped.get(),
        "the socket outlived its client"
    );
    assert!(
        world.tasks.borrow().is_empty(),
        "the driver task outlived its client"
    );
    world.advance(60_000);
    assert_eq!(world.socket_count(), 1);
}

#[test]
fn a_provider_answer_whose_own_poll_restarted_the_client_is_not_used() {
    // User code may call back in while its future is polled; here the provider's first
    // answer comes from a poll that calls `reconnect()`, which ends that attempt.
    let world = Rc::new(World::default());
    let slot: Slot = Rc::default();
    let calls = Rc::new(Cell::new(0));
    let (reach, counter) = (Rc::clone(&slot), Rc::clone(&calls));
    let provider: UrlProvider = Rc::new(move || {
        let call = counter.get();
        counter.set(call + 1);
        let reach = Rc::clone(&reach);
        Box::pin(async move {
            if call > 0 {
                return Ok(("ws://scripted/fresh".to_owned(), None));
            }
            let core = reach.borrow().as_ref().and_then(Weak::upgrade);
            if let Some(core) = core {
                core.reconnect();
            }
            Ok(("ws://scripted/stale".to_owned(), None))
        })
    });
    let core = Core::start_on(
        config(UrlSource::Provider(provider)),
        Scripted(world.clone()),
    )
    .expect("starts");
    *slot.borrow_mut() = Some(Rc::downgrade(&core));
    world.run();
    world.advance(1000);
    let urls: Vec<_> = (0..world.socket_count())
        .map(|n| world.socket(n).url.clone())
        .collect();
    assert_eq!(urls, ["ws://scripted/fresh"]);
    assert_eq!(calls.get(), 2);
}

#[test]
fn close_while_the_open_hook_runs_lets_the_hook_go_and_hands_back_the_queue() {
    let world = Rc::new(World::default());
    let released = Rc::new(Cell::new(0));
    let drops = Rc::clone(&released);
    let mut config = config(url_now());
    config.open_hook = Some(Rc::new(move |_connection| {
        let guard = DropCounter(Rc::clone(&drops));
        Box::pin(async move {
            let _guard = guard;
            futures::future::pending::<()>().await;
            Ok(())
        })
    }));
    let (core, _) = start_with(&world, config, |_, _| {});
    world.accept(0);
    world.run();
    core.send(Message::from("behind the hook")).expect("send");
    let handed_back = core.close(Some(1000), "bye").expect("close");
    world.run();
    assert_eq!(handed_back, [Message::from("behind the hook")]);
    assert_eq!(released.get(), 1, "the hook outlived close()");
    assert_eq!(
        *world.socket(0).closed_by_client.borrow(),
        Some((Some(1000), "bye".to_owned()))
    );
    assert!(world.socket(0).sent_texts().is_empty());
    assert!(core.is_terminated());
}

#[test]
fn a_gave_up_callback_that_calls_reconnect_starts_the_client_again() {
    let world = Rc::new(World::default());
    let mut config = config(url_now());
    config.machine.backoff.max_retries = Some(0);
    let restarted = Rc::new(Cell::new(false));
    let flag = Rc::clone(&restarted);
    let (core, events) = start_with(&world, config, move |core, event| {
        if matches!(event, Event::GaveUp { .. }) && !flag.replace(true) {
            core.reconnect();
        }
    });
    world.socket(0).end(1006, "", false);
    world.run();
    assert!(restarted.get(), "no giveup: {:?}", events.borrow());
    assert_eq!(
        world.socket_count(),
        2,
        "reconnect() from the callback opened no socket"
    );
    world.accept(1);
    world.run();
    assert_eq!(core.state(), State::Open);
}

#[test]
fn a_closed_callback_that_calls_reconnect_leaves_one_attempt_not_two() {
    let world = Rc::new(World::default());
    let (core, _) = start_with(&world, config(url_now()), |core, event| {
        if matches!(event, Event::Closed(_)) {
            core.reconnect();
        }
    });
    world.accept(0);
    world.run();
    world.socket(0).end(1001, "going away", true);
    world.run();
    // reconnect() is immediate; the backoff timer of the drop must not add a second attempt.
    world.advance(5_000);
    let connecting = (0..world.socket_count())
        .filter(|&n| world.socket(n).ready.get() == ReadyState::Connecting)
        .count();
    assert_eq!(
        world.socket_count(),
        2,
        "sockets opened: {}",
        world.socket_count()
    );
    assert_eq!(connecting, 1);
    world.accept(1);
    world.run();
    assert_eq!(core.state(), State::Open);
}
