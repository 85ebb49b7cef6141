//! The provider-neutral core: state, time and randomness. It knows no provider's JSON.
//!
//! [`Core`] is shared by every connection behind an `Arc`. Its state sits behind one
//! `parking_lot` mutex: every operation is a few map lookups, and no lock is ever held across
//! an `.await` (lock, copy out, unlock). Before each operation the core runs the timer events
//! that fell due, so a response never shows a state the clock has already passed.

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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::{broadcast, Notify};

use callbacks::{Webhook, Webhooks};
use clock::Clock;
use faults::{Faults, Target};
use ids::Ids;
use journal::{Journal, RequestRecord};
use magic::Magic;
use store::{AccountKey, CallStatus, CallbackSpec, CallerId, Channel, Store, Verification, VerificationState};
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

/// What the person on the phone does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Picks up and keys in these digits.
    Digits(String),
    /// Never picks up: the call ends with this status (busy, no-answer, failed).
    Unanswered(CallStatus),
}

/// Why a call can't be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerError {
    NotFound,
    /// A code the application submits (such as Plivo's), not a phone call.
    NotACall,
    /// The call waits for its `CallDelay` and rings at this time.
    NotRinging(Timestamp),
    /// The call already ended; its verification is in this state.
    Ended(VerificationState),
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

