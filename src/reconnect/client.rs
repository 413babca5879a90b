//! The reconnecting client for Rust: [`Reconnecting`], a [`Sink`] of [`Message`]s and a
//! [`Stream`] of [`Event`]s over the browser driver.

use super::driver::{Core, DriverConfig};
use super::options::ReconnectOptions;
use super::{Event, State};
use crate::{Error, Message, Writer};
use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

/// A WebSocket connection that reconnects by itself.
///
/// It is a [`Sink`] of messages that accepts while disconnected (they are queued and sent, in
/// order, after the next open and its hook) and a [`Stream`] of [`Event`]s: messages, opens,
/// closes, reconnect delays, and giving up. Dropping it closes the connection and stops every
/// timer and listener it owns.
///
/// ```no_run
/// use futures::{SinkExt, StreamExt};
/// use resocket::{Event, Message, Reconnecting};
///
/// # async fn run() -> Result<(), resocket::Error> {
/// let mut client = Reconnecting::connect("wss://example.com/live")?;
/// client.send(Message::from("subscribe")).await?; // queued until the first open
/// while let Some(event) = client.next().await {
///     match event {
///         Event::Message(message) => println!("{message:?}"),
///         Event::Reconnecting { attempt, delay } => println!("retry {attempt} in {delay:?}"),
///         other => println!("{other:?}"),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Reconnecting {
    core: Rc<Core<Message>>,
}

impl Reconnecting {
    /// Starts connecting to `url` with the default options; see [`connect_with`](Self::connect_with).
    ///
    /// # Errors
    ///
    /// As [`connect_with`](Self::connect_with).
    pub fn connect(url: &str) -> Result<Reconnecting, Error> {
        Reconnecting::connect_with(ReconnectOptions::new(url))
    }

    /// Starts connecting and returns at once; the first attempt is made right away (or when
    /// the browser is back online).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a setting out of range, [`Error::InvalidUrl`] for a fixed
    /// URL that can never work, [`Error::InvalidProtocol`] for a bad subprotocol: nothing is
    /// connected in these cases.
    pub fn connect_with(mut options: ReconnectOptions) -> Result<Reconnecting, Error> {
        if options.max_unread_messages == 0 {
            return Err(Error::InvalidOption {
                option: "max_unread_messages",
                reason: "must be at least 1".to_owned(),
            });
        }
        let open_hook = options.open_hook.map(|hook| {
            let hook: super::driver::OpenHook<Message> = Rc::new(move |connection| {
                // The writer sends only while the hook's future lives: bytes written after
                // the hook ended would bypass the queue's order and the in-flight ledger.
                let lease = Rc::new(());
                let hook = hook(Writer::leased(connection, &lease));
                Box::pin(async move {
                    let _lease = lease;
                    hook.await
                })
            });
            hook
        });
        // The machine times each attempt (handshake and open hook together).
        options.machine.connect_timeout = options.connection.connect_timeout;
        let config = DriverConfig {
            url: options.url,
            protocols: options.connection.protocols,
            high_water_mark: options.connection.high_water_mark,
            machine: options.machine,
            ping: options.ping,
            is_pong: options.is_pong,
            should_reconnect: options.should_reconnect,
            open_hook,
            on_event: None,
            on_socket: None,
            messages: crate::socket::Messages::Read,
            socket_constructor: None,
            max_unread_messages: options.max_unread_messages,
            receive: options.connection.receive,
        };
        Ok(Reconnecting {
            core: Core::start(config)?,
        })
    }

    /// Where the client is now.
    pub fn state(&self) -> State {
        self.core.state()
    }

    /// A handle that sends, closes and reconnects from anywhere: from another task, or from
    /// inside the client's own callbacks (URL provider, open hook, reconnect predicate, pong
    /// matcher), which may all call back into the client. It does not keep the client
    /// alive: once the `Reconnecting` is dropped, the handle's calls do nothing, and `send`
    /// hands the message back in [`Error::ClosedForGood`].
    pub fn handle(&self) -> Handle {
        Handle {
            core: Rc::downgrade(&self.core),
        }
    }

    /// How many messages wait in the queue for the next connection.
    pub fn queued(&self) -> usize {
        self.core.queued()
    }

    /// Bytes the current connection's browser socket holds unsent (its `bufferedAmount`);
    /// 0 while disconnected.
    pub fn buffered_amount(&self) -> u32 {
        self.core.buffered_amount()
    }

