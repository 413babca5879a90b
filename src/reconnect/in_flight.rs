//! The in-flight ledger: which sent messages may still be inside the browser, so that those a
//! dying connection never transmitted can be sent again on the next one.
// Part of the pure API that simulations reach through the `unstable-machine` feature; without
// it, the client uses only some of it.
#![cfg_attr(not(feature = "unstable-machine"), allow(dead_code))]

use crate::capacity::release_spare_capacity;
use crate::payload::Payload;
use crate::Message;
use std::collections::VecDeque;

/// One write to the socket, in the order written.
#[derive(Debug, Clone)]
struct Entry<P> {
    bytes: u64,
    /// `None` for bytes that are not ours to send again, such as heartbeat pings.
    message: Option<P>,
}

/// The messages written to one connection that may not have left the browser yet.
///
/// # Why `bufferedAmount` identifies them exactly
///
/// `WebSocket.send()` never fails for lack of room: the browser appends the payload to its
/// outgoing buffer and adds its size (UTF-8 bytes for text) to `bufferedAmount`, then
/// transmits the buffer strictly in order, subtracting what it hands to the network. So when
/// `bufferedAmount` reads `B`, the bytes not yet transmitted are exactly the last `B` bytes
/// written. Given the ordered list of everything written, the messages still (wholly or
/// partly) inside the browser are the shortest newest suffix of that list whose sizes add up
/// to at least `B`. A message only partly transmitted is counted as not delivered: the server
/// never receives a partial frame as a message.
///
/// # What is and is not guaranteed
///
/// - After a close the browser reported, the final `bufferedAmount` counts bytes the browser
///   will never send, so the messages [`InFlight::unsent`] returns certainly did not arrive
///   whole, and every message before them did leave the browser.
/// - "Left the browser" is not "arrived": bytes handed to the operating system can still be
///   lost when the connection breaks. Only an acknowledgement from the server proves
///   delivery; this ledger recovers what the browser itself still held.
/// - The accounting is exact only if every byte written to the socket is recorded, in the
///   order written: messages through [`InFlight::record`], anything else (heartbeat pings,
///   messages of an open hook) through [`InFlight::record_other`].
/// - Browsers lower `bufferedAmount` from tasks, so a reading can lag behind what has already
///   gone to the network. A lag only makes the reading larger: a message that did get out
///   may then be queued again and arrive twice, but one that did not is never missed.
/// - An empty message adds nothing to `bufferedAmount`, so it is taken as sent once
///   everything written before it has left; nothing can show otherwise.
///
/// # Memory
///
/// After [`observe`](Self::observe) with an amount `B`, the ledger keeps less than
/// `B + (size of its oldest entry)` bytes. A driver that observes `bufferedAmount` before each
/// send, and holds sends while it is above a high-water mark `H`, therefore keeps at most
/// about `H` plus two messages' worth of bytes: the one partly transmitted and the newest.
#[derive(Debug, Clone)]
pub struct InFlight<P = Message> {
    entries: VecDeque<Entry<P>>,
    bytes: u64,
}

impl<P> Default for InFlight<P> {
    fn default() -> Self {
        InFlight {
            entries: VecDeque::new(),
            bytes: 0,
        }
    }
}

impl<P: Payload> InFlight<P> {
    /// An empty ledger, for a connection that has written nothing.
    pub fn new() -> Self {
        InFlight::default()
    }

    /// Records a message just written to the socket. It takes the message by value after
    /// the driver has sent it from a borrow, so nothing is copied.
    pub fn record(&mut self, message: P) {
        let bytes = message.byte_len() as u64;
        self.bytes += bytes;
        self.entries.push_back(Entry {
            bytes,
            message: Some(message),
        });
    }

    /// Records `bytes` written to the socket that are not to be sent again (a heartbeat
    /// ping, a message of the open hook), so that the messages after them are still matched
    /// to the right bytes of `bufferedAmount`.
    pub fn record_other(&mut self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        self.bytes += bytes;
        // Adjacent foreign writes merge: where the transmitted boundary falls among them
        // makes no difference to which messages are unsent.
        if let Some(last) = self.entries.back_mut() {
            if last.message.is_none() {
                last.bytes += bytes;
                return;
            }
        }
        self.entries.push_back(Entry {
            bytes,
            message: None,
        });
    }

