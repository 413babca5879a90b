//! How a reconnecting client is set up: where to connect, and the callbacks that customise it.

use super::{Heartbeat, MachineConfig};
use crate::{Backoff, CloseEvent, Error, Message, QueueLimits, Writer};
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

/// A boxed future that need not be `Send`, as every browser-side future is.
pub(crate) type LocalBoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + 'a>>;

/// The default of [`ReconnectOptions::max_unread_messages`].
pub(crate) const DEFAULT_MAX_UNREAD_MESSAGES: usize = 10_000;

/// Where the next attempt goes: the URL, and the subprotocols when they too are provided
/// per attempt (`None`: the configured ones).
pub(crate) type Target = (String, Option<Vec<String>>);

pub(crate) type UrlProvider = Rc<dyn Fn() -> LocalBoxFuture<'static, Result<Target, Error>>>;
type WriterHook = Rc<dyn Fn(Writer) -> LocalBoxFuture<'static, Result<(), Error>>>;
pub(crate) type ClosePredicate = Rc<dyn Fn(&CloseEvent) -> bool>;
pub(crate) type PongMatcher<P = Message> = Rc<dyn Fn(&P) -> bool>;

/// Where a reconnecting client connects: one URL, or a function called before every attempt.
#[derive(Clone)]
pub(crate) enum UrlSource {
    Fixed(String),
    Provider(UrlProvider),
}

/// Options for [`Reconnecting::connect_with`](crate::Reconnecting::connect_with).
///
/// ```
/// use resocket::{Backoff, Heartbeat, Message, QueueLimits, ReconnectOptions};
/// use std::time::Duration;
///
/// let options = ReconnectOptions::new("wss://example.com/live")
///     .backoff(Backoff::default().max_retries(Some(20)))
///     .queue(QueueLimits::default().max_messages(500))
///     .heartbeat(Heartbeat::new(Duration::from_secs(20), Duration::from_secs(5)))
///     .ping(Message::from("ping"), |message| message.as_text() == Some("pong"));
/// ```
#[derive(Clone)]
pub struct ReconnectOptions {
    pub(crate) url: UrlSource,
    pub(crate) protocols: Vec<String>,
    pub(crate) high_water_mark: u32,
    pub(crate) machine: MachineConfig,
    pub(crate) ping: Message,
    pub(crate) is_pong: Option<PongMatcher>,
    pub(crate) should_reconnect: Option<ClosePredicate>,
    pub(crate) open_hook: Option<WriterHook>,
    pub(crate) max_unread_messages: usize,
}

impl ReconnectOptions {
    /// Connects to `url` on every attempt (`ws:`, `wss:`, `http:`, `https:` or relative).
    pub fn new(url: impl Into<String>) -> Self {
        ReconnectOptions::with_url(UrlSource::Fixed(url.into()))
    }

    /// Calls `provider` before every attempt and connects to the URL it returns, so a token in
    /// the URL can be refreshed. An error from it counts as a failed attempt and is retried
    /// on the backoff schedule.
    pub fn with_url_provider<F, Fut>(provider: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<String, Error>> + 'static,
    {
        let provider: UrlProvider = Rc::new(move || {
            let url = provider();
            Box::pin(async move { Ok((url.await?, None)) })
        });
        ReconnectOptions::with_url(UrlSource::Provider(provider))
    }

    fn with_url(url: UrlSource) -> Self {
        ReconnectOptions {
            url,
            protocols: Vec::new(),
            high_water_mark: crate::DEFAULT_HIGH_WATER_MARK,
            machine: MachineConfig::default(),
            ping: Message::Text("ping".to_owned()),
            is_pong: None,
            should_reconnect: None,
            open_hook: None,
            max_unread_messages: DEFAULT_MAX_UNREAD_MESSAGES,
        }
    }

    /// Subprotocols to offer on every attempt. Default: none.
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The send high-water mark while connected, as in
    /// [`ConnectOptions::high_water_mark`](crate::ConnectOptions::high_water_mark).
    /// Default: 1 MiB.
    pub fn high_water_mark(mut self, bytes: u32) -> Self {
        self.high_water_mark = bytes;
        self
    }

    /// The reconnection schedule. Default: [`Backoff::default`].
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.machine.backoff = backoff;
        self
    }

    /// Bounds and overflow policy of the queue that keeps messages sent while disconnected.
    /// Default: [`QueueLimits::default`].
    pub fn queue(mut self, limits: QueueLimits) -> Self {
        self.machine.queue = limits;
        self
    }

    /// How long the handshake and open hook may take before the attempt is abandoned and
    /// retried; `None` leaves it to the browser. Default: 10 s.
    ///
    /// After an attempt times out, the next one waits at least the timeout itself, even when
    /// the backoff would be sooner: Firefox keeps a handshake abandoned by `close()` open at
    /// the server for about 30 s and holds later connections to that host behind it, so
    /// faster retries would only pile up.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.machine.connect_timeout = timeout.into();
        self
    }

    /// At most how many messages from the server wait in the event stream unread. Past
    /// that, the oldest unread message is let go and an
    /// [`Event::Lagged`](crate::Event::Lagged) in its place says how many went there, so a
    /// client whose stream is polled rarely or never (a send-only user) cannot grow without
    /// bound. Other events are never let go. Default: 10,000; `usize::MAX` for no bound.
    pub fn max_unread_messages(mut self, messages: usize) -> Self {
        self.max_unread_messages = messages;
        self
    }

    /// Pings after `interval` of quiet and replaces the connection if nothing arrives within
    /// `timeout`. Default: off (it needs a server that answers).
    pub fn heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.machine.heartbeat = Some(heartbeat);
        self
    }

    /// The heartbeat's ping message, and how to recognise its answer; answers are not passed
    /// on as [`Event::Message`](crate::Event::Message). Default: the text `ping`, and no
    /// message filtered (any message proves the connection alive).
    pub fn ping(mut self, ping: Message, is_pong: impl Fn(&Message) -> bool + 'static) -> Self {
        self.ping = ping;
        self.is_pong = Some(Rc::new(is_pong));
        self
    }

    /// Decides from the close event whether to reconnect after the server closed (or the
    /// connection was lost). Default: [`default_should_reconnect`](crate::default_should_reconnect).
    pub fn should_reconnect(mut self, predicate: impl Fn(&CloseEvent) -> bool + 'static) -> Self {
        self.should_reconnect = Some(Rc::new(predicate));
        self
    }

    /// Runs after every open and before anything queued is sent, with a [`Writer`] on the new
    /// connection, so an authentication message goes first. An error from it abandons the
    /// connection and counts as a failed attempt.
    pub fn on_open<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Writer) -> Fut + 'static,
        Fut: Future<Output = Result<(), Error>> + 'static,
    {
        self.open_hook = Some(Rc::new(move |writer| Box::pin(hook(writer))));
        self.machine.has_open_hook = true;
        self
    }
}

impl fmt::Debug for ReconnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match &self.url {
            UrlSource::Fixed(url) => url.as_str(),
            UrlSource::Provider(_) => "<provider>",
        };
        f.debug_struct("ReconnectOptions")
            .field("url", &url)
            .field("protocols", &self.protocols)
            .field("high_water_mark", &self.high_water_mark)
            .field("machine", &self.machine)
            .field("ping", &self.ping)
            .field("open_hook", &self.open_hook.is_some())
            .field("max_unread_messages", &self.max_unread_messages)
            .finish_non_exhaustive()
    }
}
