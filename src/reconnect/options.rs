//! How a reconnecting client is set up: where to connect, and the callbacks that customise it.

use super::{Heartbeat, MachineConfig, Retry};
use crate::{Backoff, CloseEvent, ConnectOptions, Error, Message, QueueLimits, Writer};
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

/// A boxed future that need not be `Send`, as every browser-side future is.
pub type LocalBoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + 'a>>;

/// The default connect timeout of a reconnecting client: a stalled handshake is retried.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default of [`ReconnectOptions::max_unread_messages`].
pub(crate) const DEFAULT_MAX_UNREAD_MESSAGES: usize = 10_000;

/// Where the next attempt goes: the URL, and the subprotocols when they too are provided
/// per attempt (`None`: the configured ones).
pub type Target = (String, Option<Vec<String>>);

/// A function called before every attempt for its URL (and subprotocols).
pub type UrlProvider = Rc<dyn Fn() -> LocalBoxFuture<'static, Result<Target, Error>>>;
type WriterHook = Rc<dyn Fn(Writer) -> LocalBoxFuture<'static, Result<(), Error>>>;
pub type ClosePredicate = Rc<dyn Fn(&CloseEvent) -> Retry>;
pub type PongMatcher<P = Message> = Rc<dyn Fn(&P) -> bool>;

/// Where a reconnecting client connects: one URL, or a function called before every attempt.
#[derive(Clone)]
pub enum UrlSource {
    /// This URL, every time.
    Fixed(String),
    /// Whatever this returns, asked before every attempt.
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
///     .ping(Message::from("ping"))
///     .is_pong(|message| message.as_text() == Some("pong"));
/// ```
#[derive(Clone)]
pub struct ReconnectOptions {
    pub(crate) url: UrlSource,
    /// Subprotocols, high-water mark and connect timeout, as for one connection. The
    /// timeout is handed to the machine, which times each attempt.
    pub(crate) connection: ConnectOptions,
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

    /// Calls `provider` before every attempt and connects to the URL it returns, offering
    /// the subprotocols it returns (in place of [`protocols`](Self::protocols)), so both
    /// can change between attempts. An error from it counts as a failed attempt.
    pub fn with_url_and_protocols_provider<F, Fut>(provider: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<(String, Vec<String>), Error>> + 'static,
    {
        let provider: UrlProvider = Rc::new(move || {
            let target = provider();
            Box::pin(async move {
                let (url, protocols) = target.await?;
                Ok((url, Some(protocols)))
            })
        });
        ReconnectOptions::with_url(UrlSource::Provider(provider))
    }

    fn with_url(url: UrlSource) -> Self {
        ReconnectOptions {
            url,
            connection: ConnectOptions::default().connect_timeout(DEFAULT_CONNECT_TIMEOUT),
            machine: MachineConfig::default(),
            ping: Message::Text("ping".to_owned()),
            is_pong: None,
            should_reconnect: None,
            open_hook: None,
            max_unread_messages: DEFAULT_MAX_UNREAD_MESSAGES,
        }
    }

    /// Subprotocols to offer on every attempt. Default: none.
    #[must_use]
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.connection = self.connection.protocols(protocols);
        self
    }

    /// Takes the subprotocols, the high-water mark and the connect timeout from `options`,
    /// the settings of one connection (see [`ConnectOptions`]). Its connect timeout of
    /// `None` leaves attempts to the browser, which may wait minutes.
    #[must_use]
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.connection = options;
        self
    }

    /// How each connection receives messages, as in
    /// [`ConnectOptions::receive`](crate::ConnectOptions::receive). With
    /// [`Receive::Backpressure`](crate::Receive::Backpressure), where the browser has
    /// `WebSocketStream`, the client stops reading once 64 messages wait unread in its
    /// stream (or `max_unread_messages`, if fewer), so the rest stay in the network and the
    /// server slows down; [`Event::Lagged`](crate::Event::Lagged) then never happens. A
    /// heartbeat's missing answer does not count against a connection while its reader is
    /// behind: the answer may be among the messages not yet read. Default: events.
    #[must_use]
    pub fn receive(mut self, receive: crate::Receive) -> Self {
        self.connection = self.connection.receive(receive);
        self
    }

    /// The send high-water mark while connected, as in
    /// [`ConnectOptions::high_water_mark`](crate::ConnectOptions::high_water_mark).
    /// Default: 1 MiB.
    #[must_use]
    pub fn high_water_mark(mut self, bytes: u32) -> Self {
        self.connection = self.connection.high_water_mark(bytes);
        self
    }

