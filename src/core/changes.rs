//! What the state file records: every change to the state, queued under the state lock in the
//! order it happened, for the writer (`crate::persist`) to append and sync before any answer
//! that depends on it is sent.
//!
//! Every change sets a whole entry (an upsert) or removes one, so replaying changes in order on
//! top of a copy of the state taken entry by entry while writes went on (a *fuzzy* checkpoint,
//! made with [`super::scan`]) gives exactly the state: an entry that changed after it was copied
//! has a later change that sets it again.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::codes::WaitKey;
use super::model::{AccountKey, Call, CallerId, Verification};
use super::scan::{Cursor, Item, scan};
use super::store::Undo;
use super::time::Timestamp;
use super::{Core, Notice, State};

/// One change to the state.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// An account's credentials: declared in fixtures or a state file, its token.
    Account {
        key: AccountKey,
        declared: bool,
        auth_token: Option<String>,
    },
    CallerId {
        key: AccountKey,
        caller: CallerId,
    },
    CallerIdRemoved {
        key: AccountKey,
        number: String,
    },
    Verification(Verification),
    VerificationRemoved {
        id: String,
    },
    Call(Call),
    CallRemoved {
        id: String,
    },
    /// A number the account owns, or no longer does.
    Owned {
        key: AccountKey,
        number: String,
        owned: bool,
    },
    Reset {
        account: Option<Arc<str>>,
    },
    Clock {
        now: Timestamp,
        frozen: bool,
    },
    /// A checkpoint starts: from here, a whole copy of the state follows, mixed with the
    /// changes made meanwhile; replaying from here rebuilds everything.
    CheckpointBegin {
        id: u64,
        now: Timestamp,
        frozen: bool,
    },
    /// The copy is complete.
    CheckpointEnd {
        id: u64,
    },
}

/// A change with its place in the log and the generators' positions when it was made.
#[derive(Clone, Debug)]
pub struct Logged {
    /// Log sequence number: 1, 2, 3, …
    pub lsn: u64,
    /// The id generator's position (ids already handed out are below it).
    pub rng: u128,
    /// The last creation number handed out.
    pub seq: u64,
    pub change: Change,
}

/// Wakes the writer thread.
#[derive(Default)]
pub struct Doorbell {
    rung: Mutex<bool>,
    cv: Condvar,
}

impl Doorbell {
    pub fn ring(&self) {
        *self.rung.lock() = true;
        self.cv.notify_one();
    }

    /// Waits until rung or `timeout` passes; true if it was rung.
    pub fn wait(&self, timeout: Duration) -> bool {
        let mut rung = self.rung.lock();
        if !*rung {
            self.cv.wait_for(&mut rung, timeout);
        }
        std::mem::take(&mut *rung)
    }
}

/// Changes queued for the writer.
pub(crate) struct ChangeLog {
    pending: Vec<Logged>,
    next_lsn: u64,
    /// The last change known to be in the file.
    synced: u64,
    /// Why the state file cannot be written, while it cannot.
    failure: Option<Arc<str>>,
    doorbell: Arc<Doorbell>,
    /// What operations have to tell the world (webhooks, codes issued) once the changes up to
    /// the lsn each waits for are synced; dropped if they are undone instead.
    held: Vec<(u64, Held)>,
}

/// What an operation tells the world once its changes are synced.
pub(crate) struct Held {
    pub(super) notices: Vec<Notice>,
    pub(super) issued: Vec<WaitKey>,
}

impl ChangeLog {
    pub(crate) fn push(&mut self, change: Change, rng: u128, seq: u64) {
        self.next_lsn += 1;
        self.pending.push(Logged { lsn: self.next_lsn, rng, seq, change });
    }

    pub(crate) fn failure(&self) -> Option<Arc<str>> {
        self.failure.clone()
    }

    pub(crate) fn doorbell(&self) -> Arc<Doorbell> {
        self.doorbell.clone()
    }

    /// Keeps what an operation tells the world until its changes are synced; gives it back
    /// when they already are.
    pub(crate) fn hold(&mut self, held: Held) -> Option<Held> {
        if self.next_lsn <= self.synced {
            return Some(held);
        }
        self.held.push((self.next_lsn, held));
        None
    }
}

impl Core {
    /// Keeps changes for a state file from now on; the writer waits on the returned doorbell.
    pub fn start_log(&self) -> Arc<Doorbell> {
        let doorbell = Arc::new(Doorbell::default());
        let mut state = self.state.lock();
        state.log = Some(ChangeLog {
            pending: Vec::new(),
            next_lsn: 0,
            synced: 0,
            failure: None,
            doorbell: doorbell.clone(),
            held: Vec::new(),
        });
        state.store.keep_undo();
        doorbell
    }

    /// The queued changes, oldest first, and how to undo them.
    pub fn take_changes(&self) -> (Vec<Logged>, Vec<Undo>) {
        let mut state = self.state.lock();
        let undo = state.store.take_undo();
        let changes = state.log.as_mut().map(|log| std::mem::take(&mut log.pending)).unwrap_or_default();
        (changes, undo)
    }

    /// Notes that every change up to `lsn` is in the file, and tells the world what waited
    /// for that.
    pub fn synced_through(&self, lsn: u64) {
        let mut state = self.state.lock();
        let Some(log) = state.log.as_mut() else { return };
        log.synced = lsn;
        let due = log.held.partition_point(|(at, _)| *at <= lsn);
        let released: Vec<(u64, Held)> = log.held.drain(..due).collect();
        drop(state);
        for (_, held) in released {
            self.tell(held);
        }
    }

