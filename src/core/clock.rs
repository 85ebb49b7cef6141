//! The server's clock: real time by default, virtual on request.
//!
//! Every timestamp the emulator writes and every expiry it checks reads this clock, never the
//! system clock directly, so a test that freezes it gets byte-identical responses and moves
//! time with `POST /_mock/clock` instead of sleeping.

use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

use super::time::Timestamp;

/// A clock that runs from `base` at real speed, or stands still when frozen.
///
/// A sync mutex is right here: the critical sections are a few arithmetic operations and are
/// never held across an `.await`.
#[derive(Debug)]
pub struct Clock {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The clock's reading at `anchor` (or always, when frozen).
    base: Timestamp,
    /// `None` when frozen; otherwise the real instant at which the clock read `base`.
    anchor: Option<Instant>,
}

impl Clock {
    /// A clock that reads `start` now (the system time when `None`) and then runs, or stays at
    /// `start` until moved when `frozen`.
    pub fn new(start: Option<Timestamp>, frozen: bool) -> Clock {
        let base = start.unwrap_or_else(|| Timestamp::from_system(SystemTime::now()));
        let anchor = (!frozen).then(Instant::now);
        Clock { state: Mutex::new(State { base, anchor }) }
    }

    pub fn now(&self) -> Timestamp {
        let s = self.state.lock();
        match s.anchor {
            Some(anchor) => s.base.saturating_add(anchor.elapsed()),
            None => s.base,
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.state.lock().anchor.is_none()
    }

    /// Moves the clock forward by `by`; returns the new reading.
    pub fn advance(&self, by: Duration) -> Timestamp {
        let mut s = self.state.lock();
        s.base = s.base.saturating_add(by);
        match s.anchor {
            Some(anchor) => s.base.saturating_add(anchor.elapsed()),
            None => s.base,
        }
    }

    /// Sets the clock to `to` if that is not earlier than now (time never runs backwards, so
    /// timers stay in order); returns the new reading, or `None` if `to` is in the past.
    pub fn set(&self, to: Timestamp) -> Option<Timestamp> {
        let mut s = self.state.lock();
        let now = match s.anchor {
            Some(anchor) => s.base.saturating_add(anchor.elapsed()),
            None => s.base,
        };
        if to < now {
            return None;
        }
        s.base = to;
        if s.anchor.is_some() {
            s.anchor = Some(Instant::now());
        }
        Some(to)
    }

    /// Sets the clock to `to`, even backwards: only for replacing the whole state, when no
    /// timer is left to run out of order.
    pub fn reset_to(&self, to: Timestamp) {
        let mut s = self.state.lock();
        s.base = to;
        if s.anchor.is_some() {
            s.anchor = Some(Instant::now());
        }
    }

    /// Moves the clock by `nanos` (back when negative): how a move is undone.
    pub fn shift(&self, nanos: i128) {
        let mut s = self.state.lock();
        let moved = i128::from(s.base.as_nanos()) + nanos;
        s.base = Timestamp::from_nanos(moved.clamp(i64::MIN.into(), i64::MAX.into()) as i64);
    }

    /// How long, in real time, until the clock reads `at`: `None` when frozen (only a test
    /// moves it), zero when `at` has passed.
    pub fn real_time_until(&self, at: Timestamp) -> Option<Duration> {
        if self.is_frozen() {
            return None;
        }
        Some(at.since(self.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn frozen_clock_moves_only_when_moved() {
        let clock = Clock::new(Some(t("2026-01-01T00:00:00Z")), true);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), t("2026-01-01T00:00:00Z"));
        assert_eq!(clock.advance(Duration::from_secs(960)), t("2026-01-01T00:16:00Z"));
        assert_eq!(clock.set(t("2026-02-01T00:00:00Z")), Some(t("2026-02-01T00:00:00Z")));
        assert_eq!(clock.now(), t("2026-02-01T00:00:00Z"));
        assert_eq!(clock.real_time_until(t("2026-03-01T00:00:00Z")), None);
    }

    #[test]
    fn refuses_to_run_backwards() {
        let clock = Clock::new(Some(t("2026-01-01T00:00:00Z")), true);
        assert_eq!(clock.set(t("2025-12-31T23:59:59Z")), None);
        assert_eq!(clock.now(), t("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn running_clock_advances_with_real_time_and_offsets() {
        let clock = Clock::new(Some(t("2026-01-01T00:00:00Z")), false);
        let first = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert!(clock.now() > first);
        let moved = clock.advance(Duration::from_secs(3600));
        assert!(moved >= t("2026-01-01T01:00:00Z"));
        assert!(clock.real_time_until(t("2026-01-01T00:00:00Z")) == Some(Duration::ZERO));
    }
}
