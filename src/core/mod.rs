//! The provider-neutral core: state, time and randomness. It knows no provider's JSON, no
//! HTTP and no file.
//!
//! [`Core`] is shared by every connection behind an `Arc`. Its state sits behind one
//! `parking_lot` mutex: every operation is a few indexed lookups, and no lock is ever held
//! across an `.await`. Each operation takes the lock **once** ([`Core::transact`]): it runs the
//! timer events that fell due (so no answer shows a state the clock has passed), applies the
//! operation, and, when a state file is kept, queues its changes for the writer in the order
//! they happened. After the lock is released it tells the world (with a state file, once those
//! changes are synced: a change the file cannot keep is undone, and never told): calls that
//! ended go to the delivery bus (webhooks), codes issued wake the long-poll waiters of that
//! number or account, and the inbox's event stream hears that something changed.
//!
//! Lock order: `state` → `ids` → `clock`. `ids` and `clock` are leaves and never call out.

mod caller_ids;
mod calls;
pub mod changes;
mod codes;
#[cfg(test)]
mod examples;
mod pickup;
mod tx;
mod verifications;

pub mod clock;
pub mod ids;
pub mod magic;
pub mod model;
pub mod phone;
pub mod scan;
pub mod state_file;
pub mod store;
pub mod time;
pub mod timers;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::{Notify, broadcast};

pub use caller_ids::{CallerLookup, CallerQuery, Start};
pub use calls::{CallQuery, CallScope, HangUp, NewCall};
pub use changes::{Change, Doorbell, Logged};
pub use codes::{CodeFilter, WaitGuard};
use codes::{WaitKey, Waiters};
pub use pickup::{PickedUp, Pickup, PickupError};
use tx::{Report, Tx};
pub use verifications::{CodeLookup, NewVerification};

use changes::{ChangeLog, Held};
use clock::Clock;
use ids::Ids;
use model::{AccountKey, Call, Verification};
use store::Store;
use time::Timestamp;

/// Due timer events an operation runs before its own work; the timer task and clock moves run
/// the rest in batches of this size, letting go of the lock in between.
const DUE_PER_BATCH: usize = 1024;

/// What can go wrong in the core; each provider maps every variant onto its own error envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreError {
    /// No such verification or caller ID in this account.
    NotFound,
    /// The number is already a verified caller ID, or the verification was already completed.
    AlreadyVerified,
    /// The code's time ran out.
    Expired,
    /// The code is wrong; this many tries are left.
    WrongCode { remaining: u32 },
    /// Too many wrong codes, or the call that carried the code failed.
    Failed,
    /// A newer verification of the same number replaced this one.
    Superseded,
    /// The caller ID a call presents is neither a verified caller ID of the account nor a
    /// number it owns.
    CallerIdNotAllowed,
    /// The call ended: it cannot be changed any more.
    CallEnded,
    /// The call has not ended: its record cannot be deleted yet.
    CallNotEnded,
    /// A cap is reached and nothing may be evicted to make room.
    LimitReached(Limit),
    /// The state file cannot be written, so nothing may change (the cause).
    NotSaved(Arc<str>),
}

/// The caps a write can run into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Limit {
    /// `--max-state-bytes`: the memory the store may hold.
    StateBytes,
    /// `--max-pending`: verifications waiting for their code at once.
    Pending,
}

impl Limit {
    /// What the cap bounds, and its flag: `memory (--max-state-bytes)`.
    pub fn describe(self) -> &'static str {
        match self {
            Limit::StateBytes => "memory (--max-state-bytes)",
            Limit::Pending => "pending verifications (--max-pending)",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Limit::StateBytes => "--max-state-bytes",
            Limit::Pending => "--max-pending",
        }
    }
}

/// Where notices go (the webhooks they make): told right after the operation that made them
/// lets go of the lock (with a state file, once its changes are synced), before that operation
/// answers (so a webhook is journaled by the time anyone can ask).
pub trait Sink: Send + Sync {
    fn notice(&self, core: &Core, notice: Notice);
}

