//! The supervisor's timers, and one slot per kind for whoever keeps something per timer.

/// The timers the supervisor uses. At most one of each kind is pending at any time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timer {
    /// The backoff delay before the next attempt.
    Backoff,
    /// The limit on an attempt's handshake and open hook.
    ConnectTimeout,
    /// The time from the open, or the last answer, to the next heartbeat ping.
    Heartbeat,
    /// The wait for an answer to a ping.
    PongTimeout,
    /// The time after which an open connection counts as stable and the backoff starts
    /// again from the beginning.
    Stable,
}

impl Timer {
    /// Every kind, for code that visits each slot. Not public: a new kind must not break
    /// users who matched on the list.
    pub(crate) const ALL: [Timer; 5] = [
        Timer::Backoff,
        Timer::ConnectTimeout,
        Timer::Heartbeat,
        Timer::PongTimeout,
        Timer::Stable,
    ];
}

/// One `T` per kind of [`Timer`], reached by kind with no index that could be out of range.
#[derive(Debug, Clone, Default)]
pub(crate) struct PerTimer<T> {
    backoff: T,
    connect_timeout: T,
    heartbeat: T,
    pong_timeout: T,
    stable: T,
}

impl<T> PerTimer<T> {
    pub(crate) fn get(&self, timer: Timer) -> &T {
        match timer {
            Timer::Backoff => &self.backoff,
            Timer::ConnectTimeout => &self.connect_timeout,
            Timer::Heartbeat => &self.heartbeat,
            Timer::PongTimeout => &self.pong_timeout,
            Timer::Stable => &self.stable,
        }
    }

    pub(crate) fn get_mut(&mut self, timer: Timer) -> &mut T {
        match timer {
            Timer::Backoff => &mut self.backoff,
            Timer::ConnectTimeout => &mut self.connect_timeout,
            Timer::Heartbeat => &mut self.heartbeat,
            Timer::PongTimeout => &mut self.pong_timeout,
            Timer::Stable => &mut self.stable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_slot() {
        let mut slots = PerTimer::<u32>::default();
        for (n, timer) in (1..).zip(Timer::ALL) {
            *slots.get_mut(timer) = n;
        }
        let read: Vec<u32> = Timer::ALL.iter().map(|timer| *slots.get(*timer)).collect();
        assert_eq!(read, [1, 2, 3, 4, 5]);
    }
}
