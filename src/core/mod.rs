//! The provider-neutral core: state, time and randomness. It knows no provider's JSON.
//!
//! [`Core`] is shared by every connection behind an `Arc`. Its state sits behind one
//! `parking_lot` mutex: every operation is a few map lookups, and no lock is ever held across
//! an `.await` (lock, copy out, unlock). Before each operation the core runs the timer events
//! that fell due, so a response never shows a state the clock has already passed.

mod auth;
mod calls;
mod ops;

pub mod callbacks;
pub mod clock;
pub mod faults;
pub mod ids;
pub mod journal;
pub mod magic;
pub mod snapshot;
pub mod store;
pub mod time;
pub mod timers;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::{Notify, broadcast};

pub use auth::Auth;
use callbacks::{Webhook, Webhooks};
pub use calls::{Answer, AnswerError};
use clock::Clock;
use faults::{Faults, Target};
use ids::Ids;
use journal::{Journal, RequestRecord};
use magic::Magic;
use store::{AccountKey, CallStatus, CallbackSpec, Channel, Store, Verification, VerificationState};
use time::Timestamp;
use timers::{Event, Timers};

/// How long a validation call rings before it ends unanswered (`no-answer`).
pub const RING_TIMEOUT: Duration = Duration::from_secs(60);

/// Wrong codes allowed before a verification fails for good.
pub const MAX_WRONG_CODES: u32 = 5;

/// What can go wrong in the core; each provider renders these in its own error envelope.
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
    /// Too many wrong codes, or the verification failed otherwise.
    Failed,
    /// A newer verification of the same number replaced this one.
    Superseded,
    /// The account holds as many caller IDs as it may.
    LimitReached,
}

/// What a provider asks for when it sends a code.
#[derive(Clone, Debug)]
pub struct NewVerification {
    pub id: String,
    pub phone_number: String,
    pub country: String,
    pub label: String,
    pub subaccount: String,
    pub requested_channel: Option<Channel>,
    pub channel: Channel,
    pub code: String,
    /// How long the code stays valid (for a call: how long it rings before it ends
    /// unanswered, counted from when it rings); `None` for ever.
    pub ttl: Option<Duration>,
    /// For a validation call: how long after now it rings. `None` for a code the user's
    /// application submits itself (Plivo).
    pub rings_after: Option<Duration>,
    /// Who to tell when the call ends.
    pub callback: Option<CallbackSpec>,
}

/// What a provider contributes to the core without the core knowing it.
pub trait Providers: Send + Sync {
    /// The static name of provider `name`, if this build has it.
    fn provider(&self, name: &str) -> Option<&'static str>;
    /// A fresh caller-ID id in the provider's shape.
    fn caller_id_id(&self, provider: &'static str, ids: &Ids) -> String;
    /// The webhook that tells the application a validation call ended, if it asked for one.
    fn call_ended(&self, key: &AccountKey, v: &Verification, ids: &Ids) -> Option<Webhook>;
}

/// A call that ended, to report.
struct Ended {
    key: AccountKey,
    verification: Verification,
}

/// Which codes `GET /_mock/codes` wants.
#[derive(Clone, Debug, Default)]
pub struct CodeFilter {
    pub provider: Option<String>,
    pub account: Option<String>,
    /// E.164 with `+`.
    pub number: Option<String>,
    pub state: Option<VerificationState>,
}

struct State {
    store: Store,
    timers: Timers,
}

/// Choices that shape the core's behaviour.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Answer every validation call with the right code as soon as it rings.
    pub auto_answer: bool,
    /// Entries each account keeps in the request and callback journals.
    pub max_journal: usize,
    /// Accept only accounts (and tokens) declared in fixtures or a state file.
    pub strict_auth: bool,
}

/// The shared state and time of the emulator.
pub struct Core {
    pub clock: Arc<Clock>,
    pub ids: Ids,
    pub webhooks: Webhooks,
    pub faults: Faults,
    pub requests: Mutex<Journal<RequestRecord>>,
    pub(crate) providers: Box<dyn Providers>,
    /// Answer every validation call with the right code as soon as it rings.
    auto_answer: bool,
    strict_auth: bool,
    state: Mutex<State>,
    /// Wakes the timer task when an event is scheduled or the clock moves.
    timer_wake: Notify,
    /// Wakes everyone waiting for a code when one is issued.
    issued: Notify,
    /// Counts changes to the state, so a saver knows when there is something to save.
    generation: AtomicU64,
    /// Tells watchers (the web inbox) that something changed.
    events: broadcast::Sender<()>,
    started_at: Timestamp,
}

impl Core {
    pub fn new(clock: Clock, ids: Ids, providers: Box<dyn Providers>, options: Options) -> Arc<Core> {
        let started_at = clock.now();
        let state = State { store: Store::default(), timers: Timers::default() };
        let (events, _) = broadcast::channel(64);
        Arc::new(Core {
            clock: Arc::new(clock),
            ids,
            webhooks: Webhooks::new(options.max_journal, events.clone()),
            faults: Faults::default(),
            requests: Mutex::new(Journal::new(options.max_journal)),
            providers,
            auto_answer: options.auto_answer,
            strict_auth: options.strict_auth,
            state: Mutex::new(state),
            timer_wake: Notify::new(),
            issued: Notify::new(),
            generation: AtomicU64::new(0),
            events,
            started_at,
        })
    }

