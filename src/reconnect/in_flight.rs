//! The in-flight ledger: which sent messages may not have reached the server yet, so that those
//! a dying connection never delivered can be sent again on the next one.
// Part of the pure API that simulations reach through the `unstable-machine` feature; without
// it, the client uses only some of it.
#![cfg_attr(not(feature = "unstable-machine"), allow(dead_code))]

use crate::capacity::{release_spare_capacity, MIN_KEPT_CAPACITY};
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

/// How many bytes beyond `bufferedAmount` a browser may still hold, or have dropped, when a
/// connection ends without the client closing it: the default window, 1 MiB.
///
/// Measured with `node bench/close-loss.mjs` (1 KiB messages streamed at full speed while the
/// server closes cleanly with 1001 or 1012 at a random moment 30 to 400 ms after the open, or
/// cuts TCP; 24 trials per case, two runs), against a server that reads as fast as data
/// comes: Chromium dropped up to 456 KiB beyond `bufferedAmount` on a clean close (median
/// about 110 KiB, at any high-water mark from 64 KiB to none), and up to 643 KiB on a TCP
/// cut (which includes what the kernel held); Firefox dropped nothing on a clean close.
/// 1 MiB covers these with a margin of 1.6 or more. A server that reads too slowly to reach
/// the client's close frame in time makes Chromium lose more, and no fixed window covers
/// that: up to 1.12 MiB behind a reader of 4 MiB/s, 2.03 MiB behind one of 512 KiB/s.
pub const RESEND_WINDOW: u64 = 1 << 20;

/// The messages written to one connection that may not have reached the server yet.
///
/// # What `bufferedAmount` says, and what it does not
///
/// `WebSocket.send()` never fails for lack of room: the browser appends the payload to its
/// outgoing buffer and adds its size (UTF-8 bytes for text) to `bufferedAmount`, then
/// hands the buffer on strictly in order, subtracting what it hands on. So when
/// `bufferedAmount` reads `B`, the bytes not yet handed on are exactly the last `B` bytes
/// written. Given the ordered list of everything written, the messages still (wholly or
/// partly) inside that buffer are the shortest newest suffix of that list whose sizes add up
/// to at least `B`. A message only partly handed on is counted as not delivered: the server
/// never receives a partial frame as a message.
///
/// But "handed on" is not "left the browser". Chromium takes a message off `bufferedAmount`
/// when it gives it to its network process, which holds it (about 128 KiB, measured up to
/// 456 KiB, more behind a slow reader) until the socket takes it, and drops what it holds
/// when it answers a server's close frame or the connection breaks (see [`RESEND_WINDOW`]). Firefox sends everything
/// before answering a close. So when a connection ends without the client closing it, the
/// messages that may not have arrived are those covering the newest `B + window` bytes,
/// where [`window`](Self::window) is [`RESEND_WINDOW`] unless set otherwise: see
/// [`possibly_unsent`](Self::possibly_unsent). When the client closes the connection itself,
/// every browser sends what it took off `bufferedAmount` before its close frame, and
/// [`unsent`](Self::unsent) is exact.
///
/// # What is and is not guaranteed
///
/// - After a close the client started, the messages [`InFlight::unsent`] returns certainly
///   did not arrive whole, and every message before them did leave the browser.
/// - After a close the client did not start, the messages [`InFlight::possibly_unsent`]
///   returns include every message the browser did not send, as long as it held no more than
///   the window beyond `bufferedAmount`; some of them may have arrived, so sending them again
///   can deliver them twice.
/// - "Left the browser" is not "arrived": bytes handed to the operating system can still be
///   lost when the connection breaks (a TCP cut in Firefox lost up to 4.2 MiB that had left
///   `bufferedAmount`, all of it in the kernel). Only an acknowledgement from the server
///   proves delivery.
/// - The accounting is exact only if every byte written to the socket is recorded, in the
///   order written: messages through [`InFlight::record`], anything else (heartbeat pings,
///   messages of an open hook) through [`InFlight::record_other`].
/// - Browsers lower `bufferedAmount` from tasks, so a reading can lag behind what has already
///   been handed on. A lag only makes the reading larger: a message that did get out may
///   then be queued again and arrive twice, but one that did not is never missed.
/// - An empty message adds nothing to `bufferedAmount`, so it is taken as sent once
///   everything written before it has left; nothing can show otherwise.
///
/// # Memory
///
/// After [`observe`](Self::observe) with an amount `B`, the ledger keeps less than
/// `B + window + (size of its oldest entry)` bytes of messages, and one entry (about 40 bytes
/// besides the message) per message among them. A driver that observes `bufferedAmount`
/// before each send, and holds sends while it is above a high-water mark `H`, therefore keeps
/// at most about `H + window` plus two messages' worth of bytes; once idle, the newest
/// `window` bytes of messages stay, so that a close that comes later can still send them
/// again, and a reading of 0 gives back the room the rest needed (the entries then take at
/// most 2.5 times their size). `tests/fates.rs` measured 1.94 MiB of Rust heap held once
/// 100,000 messages of 32 bytes had reached the server: 1 MiB of text and 32,768 entries.
#[derive(Debug, Clone)]
pub struct InFlight<P = Message> {
    entries: VecDeque<Entry<P>>,
    bytes: u64,
    window: u64,
}

