//! One WebSocket connection as a futures `Stream` and `Sink`.

mod connection;
mod native;
mod options;
mod stream;

pub use options::{ConnectOptions, Receive, DEFAULT_HIGH_WATER_MARK};

pub use connection::ReadyState;
// Public for `crate::internals` only (this module is private).
pub use connection::{Connection, Messages, Wire};

use crate::{CloseEvent, Error, Message};
use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

/// One open WebSocket connection: a [`Stream`] of incoming messages and a [`Sink`] for
/// outgoing ones.
///
/// The stream yields every message in the order it arrived, then, if the connection was not
/// closed cleanly, one [`Error::ConnectionLost`], then ends; [`close_event`](Self::close_event)
/// tells how it ended. The sink waits while the browser holds more than the high-water mark
/// unsent, and fails with [`Error::Closed`] once the connection is closing or closed.
///
/// Dropping it (and its halves, after [`split`](Self::split)) closes the connection with code
/// 1000 and removes every listener it added.
///
/// ```no_run
/// use futures::{SinkExt, StreamExt};
/// use resocket::{Message, WebSocket};
///
/// # async fn run() -> Result<(), resocket::Error> {
/// let mut ws = WebSocket::connect("wss://example.com/chat").await?;
/// ws.send(Message::from("hello")).await?;
/// while let Some(message) = ws.next().await {
///     println!("{:?}", message?);
/// }
/// println!("closed: {:?}", ws.close_event());
/// # Ok(()) }
/// ```
pub struct WebSocket {
    connection: Rc<Connection>,
}

/// The receiving half of a [`WebSocket`], from [`WebSocket::split`].
pub struct Reader {
    connection: Rc<Connection>,
}

/// The sending half of a [`WebSocket`], from [`WebSocket::split`].
pub struct Writer {
    connection: Rc<Connection>,
    /// For a writer lent out for a while (the reconnecting client's open hook): it sends
    /// only while the lender holds the `Rc` this points to.
    lease: Option<Weak<()>>,
}

/// A handle that closes a connection from anywhere, even after [`WebSocket::split`].
///
/// It does not keep the connection alive: once the socket and its halves are dropped (which
/// closes it), closing through the handle does nothing.
#[derive(Clone)]
pub struct Closer {
    connection: Weak<Connection>,
}

impl WebSocket {
    /// A whole socket is never lent out.
    fn check_lease(&self) -> Result<(), Error> {
        Ok(())
    }

    /// Connects to `url` and resolves once the connection is open.
    ///
    /// The URL may be `ws:`, `wss:`, `http:` or `https:`, absolute or relative to the page; it is
    /// resolved as the browser resolves a link. See
    /// [MDN: `WebSocket()`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket/WebSocket).
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidUrl`] for a URL that cannot be resolved, has another scheme or a
    ///   fragment;
    /// - [`Error::ConnectFailed`] with the close event if the connection closed before it
    ///   opened (refused, no server, handshake rejected).
    ///
    /// Dropping the future before it resolves closes the socket and removes its listeners.
    pub async fn connect(url: &str) -> Result<WebSocket, Error> {
        WebSocket::connect_with(url, ConnectOptions::default()).await
    }

    /// Connects with [`ConnectOptions`]: subprotocols, send high-water mark, connect timeout.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), and also [`Error::InvalidProtocol`] for a subprotocol
    /// that is not a token or is offered twice, and [`Error::ConnectTimeout`] when the
    /// handshake did not finish within `connect_timeout`, and [`Error::InvalidOption`] for a
    /// `connect_timeout` of zero or longer than a browser timer can wait (see
    /// [`ConnectOptions::validate`]).
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<WebSocket, Error> {
        options.validate()?;
        let connection = Connection::open(url, &options)?;
        let mut deadline = options
            .connect_timeout
            .map(|timeout| (timeout, gloo_timers::future::sleep(timeout)));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = connection.poll_opened(cx) {
                return Poll::Ready(result);
            }
            match &mut deadline {
                Some((timeout, sleep)) => Pin::new(sleep)
                    .poll(cx)
                    .map(|()| Err(Error::ConnectTimeout(*timeout))),
                None => Poll::Pending,
            }
        })
        .await?;
        Ok(WebSocket {
            connection: Rc::new(connection),
        })
    }

    /// Splits the connection into a [`Writer`] and a [`Reader`] that can live in different
    /// tasks. Both keep the connection open; it closes when both are dropped, or through a
    /// [`Closer`].
    pub fn split(self) -> (Writer, Reader) {
        (
            Writer {
                connection: Rc::clone(&self.connection),
                lease: None,
            },
            Reader {
                connection: self.connection,
            },
        )
    }

    /// A handle that can close this connection later, whoever holds the halves.
    pub fn closer(&self) -> Closer {
        closer_of(&self.connection)
    }

    /// Starts the closing handshake with `code` and `reason`. The stream ends once the other
    /// side answers; see [MDN: `close()`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket/close).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`] unless `code` is 1000 or 3000..=4999, and
    /// [`Error::CloseReasonTooLong`] for a reason over 123 bytes of UTF-8; the connection is
    /// left open in both cases.
    pub fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        self.connection.close(code, reason)
    }

    /// How the connection ended, once it has: code, reason and whether it was clean.
    pub fn close_event(&self) -> Option<CloseEvent> {
        self.connection.close_event()
    }

    /// The subprotocol the server chose, or `""` if none.
    pub fn protocol(&self) -> String {
        self.connection.socket().protocol()
    }

    /// The extensions the server chose, such as `permessage-deflate`, or `""`.
    pub fn extensions(&self) -> String {
        self.connection.socket().extensions()
    }

    /// The URL as the browser resolved it.
    pub fn url(&self) -> String {
        self.connection.socket().url()
    }

    /// Bytes handed to the browser but not yet sent on the network
    /// ([MDN](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket/bufferedAmount)).
    pub fn buffered_amount(&self) -> u32 {
        self.connection.socket().buffered_amount()
    }

    /// Whether the connection is open (not yet closing or closed).
    pub fn is_open(&self) -> bool {
        self.connection.ready_state() == ReadyState::Open
    }

    /// Whether messages arrive through `WebSocketStream`, so a reader that falls behind slows
    /// the server: only with [`Receive::Backpressure`], in a browser that has it.
    pub fn receives_with_backpressure(&self) -> bool {
        self.connection.has_backpressure()
    }

    /// Where the connection is: open, closing or closed (a `WebSocket` exists only once it
    /// has opened). The [`Reader`] sees the close event; this says when it has begun.
    pub fn ready_state(&self) -> ReadyState {
        self.connection.ready_state()
    }
}

