//! What the send queue, the in-flight ledger and the supervisor carry.
//!
//! They only need a message's size, so they are generic over [`Payload`]: the Rust client
//! carries [`Message`]s, and the JavaScript class carries the caller's own JS values, which
//! then never have to be copied into wasm memory and back.

use crate::{Error, Message};

/// A message as the reconnecting machinery sees it: something with a size in bytes.
pub trait Payload: 'static {
    /// The size the browser counts for it in `bufferedAmount` (UTF-8 bytes for text).
    fn byte_len(&self) -> usize;

    /// The error that tells the sender this payload was refused, handing it back where the
    /// sender would otherwise lose it.
    fn refused(self, refusal: Refusal) -> Error;
}

/// Why a payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// It alone is larger than the queue's byte limit.
    TooLarge {
        /// Its size in bytes.
        bytes: usize,
        /// The queue's limit on bytes.
        max_bytes: usize,
    },
    /// The queue is full and its policy rejects new messages.
    QueueFull {
        /// The queue's limit on messages.
        max_messages: usize,
        /// The queue's limit on bytes.
        max_bytes: usize,
    },
    /// The client was closed for good, or gave up.
    ClosedForGood,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooLarge { bytes, max_bytes } => write!(
                f,
                "it is {bytes} bytes, more than the send queue's limit of {max_bytes}"
            ),
            Refusal::QueueFull {
                max_messages,
                max_bytes,
            } => write!(
                f,
                "the send queue is full (at most {max_messages} messages and {max_bytes} bytes)"
            ),
            Refusal::ClosedForGood => write!(f, "the socket is closed for good"),
        }
    }
}

impl Payload for Message {
    fn byte_len(&self) -> usize {
        self.len()
    }

    fn refused(self, refusal: Refusal) -> Error {
        match refusal {
            Refusal::TooLarge { bytes, max_bytes } => Error::MessageTooLarge {
                message: self,
                bytes,
                max_bytes,
            },
            Refusal::QueueFull {
                max_messages,
                max_bytes,
            } => Error::QueueFull {
                message: self,
                max_messages,
                max_bytes,
            },
            Refusal::ClosedForGood => Error::ClosedForGood { message: self },
        }
    }
}
