//! How a single connection is set up.

use crate::backoff::check_positive_timer;
use crate::Error;
use std::time::Duration;

/// The default [`ConnectOptions::high_water_mark`]: 1 MiB.
pub const DEFAULT_HIGH_WATER_MARK: u32 = 1 << 20;

/// Options for [`WebSocket::connect_with`](crate::WebSocket::connect_with).
///
/// ```
/// use resocket::ConnectOptions;
/// use std::time::Duration;
///
/// let options = ConnectOptions::default()
///     .protocol("chat.v2")
///     .high_water_mark(256 * 1024)
///     .connect_timeout(Duration::from_secs(10));
/// assert_eq!(options.protocols, ["chat.v2"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Subprotocols to offer, in order of preference. Default: none.
    pub protocols: Vec<String>,
    /// Bytes the browser may hold unsent (its `bufferedAmount`) before the `Sink` stops
    /// accepting messages; sending resumes once it drains below. Default:
    /// [`DEFAULT_HIGH_WATER_MARK`] (1 MiB).
    pub high_water_mark: u32,
    /// How long the opening handshake may take before the attempt is abandoned with
    /// [`Error::ConnectTimeout`](crate::Error::ConnectTimeout). Default: `None`, leaving it
    /// to the browser, which may wait minutes for a server that accepts TCP but never answers.
    pub connect_timeout: Option<Duration>,
    /// At most how many bytes of received messages may wait unread in the `Stream`. Past
    /// that the connection is closed with 4009 (a page may not send 1009, Message Too Big),
    /// the messages already received are still delivered, and then the stream yields
    /// [`Error::UnreadLimitExceeded`](crate::Error::UnreadLimitExceeded). Default: `None`,
    /// no bound, as the browser's own `WebSocket` (which cannot slow the server down either):
    /// an app that reads more slowly than its server sends, say a large download, keeps
    /// working for as long as memory lasts, rather than losing its connection by default.
    /// Set it where a tab must not grow without end.
    pub max_unread_bytes: Option<usize>,
    /// How messages are received: from the browser's `message` events (the default), or
    /// through `WebSocketStream` with backpressure where the browser has it. See
    /// [`Receive`].
    pub receive: Receive,
}

/// How a connection receives messages: [`ConnectOptions::receive`].
///
/// The browser's `WebSocket` hands over every message as soon as it arrives, however slowly
/// the app reads: what the reader has not taken waits in memory, and the server never
/// learns that the page is behind. `WebSocketStream` (Chromium 124 and later) hands over a
/// message only when asked, so data the reader has not asked for stays in the network, the
/// TCP window closes, and the server's writes wait. Firefox and Safari do not have it yet;
/// there [`Backpressure`](Receive::Backpressure) receives from events, as
/// [`WebSocket::receives_with_backpressure`](crate::WebSocket::receives_with_backpressure)
/// tells.
///
/// Events are the default because they are faster for small messages: the benchmark
/// (`scripts/bench`, in the README) measures both paths against the browser's own socket.
/// Choose backpressure where a reader can fall behind a fast server for long: a large
/// download, a feed replayed from the start, a consumer that writes each message to disk.
///
/// But in Chromium 156 (the newest tested), a `WebSocketStream` whose connection is cut
/// without a close frame while one of its writes still waits for the network crashes the
/// whole tab (`bench/stream-reset-probe.mjs` shows it without resocket). Backpressure suits a
/// connection that mostly receives; not one that sends a lot over a network that may drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Receive {
    /// The browser's `message` events, in every browser.
    #[default]
    Events,
    /// `WebSocketStream` where the browser has it, reading at most 256 KiB ahead of the
    /// reader; events elsewhere. Sending works as on the event path: the sink waits while
    /// more than the high-water mark is written but not yet sent.
    Backpressure,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            protocols: Vec::new(),
            high_water_mark: DEFAULT_HIGH_WATER_MARK,
            connect_timeout: None,
            max_unread_bytes: None,
            receive: Receive::Events,
        }
    }
}

impl ConnectOptions {
    /// Adds one subprotocol to offer, after those already added.
    #[must_use]
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Replaces the subprotocols to offer.
    #[must_use]
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the send high-water mark in bytes.
    #[must_use]
    pub fn high_water_mark(mut self, bytes: u32) -> Self {
        self.high_water_mark = bytes;
        self
    }

    /// Sets the connect timeout; `None` leaves it to the browser.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// Bounds the bytes of messages waiting unread (see
    /// [`max_unread_bytes`](Self::max_unread_bytes)); `None` for no bound.
    #[must_use]
    pub fn max_unread_bytes(mut self, bytes: impl Into<Option<usize>>) -> Self {
        self.max_unread_bytes = bytes.into();
        self
    }

    /// Sets how messages are received; see [`Receive`].
    #[must_use]
    pub fn receive(mut self, receive: Receive) -> Self {
        self.receive = receive;
        self
    }

    /// Checks the settings that a browser could not carry out as asked.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] naming `connect_timeout` if it is zero (it would fire at
    /// once) or longer than a browser timer can wait
    /// ([`MAX_TIMER_DELAY`](crate::MAX_TIMER_DELAY), about 24.8 days: a longer one would
    /// fire at once, or throw), and `max_unread_bytes` if it is zero.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(timeout) = self.connect_timeout {
            check_positive_timer("connect_timeout", timeout)?;
        }
        if self.max_unread_bytes == Some(0) {
            return Err(Error::InvalidOption {
                option: "max_unread_bytes",
                reason: "it must be at least 1 byte (None for no bound)".to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_values() {
        let options = ConnectOptions::default();
        assert!(options.protocols.is_empty());
        assert_eq!(options.high_water_mark, 1 << 20);
        assert_eq!(options.connect_timeout, None);
    }

    #[test]
    fn setters_chain() {
        let options = ConnectOptions::default()
            .protocol("a")
            .protocol("b")
            .high_water_mark(10)
            .connect_timeout(Duration::from_millis(5));
        assert_eq!(options.protocols, ["a", "b"]);
        assert_eq!(options.high_water_mark, 10);
        assert_eq!(options.connect_timeout, Some(Duration::from_millis(5)));
        assert_eq!(ConnectOptions::default().protocols(["x"]).protocols, ["x"]);
        assert_eq!(
            ConnectOptions::default()
                .connect_timeout(None)
                .connect_timeout,
            None
        );
    }

    #[test]
    fn connect_timeouts_a_browser_cannot_time_are_refused() {
        let field = |timeout| match ConnectOptions::default()
            .connect_timeout(timeout)
            .validate()
        {
            Err(Error::InvalidOption { option, .. }) => Some(option),
            _ => None,
        };
        assert_eq!(field(Duration::ZERO), Some("connect_timeout"));
        assert_eq!(
            field(Duration::from_millis(1 << 31)),
            Some("connect_timeout")
        );
        assert_eq!(
            field(Duration::from_millis(u64::from(u32::MAX) + 1)),
            Some("connect_timeout")
        );
        assert_eq!(field(Duration::MAX), Some("connect_timeout"));
        assert_eq!(field(crate::MAX_TIMER_DELAY), None);
        assert_eq!(field(Duration::from_millis(1)), None);
    }
}
