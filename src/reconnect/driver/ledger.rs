//! When the driver reads `bufferedAmount` to trim the in-flight ledger: every so many sends
//! while sending, and on a timer once sends stop.

use super::{Inner, Platform, Transport};
use crate::socket::Wire;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;

/// How many sends may pass between two readings of `bufferedAmount` for the in-flight ledger.
/// At 256, the ledger holds at most 256 messages more than the browser still buffers, and the
/// reading (one call into JavaScript) costs nothing measurable per message.
pub(super) const LEDGER_CHECK_EVERY: u32 = 256;

/// Once sends stop, the ledger is trimmed against `bufferedAmount` at this interval (ms) until
/// it is empty, so what a burst left in it is let go soon after the browser has sent it.
pub(super) const LEDGER_IDLE_TRIM_MS: u32 = 1000;

/// Trims the in-flight ledger when its timer fires, and re-arms it while entries remain.
pub(super) fn trim_idle_ledger<P: Wire + Clone, B: Platform>(
    inner: &mut Inner<P, B>,
    platform: &B,
    cx: &mut Context<'_>,
) {
    while let Some(pending) = inner.ledger_timer.as_mut() {
        if Pin::new(pending).poll(cx).is_pending() {
            return;
        }
        inner.ledger_timer = None;
        if let Some(live) = inner.socket.as_ref() {
            let buffered = u64::from(live.connection.buffered_amount());
            inner.machine.observe_buffered(live.id, buffered);
        }
        // Without a socket the ledger waits for the close that settles it; no timer needed.
        if inner.socket.is_some() && !inner.machine.in_flight().is_trimmed() {
            inner.ledger_timer = Some(platform.timer(LEDGER_IDLE_TRIM_MS));
        }
    }
}