impl<P> Default for InFlight<P> {
    fn default() -> Self {
        InFlight::with_window(RESEND_WINDOW)
    }
}

impl<P> InFlight<P> {
    /// An empty ledger that keeps `window` bytes beyond `bufferedAmount` for
    /// [`possibly_unsent`](Self::possibly_unsent). [`InFlight::new`] uses [`RESEND_WINDOW`].
    pub fn with_window(window: u64) -> Self {
        InFlight {
            entries: VecDeque::new(),
            bytes: 0,
            window,
        }
    }
}

impl<P: Payload> InFlight<P> {
    /// An empty ledger, for a connection that has written nothing, with the
    /// [`RESEND_WINDOW`].
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

    /// Forgets the entries that are no longer needed, given a current reading of
    /// `bufferedAmount`: everything older than the newest suffix that covers it and the
    /// window beyond it.
    pub fn observe(&mut self, buffered_amount: u64) {
        self.keep_newest(buffered_amount.saturating_add(self.window));
        if buffered_amount == 0 {
            // Nothing left in the browser's buffer: the ledger is down to the window, which
            // it keeps while idle, so the room that `bufferedAmount`'s share needed while
            // streaming (up to a high-water mark's worth of entries) is given back. Only
            // then: a ledger that streams reallocates at most once per burst.
            let len = self.entries.len();
            let target = (len + len / 4).max(MIN_KEPT_CAPACITY);
            if self.entries.capacity() > 2 * target {
                self.entries.shrink_to(target);
            }
        }
    }

    /// Empties the ledger, returning, oldest first, the messages not wholly handed on
    /// according to the final `bufferedAmount` of a connection the client closed itself
    /// (the browser then sends everything it took off `bufferedAmount` before its close
    /// frame).
    ///
    /// If `buffered_amount` exceeds what was recorded, every recorded message is returned:
    /// the browser holds bytes written before the ledger started, and all recorded ones come
    /// after them.
    pub fn unsent(&mut self, buffered_amount: u64) -> Vec<P> {
        self.keep_newest(buffered_amount);
        self.drain()
    }

