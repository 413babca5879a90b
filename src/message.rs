//! The data a WebSocket carries: a text or a binary message.

use std::borrow::Cow;

/// One WebSocket message, as received from or sent to the other side.
///
/// Text stays text and binary stays binary end to end: a `Text` is sent as a text frame
/// (the browser's `send(string)`), a `Binary` as a binary frame (`send(ArrayBuffer)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text frame: always valid UTF-8.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Message {
    /// The payload's size in bytes (UTF-8 bytes for text), as the browser counts it in
    /// `bufferedAmount`.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the payload is empty. Empty messages are valid and are delivered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The payload's bytes, whichever kind of message this is.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// The payload as bytes, without copying.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<Cow<'_, str>> for Message {
    fn from(text: Cow<'_, str>) -> Self {
        Message::Text(text.into_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(bytes)
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Self {
        Message::Binary(bytes.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Message {
    fn from(bytes: [u8; N]) -> Self {
        Message::Binary(bytes.to_vec())
    }
}

impl From<Box<[u8]>> for Message {
    fn from(bytes: Box<[u8]>) -> Self {
        Message::Binary(bytes.into_vec())
    }
}

impl From<Message> for Vec<u8> {
    fn from(message: Message) -> Self {
        message.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_keep_the_kind() {
        assert_eq!(Message::from("hé"), Message::Text("hé".to_owned()));
        assert_eq!(
            Message::from(String::from("x")),
            Message::Text("x".to_owned())
        );
        assert_eq!(Message::from(vec![1u8, 2]), Message::Binary(vec![1, 2]));
        assert_eq!(Message::from(&[3u8][..]), Message::Binary(vec![3]));
        assert_eq!(Message::from([4u8, 5]), Message::Binary(vec![4, 5]));
    }

    #[test]
    fn length_counts_utf8_bytes() {
        let message = Message::from("héllo");
        assert_eq!(message.len(), 6);
        assert!(!message.is_empty());
        assert!(Message::from("").is_empty());
        assert_eq!(message.as_bytes(), "héllo".as_bytes());
    }

    #[test]
    fn accessors_match_the_kind() {
        let text = Message::from("a");
        let binary = Message::from(vec![0u8]);
        assert!(text.is_text() && !text.is_binary());
        assert!(binary.is_binary() && !binary.is_text());
        assert_eq!(text.as_text(), Some("a"));
        assert_eq!(binary.as_text(), None);
        assert_eq!(Vec::from(binary), vec![0u8]);
        assert_eq!(text.into_bytes(), b"a".to_vec());
    }
}