    /// Time on the server clock since start.
    pub fn uptime(&self) -> Duration {
        self.clock.now().since(self.started_at)
    }

    /// Locks the state after running every event due by now (and reporting the calls they
    /// ended); returns the time the operation happens at.
    fn locked(&self) -> (MutexGuard<'_, State>, Timestamp) {
        let now = self.clock.now();
        self.run_due(now);
        (self.state.lock(), now)
    }

    /// Runs due events; called by the timer task and after the clock moves.
    pub fn tick(&self) {
        self.run_due(self.clock.now());
    }

    fn run_due(&self, now: Timestamp) {
        let mut ended = Vec::new();
        {
            let mut state = self.state.lock();
            while let Some((at, event)) = state.timers.pop_due(now) {
                ended.extend(self.apply(&mut state, event, at));
                self.changed();
            }
        }
        self.report(ended);
    }

    /// Sends the webhooks of calls that ended; called with no lock held.
    fn report(&self, ended: impl IntoIterator<Item = Ended>) {
        for e in ended {
            if let Some(webhook) = self.providers.call_ended(&e.key, &e.verification, &self.ids) {
                let target = Target {
                    provider: webhook.provider,
                    operation: "callback",
                    account: Some(webhook.account.clone()),
                    number: Some(webhook.phone_number.clone()),
                };
                let fault = match magic::lookup(&webhook.phone_number) {
                    Some(Magic::CallbackFails) => {
                        Some(faults::Action::Error { status: 500, code: None, message: "magic number".into() })
                    }
                    _ => self.faults.check(&target, &self.ids),
                };
                self.webhooks.send(self.clock.clone(), webhook, fault);
            }
        }
    }

    fn apply(&self, state: &mut State, event: Event, at: Timestamp) -> Option<Ended> {
        match event {
            Event::Expire { key, id } => {
                let v = state.store.namespaces.get_mut(&key)?.verification_mut(&id)?;
                if v.state != VerificationState::Pending {
                    return None;
                }
                if !v.is_call() {
                    v.state = VerificationState::Expired;
                    tracing::info!(provider = key.provider, id, "code expired");
                    return None;
                }
                tracing::info!(provider = key.provider, id, "call not answered");
                state.end_call(&key, &id, CallStatus::NoAnswer, false, at, self)
            }
            Event::Ring { key, id } => {
                let v = state.store.namespaces.get(&key)?.verification(&id)?;
                if v.state != VerificationState::Pending {
                    return None;
                }
                let (status, verified) = match magic::lookup(&v.phone_number) {
                    Some(Magic::Busy) => (CallStatus::Busy, false),
                    Some(Magic::NoAnswer) => (CallStatus::NoAnswer, false),
                    Some(Magic::CallFails) => (CallStatus::Failed, false),
                    Some(Magic::AutoAnswer) => (CallStatus::Completed, true),
                    _ if self.auto_answer => (CallStatus::Completed, true),
                    _ => return None,
                };
                tracing::info!(provider = key.provider, id, status = status.as_str(), "call answered by itself");
                state.end_call(&key, &id, status, verified, at, self)
            }
        }
    }

    /// Moves the clock forward and runs what fell due, in order.
    pub fn advance_clock(&self, by: Duration) -> Timestamp {
        let now = self.clock.advance(by);
        self.tick();
        let _ = self.events.send(());
        self.timer_wake.notify_one();
        now
    }

    /// Sets the clock (never backwards) and runs what fell due; `None` if `to` is in the past.
    pub fn set_clock(&self, to: Timestamp) -> Option<Timestamp> {
        let now = self.clock.set(to)?;
        self.tick();
        let _ = self.events.send(());
        self.timer_wake.notify_one();
        Some(now)
    }

    /// Notes that the state changed, and tells the watchers.
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        let _ = self.events.send(());
    }

    /// A receiver of change notices (state, clock, webhook attempts); a burst may arrive as one.
    pub fn subscribe(&self) -> broadcast::Receiver<()> {
        self.events.subscribe()
    }

    /// A number that grows whenever the state changes.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// Resolves when the next code is issued (anywhere).
    pub fn code_issued(&self) -> tokio::sync::futures::Notified<'_> {
        self.issued.notified()
    }

    pub fn pending_events(&self) -> usize {
        self.state.lock().timers.len()
    }

    /// Runs timer events as the clock reaches them, until `shutdown` resolves.
    pub async fn run_timers(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let next = self.state.lock().timers.next_deadline();
            let wait = next.and_then(|at| self.clock.real_time_until(at));
            let sleep = tokio::time::sleep(wait.unwrap_or(Duration::from_secs(3600)));
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.timer_wake.notified() => {}
                _ = sleep, if wait.is_some() => {}
            }
            self.tick();
        }
    }

    /// Wipes every namespace, or one account's (with its timers); returns namespaces removed.
    pub fn reset(&self, account: Option<&str>) -> usize {
        let (mut state, _) = self.locked();
        state.timers.reset(account);
        let removed = state.store.reset(account);
        self.webhooks.reset(account);
        self.requests.lock().reset(account);
        self.changed();
        tracing::info!(account = account.unwrap_or("*"), removed, "reset");
        removed
    }
}
