//! An operation in progress ([`Tx`]): the locked state, the time the operation happens at, and
//! what to tell the world once the lock is released; and what every operation may need under
//! the lock (logging a change, making room under the caps, sweeping what retention let go).

use super::changes::{Change, ChangeLog};
use super::codes::WaitKey;
use super::store::{Finished, Store};
use super::time::Timestamp;
use super::{Core, CoreError, Limit, Notice, State};

/// An operation in progress: the locked state, the time it happens at, and what to tell the
/// world once the lock is released.
pub(crate) struct Tx<'a> {
    pub(super) core: &'a Core,
    pub(super) state: &'a mut State,
    pub(super) now: Timestamp,
    pub(super) changed: bool,
    pub(super) notices: Vec<Notice>,
    pub(super) issued: Vec<WaitKey>,
}

/// What an operation leaves to do once the lock is released.
pub(super) struct Report {
    pub(super) changed: bool,
    pub(super) notices: Vec<Notice>,
    pub(super) issued: Vec<WaitKey>,
}

impl<'a> Tx<'a> {
    pub(super) fn new(core: &'a Core, state: &'a mut State, now: Timestamp) -> Tx<'a> {
        Tx { core, state, now, changed: false, notices: Vec::new(), issued: Vec::new() }
    }

    pub(super) fn into_report(mut self) -> Report {
        if self.changed && self.state.at_cap.iter().any(|&a| a) {
            self.relieved();
        }
        Report { changed: self.changed, notices: self.notices, issued: self.issued }
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Queues a change for the state file, if one is kept; `change` is only built then.
    pub fn log(&mut self, change: impl FnOnce() -> Change) {
        self.changed = true;
        if let Some(log) = self.state.log.as_mut() {
            log.push(change(), self.core.ids.position(), self.state.store.seq());
        }
    }

    /// Refuses a write while the state file cannot be written.
    pub(super) fn writable(&self) -> Result<(), CoreError> {
        match self.state.log.as_ref().and_then(ChangeLog::failure) {
            Some(cause) => Err(CoreError::NotSaved(cause)),
            None => Ok(()),
        }
    }

    /// Makes room for `bytes` more under the memory cap, evicting the verifications and calls
    /// that finished longest ago; a cap that evicting cannot satisfy refuses the write.
    pub(super) fn make_room(&mut self, bytes: usize) -> Result<(), CoreError> {
        let cap = self.core.options.max_state_bytes;
        while self.state.store.bytes() + bytes > cap {
            let Some((_, seq)) = self.state.store.oldest_finished() else {
                return Err(self.at_cap(Limit::StateBytes));
            };
            self.remove_finished(seq);
        }
        Ok(())
    }

    /// Notes that a cap refused a write: one log line per episode, not one per request.
    pub(super) fn at_cap(&mut self, limit: Limit) -> CoreError {
        if !std::mem::replace(&mut self.state.at_cap[limit as usize], true) {
            let store = &self.state.store;
            tracing::warn!(
                cap = limit.flag(),
                state_bytes = store.bytes(),
                pending = store.pending(),
                "a cap is reached: writes it would exceed get the provider's limit error until usage falls"
            );
        }
        CoreError::LimitReached(limit)
    }

    /// Says once that a cap which refused writes is relieved (usage under nine tenths of it).
    pub(super) fn relieved(&mut self) {
        let options = &self.core.options;
        let store = &self.state.store;
        let used = [store.bytes() * 10 < options.max_state_bytes * 9, store.pending() * 10 < options.max_pending * 9];
        for limit in [Limit::StateBytes, Limit::Pending] {
            if used[limit as usize] && std::mem::take(&mut self.state.at_cap[limit as usize]) {
                tracing::info!(cap = limit.flag(), "a cap is relieved: writes are accepted again");
            }
        }
    }

    /// Removes a finished verification or call (evicted or swept), logging the removal.
    pub(super) fn remove_finished(&mut self, seq: u64) {
        match self.state.store.remove_finished(seq) {
            Some(Finished::Verification(id)) => self.log(|| Change::VerificationRemoved { id }),
            Some(Finished::Call(id)) => self.log(|| Change::CallRemoved { id }),
            None => {}
        }
    }

    /// Sweeps up to `max` finished verifications and calls older than the retention window.
    /// Not while the state file cannot be written.
    pub(super) fn sweep(&mut self, max: usize) -> usize {
        if self.writable().is_err() {
            return 0;
        }
        let retention = self.core.options.retention;
        let mut swept = 0;
        while swept < max {
            match self.state.store.oldest_finished() {
                Some((at, seq)) if at.saturating_add(retention) <= self.now => {
                    self.remove_finished(seq);
                    swept += 1;
                }
                _ => break,
            }
        }
        swept
    }
}