impl Reader {
    /// How the connection ended, once it has.
    pub fn close_event(&self) -> Option<CloseEvent> {
        self.connection.close_event()
    }

    /// A handle that can close the connection.
    pub fn closer(&self) -> Closer {
        closer_of(&self.connection)
    }
}

impl Writer {
    /// A writer that sends only while `lease` is alive; after that, sending fails with
    /// [`Error::Closed`], so bytes cannot reach the socket behind its owner's back.
    pub(crate) fn leased(connection: Rc<Connection>, lease: &Rc<()>) -> Self {
        Writer {
            connection,
            lease: Some(Rc::downgrade(lease)),
        }
    }

    fn check_lease(&self) -> Result<(), Error> {
        match &self.lease {
            Some(lease) if lease.strong_count() == 0 => Err(Error::Closed),
            _ => Ok(()),
        }
    }

    /// Starts the closing handshake; see [`WebSocket::close`].
    ///
    /// # Errors
    ///
    /// As [`WebSocket::close`].
    pub fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        self.connection.close(code, reason)
    }

    /// Bytes handed to the browser but not yet sent on the network.
    pub fn buffered_amount(&self) -> u32 {
        self.connection.socket().buffered_amount()
    }

    /// A handle that can close the connection.
    pub fn closer(&self) -> Closer {
        closer_of(&self.connection)
    }
}

impl Closer {
    /// Starts the closing handshake; see [`WebSocket::close`]. Does nothing if the connection
    /// is already closing, closed or dropped.
    ///
    /// # Errors
    ///
    /// As [`WebSocket::close`]: the code and reason are checked even when there is nothing
    /// left to close, so a bad call is caught whenever it happens.
    pub fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        crate::validate_close(code, reason)?;
        match self.connection.upgrade() {
            Some(connection) => connection.close(code, reason),
            None => Ok(()),
        }
    }
}

fn closer_of(connection: &Rc<Connection>) -> Closer {
    Closer {
        connection: Rc::downgrade(connection),
    }
}

/// The Stream and FusedStream impls, shared by the socket and its reading half.
// Debug shows where each connection is and what it was opened to, never message data.
impl<P: Wire> fmt::Debug for Connection<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.socket().url())
            .field("ready_state", &self.ready_state())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WebSocket").field(&self.connection).finish()
    }
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Reader").field(&self.connection).finish()
    }
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("connection", &self.connection)
            .field("lent", &self.lease.is_some())
            .finish()
    }
}

impl fmt::Debug for Closer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let connection = self.connection.upgrade();
        f.debug_tuple("Closer").field(&connection).finish()
    }
}

macro_rules! impl_stream {
    ($type:ty) => {
        impl Stream for $type {
            type Item = Result<Message, Error>;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                self.connection.poll_next(cx)
            }
        }

        impl FusedStream for $type {
            fn is_terminated(&self) -> bool {
                self.connection.is_terminated()
            }
        }
    };
}

/// The Sink impl, shared by the socket and its writing half.
macro_rules! impl_sink {
    ($type:ty) => {
        impl Sink<Message> for $type {
            type Error = Error;

            fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.check_lease()?;
                self.connection.poll_ready(cx)
            }

            fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
                self.check_lease()?;
                self.connection.start_send(&message)
            }

            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.connection.poll_flush()
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.connection.poll_close(cx)
            }
        }
    };
}

impl_stream!(WebSocket);
impl_stream!(Reader);
impl_sink!(WebSocket);
impl_sink!(Writer);

// Every public type can be moved freely between polls.
const _: () = {
    const fn assert_unpin<T: Unpin>() {}
    assert_unpin::<WebSocket>();
    assert_unpin::<Reader>();
    assert_unpin::<Writer>();
    assert_unpin::<Closer>();
};
