//! The one error type of the crate.

use crate::CloseEvent;
use std::time::Duration;

/// Everything that can go wrong in resocket.
///
/// It holds strings rather than JavaScript values, so it is `Clone + Send + Sync + 'static`,
/// and its `Display` says what happened in words a person understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be turned into a `ws:` or `wss:` URL. Nothing was connected.
    #[error("invalid WebSocket URL \"{url}\": {reason}")]
    InvalidUrl {
        /// The URL as it was given.
        url: String,
        /// Why it was refused.
        reason: String,
    },

    /// A subprotocol name is not a valid token, or is offered twice. Nothing was connected.
    #[error("invalid subprotocol \"{protocol}\": {reason}")]
    InvalidProtocol {
        /// The subprotocol as it was given.
        protocol: String,
        /// Why it was refused.
        reason: String,
    },

    /// A close code other than 1000 or 3000..=4999, which browsers may not send.
    /// The connection was left as it was.
    #[error("invalid close code {code}: a browser may only send 1000 or 3000..=4999")]
    InvalidCloseCode {
        /// The code that was given.
        code: u16,
    },

    /// A close reason longer than 123 bytes of UTF-8. The connection was left as it was.
    #[error("close reason is {bytes} bytes of UTF-8; at most 123 are allowed")]
    CloseReasonTooLong {
        /// The reason's length in UTF-8 bytes.
        bytes: usize,
    },

    /// The connection closed before it opened: the server refused it, was not there, or the
    /// handshake failed. Browsers hide the cause from scripts, so the event usually says
    /// code 1006 and no reason; the browser's console has the details.
    #[error("connection failed before it opened ({0})")]
    ConnectFailed(CloseEvent),

    /// The opening handshake did not finish within the connect timeout; the attempt was
    /// abandoned and its socket closed.
    #[error("connection did not open within {}", crate::describe::Millis(*.0))]
    ConnectTimeout(Duration),

    /// The connection ended abnormally (it was not closed cleanly): for example the TCP
    /// connection dropped (code 1006). Messages received before it are all delivered first.
    #[error("connection lost ({0})")]
    ConnectionLost(CloseEvent),

    /// More bytes of messages waited unread than
    /// [`ConnectOptions::max_unread_bytes`](crate::ConnectOptions::max_unread_bytes) allows,
    /// so the connection was closed with 4009. Every message received before that was
    /// delivered first; this ends the stream.
    #[error("more than {limit} bytes of messages were waiting unread; the connection was closed with 4009")]
    UnreadLimitExceeded {
        /// The limit that was set, in bytes.
        limit: usize,
    },

    /// The connection is closing or closed, so nothing more can be sent. What was being
    /// sent was not sent.
    #[error("the connection is closing or closed; the message was not sent")]
    Closed,

    /// The browser threw an exception we did not expect; its name and message are kept.
    #[error("browser error {name}: {message}")]
    Browser {
        /// The exception's `name`, such as `SyntaxError`.
        name: String,
        /// The exception's `message`.
        message: String,
    },

    /// A setting is out of range, so nothing was started. Names the setting (as the Rust
    /// field is called, such as `min_delay`) and says what is wrong with its value.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The setting's name.
        option: &'static str,
        /// What is wrong with its value.
        reason: String,
    },

    /// The connection is down and the send queue is full, and its overflow policy refuses
    /// new messages. The message was not queued; it is handed back here. Everything queued
    /// earlier is kept.
    #[error("the send queue is full (at most {max_messages} messages and {max_bytes} bytes); the message was handed back, not queued")]
    QueueFull {
        /// The message that was refused.
        message: crate::Message,
        /// The queue's limit on messages.
        max_messages: usize,
        /// The queue's limit on bytes.
        max_bytes: usize,
    },

    /// The connection is down and the message alone is larger than the send queue's byte
    /// limit, so no overflow policy could make room for it. It is handed back here;
    /// everything queued earlier is kept.
    #[error("a message of {bytes} bytes is larger than the send queue's limit of {max_bytes} bytes; it was handed back, not queued")]
    MessageTooLarge {
        /// The message that was refused.
        message: crate::Message,
        /// Its size in bytes.
        bytes: usize,
        /// The queue's limit on bytes.
        max_bytes: usize,
    },

    /// The reconnecting client is closed for good, by `close()` or because it gave up
    /// reconnecting, so it neither sends nor queues. The message is handed back here.
    #[error("the reconnecting client is closed for good; the message was handed back, not sent")]
    ClosedForGood {
        /// The message that was refused.
        message: crate::Message,
    },

    /// A message from JavaScript was refused for this reason; the caller still holds it.
    /// Only the npm binding's payloads produce it (a Rust client's refusals hand the
    /// [`Message`](crate::Message) back in the variants above), so it is hidden.
    #[doc(hidden)]
    #[error("the message was not sent: {refusal}")]
    Refused {
        /// Why.
        refusal: crate::Refusal,
    },
}

impl Error {
    /// Copies a thrown JavaScript value into an [`Error::Browser`], keeping its name and
    /// message as strings.
    pub(crate) fn from_js(value: &wasm_bindgen::JsValue) -> Self {
        let (name, message) = js_error_parts(value);
        Error::Browser { name, message }
    }
}

/// The `name` and `message` of a thrown JavaScript value; anything that is not an `Error`
/// object is described by its string conversion.
pub(crate) fn js_error_parts(value: &wasm_bindgen::JsValue) -> (String, String) {
    use wasm_bindgen::JsCast;
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => (String::from(error.name()), String::from(error.message())),
        None => (
            "Error".to_owned(),
            value.as_string().unwrap_or_else(|| format!("{value:?}")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_static<T: Send + Sync + 'static>() {}

    #[test]
    fn error_is_send_sync_static_and_clone() {
        assert_send_sync_static::<Error>();
        let error = Error::Closed;
        assert_eq!(error.clone(), error);
    }

    #[test]
    fn messages_name_the_bad_input() {
        let error = Error::InvalidUrl {
            url: "ftp://x".into(),
            reason: "the scheme must be ws, wss, http or https".into(),
        };
        assert_eq!(
            error.to_string(),
            "invalid WebSocket URL \"ftp://x\": the scheme must be ws, wss, http or https"
        );
        assert_eq!(
            Error::InvalidCloseCode { code: 1001 }.to_string(),
            "invalid close code 1001: a browser may only send 1000 or 3000..=4999"
        );
    }
}