    /// Forgets the entries the browser has certainly transmitted, given a current reading of
    /// `bufferedAmount`: everything older than the newest suffix that covers it.
    pub fn observe(&mut self, buffered_amount: u64) {
        while let Some(oldest) = self.entries.front() {
            if self.bytes - oldest.bytes < buffered_amount {
                break;
            }
            self.bytes -= oldest.bytes;
            self.entries.pop_front();
        }
        release_spare_capacity(&mut self.entries);
    }

    /// Empties the ledger, returning, oldest first, the messages not wholly transmitted
    /// according to the final `bufferedAmount` of a connection that has closed.
    ///
    /// If `buffered_amount` exceeds what was recorded, every recorded message is returned:
    /// the browser holds bytes written before the ledger started, and all recorded ones come
    /// after them.
    pub fn unsent(&mut self, buffered_amount: u64) -> Vec<P> {
        self.observe(buffered_amount);
        let unsent = self
            .entries
            .drain(..)
            .filter_map(|entry| entry.message)
            .collect();
        self.bytes = 0;
        release_spare_capacity(&mut self.entries);
        unsent
    }

    /// Forgets everything, as when a new connection starts.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        release_spare_capacity(&mut self.entries);
    }

    /// The bytes of all entries kept.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// How many writes are kept (adjacent foreign writes count as one).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::MIN_KEPT_CAPACITY;

    fn text(s: &str) -> Message {
        Message::from(s)
    }

    fn ledger(messages: &[&str]) -> InFlight {
        let mut ledger = InFlight::new();
        for m in messages {
            ledger.record(text(m));
        }
        ledger
    }

    #[test]
    fn nothing_buffered_means_nothing_unsent() {
        let mut ledger = ledger(&["aa", "bbb"]);
        assert_eq!(ledger.unsent(0), Vec::<Message>::new());
        assert!(ledger.is_empty());
        assert_eq!(ledger.bytes(), 0);
    }

    #[test]
    fn buffered_bytes_select_the_newest_messages() {
        // 2 + 3 + 4 bytes written; the last 4 are the third message exactly.
        assert_eq!(ledger(&["aa", "bbb", "cccc"]).unsent(4), vec![text("cccc")]);
        // 5 bytes: all of the third and 1 byte of the second, which is then partial.
        assert_eq!(
            ledger(&["aa", "bbb", "cccc"]).unsent(5),
            vec![text("bbb"), text("cccc")]
        );
        assert_eq!(
            ledger(&["aa", "bbb", "cccc"]).unsent(7),
            vec![text("bbb"), text("cccc")]
        );
        assert_eq!(ledger(&["aa", "bbb", "cccc"]).unsent(8).len(), 3);
        assert_eq!(ledger(&["aa", "bbb", "cccc"]).unsent(9).len(), 3);
    }

    #[test]
    fn a_partly_transmitted_message_counts_as_unsent() {
        assert_eq!(ledger(&["aa", "bbbbbb"]).unsent(1), vec![text("bbbbbb")]);
    }

    #[test]
    fn multibyte_text_is_counted_in_utf8_bytes() {
        // "héllo" is 6 bytes, "日本" 6, "€" 3: 15 in all, though only 10 chars.
        let mut l = ledger(&["héllo", "日本", "€"]);
        assert_eq!(l.bytes(), 15);
        assert_eq!(l.clone().unsent(3), vec![text("€")]);
        assert_eq!(l.clone().unsent(4), vec![text("日本"), text("€")]);
        assert_eq!(l.clone().unsent(9), vec![text("日本"), text("€")]);
        assert_eq!(l.unsent(10).len(), 3);
    }

    #[test]
    fn more_buffered_than_recorded_returns_everything() {
        assert_eq!(ledger(&["a", "b"]).unsent(1_000).len(), 2);
    }

    #[test]
    fn observe_forgets_only_what_has_certainly_left() {
        let mut l = ledger(&["aaaa", "bb", "c"]);
        l.observe(7);
        assert_eq!((l.len(), l.bytes()), (3, 7));
        l.observe(3);
        assert_eq!((l.len(), l.bytes()), (2, 3), "the first 4 bytes have left");
        l.observe(2);
        assert_eq!(
            (l.len(), l.bytes()),
            (2, 3),
            "'bb' is partly buffered: kept"
        );
        l.observe(1);
        assert_eq!((l.len(), l.bytes()), (1, 1));
        l.record(text("dd"));
        assert_eq!(l.unsent(2), vec![text("dd")]);
    }

    #[test]
    fn observe_then_unsent_agrees_with_unsent_alone() {
        let mut observed = ledger(&["one", "two", "three", "four"]);
        observed.observe(9);
        assert_eq!(
            observed.unsent(6),
            ledger(&["one", "two", "three", "four"]).unsent(6)
        );
    }

    #[test]
    fn foreign_bytes_shift_the_boundary_but_are_not_returned() {
        let mut l = InFlight::new();
        l.record(text("aaaa"));
        l.record_other(4); // a ping
        l.record(text("bbbb"));
        // 6 bytes: "bbbb" and half the ping; "aaaa" has left.
        assert_eq!(l.clone().unsent(6), vec![text("bbbb")]);
        // 9 bytes: reaches one byte into "aaaa".
        assert_eq!(l.unsent(9), vec![text("aaaa"), text("bbbb")]);
    }

    #[test]
    fn adjacent_foreign_writes_merge_and_zero_is_ignored() {
        let mut l = InFlight::new();
        l.record_other(2);
        l.record_other(3);
        l.record_other(0);
        assert_eq!((l.len(), l.bytes()), (1, 5));
        l.record(text("x"));
        l.record_other(1);
        assert_eq!(l.len(), 3);
    }

    #[test]
    fn empty_messages_behind_an_unsent_one_are_unsent() {
        let mut l = ledger(&["", "ab", "", "cd", ""]);
        // Two bytes buffered: "cd" is unsent, so the empty message after it is too; the
        // empty one between "ab" and "cd" was written after "ab" left and before "cd":
        // nothing shows whether it left, and it is taken as sent.
        assert_eq!(l.unsent(2), vec![text("cd"), text("")]);
    }

    #[test]
    fn memory_stays_bounded_when_observed_before_each_send() {
        // A driver holding sends while bufferedAmount is above 64 bytes, with the network
        // draining 10 bytes between sends.
        let high_water = 64u64;
        let mut l = InFlight::new();
        let mut buffered = 0u64;
        let mut max_kept = 0;
        for i in 0..10_000u64 {
            buffered = buffered.saturating_sub(10);
            l.observe(buffered);
            if buffered > high_water {
                continue;
            }
            let message = Message::from(vec![0u8; (i % 17) as usize]);
            buffered += message.len() as u64;
            l.record(message);
            max_kept = max_kept.max(l.bytes());
        }
        assert!(max_kept <= high_water + 2 * 16, "kept {max_kept} bytes");
    }

    #[test]
    fn a_burst_gives_its_room_back_once_sent() {
        let mut l = InFlight::new();
        for _ in 0..30_000 {
            l.record(text("x"));
        }
        assert!(l.entries.capacity() >= 30_000);
        l.observe(3);
        assert_eq!(l.len(), 3);
        assert!(
            l.entries.capacity() <= MIN_KEPT_CAPACITY,
            "capacity {} kept for 3 entries",
            l.entries.capacity()
        );
        // A steady flow around the minimum does not reallocate back and forth.
        for _ in 0..40 {
            l.record(text("y"));
        }
        l.observe(40);
        assert_eq!(l.entries.capacity(), MIN_KEPT_CAPACITY);
    }

    #[test]
    fn clear_forgets_everything() {
        let mut l = ledger(&["a"]);
        l.record_other(3);
        l.clear();
        assert!(l.is_empty());
        assert_eq!(l.unsent(10), Vec::<Message>::new());
    }
}
