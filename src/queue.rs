//! The send queue: messages sent while the connection is down, kept in order for the next
//! connection, bounded by count and by bytes.
// Part of the pure API that simulations reach through the `unstable-machine` feature; without
// it, the client uses only some of it.
#![cfg_attr(not(feature = "unstable-machine"), allow(dead_code))]

use crate::capacity::release_spare_capacity;
use crate::payload::{Payload, Refusal};
use crate::{Error, Message};
use std::collections::VecDeque;

/// What to do with a message that does not fit in a full queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Overflow {
    /// Refuse the new message and hand it back to the sender in the error
    /// ([`Error::QueueFull`]). The default: the sender learns at once, while it still holds
    /// the context to decide what to do, and what was accepted earlier is never lost.
    #[default]
    RejectNew,
    /// Accept the new message and drop the oldest queued ones until it fits; the dropped
    /// messages are reported (`Event::Dropped`). For feeds where only recent
    /// messages matter, such as positions or presence.
    DropOldest,
}

/// How much the send queue may hold while the connection is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct QueueLimits {
    /// The most messages the queue holds. Default: 1,000. Zero disables queueing: sends
    /// while down are refused with [`Error::QueueFull`].
    pub max_messages: usize,
    /// The most payload bytes (UTF-8 bytes for text) the queue holds. Default: 1 MiB, a
    /// bound on the memory an outage can cost a tab. A single message larger than this is
    /// never queued, whatever the overflow policy ([`Error::MessageTooLarge`]).
    pub max_bytes: usize,
    /// What happens to a message that does not fit. Default: [`Overflow::RejectNew`].
    pub overflow: Overflow,
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits {
            max_messages: 1_000,
            max_bytes: 1 << 20,
            overflow: Overflow::RejectNew,
        }
    }
}

impl QueueLimits {
    /// Sets [`max_messages`](#structfield.max_messages).
    #[must_use]
    pub fn max_messages(mut self, messages: usize) -> Self {
        self.max_messages = messages;
        self
    }

    /// Sets [`max_bytes`](#structfield.max_bytes).
    #[must_use]
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Sets [`overflow`](#structfield.overflow).
    #[must_use]
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }
}

/// What [`SendQueue::push`] did with an accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "dropped messages must be reported, not lost silently"]
#[non_exhaustive]
pub enum Pushed<P = Message> {
    /// The message was queued and nothing else changed.
    Queued,
    /// The message was queued after dropping these older ones, oldest first, to make room
    /// ([`Overflow::DropOldest`]).
    DroppedOldest(Vec<P>),
}

/// Messages waiting for a connection, oldest first, bounded by [`QueueLimits`].
#[derive(Debug, Clone)]
pub struct SendQueue<P = Message> {
    limits: QueueLimits,
    messages: VecDeque<P>,
    bytes: usize,
}

impl<P> Default for SendQueue<P> {
    fn default() -> Self {
        SendQueue {
            limits: QueueLimits::default(),
            messages: VecDeque::new(),
            bytes: 0,
        }
    }
}

impl<P: Payload> SendQueue<P> {
    /// An empty queue with these limits.
    pub fn new(limits: QueueLimits) -> Self {
        SendQueue {
            limits,
            messages: VecDeque::new(),
            bytes: 0,
        }
    }

    /// The limits new messages are held to.
    pub fn limits(&self) -> QueueLimits {
        self.limits
    }

    /// Appends `message`, following the overflow policy if the queue is full.
    ///
    /// # Errors
    ///
    /// The message is handed back inside the error, unqueued:
    /// - [`Error::MessageTooLarge`] if it alone is larger than `max_bytes`, whatever the
    ///   policy, since no amount of dropping would make room for it;
    /// - [`Error::QueueFull`] if it does not fit and the policy is [`Overflow::RejectNew`],
    ///   or if `max_messages` is zero.
    pub fn push(&mut self, message: P) -> Result<Pushed<P>, Error> {
        let size = message.byte_len();
        if size > self.limits.max_bytes {
            return Err(message.refused(Refusal::TooLarge {
                bytes: size,
                max_bytes: self.limits.max_bytes,
            }));
        }
        if self.fits(size) {
            self.push_back(message);
            return Ok(Pushed::Queued);
        }
        if self.limits.overflow == Overflow::RejectNew || self.limits.max_messages == 0 {
            return Err(message.refused(Refusal::QueueFull {
                max_messages: self.limits.max_messages,
                max_bytes: self.limits.max_bytes,
            }));
        }
        let mut dropped = Vec::new();
        while !self.fits(size) {
            // An empty queue always fits a message within max_bytes when max_messages > 0,
            // so this ends before the queue runs dry.
            match self.pop_front() {
                Some(oldest) => dropped.push(oldest),
                None => break,
            }
        }
        self.push_back(message);
        Ok(Pushed::DroppedOldest(dropped))
    }

