//! The events waiting for a stream that is not read, bounded in messages: past the bound the
//! oldest unread message goes, and an `Event::Lagged` in its place says how many went there.

use super::{Inner, Platform};
use crate::reconnect::Event;
use crate::socket::Wire;

impl<P: Wire + Clone, B: Platform> Inner<P, B> {
    pub(super) fn emit(&mut self, event: Event<P>) {
        if matches!(event, Event::Message(_)) {
            if self.unread_messages >= self.max_unread_messages {
                self.let_oldest_message_go();
            }
            self.unread_messages += 1;
        }
        self.events.push_back(event);
        if let Some(waker) = self.events_waker.take() {
            waker.wake();
        }
    }

    /// Makes room for a message when the stream has not been read for too long: the oldest
    /// unread message goes, and an [`Event::Lagged`] in its place says how many went there.
    fn let_oldest_message_go(&mut self) {
        let Some(position) = self
            .events
            .iter()
            .position(|event| matches!(event, Event::Message(_)))
        else {
            return;
        };
        self.events.remove(position);
        self.unread_messages = self.unread_messages.saturating_sub(1);
        let before = position.checked_sub(1).and_then(|p| self.events.get_mut(p));
        match before {
            Some(Event::Lagged { missed }) => *missed = missed.saturating_add(1),
            _ => self.events.insert(position, Event::Lagged { missed: 1 }),
        }
    }
}
