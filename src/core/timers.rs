//! The queue of due events: what must happen when the clock passes a given time.
//!
//! Events run in deadline order (ties in scheduling order), whether the clock got there by
//! itself or was moved by a test, so a jump of 16 minutes runs every expiry in between, in order.

use std::collections::BTreeMap;

use super::store::AccountKey;
use super::time::Timestamp;

/// Something that happens at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A pending verification's code stops being valid (a call stops ringing).
    Expire { key: AccountKey, id: String },
    /// A validation call rings.
    Ring { key: AccountKey, id: String },
}

impl Event {
    fn key(&self) -> &AccountKey {
        match self {
            Event::Expire { key, .. } | Event::Ring { key, .. } => key,
        }
    }
}

#[derive(Debug, Default)]
pub struct Timers {
    queue: BTreeMap<(Timestamp, u64), Event>,
    seq: u64,
}

impl Timers {
    pub fn schedule(&mut self, at: Timestamp, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.queue.keys().next().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest event due at or before `now`.
    pub fn pop_due(&mut self, now: Timestamp) -> Option<(Timestamp, Event)> {
        let entry = self.queue.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        let ((at, _), event) = entry.remove_entry();
        Some((at, event))
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Drops every event, or those of one account name.
    pub fn reset(&mut self, account: Option<&str>) {
        match account {
            Some(account) => self.queue.retain(|_, e| e.key().account != account),
            None => self.queue.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expire(id: &str) -> Event {
        Event::Expire { key: AccountKey::new("plivo", "MA1"), id: id.into() }
    }

    #[test]
    fn pops_in_deadline_then_scheduling_order() {
        let mut timers = Timers::default();
        timers.schedule(Timestamp::from_nanos(30), expire("c"));
        timers.schedule(Timestamp::from_nanos(10), expire("a"));
        timers.schedule(Timestamp::from_nanos(10), expire("b"));
        assert_eq!(timers.next_deadline(), Some(Timestamp::from_nanos(10)));
        assert_eq!(timers.pop_due(Timestamp::from_nanos(5)), None);
        let now = Timestamp::from_nanos(20);
        assert_eq!(timers.pop_due(now).unwrap().1, expire("a"));
        assert_eq!(timers.pop_due(now).unwrap().1, expire("b"));
        assert_eq!(timers.pop_due(now), None);
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn reset_of_an_account_drops_only_its_events() {
        let mut timers = Timers::default();
        timers.schedule(Timestamp::from_nanos(1), expire("a"));
        let other = Event::Expire { key: AccountKey::new("plivo", "MA2"), id: "x".into() };
        timers.schedule(Timestamp::from_nanos(2), other.clone());
        timers.reset(Some("MA1"));
        assert_eq!(timers.pop_due(Timestamp::from_nanos(9)).unwrap().1, other);
    }
}