    /// The reconnection schedule. Default: [`Backoff::default`].
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.machine.backoff = backoff;
        self
    }

    /// Bounds and overflow policy of the queue that keeps messages sent while disconnected.
    /// Default: [`QueueLimits::default`].
    #[must_use]
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
    #[must_use]
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connection = self.connection.connect_timeout(timeout);
        self
    }

    /// How many bytes of sent messages, beyond those the browser still counts in
    /// `bufferedAmount`, are sent again after a connection ends without the client closing
    /// it (server close, break, heartbeat timeout). Chromium drops up to a few hundred KiB it
    /// has already taken off `bufferedAmount` in that case (measured: at most 456 KiB on a
    /// clean close, 643 KiB on a TCP cut), so with the default the server may see up to
    /// about 1 MiB twice, but misses nothing the browser held. 0: only what
    /// `bufferedAmount` counts is sent again (no duplicates; Chromium may lose the rest,
    /// unreported). The client keeps this much of what it sent. Default:
    /// [`RESEND_WINDOW`](crate::RESEND_WINDOW), 1 MiB.
    #[must_use]
    pub fn resend_window(mut self, bytes: u64) -> Self {
        self.machine.resend_window = bytes;
        self
    }

    /// At most how many messages from the server wait in the event stream unread. Past
    /// that, the oldest unread message is let go and an
    /// [`Event::Lagged`](crate::Event::Lagged) in its place says how many went there, so a
    /// client whose stream is polled rarely or never (a send-only user) cannot grow without
    /// bound. Other events are never let go. Default: 10,000; `usize::MAX` for no bound.
    #[must_use]
    pub fn max_unread_messages(mut self, messages: usize) -> Self {
        self.max_unread_messages = messages;
        self
    }

    /// Pings `interval` after the connection opens and after each answer (a busy connection
    /// pings too), and replaces the connection if nothing arrives within `timeout` of a ping.
    /// Default: off (it needs a server that answers).
    #[must_use]
    pub fn heartbeat(mut self, heartbeat: impl Into<Option<Heartbeat>>) -> Self {
        self.machine.heartbeat = heartbeat.into();
        self
    }

    /// The heartbeat's ping message. Default: the text `ping`.
    #[must_use]
    pub fn ping(mut self, ping: Message) -> Self {
        self.ping = ping;
        self
    }

    /// How to recognise the answer to a ping: matching messages are not passed on as
    /// [`Event::Message`](crate::Event::Message). Any message proves the connection alive,
    /// matching or not. Default: none filtered. Called for every message from the server,
    /// with no borrow of the client held, so it may call back into it through a
    /// [`Handle`](crate::ReconnectingHandle).
    #[must_use]
    pub fn is_pong(mut self, is_pong: impl Fn(&Message) -> bool + 'static) -> Self {
        self.is_pong = Some(Rc::new(is_pong));
        self
    }

    /// Decides from the close event whether to reconnect after the server closed (or the
    /// connection was lost): `true`/`false`, or a [`Retry`] (`Retry::After(d)` waits at
    /// least `d`, plus the backoff's delay as jitter). Default:
    /// [`default_should_reconnect`](crate::default_should_reconnect), with the delay a
    /// server asks for in the close (see [`Retry::Yes`]). Called with no borrow of the
    /// client held, so it may call back into it through a
    /// [`Handle`](crate::ReconnectingHandle).
    #[must_use]
    pub fn should_reconnect<R: Into<Retry>>(
        mut self,
        predicate: impl Fn(&CloseEvent) -> R + 'static,
    ) -> Self {
        self.should_reconnect = Some(Rc::new(move |event| predicate(event).into()));
        self
    }

    /// Runs after every open and before anything queued is sent, with a [`Writer`] on the new
    /// connection, so an authentication message goes first. An error from it abandons the
    /// connection and counts as a failed attempt.
    #[must_use]
    pub fn on_open<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Writer) -> Fut + 'static,
        Fut: Future<Output = Result<(), Error>> + 'static,
    {
        self.open_hook = Some(Rc::new(move |writer| Box::pin(hook(writer))));
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
            .field("connection", &self.connection)
            .field("machine", &self.machine)
            .field("ping", &self.ping)
            .field("open_hook", &self.open_hook.is_some())
            .field("max_unread_messages", &self.max_unread_messages)
            .finish_non_exhaustive()
    }
}
