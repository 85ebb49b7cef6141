//! Outbound calls: the step a caller ID is verified for. A call may present as its caller ID
//! only a verified caller ID of its account or a number the account owns; it then rings the
//! simulated person at `to`, who picks up (the control plane, `--auto-answer`, a magic number),
//! is busy, does not answer or fails; an answered call ends when either side hangs up, at the
//! provider's time limit, or after `--call-duration`. Every move is a [`Notice`], from which the
//! provider renders its webhooks.
//!
//! Listing an account's calls is O(page) from the start or after a call; a filter (`to`,
//! `from`, state, times) walks the account's calls newest first until the page is full.

use std::time::Duration;

use super::magic::{self, Magic};
use super::model::{AccountKey, Attributes, Call, CallError, CallState, EndedBy};
use super::phone::Number;
use super::timers::Event;
use super::{Change, Core, CoreError, Notice, Tx};

/// What a provider asks for when it places a call.
#[derive(Clone, Debug)]
pub struct NewCall {
    pub key: AccountKey,
    pub id: String,
    pub from: Number,
    pub to: Number,
    /// How long it may ring unanswered.
    pub ring_timeout: Duration,
    /// The provider's limit on an answered call, if the request set one.
    pub time_limit: Option<Duration>,
    /// What the provider keeps of the request.
    pub attributes: Attributes,
}

/// A number an account owns: the account, and the number.
pub type Owned = (AccountKey, String);

/// How the application ends a call through the provider's API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HangUp {
    /// Hang up: an answered call completes, one not answered yet is canceled.
    Complete,
    /// Cancel a call not answered yet; an answered one goes on.
    Cancel,
}

/// A page of an account's calls, newest first.
#[derive(Debug, Default)]
pub struct CallPage {
    pub items: Vec<Call>,
    /// More matches follow the page.
    pub more: bool,
    /// Every match, when counted.
    pub total: usize,
}

/// Which of an account's calls a listing walks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CallScope {
    #[default]
    All,
    /// Queued, ringing or in progress: walked on their own index.
    Live,
    /// Ended: walked on every call, skipping the live ones.
    Ended,
}

/// Which calls a listing wants, and where its page starts.
pub struct CallQuery<'a> {
    pub scope: CallScope,
    /// After the call with this id (newest first), or from the newest.
    pub after: Option<&'a str>,
    /// Matches to skip first.
    pub skip: usize,
    pub limit: usize,
    /// Any filter; `None` keeps everything.
    pub keep: Option<&'a dyn Fn(&Call) -> bool>,
    /// Count every match (`total`); costs a full pass of the account's calls.
    pub count: bool,
}

impl Core {
    /// Places a call: refused (`CallerIdNotAllowed`) unless `from` is a verified caller ID of
    /// the account or a number it owns.
    pub fn place_call(&self, new: NewCall) -> Result<Call, CoreError> {
        let call = self.transact(|tx| tx.place_call(new))?;
        tracing::info!(provider = call.key.provider, id = ?call.id, from = %call.from, to = %call.to, "call placed");
        Ok(call)
    }

    /// The call `id` of `key`'s account.
    pub fn call(&self, key: &AccountKey, id: &str) -> Option<Call> {
        self.transact(|tx| tx.call_of(key, id).cloned())
    }

    /// A page of `key`'s calls, newest first; `None` when `after` names no call of it.
    pub fn calls(&self, key: &AccountKey, q: &CallQuery) -> Option<CallPage> {
        let (page, visited) = self.transact(|tx| calls_page(tx, key, q));
        self.visited(visited);
        page
    }

    /// Calls of every account (or `provider`'s, `account`'s), newest first, older than `before`
    /// (a seq); with the seq to continue before when more follow.
    pub fn calls_across(
        &self,
        provider: Option<&str>,
        account: Option<&str>,
        before: Option<u64>,
        limit: usize,
    ) -> (Vec<Call>, Option<u64>) {
        let (mut found, visited) = self.transact(|tx| {
            let store = tx.store();
            let wanted =
                |c: &Call| provider.is_none_or(|p| p == c.key.provider) && account.is_none_or(|a| a == &*c.key.account);
            let mut found = Vec::new();
            let mut visited = 0;
            for c in store.calls_before(before) {
                visited += 1;
                if wanted(c) {
                    found.push(c.clone());
                    if found.len() > limit {
                        break;
                    }
                }
            }
            (found, visited)
        });
        self.visited(visited);
        let next = (found.len() > limit).then(|| {
            found.truncate(limit);
            found.last().map_or(0, |c| c.seq)
        });
        (found, next)
    }

