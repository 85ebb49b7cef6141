//! The queue of due events: what must happen to a verification or a call when the clock passes
//! a time.
//!
//! An entry has at most one timer at a time (a verification's call rings, or its code expires;
//! an outbound call rings, is picked up, rings out or ends), derived from the entry itself, so
//! that an entry that finishes or is removed drops its timer at once, in O(log n). Events run in deadline order, ties in creation
//! order, whether the clock got there by itself or was moved by a test, so a jump of 16 minutes
//! runs every expiry in between, in order.

use std::collections::BTreeMap;

use super::time::Timestamp;

/// What happens when an entry's timer falls due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A verification's code stops being valid (for a call still ringing: nobody answered).
    Expire,
    /// A verification's call rings.
    Ring,
    /// An outbound call rings.
    CallRings,
    /// The person picks up an outbound call by themselves.
    CallAnswered,
    /// An outbound call rang out unanswered.
    CallRangOut,
    /// An answered outbound call ends by itself.
    CallEnds,
}

/// A scheduled event: when, and the seq of its entry.
pub type Due = (Timestamp, u64);

#[derive(Debug, Default)]
pub struct Timers {
    queue: BTreeMap<Due, Event>,
}

impl Timers {
    pub fn schedule(&mut self, at: Timestamp, seq: u64, event: Event) -> Due {
        self.queue.insert((at, seq), event);
        (at, seq)
    }

    pub fn cancel(&mut self, due: Due) {
        self.queue.remove(&due);
    }

    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.queue.keys().next().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest event due at or before `now`.
    pub fn pop_due(&mut self, now: Timestamp) -> Option<(Due, Event)> {
        let entry = self.queue.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        Some(entry.remove_entry())
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_then_creation_order_and_cancels() {
        let mut timers = Timers::default();
        timers.schedule(Timestamp::from_nanos(30), 1, Event::Expire);
        timers.schedule(Timestamp::from_nanos(10), 3, Event::Ring);
        let cancelled = timers.schedule(Timestamp::from_nanos(10), 4, Event::Expire);
        timers.schedule(Timestamp::from_nanos(10), 2, Event::Expire);
        timers.cancel(cancelled);
        assert_eq!(timers.next_deadline(), Some(Timestamp::from_nanos(10)));
        assert_eq!(timers.pop_due(Timestamp::from_nanos(5)), None);
        let now = Timestamp::from_nanos(20);
        assert_eq!(timers.pop_due(now), Some(((Timestamp::from_nanos(10), 2), Event::Expire)));
        assert_eq!(timers.pop_due(now), Some(((Timestamp::from_nanos(10), 3), Event::Ring)));
        assert_eq!(timers.pop_due(now), None);
        assert_eq!(timers.len(), 1);
    }
}