    /// Removes and returns the oldest message.
    pub fn pop_front(&mut self) -> Option<P> {
        let message = self.messages.pop_front()?;
        self.bytes -= message.byte_len();
        release_spare_capacity(&mut self.messages);
        Some(message)
    }

    /// Puts `messages` back at the front, in their order (the first of them becomes the
    /// front), ahead of everything already queued.
    ///
    /// This ignores the limits on purpose: these messages were accepted earlier, handed to a
    /// connection that then died before they left the browser, and must not be lost or
    /// refused now. The queue may therefore hold more than its limits until it is flushed;
    /// meanwhile new messages do not fit and follow the overflow policy.
    pub fn push_front_batch(&mut self, messages: Vec<P>) {
        self.messages.reserve(messages.len());
        for message in messages.into_iter().rev() {
            self.bytes += message.byte_len();
            self.messages.push_front(message);
        }
    }

    /// Empties the queue, returning its messages oldest first.
    pub fn drain_all(&mut self) -> Vec<P> {
        self.bytes = 0;
        let drained = self.messages.drain(..).collect();
        release_spare_capacity(&mut self.messages);
        drained
    }

    /// How many messages are queued.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// How many payload bytes are queued.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The queued messages, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &P> + '_ {
        self.messages.iter()
    }

    fn fits(&self, size: usize) -> bool {
        self.messages.len() < self.limits.max_messages
            && self.bytes.saturating_add(size) <= self.limits.max_bytes
    }

    fn push_back(&mut self, message: P) {
        self.bytes += message.byte_len();
        self.messages.push_back(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Message {
        Message::from(s)
    }

    fn queue(max_messages: usize, max_bytes: usize, overflow: Overflow) -> SendQueue {
        SendQueue::new(
            QueueLimits::default()
                .max_messages(max_messages)
                .max_bytes(max_bytes)
                .overflow(overflow),
        )
    }

    #[test]
    fn defaults_are_documented_values() {
        let limits = QueueLimits::default();
        assert_eq!(limits.max_messages, 1000);
        assert_eq!(limits.max_bytes, 1024 * 1024);
        assert_eq!(limits.overflow, Overflow::RejectNew);
    }

    #[test]
    fn a_flushed_outage_gives_its_room_back() {
        let mut q = queue(10_000, 1 << 20, Overflow::RejectNew);
        for _ in 0..10_000 {
            assert_eq!(q.push(text("x")), Ok(Pushed::Queued));
        }
        while q.pop_front().is_some() {}
        assert!(
            q.messages.capacity() <= crate::capacity::MIN_KEPT_CAPACITY,
            "capacity {} kept by an empty queue",
            q.messages.capacity()
        );
    }

    #[test]
    fn keeps_order_and_counts_utf8_bytes() {
        let mut q = queue(10, 100, Overflow::RejectNew);
        assert_eq!(q.push(text("a")), Ok(Pushed::Queued));
        assert_eq!(q.push(text("é")), Ok(Pushed::Queued));
        assert_eq!(q.push(Message::from(vec![1u8, 2, 3])), Ok(Pushed::Queued));
        assert_eq!((q.len(), q.bytes()), (3, 1 + 2 + 3));
        assert_eq!(q.pop_front(), Some(text("a")));
        assert_eq!(q.bytes(), 5);
        assert_eq!(
            q.drain_all(),
            vec![text("é"), Message::from(vec![1u8, 2, 3])]
        );
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
        assert_eq!(q.pop_front(), None);
    }

    #[test]
    fn reject_new_hands_back_the_message_when_count_is_reached() {
        let mut q = queue(2, 100, Overflow::RejectNew);
        assert!(q.push(text("1")).is_ok());
        assert!(q.push(text("2")).is_ok());
        assert_eq!(
            q.push(text("3")),
            Err(Error::QueueFull {
                message: text("3"),
                max_messages: 2,
                max_bytes: 100
            })
        );
        assert_eq!(q.drain_all(), vec![text("1"), text("2")]);
    }

    #[test]
    fn reject_new_hands_back_the_message_when_bytes_are_reached() {
        let mut q = queue(100, 10, Overflow::RejectNew);
        assert!(q.push(text("12345678")).is_ok());
        assert!(matches!(
            q.push(text("abc")),
            Err(Error::QueueFull { message, .. }) if message == text("abc")
        ));
        // Exactly filling the byte budget is allowed.
        assert_eq!(q.push(text("ab")), Ok(Pushed::Queued));
        assert_eq!(q.bytes(), 10);
    }

    #[test]
    fn drop_oldest_reports_what_it_dropped_in_order() {
        let mut q = queue(3, 100, Overflow::DropOldest);
        for s in ["1", "2", "3"] {
            assert_eq!(q.push(text(s)), Ok(Pushed::Queued));
        }
        assert_eq!(
            q.push(text("4")),
            Ok(Pushed::DroppedOldest(vec![text("1")]))
        );
        assert_eq!(q.drain_all(), vec![text("2"), text("3"), text("4")]);
    }

    #[test]
    fn drop_oldest_drops_as_many_as_the_bytes_need() {
        let mut q = queue(100, 10, Overflow::DropOldest);
        for s in ["aaa", "bbb", "ccc"] {
            assert!(q.push(text(s)).is_ok());
        }
        assert_eq!(
            q.push(text("dddddddd")),
            Ok(Pushed::DroppedOldest(vec![
                text("aaa"),
                text("bbb"),
                text("ccc")
            ]))
        );
        assert_eq!((q.len(), q.bytes()), (1, 8));
    }

    #[test]
    fn a_message_larger_than_the_byte_limit_is_always_rejected() {
        for overflow in [Overflow::RejectNew, Overflow::DropOldest] {
            let mut q = queue(10, 4, overflow);
            assert!(q.push(text("ab")).is_ok());
            assert_eq!(
                q.push(text("héllo")),
                Err(Error::MessageTooLarge {
                    message: text("héllo"),
                    bytes: 6,
                    max_bytes: 4
                })
            );
            assert_eq!(
                q.drain_all(),
                vec![text("ab")],
                "{overflow:?} kept the queue"
            );
        }
    }

    #[test]
    fn refusals_say_the_message_was_handed_back() {
        let full = Error::QueueFull {
            message: text("x"),
            max_messages: 2,
            max_bytes: 10,
        };
        assert_eq!(
            full.to_string(),
            "the send queue is full (at most 2 messages and 10 bytes); \
             the message was handed back, not queued"
        );
        let large = Error::MessageTooLarge {
            message: text("xyz"),
            bytes: 3,
            max_bytes: 2,
        };
        assert_eq!(
            large.to_string(),
            "a message of 3 bytes is larger than the send queue's limit of 2 bytes; \
             it was handed back, not queued"
        );
        assert_eq!(
            Error::ClosedForGood { message: text("x") }.to_string(),
            "the reconnecting client is closed for good; the message was handed back, not sent"
        );
    }

    #[test]
    fn zero_messages_disables_queueing_under_both_policies() {
        for overflow in [Overflow::RejectNew, Overflow::DropOldest] {
            let mut q = queue(0, 100, overflow);
            assert!(matches!(q.push(text("x")), Err(Error::QueueFull { .. })));
            assert!(q.is_empty());
        }
    }

    #[test]
    fn empty_messages_count_against_the_message_limit() {
        let mut q = queue(1, 0, Overflow::RejectNew);
        assert_eq!(q.push(text("")), Ok(Pushed::Queued));
        assert!(matches!(q.push(text("")), Err(Error::QueueFull { .. })));
    }

    #[test]
    fn push_front_batch_requeues_ahead_in_order_beyond_the_limits() {
        let mut q = queue(2, 4, Overflow::RejectNew);
        assert!(q.push(text("c")).is_ok());
        q.push_front_batch(vec![text("aaa"), text("bb")]);
        assert_eq!((q.len(), q.bytes()), (3, 6));
        assert!(matches!(q.push(text("d")), Err(Error::QueueFull { .. })));
        let order: Vec<&Message> = q.iter().collect();
        assert_eq!(order, [&text("aaa"), &text("bb"), &text("c")]);
        assert_eq!(q.pop_front(), Some(text("aaa")));
        assert_eq!(q.pop_front(), Some(text("bb")));
        assert_eq!(q.bytes(), 1);
    }

    #[test]
    fn drop_oldest_after_an_over_limit_requeue_drops_down_to_the_limits() {
        let mut q = queue(2, 100, Overflow::DropOldest);
        q.push_front_batch(vec![text("1"), text("2"), text("3")]);
        assert_eq!(
            q.push(text("4")),
            Ok(Pushed::DroppedOldest(vec![text("1"), text("2")]))
        );
        assert_eq!(q.drain_all(), vec![text("3"), text("4")]);
    }
}