    /// Ends a call as the application asks through the provider's API.
    pub fn hang_up(&self, key: &AccountKey, id: &str, how: HangUp) -> Result<Call, CoreError> {
        self.transact(|tx| {
            tx.writable()?;
            let seq = tx.call_of(key, id).ok_or(CoreError::NotFound)?.seq;
            let state = tx.store().call(seq).map(|c| c.state).ok_or(CoreError::NotFound)?;
            match (how, state) {
                (_, CallState::Queued | CallState::Ringing) => {
                    tx.end_call_by(seq, CallState::Canceled, EndedBy::Application)
                }
                (HangUp::Complete, CallState::InProgress) => {
                    tx.end_call_by(seq, CallState::Completed, EndedBy::Application)
                }
                _ => {}
            }
            Ok(tx.store().call(seq).cloned().expect("still stored"))
        })
    }

    /// Sets a live call's attributes (a new document to run: the provider's redirect) and reads
    /// its document again if it is answered.
    pub fn redirect_call(&self, key: &AccountKey, id: &str, attributes: &[(&str, &str)]) -> Result<Call, CoreError> {
        self.transact(|tx| {
            tx.writable()?;
            let seq = tx.call_of(key, id).ok_or(CoreError::NotFound)?.seq;
            if tx.store().call(seq).is_some_and(|c| c.state.is_final()) {
                return Err(CoreError::CallEnded);
            }
            tx.state.store.update_call(seq, |c| {
                for (name, value) in attributes {
                    c.attributes.set(name, value);
                }
            });
            tx.log_call(seq);
            let call = tx.store().call(seq).cloned().expect("still stored");
            if call.state == CallState::InProgress {
                tx.notices.push(Notice::CallDocument(call.clone()));
            }
            Ok(call)
        })
    }

    /// Deletes the record of a call that ended.
    pub fn delete_call(&self, key: &AccountKey, id: &str) -> Result<Call, CoreError> {
        self.transact(|tx| {
            tx.writable()?;
            let call = tx.call_of(key, id).ok_or(CoreError::NotFound)?;
            if !call.state.is_final() {
                return Err(CoreError::CallNotEnded);
            }
            let seq = call.seq;
            let removed = tx.state.store.remove_call(seq).expect("just found");
            let id = removed.id.clone();
            tx.log(|| Change::CallRemoved { id });
            Ok(removed)
        })
    }

    /// Ends an answered call because its document could not be run (the provider's error).
    pub fn fail_call_document(&self, id: &str, error: CallError) {
        self.transact(|tx| {
            let Some(seq) = tx.store().call_seq(id) else { return };
            if tx.store().call(seq).is_none_or(|c| c.state != CallState::InProgress) {
                return;
            }
            tracing::info!(id = ?id, code = %error.code, "the call's document could not be run: the call ends");
            tx.state.store.update_call(seq, |c| c.error = Some(error));
            tx.end_call_by(seq, CallState::Completed, EndedBy::Provider);
        });
    }

    /// Whether `key`'s account may present `number` as its caller ID: a verified caller ID of
    /// it, or a number it owns.
    pub fn may_present(&self, key: &AccountKey, number: &str) -> bool {
        self.transact(|tx| tx.store().namespace(key).is_some_and(|ns| ns.may_present(number)))
    }

    /// Marks `number` as owned by `key`'s account, or no longer; whether anything changed.
    pub fn set_owned(&self, key: &AccountKey, number: &str, owned: bool) -> Result<bool, CoreError> {
        self.transact(|tx| {
            tx.writable()?;
            if owned && !tx.store().namespace(key).is_some_and(|ns| ns.owned_numbers().contains(number)) {
                tx.make_room(96 + number.len())?;
            }
            let changed = tx.state.store.set_owned(key, number, owned);
            if changed {
                let (key, number) = (key.clone(), number.to_owned());
                tx.log(|| Change::Owned { key, number, owned });
            }
            Ok(changed)
        })
    }