/// The outcome of a credentials check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Ok,
    /// Missing, malformed or wrong credentials.
    Unauthorized,
    /// Good credentials of another account than the request names.
    Forbidden,
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

    /// Plays the person on the phone for a ringing validation call (found by its id in any
    /// account) and reports the call's end.
    pub fn answer_call(&self, id: &str, answer: Answer) -> Result<(AccountKey, Verification), AnswerError> {
        let (mut state, now) = self.locked();
        let key = state
            .store
            .namespaces
            .iter()
            .find(|(_, ns)| ns.verification(id).is_some())
            .map(|(k, _)| k.clone())
            .ok_or(AnswerError::NotFound)?;
        let v = state.store.namespaces[&key].verification(id).ok_or(AnswerError::NotFound)?;
        let rings_at = v.rings_at.ok_or(AnswerError::NotACall)?;
        if v.state != VerificationState::Pending {
            return Err(AnswerError::Ended(v.state));
        }
        if now < rings_at {
            return Err(AnswerError::NotRinging(rings_at));
        }
        let ended = match answer {
            Answer::Digits(digits) => {
                let right = digits == v.code;
                if let Some(v) = state.store.namespace_mut(&key).verification_mut(id) {
                    v.attempts += 1;
                }
                state.end_call(&key, id, CallStatus::Completed, right, now, self)
            }
            Answer::Unanswered(status) => state.end_call(&key, id, status, false, now, self),
        };
        drop(state);
        self.changed();
        let v = ended.as_ref().map(|e| e.verification.clone()).ok_or(AnswerError::NotFound)?;
        self.report(ended);
        Ok((key, v))
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

    /// Sends a code: records a pending verification and schedules its expiry. A pending
    /// verification of the same number in the same account is superseded.
    pub fn start_verification(&self, key: &AccountKey, new: NewVerification) -> Result<Verification, CoreError> {
        let (mut state, now) = self.locked();
        let seq = state.store.next_seq();
        let magic = magic::lookup(&new.phone_number);
        let ns = state.store.namespace_mut(key);
        if magic == Some(Magic::AlreadyVerified) && !ns.caller_ids.contains_key(&new.phone_number) {
            let id = self.providers.caller_id_id(key.provider, &self.ids);
            let caller = CallerId {
                seq,
                id,
                phone_number: new.phone_number.clone(),
                country: new.country.clone(),
                label: new.label.clone(),
                subaccount: new.subaccount.clone(),
                requested_channel: new.requested_channel,
                created_at: now,
                updated_at: now,
            };
            ns.caller_ids.insert(caller.phone_number.clone(), caller);
            self.changed();
        }
        if ns.caller_ids.contains_key(&new.phone_number) {
            return Err(CoreError::AlreadyVerified);
        }
        for old in ns.verifications_mut() {
            if old.phone_number == new.phone_number && old.state == VerificationState::Pending {
                old.state = VerificationState::Superseded;
            }
        }
        let v = Verification {
            seq,
            id: new.id,
            phone_number: new.phone_number,
            country: new.country,
            label: new.label,
            subaccount: new.subaccount,
            requested_channel: new.requested_channel,
            channel: new.channel,
            code: new.code,
            state: VerificationState::Pending,
            issued_at: now,
            expires_at: None,
            attempts: 0,
            rings_at: new.rings_after.map(|d| now.saturating_add(d)),
            call_status: None,
            callback: new.callback,
            caller_id: None,
        };
        let mut v = v;
        let ttl = if magic == Some(Magic::ExpiresAtOnce) { Some(Duration::ZERO) } else { new.ttl };
        v.expires_at = ttl.map(|ttl| v.rings_at.unwrap_or(now).saturating_add(ttl));
        ns.insert_verification(v.clone());
        if let Some(at) = v.rings_at {
            state.timers.schedule(at, Event::Ring { key: key.clone(), id: v.id.clone() });
        }
        if let Some(at) = v.expires_at {
            state.timers.schedule(at, Event::Expire { key: key.clone(), id: v.id.clone() });
        }
        drop(state);
        self.changed();
        self.timer_wake.notify_one();
        self.issued.notify_waiters();
        tracing::info!(provider = key.provider, account = %key.account, id = %v.id,
            number = %v.phone_number, channel = v.channel.as_str(), "code issued");
        Ok(v)
    }

    /// Checks a code against a verification. The right one turns the number into a caller ID
    /// with id `caller_id` (the verification's own id when `None`) and returns it.
    pub fn check_code(&self, key: &AccountKey, id: &str, code: &str, caller_id: Option<String>)
        -> Result<CallerId, CoreError> {
        let (mut state, now) = self.locked();
        self.changed();
        let seq = state.store.next_seq();
        let ns = state.store.namespaces.get_mut(key).ok_or(CoreError::NotFound)?;
        let full = ns.caller_ids.len() >= store::MAX_CALLER_IDS_PER_ACCOUNT;
        let v = ns.verification_mut(id).ok_or(CoreError::NotFound)?;
        if v.is_call() {
            return Err(CoreError::NotFound);
        }
        match v.state {
            VerificationState::Pending => {}
            VerificationState::Verified => return Err(CoreError::AlreadyVerified),
            VerificationState::Expired => return Err(CoreError::Expired),
            VerificationState::Failed => return Err(CoreError::Failed),
            VerificationState::Superseded => return Err(CoreError::Superseded),
        }
        v.attempts += 1;
        if v.code != code {
            let remaining = MAX_WRONG_CODES.saturating_sub(v.attempts);
            if remaining == 0 {
                v.state = VerificationState::Failed;
                tracing::info!(provider = key.provider, id, "verification failed: too many wrong codes");
                return Err(CoreError::Failed);
            }
            return Err(CoreError::WrongCode { remaining });
        }
        if full {
            return Err(CoreError::LimitReached);
        }
        let caller = v.mark_verified(caller_id.unwrap_or_else(|| v.id.clone()), seq, now);
        ns.caller_ids.insert(caller.phone_number.clone(), caller.clone());
        tracing::info!(provider = key.provider, account = %key.account, number = %caller.phone_number, "verified");
        Ok(caller)
    }

    pub fn caller_id(&self, key: &AccountKey, number: &str) -> Option<CallerId> {
        let (state, _) = self.locked();
        state.store.namespace(key)?.caller_ids.get(number).cloned()
    }

    /// The number of the caller ID whose id is `id` (Twilio addresses caller IDs by SID).
    pub fn caller_id_number(&self, key: &AccountKey, id: &str) -> Option<String> {
        let (state, _) = self.locked();
        let ns = state.store.namespace(key)?;
        ns.caller_ids.values().find(|c| c.id == id).map(|c| c.phone_number.clone())
    }

    /// Every caller ID of an account, newest first.
    pub fn caller_ids(&self, key: &AccountKey) -> Vec<CallerId> {
        let (state, _) = self.locked();
        let mut all: Vec<CallerId> = state
            .store
            .namespace(key)
            .map(|ns| ns.caller_ids.values().cloned().collect())
            .unwrap_or_default();
        all.sort_by(|a, b| (b.created_at, b.seq).cmp(&(a.created_at, a.seq)));
        all
    }

    /// Changes a caller ID's label and/or subaccount; `updated_at` moves.
    pub fn update_caller_id(&self, key: &AccountKey, number: &str, label: Option<String>,
        subaccount: Option<String>) -> Result<CallerId, CoreError> {
        let (mut state, now) = self.locked();
        let ns = state.store.namespaces.get_mut(key).ok_or(CoreError::NotFound)?;
        let c = ns.caller_ids.get_mut(number).ok_or(CoreError::NotFound)?;
        if let Some(label) = label {
            c.label = label;
        }
        if let Some(subaccount) = subaccount {
            c.subaccount = subaccount;
        }
        c.updated_at = now;
        self.changed();
        Ok(c.clone())
    }

    pub fn delete_caller_id(&self, key: &AccountKey, number: &str) -> Result<CallerId, CoreError> {
        let (mut state, _) = self.locked();
        let ns = state.store.namespaces.get_mut(key).ok_or(CoreError::NotFound)?;
        let removed = ns.caller_ids.remove(number).ok_or(CoreError::NotFound)?;
        self.changed();
        tracing::info!(provider = key.provider, account = %key.account, number, "caller ID deleted");
        Ok(removed)
    }

    /// Every code sent that matches `filter`, newest first, with its account.
    pub fn codes(&self, filter: &CodeFilter) -> Vec<(AccountKey, Verification)> {
        let (state, _) = self.locked();
        let mut out: Vec<(AccountKey, Verification)> = state
            .store
            .namespaces
            .iter()
            .filter(|(k, _)| filter.provider.as_deref().is_none_or(|p| p == k.provider))
            .filter(|(k, _)| filter.account.as_deref().is_none_or(|a| a == k.account))
            .flat_map(|(k, ns)| ns.verifications().map(move |v| (k, v)))
            .filter(|(_, v)| filter.number.as_deref().is_none_or(|n| n == v.phone_number))
            .filter(|(_, v)| filter.state.is_none_or(|s| s == v.state))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.sort_by(|a, b| b.1.seq.cmp(&a.1.seq));
        out
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

    /// Checks credentials: `user` (with `secret`, when the provider has one) claims to act for
    /// the account the request names (`path_account`). By default any well-formed credentials
    /// of the named account pass; with strict auth only declared accounts, with their token.
    pub fn check_auth(&self, provider: &'static str, path_account: &str, user: &str, secret: Option<&str>) -> Auth {
        if !self.strict_auth {
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

    /// The token an account was given in fixtures, if any.
    pub fn auth_token(&self, key: &AccountKey) -> Option<String> {
        self.state.lock().store.namespace(key)?.auth_token.clone()
    }
}

impl State {
    /// Ends a pending validation call with `status`; `verified` turns its number into a
    /// caller ID. Returns the call to report.
    fn end_call(&mut self, key: &AccountKey, id: &str, status: CallStatus, verified: bool, now: Timestamp,
        core: &Core) -> Option<Ended> {
        let seq = self.store.next_seq();
        let ns = self.store.namespaces.get_mut(key)?;
        let already = ns.verification(id).is_some_and(|v| ns.caller_ids.contains_key(&v.phone_number));
        let full = ns.caller_ids.len() >= store::MAX_CALLER_IDS_PER_ACCOUNT;
        let v = ns.verification_mut(id)?;
        v.call_status = Some(status);
        if verified && !already && !full {
            let caller = v.mark_verified(core.providers.caller_id_id(key.provider, &core.ids), seq, now);
            tracing::info!(provider = key.provider, account = %key.account, number = %caller.phone_number, "verified");
            let verification = v.clone();
            ns.caller_ids.insert(caller.phone_number.clone(), caller);
            return Some(Ended { key: key.clone(), verification });
        }
        v.state = VerificationState::Failed;
        tracing::info!(provider = key.provider, id, status = status.as_str(), "call ended without verification");
        Some(Ended { key: key.clone(), verification: v.clone() })
    }
}
