//! What the supervisor tells the user, through the driver: the machine's own events.

use super::event::Event;
use super::state::GiveUpReason;
use crate::{CloseEvent, Message};
use std::time::Duration;

/// What the machine reports, in [`Action::Emit`](super::Action::Emit). The driver hands each
/// on as the [`Event`] of the same name, adding the events only it can see (messages,
/// errors, a lagging reader).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice<P = Message> {
    /// See [`Event::Open`].
    Open {
        /// Retries it took since the last reset (0: at the first try).
        attempt: u32,
        /// The subprotocol the server chose; empty if none.
        protocol: String,
    },
    /// See [`Event::Closed`].
    Closed(CloseEvent),
    /// See [`Event::Reconnecting`].
    Reconnecting {
        /// The retry that will be made, counted since the last reset.
        attempt: u32,
        /// How long until it is made.
        delay: Duration,
    },
    /// See [`Event::GaveUp`].
    GaveUp {
        /// Why.
        reason: GiveUpReason,
    },
    /// See [`Event::Dropped`].
    Dropped(Vec<P>),
    /// See [`Event::Unsent`].
    Unsent(Vec<P>),
}

impl<P> From<Notice<P>> for Event<P> {
    fn from(notice: Notice<P>) -> Self {
        match notice {
            Notice::Open { attempt, protocol } => Event::Open { attempt, protocol },
            Notice::Closed(event) => Event::Closed(event),
            Notice::Reconnecting { attempt, delay } => Event::Reconnecting { attempt, delay },
            Notice::GaveUp { reason } => Event::GaveUp { reason },
            Notice::Dropped(messages) => Event::Dropped(messages),
            Notice::Unsent(messages) => Event::Unsent(messages),
        }
    }
}