    /// Up to `limit` numbers accounts own (of `provider` and `account` when given), accounts
    /// in key order and each's numbers in order, after `after`; with the place to continue
    /// after when more follow.
    pub fn owned_numbers(
        &self,
        provider: Option<&str>,
        account: Option<&str>,
        after: Option<Owned>,
        limit: usize,
    ) -> (Vec<Owned>, Option<Owned>) {
        use std::ops::Bound::{Excluded, Unbounded};
        let (out, visited) = self.transact(|tx| {
            let mut out: Vec<Owned> = Vec::new();
            let mut visited = 0;
            for (key, ns) in tx.store().namespaces_from(after.as_ref().map(|(k, _)| k)) {
                visited += 1;
                if provider.is_some_and(|p| p != key.provider) || account.is_some_and(|a| a != &*key.account) {
                    continue;
                }
                let lower = after.as_ref().filter(|(k, _)| k == key).map_or(Unbounded, |(_, n)| Excluded(n.as_str()));
                for number in ns.owned_numbers().range::<str, _>((lower, Unbounded)) {
                    visited += 1;
                    out.push((key.clone(), number.clone()));
                    if out.len() > limit {
                        return (out, visited);
                    }
                }
            }
            (out, visited)
        });
        self.visited(visited);
        let mut out = out;
        let next = (out.len() > limit).then(|| {
            out.truncate(limit);
            out.last().cloned().expect("a full page has a last entry")
        });
        (out, next)
    }
}

/// The page `q` asks for, and how many entries it visited.
fn calls_page(tx: &Tx, key: &AccountKey, q: &CallQuery) -> (Option<CallPage>, usize) {
    let store = tx.store();
    let Some(ns) = store.namespace(key) else {
        return (q.after.is_none().then(CallPage::default), 0);
    };
    let below = match q.after {
        None => u64::MAX,
        Some(id) => match store.call_seq(id).filter(|seq| ns.call_seqs().contains(seq)) {
            Some(seq) => seq,
            None => return (None, 0),
        },
    };
    let in_scope = |seq: &u64| match q.scope {
        CallScope::Ended => !ns.live_call_seqs().contains(seq),
        _ => true,
    };
    let keep = |c: &Call| q.keep.is_none_or(|f| f(c));
    let walked = match q.scope {
        CallScope::Live => ns.live_call_seqs(),
        _ => ns.call_seqs(),
    };
    let (mut page, mut visited, mut skip) = (CallPage::default(), 0, q.skip);
    for seq in walked.range(..below).rev().filter(|seq| in_scope(seq)) {
        visited += 1;
        let Some(c) = store.call(*seq).filter(|c| keep(c)) else { continue };
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if page.items.len() == q.limit {
            page.more = true;
            break;
        }
        page.items.push(c.clone());
    }
    if q.count {
        let live = ns.live_call_seqs().len();
        page.total = match q.keep {
            None => match q.scope {
                CallScope::All => walked.len(),
                CallScope::Live => live,
                CallScope::Ended => walked.len() - live,
            },
            Some(f) => {
                visited += walked.len();
                walked.iter().filter(|seq| in_scope(seq)).filter_map(|seq| store.call(*seq)).filter(|c| f(c)).count()
            }
        };
    }
    (Some(page), visited)
}

