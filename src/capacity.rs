//! Giving back the room a burst left behind in a queue.
//!
//! A `VecDeque` keeps its capacity after its elements are gone: 30,000 small messages queued
//! during an outage, or written in one burst, would hold a megabyte for a connection that may
//! then stay quiet for hours.

use std::collections::VecDeque;

/// Room kept however empty a queue gets: small enough not to matter, large enough that an
/// ordinary flow of messages never reallocates.
pub(crate) const MIN_KEPT_CAPACITY: usize = 64;

/// Shrinks `queue` to twice its length once it is under a quarter full (never below
/// [`MIN_KEPT_CAPACITY`]), so a steady flow does not reallocate back and forth.
pub(crate) fn release_spare_capacity<T>(queue: &mut VecDeque<T>) {
    let capacity = queue.capacity();
    if capacity > MIN_KEPT_CAPACITY && queue.len() < capacity / 4 {
        queue.shrink_to((queue.len() * 2).max(MIN_KEPT_CAPACITY));
    }
}