/// Provider facts the core needs without knowing any provider.
pub trait ProviderFacts: Send + Sync {
    /// Every provider's name.
    fn names(&self) -> Vec<&'static str>;
    /// A fresh caller-ID id in `provider`'s shape.
    fn caller_id_id(&self, provider: &'static str, ids: &Ids) -> String;
}

/// Something the application may be told about; the delivery side asks the provider for the
/// webhooks it makes.
#[derive(Clone, Debug)]
pub enum Notice {
    /// A validation call ended (and asked to be told).
    ValidationEnded(Verification),
    /// An outbound call moved to the state it is now in.
    CallMoved(Call),
    /// An outbound call's document is to be read: it was answered, or redirected.
    CallDocument(Call),
}

/// Choices that shape the core's behaviour.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Answer every validation call with the right code as soon as it rings, and every
    /// outbound call after `ring_time`.
    pub auto_answer: bool,
    /// How long an outbound call rings before the person picks up by themselves.
    pub ring_time: Duration,
    /// How long an answered outbound call lasts before the person hangs up.
    pub call_duration: Duration,
    /// Accept only accounts (and tokens) declared in fixtures or a state file.
    pub strict_auth: bool,
    /// Bytes the store may hold (approximately, indexes included).
    pub max_state_bytes: usize,
    /// Verifications that may wait for their code at once.
    pub max_pending: usize,
    /// How long a finished verification stays visible before it is swept (server clock).
    pub retention: Duration,
}

/// For unit tests (the server's options come from its `Config`, whose defaults are the flags').
#[cfg(test)]
impl Default for Options {
    fn default() -> Options {
        Options {
            auto_answer: false,
            ring_time: Duration::from_secs(5),
            call_duration: Duration::from_secs(60),
            strict_auth: false,
            max_state_bytes: 64 << 20,
            max_pending: 50_000,
            retention: Duration::from_secs(3600),
        }
    }
}

/// Counters for `GET /_mock/stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub state_bytes: usize,
    pub pending: usize,
    pub verifications: usize,
    pub calls: usize,
    pub timers: usize,
    /// Index entries visited by listings since start: a page's cost, whatever is stored.
    pub entries_visited: u64,
}

pub(crate) struct State {
    store: Store,
    log: Option<ChangeLog>,
    /// The caps that refused a write and have not been relieved since (each is logged once
    /// when it is reached, and once when usage falls back below nine tenths of it).
    at_cap: [bool; 2],
}

/// The shared state and time of the emulator.
pub struct Core {
    clock: Arc<Clock>,
    ids: Ids,
    facts: Arc<dyn ProviderFacts>,
    options: Options,
    state: Mutex<State>,
    /// Wakes the timer task when an event falls due earlier than it sleeps for, or the clock
    /// moves.
    timer_wake: Notify,
    /// The deadline the timer task sleeps until (nanoseconds; `i64::MAX` for none), read and
    /// written under the state lock, so that most writes need not wake it.
    armed: AtomicI64,
    waiters: Waiters,
    /// Tells watchers (the web inbox) that something changed.
    events: broadcast::Sender<()>,
    /// Where notices go (webhooks).
    sink: Arc<dyn Sink>,
    visited: AtomicU64,
    started_at: Timestamp,
    /// The core itself, for work that outlives a call into it (a webhook's answer, read later).
    this: Weak<Core>,
}

impl Core {
    /// A core; calls that end are given to `sink`.
    pub fn new(
        clock: Arc<Clock>,
        ids: Ids,
        facts: Arc<dyn ProviderFacts>,
        sink: Arc<dyn Sink>,
        options: Options,
    ) -> Arc<Core> {
        let started_at = clock.now();
        let (events, _) = broadcast::channel(64);
        let state = State { store: Store::default(), log: None, at_cap: [false; 2] };
        Arc::new_cyclic(|this| Core {
            clock,
            ids,
            facts,
            options,
            state: Mutex::new(state),
            timer_wake: Notify::new(),
            armed: AtomicI64::new(i64::MIN),
            waiters: Waiters::default(),
            events,
            sink,
            visited: AtomicU64::new(0),
            started_at,
            this: this.clone(),
        })
    }