impl Tx<'_> {
    fn place_call(&mut self, new: NewCall) -> Result<Call, CoreError> {
        self.writable()?;
        let allowed = self.store().namespace(&new.key).is_some_and(|ns| ns.may_present(&new.from.e164));
        if !allowed {
            return Err(CoreError::CallerIdNotAllowed);
        }
        if self.store().call_seq(&new.id).is_some() {
            return Err(CoreError::AlreadyVerified);
        }
        let mut call = Call {
            seq: 0,
            key: new.key,
            id: new.id,
            from: new.from.e164,
            to: new.to.e164,
            state: CallState::Queued,
            created_at: self.now,
            rings_at: self.now,
            ring_timeout: new.ring_timeout,
            answers_at: None,
            answered_at: None,
            time_limit: new.time_limit,
            ends_at: None,
            ended_at: None,
            ended_by: None,
            attributes: new.attributes,
            error: None,
            timeline: vec![(CallState::Queued, self.now)],
        };
        self.make_room(call.bytes())?;
        call.seq = self.state.store.next_seq();
        let seq = call.seq;
        self.state.store.insert_call(call);
        self.log_call(seq);
        Ok(self.store().call(seq).cloned().expect("just inserted"))
    }

    pub(super) fn call_of(&self, key: &AccountKey, id: &str) -> Option<&Call> {
        let seq = self.store().call_seq(id)?;
        self.store().call(seq).filter(|c| &c.key == key)
    }

    /// Runs a call's timer event.
    pub(super) fn call_event(&mut self, seq: u64, event: Event) {
        match event {
            Event::CallRings => self.call_rings(seq),
            Event::CallAnswered => self.answer_call(seq),
            Event::CallRangOut => self.end_call_by(seq, CallState::NoAnswer, EndedBy::RingTimeout),
            Event::CallEnds => {
                // The time limit, unless the person hangs up (`--call-duration`) no later.
                let limited = self.store().call(seq).and_then(|c| c.time_limit);
                let by = match limited {
                    Some(limit) if limit <= self.core.options.call_duration => EndedBy::TimeLimit,
                    _ => EndedBy::Callee,
                };
                self.end_call_by(seq, CallState::Completed, by)
            }
            Event::Ring | Event::Expire => {}
        }
    }

    /// A call rings: a magic number ends it at once (busy, failed) or lets it ring out; the
    /// person picks up by themselves after `--ring-time` with `--auto-answer` or the magic
    /// number; otherwise it rings until the control plane answers it or it rings out.
    fn call_rings(&mut self, seq: u64) {
        let Some(c) = self.store().call(seq) else { return };
        let (magic, ring_timeout) = (magic::lookup(&c.to), c.ring_timeout);
        self.move_call(seq, CallState::Ringing);
        match magic {
            Some(Magic::Busy) => return self.end_call_by(seq, CallState::Busy, EndedBy::Callee),
            Some(Magic::CallFails) => return self.end_call_by(seq, CallState::Failed, EndedBy::Callee),
            Some(Magic::NoAnswer) => return,
            _ => {}
        }
        let picks_up = magic == Some(Magic::AutoAnswer) || self.core.options.auto_answer;
        let ring_time = self.core.options.ring_time;
        if picks_up && ring_time < ring_timeout {
            let at = self.now.saturating_add(ring_time);
            self.state.store.update_call(seq, |c| c.answers_at = Some(at));
            self.log_call(seq);
        }
    }

    /// The person picks up: the call is in progress until it ends by itself (the provider's
    /// time limit, or `--call-duration`), unless someone hangs up first.
    pub(super) fn answer_call(&mut self, seq: u64) {
        let Some(c) = self.store().call(seq) else { return };
        let talk =
            c.time_limit.map_or(self.core.options.call_duration, |limit| limit.min(self.core.options.call_duration));
        let (now, ends_at) = (self.now, self.now.saturating_add(talk));
        self.state.store.update_call(seq, |c| {
            c.answered_at = Some(now);
            c.ends_at = Some(ends_at);
        });
        self.move_call(seq, CallState::InProgress);
        let call = self.store().call(seq).cloned().expect("still stored");
        self.notices.push(Notice::CallDocument(call));
    }

    /// Ends a live call in the final `state`, ended by `by`.
    pub(super) fn end_call_by(&mut self, seq: u64, state: CallState, by: EndedBy) {
        self.state.store.update_call(seq, |c| {
            if !c.state.is_final() {
                c.ended_by = Some(by);
            }
        });
        self.move_call(seq, state);
    }

    /// Moves a live call to `state` (a final one: it ends now), logs it and tells the world.
    pub(super) fn move_call(&mut self, seq: u64, state: CallState) {
        let now = self.now;
        let moved = self.state.store.update_call(seq, |c| {
            if c.state.is_final() || c.state == state {
                return false;
            }
            c.state = state;
            c.timeline.push((state, now));
            if state.is_final() {
                c.ended_at = Some(now);
                c.answers_at = None;
            }
            true
        });
        if moved != Some(true) {
            return;
        }
        self.log_call(seq);
        let call = self.store().call(seq).cloned().expect("still stored");
        if state.is_final() {
            tracing::info!(provider = call.key.provider, id = ?call.id, state = state.as_str(), "call ended");
        }
        self.notices.push(Notice::CallMoved(call));
    }

    /// Logs the call `seq` as it is now.
    pub(super) fn log_call(&mut self, seq: u64) {
        self.changed = true;
        if let (Some(log), Some(c)) = (self.state.log.as_mut(), self.state.store.call(seq)) {
            log.push(Change::Call(c.clone()), self.core.ids.position(), self.state.store.seq());
        }
    }
}