    /// Closes the current connection, if any, and connects again at once, with the backoff
    /// started afresh. After the client gave up, this starts it again.
    pub fn reconnect(&self) {
        self.core.reconnect();
    }

    /// As [`reconnect`](Self::reconnect), closing the current connection, if any, with
    /// `code` and `reason` (to tell the server why), where `reconnect` sends 4000
    /// "reconnect requested".
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`] or [`Error::CloseReasonTooLong`], as for
    /// [`close`](Self::close); nothing is done then.
    pub fn reconnect_with(&self, code: u16, reason: &str) -> Result<(), Error> {
        crate::validate_close(code, reason)?;
        self.core.reconnect_with(code, reason.to_owned());
        Ok(())
    }

    /// Closes the connection for good with `code` and `reason` and hands back every message
    /// that was still queued, oldest first. Messages still inside the browser's buffer when
    /// the socket finishes closing arrive afterwards as [`Event::Unsent`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`] or [`Error::CloseReasonTooLong`], as for
    /// [`WebSocket::close`](crate::WebSocket::close); nothing is closed then.
    pub fn close(&self, code: u16, reason: &str) -> Result<Vec<Message>, Error> {
        self.core.close(Some(code), reason)
    }
}

/// A handle on a [`Reconnecting`] client, from [`Reconnecting::handle`]: cheap to clone, and
/// usable while the client is being polled or is running one of its callbacks.
#[derive(Clone)]
pub struct Handle {
    core: Weak<Core<Message>>,
}

impl Handle {
    /// Sends now if connected (the browser's buffer is not waited for: use the `Sink` for
    /// backpressure), else queues, as [`Sink::start_send`] does.
    ///
    /// # Errors
    ///
    /// As for the `Sink`: the message is handed back in the error ([`Error::QueueFull`],
    /// [`Error::MessageTooLarge`]);
    /// [`Error::ClosedForGood`] also once the client has been dropped.
    pub fn send(&self, message: Message) -> Result<(), Error> {
        match self.core.upgrade() {
            Some(core) => core.send(message),
            None => Err(Error::ClosedForGood { message }),
        }
    }

    /// As [`Reconnecting::reconnect`]; nothing once the client has been dropped.
    pub fn reconnect(&self) {
        if let Some(core) = self.core.upgrade() {
            core.reconnect();
        }
    }

    /// As [`Reconnecting::reconnect_with`]; does nothing once the client has been dropped.
    ///
    /// # Errors
    ///
    /// As [`Reconnecting::reconnect_with`].
    pub fn reconnect_with(&self, code: u16, reason: &str) -> Result<(), Error> {
        crate::validate_close(code, reason)?;
        if let Some(core) = self.core.upgrade() {
            core.reconnect_with(code, reason.to_owned());
        }
        Ok(())
    }

    /// As [`Reconnecting::close`]; returns nothing once the client has been dropped.
    ///
    /// # Errors
    ///
    /// As [`Reconnecting::close`].
    pub fn close(&self, code: u16, reason: &str) -> Result<Vec<Message>, Error> {
        crate::validate_close(code, reason)?;
        match self.core.upgrade() {
            Some(core) => core.close(Some(code), reason),
            None => Ok(Vec::new()),
        }
    }

    /// Where the client is now; [`State::Closed`] once it has been dropped.
    pub fn state(&self) -> State {
        self.core
            .upgrade()
            .map_or(State::Closed, |core| core.state())
    }
}

impl std::fmt::Debug for Reconnecting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconnecting")
            .field("state", &self.state())
            .field("queued", &self.queued())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("state", &self.state())
            .finish()
    }
}

impl Drop for Reconnecting {
    fn drop(&mut self) {
        // Everything the client owns goes with the core; the task only needs to hear of it.
        self.core.owner_dropped();
    }
}

impl Stream for Reconnecting {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.core.poll_event(cx)
    }
}

impl FusedStream for Reconnecting {
    fn is_terminated(&self) -> bool {
        self.core.is_terminated()
    }
}

impl Sink<Message> for Reconnecting {
    type Error = Error;

    /// Waits only for the browser's buffer while connected; while disconnected the queue
    /// decides, in `start_send`.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.core.poll_ready(cx).map(Ok)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.core.send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    /// Closes for good with code 1000. What was still queued is not lost: it arrives as
    /// [`Event::Unsent`] on the stream.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let unsent = self.close(crate::NORMAL_CLOSURE, "")?;
        if !unsent.is_empty() {
            self.core.push_event(Event::Unsent(unsent));
        }
        Poll::Ready(Ok(()))
    }
}