    /// Undoes every change not in the file: `undo` (those of the batch that failed) and every
    /// change queued since; what they would have told the world is dropped. Returns the lsn of
    /// the last change undone.
    pub fn roll_back(&self, undo: Vec<Undo>) -> u64 {
        let mut state = self.state.lock();
        let newer = state.store.take_undo();
        let moved = state.store.undo(newer) + state.store.undo(undo);
        let Some(log) = state.log.as_mut() else { return 0 };
        log.pending.clear();
        log.held.clear();
        let head = log.next_lsn;
        if moved != 0 {
            self.clock.shift(-moved);
        }
        drop(state);
        // Timers of entries put back may be due; the inbox shows the state as it is again.
        self.timer_wake.notify_one();
        let _ = self.events.send(());
        head
    }

    /// Queues a note of the clock, to find out whether the file can be written again.
    pub fn log_clock(&self) {
        let now = self.clock.now();
        let frozen = self.clock.is_frozen();
        self.queue(|_| vec![Change::Clock { now, frozen }]);
    }

    /// The number of the last change queued (0 before any).
    pub fn log_head(&self) -> u64 {
        self.state.lock().log.as_ref().map_or(0, |log| log.next_lsn)
    }

    /// Marks the state file as failing (writes are then refused) or, with `None`, as good again.
    pub fn set_log_failure(&self, cause: Option<Arc<str>>) {
        let recovered = cause.is_none();
        if let Some(log) = self.state.lock().log.as_mut() {
            log.failure = cause;
        }
        if recovered {
            // The timer events that waited run now.
            self.timer_wake.notify_one();
        }
    }

    /// Whether the state file cannot be written (writes are refused, events wait).
    pub(crate) fn log_failing(&self) -> bool {
        self.state.lock().log.as_ref().is_some_and(|log| log.failure.is_some())
    }

    /// Queues the start of checkpoint `id`; returns its log sequence number.
    pub fn begin_checkpoint(&self, id: u64) -> u64 {
        let now = self.clock.now();
        let frozen = self.clock.is_frozen();
        self.queue(|_| vec![Change::CheckpointBegin { id, now, frozen }])
    }

    /// Queues up to `limit` entries of the state from `cursor` as changes; false when the copy
    /// is complete.
    pub fn checkpoint_step(&self, cursor: &mut Cursor, limit: usize) -> bool {
        let mut more = true;
        self.queue(|state| {
            let mut changes = Vec::new();
            more = scan(state, cursor, limit, |item| changes.push(item_change(item)));
            changes
        });
        more
    }

    /// Queues the end of checkpoint `id`; returns its log sequence number.
    pub fn end_checkpoint(&self, id: u64) -> u64 {
        self.queue(|_| vec![Change::CheckpointEnd { id }])
    }

    /// Queues what `f` makes of the state under one lock hold; returns the last lsn.
    fn queue(&self, f: impl FnOnce(&State) -> Vec<Change>) -> u64 {
        let rng = self.ids.position();
        let mut state = self.state.lock();
        let changes = f(&state);
        let seq = state.store.seq();
        let Some(log) = state.log.as_mut() else { return 0 };
        for change in changes {
            log.push(change, rng, seq);
        }
        log.next_lsn
    }

    /// Applies a change read back from a state file (no logging: it is already there).
    pub fn replay(&self, change: Change) {
        let mut state = self.state.lock();
        let store = &mut state.store;
        match change {
            Change::Account { key, declared, auth_token } => store.set_account(&key, declared, auth_token),
            Change::CallerId { key, caller } => store.put_caller_id(&key, caller),
            Change::CallerIdRemoved { key, number } => {
                store.remove_caller_id(&key, &number);
            }
            Change::Verification(v) => {
                if let Some(seq) = store.seq_of(&v.id) {
                    store.remove_verification(seq);
                }
                if store.verification(v.seq).is_some() {
                    store.remove_verification(v.seq);
                }
                store.insert_verification(v);
            }
            Change::VerificationRemoved { id } => {
                if let Some(seq) = store.seq_of(&id) {
                    store.remove_verification(seq);
                }
            }
            Change::Call(c) => {
                if let Some(seq) = store.call_seq(&c.id) {
                    store.remove_call(seq);
                }
                store.insert_call(c);
            }
            Change::CallRemoved { id } => {
                if let Some(seq) = store.call_seq(&id) {
                    store.remove_call(seq);
                }
            }
            Change::Owned { key, number, owned } => {
                store.set_owned(&key, &number, owned);
            }
            Change::Reset { account } => {
                store.reset(account.as_deref());
            }
            Change::Clock { .. } | Change::CheckpointBegin { .. } | Change::CheckpointEnd { .. } => {}
        }
    }

    /// Restores the generators' positions read back from a state file.
    pub fn restore_positions(&self, rng: u128, seq: u64) {
        self.ids.set_position(self.ids.position().max(rng));
        self.state.lock().store.skip_seq_past(seq);
    }
}

/// The change that sets `item` as it is.
fn item_change(item: Item) -> Change {
    match item {
        Item::Account(key, ns) => {
            Change::Account { key: key.clone(), declared: ns.declared, auth_token: ns.auth_token.clone() }
        }
        Item::Owned(key, number) => Change::Owned { key: key.clone(), number: number.to_owned(), owned: true },
        Item::CallerId(key, c) => Change::CallerId { key: key.clone(), caller: c.clone() },
        Item::Verification(v) => Change::Verification(v.clone()),
        Item::Call(c) => Change::Call(c.clone()),
    }
}