    /// A handle on this core, for work that outlives the call it came from.
    pub fn handle(&self) -> Arc<Core> {
        self.this.upgrade().expect("the core is alive while it is called")
    }

    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    pub fn ids(&self) -> &Ids {
        &self.ids
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Time on the server clock since start.
    pub fn uptime(&self) -> Duration {
        self.clock.now().since(self.started_at)
    }

    /// Runs `f` on the locked state after the events that fell due, then reports what happened.
    pub(crate) fn transact<R>(&self, f: impl FnOnce(&mut Tx) -> R) -> R {
        let now = self.clock.now();
        let mut guard = self.state.lock();
        let mut tx = Tx::new(self, &mut guard, now);
        tx.run_due(DUE_PER_BATCH);
        let result = f(&mut tx);
        self.finish(tx.into_report(), guard);
        result
    }

    /// Releases the lock, then tells the world what the operation did.
    fn finish(&self, report: Report, mut guard: MutexGuard<'_, State>) {
        let wake_writer = report.changed && guard.log.is_some();
        let doorbell = guard.log.as_ref().map(ChangeLog::doorbell);
        // With a state file, the world hears of a change only once it is synced (a change the
        // file cannot keep is undone, and must not have been told).
        let held = Held { notices: report.notices, issued: report.issued };
        let told = match guard.log.as_mut() {
            Some(log) if !(held.notices.is_empty() && held.issued.is_empty()) => log.hold(held),
            _ => Some(held),
        };
        // The timer task is woken only when something now falls due before it would wake.
        let wake_timers = report.changed && {
            let next = self.next_deadline_locked(&guard).map_or(i64::MAX, Timestamp::as_nanos);
            let earlier = next < self.armed.load(Ordering::Relaxed);
            if earlier {
                self.armed.store(next, Ordering::Relaxed);
            }
            earlier
        };
        drop(guard);
        if report.changed {
            let _ = self.events.send(());
        }
        if wake_timers {
            self.timer_wake.notify_one();
        }
        if let (true, Some(doorbell)) = (wake_writer, doorbell) {
            doorbell.ring();
        }
        if let Some(held) = told {
            self.tell(held);
        }
    }

    /// Wakes the waiters of the codes issued and hands the notices to the sink.
    fn tell(&self, held: Held) {
        for key in &held.issued {
            self.waiters.notify(key);
        }
        for notice in held.notices {
            self.sink.notice(self, notice);
        }
    }

    /// Runs the timer events due by now, in batches, until none is left; returns how many ran.
    pub fn tick(&self) -> usize {
        let mut total = 0;
        loop {
            let now = self.clock.now();
            let mut guard = self.state.lock();
            let mut tx = Tx::new(self, &mut guard, now);
            let ran = tx.run_due(DUE_PER_BATCH) + tx.sweep(DUE_PER_BATCH);
            self.finish(tx.into_report(), guard);
            total += ran;
            if ran < DUE_PER_BATCH {
                return total;
            }
        }
    }

    /// Moves the clock forward and runs what fell due, in order.
    pub fn advance_clock(&self, by: Duration) -> Timestamp {
        let now = self.clock.advance(by);
        self.clock_moved(by.as_nanos() as i128);
        now
    }

    /// Sets the clock (never backwards) and runs what fell due; `None` if `to` is in the past.
    pub fn set_clock(&self, to: Timestamp) -> Option<Timestamp> {
        let before = self.clock.now();
        let now = self.clock.set(to)?;
        self.clock_moved(i128::from(now.as_nanos()) - i128::from(before.as_nanos()));
        Some(now)
    }

    /// Logs a move of the clock by `nanos` and runs what fell due.
    fn clock_moved(&self, nanos: i128) {
        self.transact(|tx| {
            tx.state.store.note_clock(nanos);
            let (now, frozen) = (tx.now, tx.core.clock.is_frozen());
            tx.log(|| Change::Clock { now, frozen });
        });
        self.tick();
        // The timer task's sleep was measured on the old clock.
        self.timer_wake.notify_one();
    }

    /// A receiver of change notices (state, clock); a burst may arrive as one.
    pub fn subscribe(&self) -> broadcast::Receiver<()> {
        self.events.subscribe()
    }

    /// What tells the inbox's watchers that something outside the state changed (a webhook
    /// attempt).
    pub fn watchers(&self) -> broadcast::Sender<()> {
        self.events.clone()
    }

    /// When the next timer event or sweep falls due, if any; the timer task sleeps until then.
    fn arm(&self) -> Option<Timestamp> {
        let state = self.state.lock();
        let next = self.next_deadline_locked(&state);
        self.armed.store(next.map_or(i64::MAX, Timestamp::as_nanos), Ordering::Relaxed);
        next
    }

    fn next_deadline_locked(&self, state: &State) -> Option<Timestamp> {
        let timer = state.store.timers().next_deadline();
        let sweep = state.store.oldest_finished().map(|(at, _)| at.saturating_add(self.options.retention));
        timer.into_iter().chain(sweep).min()
    }

    /// Runs timer events and sweeps as the clock reaches them, until `shutdown` resolves.
    pub async fn run_timers(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            // While the state file cannot be written, events wait to be woken when it can.
            let wait = if self.log_failing() { None } else { self.arm().and_then(|at| self.clock.real_time_until(at)) };
            let sleep = tokio::time::sleep(wait.unwrap_or(Duration::from_secs(3600)));
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.timer_wake.notified() => {}
                _ = sleep, if wait.is_some() => {}
            }
            self.tick();
        }
    }

    /// Wipes every namespace, or one account's; returns how many namespaces were emptied.
    pub fn reset(&self, account: Option<&str>) -> usize {
        let removed = self.transact(|tx| {
            let (emptied, _) = tx.state.store.reset(account);
            let account: Option<Arc<str>> = account.map(Into::into);
            tx.log(|| Change::Reset { account });
            tx.changed = true;
            emptied
        });
        // Request input goes into the log escaped (`?`): a CR, LF or escape sequence forges nothing.
        tracing::info!(account = ?account.unwrap_or("*"), removed, "reset");
        removed
    }

    /// Counters for the control plane.
    pub fn stats(&self) -> Stats {
        let state = self.state.lock();
        Stats {
            state_bytes: state.store.bytes(),
            pending: state.store.pending(),
            verifications: state.store.verification_count(),
            calls: state.store.call_count(),
            timers: state.store.timers().len(),
            entries_visited: self.visited.load(Ordering::Relaxed),
        }
    }

    /// The token an account authenticates with, when one was declared (fixtures, a state file).
    pub fn account_token(&self, key: &AccountKey) -> Option<String> {
        self.state.lock().store.namespace(key).and_then(|ns| ns.auth_token.clone())
    }

    /// Checks credentials: `user` (with `secret`, when the provider has one) claims to act for
    /// the account the request names (`path_account`). By default any well-formed credentials
    /// of the named account pass; with strict auth only declared accounts, with their token.
    pub fn check_auth(&self, provider: &'static str, path_account: &str, user: &str, secret: Option<&str>) -> Auth {
        if !self.options.strict_auth {
            return if user == path_account { Auth::Ok } else { Auth::Unauthorized };
        }
        let state = self.state.lock();
        let Some(ns) = state.store.namespace(&AccountKey::new(provider, user)).filter(|ns| ns.declared) else {
            return Auth::Unauthorized;
        };
        if ns.auth_token.as_deref().is_some_and(|token| Some(token) != secret) {
            return Auth::Unauthorized;
        }
        if user == path_account { Auth::Ok } else { Auth::Forbidden }
    }

    /// Counts index entries a listing visited (the `entries_visited` stat).
    fn visited(&self, n: usize) {
        self.visited.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The outcome of a credentials check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Ok,
    /// Missing, malformed or wrong credentials.
    Unauthorized,
    /// Good credentials of another account than the request names.
    Forbidden,
}

/// Registered long-poll waiters, keyed so that a code wakes only those who want it.
impl Core {
    /// Registers a waiter for codes matching `filter`; woken by [`WaitGuard::notified`].
    pub fn watch_codes(&self, filter: &CodeFilter) -> WaitGuard<'_> {
        self.waiters.register(WaitKey::of(filter))
    }
}