    /// Empties the ledger, returning, oldest first, the messages that may not have arrived
    /// after a connection ended without the client closing it (the server closed it, it
    /// broke, or it was judged dead): those covering the newest `buffered_amount + window`
    /// bytes. See the type's documentation for why the browser's own count is not enough.
    pub fn possibly_unsent(&mut self, buffered_amount: u64) -> Vec<P> {
        self.keep_newest(buffered_amount.saturating_add(self.window));
        self.drain()
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

    /// The bytes beyond `bufferedAmount` kept for [`possibly_unsent`](Self::possibly_unsent).
    pub fn window(&self) -> u64 {
        self.window
    }

    /// Whether no reading of `bufferedAmount` could let anything more go: the ledger keeps
    /// only the window's worth of the newest entries (or nothing). A driver that trims the
    /// ledger while idle can stop once this holds.
    pub fn is_trimmed(&self) -> bool {
        self.entries
            .front()
            .is_none_or(|oldest| self.bytes - oldest.bytes < self.window)
    }

    /// How many writes are kept (adjacent foreign writes count as one).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets the oldest entries while the newer ones still cover `keep` bytes.
    fn keep_newest(&mut self, keep: u64) {
        while let Some(oldest) = self.entries.front() {
            if self.bytes - oldest.bytes < keep {
                break;
            }
            self.bytes -= oldest.bytes;
            self.entries.pop_front();
        }
        release_spare_capacity(&mut self.entries);
    }

    fn drain(&mut self) -> Vec<P> {
        let unsent = self
            .entries
            .drain(..)
            .filter_map(|entry| entry.message)
            .collect();
        self.bytes = 0;
        release_spare_capacity(&mut self.entries);
        unsent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// A ledger with no window: it keeps only what `bufferedAmount` covers.
    fn exact(messages: &[&str]) -> InFlight {
        let mut ledger = InFlight::with_window(0);
        for m in messages {
            ledger.record(text(m));
        }
        ledger
    }

    fn windowed(window: u64, messages: &[&str]) -> InFlight {
        let mut ledger = InFlight::with_window(window);
        for m in messages {
            ledger.record(text(m));
        }
        ledger
    }

    #[test]
    fn the_default_window_is_the_measured_one() {
        assert_eq!(InFlight::<Message>::new().window(), RESEND_WINDOW);
        assert_eq!(RESEND_WINDOW, 1 << 20);
    }

    #[test]
    fn possibly_unsent_adds_the_window_to_what_is_buffered() {
        let l = windowed(5, &["aa", "bbb", "cccc"]);
        // Nothing buffered, but the browser may have dropped the last 5 bytes it took:
        // all of "cccc" and the last byte of "bbb".
        assert_eq!(
            l.clone().possibly_unsent(0),
            vec![text("bbb"), text("cccc")]
        );
        // 4 buffered and 5 more: 9 bytes reach every message.
        assert_eq!(l.clone().possibly_unsent(4).len(), 3);
        // The exact count ignores the window.
        assert_eq!(l.clone().unsent(0), Vec::<Message>::new());
        assert_eq!(l.clone().unsent(4), vec![text("cccc")]);
        // A window wider than everything returns everything, without overflow.
        let mut l = l;
        assert_eq!(l.possibly_unsent(u64::MAX).len(), 3);
        assert!(l.is_empty());
    }

    #[test]
    fn observe_keeps_the_window_for_a_later_close() {
        let mut l = windowed(4, &["aaaa", "bb", "c", "dddd"]);
        l.observe(0);
        assert_eq!(
            (l.len(), l.bytes()),
            (1, 4),
            "only the newest 4 bytes are kept"
        );
        l.record(text("ee"));
        // The close reads 2 bytes buffered: "ee", and 4 bytes beyond it reach into "dddd".
        assert_eq!(l.possibly_unsent(2), vec![text("dddd"), text("ee")]);
    }

    #[test]
    fn observe_then_possibly_unsent_agrees_with_possibly_unsent_alone() {
        let messages = ["one", "two", "three", "four", "five"];
        for window in 0..12 {
            for observed in 0..20 {
                for last in 0..=observed {
                    let mut l = windowed(window, &messages);
                    l.observe(observed);
                    assert_eq!(
                        l.possibly_unsent(last),
                        windowed(window, &messages).possibly_unsent(last),
                        "window {window}, observed {observed}, then {last}"
                    );
                }
            }
        }
    }

    #[test]
    fn is_trimmed_once_only_the_window_is_kept() {
        let mut l = windowed(4, &["aa", "bb"]);
        assert!(l.is_trimmed(), "4 bytes, all within the window");
        l.record(text("ccc"));
        assert!(!l.is_trimmed(), "'aa' is outside the window");
        l.observe(3);
        assert!(!l.is_trimmed(), "a lower reading could still let 'aa' go");
        l.observe(0);
        assert!(l.is_trimmed());
        assert_eq!((l.len(), l.bytes()), (2, 5), "'bb' reaches into the window");
        assert!(InFlight::<Message>::with_window(0).is_trimmed());
        assert!(!exact(&["a"]).is_trimmed());
    }

    #[test]
    fn memory_stays_within_the_window_when_observed_before_each_send() {
        // As below, with a window of 100 bytes on top of the high-water mark.
        let (high_water, window) = (64u64, 100u64);
        let mut l = InFlight::with_window(window);
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
        assert!(
            max_kept <= high_water + window + 2 * 16,
            "kept {max_kept} bytes"
        );
        l.observe(0);
        assert!(
            l.bytes() < window + 16,
            "idle, it keeps {} bytes",
            l.bytes()
        );
    }

    #[test]
    fn idle_after_many_small_sends_the_window_is_what_stays() {
        // The benchmark's "held" case: 100,000 texts of 32 bytes, all sent and received, the
        // driver reading bufferedAmount (0) every 256 sends and once more when idle.
        let mut l = InFlight::new();
        for i in 0..100_000u32 {
            if i % 256 == 0 {
                l.observe(0);
            }
            l.record(Message::from(format!("{:032}", i)));
        }
        l.observe(0);
        assert!(l.is_trimmed());
        assert_eq!(l.len() as u64, RESEND_WINDOW / 32);
        assert_eq!(l.bytes(), RESEND_WINDOW);
        let entry = std::mem::size_of::<Entry<Message>>();
        assert!(entry <= 40, "an entry takes {entry} bytes");
        assert!(l.entries.capacity() <= 2 * l.len());
    }

    #[test]
    fn once_nothing_is_buffered_the_room_of_a_full_buffer_is_given_back() {
        // Streaming with 1 MiB in bufferedAmount, the ledger needs entries for it and the
        // window; idle, only for the window.
        let mut l = InFlight::new();
        for i in 0..100_000u32 {
            if i % 256 == 0 {
                l.observe(1 << 20);
            }
            l.record(Message::from(format!("{:032}", i)));
        }
        l.observe(1 << 20);
        assert!(l.entries.capacity() >= 65_536);
        l.observe(0);
        assert_eq!(l.len(), 32_768);
        assert!(
            l.entries.capacity() <= l.len() * 5 / 4,
            "capacity {} for {} entries",
            l.entries.capacity(),
            l.len()
        );
        // Observing again changes nothing.
        let capacity = l.entries.capacity();
        l.observe(0);
        assert_eq!(l.entries.capacity(), capacity);
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
        let mut l = exact(&["aaaa", "bb", "c"]);
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
        let mut l = InFlight::with_window(0);
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
        let mut l = InFlight::with_window(0);
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
