//! Every account's state, indexed so that no request pays for what else is stored.
//!
//! The types are provider-neutral: a provider maps its own names onto them (Plivo's `alias` and
//! Twilio's `friendly_name` are both a [`CallerId::label`]). The store is plain data with no
//! locking and no clock: [`super::Core`] holds it behind its mutex and passes `now` in.
//!
//! | what | held in | costs |
//! |---|---|---|
//! | caller IDs of an account | `BTreeMap<Order, CallerId>`, newest first, plus id and number indexes | get/update/delete O(log n), a page O(log n + page), an offset O(offset) |
//! | verifications | one `BTreeMap<seq, Verification>`, indexed by id, by number and by account | lookups O(log n), a page of codes O(page) |
//! | finished verifications | `BTreeSet<(finished_at, seq)>` | the oldest goes first, O(log n) |
//!
//! Memory is counted as it is used ([`Store::bytes`]): every entry knows its approximate size,
//! so the caps can bound bytes rather than counts.

mod calls;
mod namespace;
mod undo;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::model::{AccountKey, Call, CallerId, Verification, VerificationState};
use super::time::Timestamp;
use super::timers::{Event, Timers};
use namespace::NAMESPACE_BYTES;
pub use namespace::Namespace;
pub use undo::Undo;

/// Every account, every verification and call, and the indexes across them.
#[derive(Debug, Default)]
pub struct Store {
    namespaces: BTreeMap<AccountKey, Namespace>,
    verifications: BTreeMap<u64, Verification>,
    verification_ids: HashMap<String, u64>,
    calls: BTreeMap<u64, Call>,
    call_ids: HashMap<String, u64>,
    /// Every verification of a number, in any account, by seq (sorted: a number has few, and a
    /// vector of them costs a fraction of a tree node).
    by_number: HashMap<String, Vec<u64>>,
    /// Verifications no longer pending and calls that ended, oldest finish first: what
    /// retention sweeps and a full store evicts.
    finished: BTreeSet<(Timestamp, u64)>,
    /// The timer of every pending verification and live call.
    timers: Timers,
    pending: usize,
    next_seq: u64,
    bytes: usize,
    /// With a state file: how to undo each change not yet synced, oldest first.
    undo: Option<Vec<Undo>>,
}

/// What [`Store::remove_finished`] removed: a verification or a call, by its id.
#[derive(Clone, Debug)]
pub enum Finished {
    Verification(String),
    Call(String),
}

impl Store {
    /// The next creation number (every entry has one; they only grow).
    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// The last creation number handed out.
    pub fn seq(&self) -> u64 {
        self.next_seq
    }

    /// Makes every later creation number greater than `seq`.
    pub fn skip_seq_past(&mut self, seq: u64) {
        self.next_seq = self.next_seq.max(seq);
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Verifications still pending.
    pub fn pending(&self) -> usize {
        self.pending
    }

    pub fn timers(&self) -> &Timers {
        &self.timers
    }

    /// Removes and returns the earliest timer due by `now`: `(at, seq, event)`.
    pub fn pop_due(&mut self, now: Timestamp) -> Option<(Timestamp, u64, Event)> {
        self.timers.pop_due(now).map(|((at, seq), event)| (at, seq, event))
    }

    pub fn verification_count(&self) -> usize {
        self.verifications.len()
    }

    pub fn namespace(&self, key: &AccountKey) -> Option<&Namespace> {
        self.namespaces.get(key)
    }

    /// Every namespace in key order, from `from` (inclusive) when given.
    pub fn namespaces_from(&self, from: Option<&AccountKey>) -> impl Iterator<Item = (&AccountKey, &Namespace)> {
        use std::ops::Bound::{Included, Unbounded};
        let lower = from.map_or(Unbounded, Included);
        self.namespaces.range::<AccountKey, _>((lower, Unbounded))
    }

    /// Every namespace in key order after `key` (exclusive).
    pub fn namespaces_after(&self, key: &AccountKey) -> impl Iterator<Item = (&AccountKey, &Namespace)> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.namespaces.range::<AccountKey, _>((Excluded(key), Unbounded))
    }

    /// The namespace of `key`, created if need be.
    fn namespace_mut(&mut self, key: &AccountKey) -> &mut Namespace {
        if !self.namespaces.contains_key(key) {
            self.bytes += NAMESPACE_BYTES + key.account.len();
            self.namespaces.insert(key.clone(), Namespace::default());
        }
        self.namespaces.get_mut(key).expect("just inserted")
    }

    /// Sets an account's credentials (declared in fixtures or a state file, its token).
    pub fn set_account(&mut self, key: &AccountKey, declared: bool, auth_token: Option<String>) {
        if let Some(notes) = self.undo.as_mut() {
            let (declared, token) =
                self.namespaces.get(key).map_or((false, None), |ns| (ns.declared, ns.auth_token.clone()));
            notes.push(Undo::Account(key.clone(), declared, token));
        }
        let ns = self.namespace_mut(key);
        ns.declared = declared;
        ns.auth_token = auth_token;
        self.drop_if_empty(key);
    }

    /// Drops `key`'s namespace if nothing is left in it.
    fn drop_if_empty(&mut self, key: &AccountKey) {
        if self.namespaces.get(key).is_some_and(Namespace::is_empty) {
            self.namespaces.remove(key);
            self.bytes -= NAMESPACE_BYTES + key.account.len();
        }
    }

    pub fn verification(&self, seq: u64) -> Option<&Verification> {
        self.verifications.get(&seq)
    }

    /// Changes a verification in place. Its id, number, account and seq must not change; its
    /// state may, and the pending/finished bookkeeping follows.
    pub fn update_verification<R>(&mut self, seq: u64, f: impl FnOnce(&mut Verification) -> R) -> Option<R> {
        let old = self.verifications.get(&seq)?;
        if let Some(undo) = self.undo.as_mut() {
            undo.push(Undo::Verification(old.clone()));
        }
        let v = self.verifications.get_mut(&seq).expect("just found");
        let before = (v.bytes(), v.state, v.finished_at, v.timer());
        let result = f(v);
        let after = (v.bytes(), v.state, v.finished_at, v.timer());
        self.bytes = self.bytes - before.0 + after.0;
        if before.1 != after.1 || before.2 != after.2 {
            self.unindex_state(seq, before.1, before.2);
            self.index_state(seq, after.1, after.2);
        }
        self.reschedule(seq, before.3, after.3);
        Some(result)
    }

    pub fn seq_of(&self, id: &str) -> Option<u64> {
        self.verification_ids.get(id).copied()
    }

    /// Verifications newest first, before `before` (exclusive) when given.
    pub fn verifications_before(&self, before: Option<u64>) -> impl Iterator<Item = &Verification> {
        self.verifications.range(..before.unwrap_or(u64::MAX)).rev().map(|(_, v)| v)
    }

    /// The seqs of every verification of `number`, in any account, oldest first.
    pub fn seqs_of_number(&self, number: &str) -> &[u64] {
        self.by_number.get(number).map_or(&[], Vec::as_slice)
    }

    /// The verification or call that finished longest ago: `(finished_at, seq)`.
    pub fn oldest_finished(&self) -> Option<(Timestamp, u64)> {
        self.finished.first().copied()
    }

    /// Removes the finished verification or call `seq` (evicted or swept); its id.
    pub fn remove_finished(&mut self, seq: u64) -> Option<Finished> {
        if let Some(v) = self.remove_verification(seq) {
            return Some(Finished::Verification(v.id));
        }
        self.remove_call(seq).map(|c| Finished::Call(c.id))
    }

    /// Adds a verification (its id must be new) and indexes it.
    pub fn insert_verification(&mut self, v: Verification) {
        let seq = v.seq;
        self.note(|| Undo::NoVerification(seq));
        self.bytes += v.bytes();
        let ns = self.namespace_mut(&v.key);
        ns.verifications.insert(seq);
        let newest = ns.latest.get(&v.phone_number).is_none_or(|&s| s < seq);
        if newest {
            ns.latest.insert(v.phone_number.clone(), seq);
        }
        self.verification_ids.insert(v.id.clone(), seq);
        let seqs = self.by_number.entry(v.phone_number.clone()).or_default();
        if let Err(at) = seqs.binary_search(&seq) {
            seqs.insert(at, seq);
        }
        self.index_state(seq, v.state, v.finished_at);
        if let Some((at, event)) = v.timer() {
            self.timers.schedule(at, seq, event);
        }
        self.next_seq = self.next_seq.max(seq);
        self.verifications.insert(seq, v);
    }

    /// Removes a verification and every index entry of it.
    pub fn remove_verification(&mut self, seq: u64) -> Option<Verification> {
        let v = self.verifications.remove(&seq)?;
        if let Some(undo) = self.undo.as_mut() {
            undo.push(Undo::Verification(v.clone()));
        }
        self.bytes -= v.bytes();
        self.unindex_state(seq, v.state, v.finished_at);
        if let Some((at, _)) = v.timer() {
            self.timers.cancel((at, seq));
        }
        self.verification_ids.remove(&v.id);
        if let Some(seqs) = self.by_number.get_mut(&v.phone_number) {
            if let Ok(at) = seqs.binary_search(&seq) {
                seqs.remove(at);
            }
            if seqs.is_empty() {
                self.by_number.remove(&v.phone_number);
            }
        }
        if let Some(ns) = self.namespaces.get_mut(&v.key) {
            ns.verifications.remove(&seq);
            if ns.latest.get(&v.phone_number) == Some(&seq) {
                ns.latest.remove(&v.phone_number);
                // The next newest of the number in this account, if any, becomes the latest.
                if let Some(seqs) = self.by_number.get(&v.phone_number) {
                    let older = seqs.iter().rev().find(|s| ns.verifications.contains(s));
                    if let Some(&older) = older {
                        ns.latest.insert(v.phone_number.clone(), older);
                    }
                }
            }
        }
        self.drop_if_empty(&v.key);
        Some(v)
    }

    /// Moves `seq`'s timer from `before` to `after`.
    fn reschedule(&mut self, seq: u64, before: Option<(Timestamp, Event)>, after: Option<(Timestamp, Event)>) {
        if before != after {
            if let Some((at, _)) = before {
                self.timers.cancel((at, seq));
            }
            if let Some((at, event)) = after {
                self.timers.schedule(at, seq, event);
            }
        }
    }

    fn index_state(&mut self, seq: u64, state: VerificationState, finished_at: Option<Timestamp>) {
        match (state, finished_at) {
            (VerificationState::Pending, _) => self.pending += 1,
            (_, Some(at)) => {
                self.finished.insert((at, seq));
            }
            (_, None) => {}
        }
    }

    fn unindex_state(&mut self, seq: u64, state: VerificationState, finished_at: Option<Timestamp>) {
        match (state, finished_at) {
            (VerificationState::Pending, _) => self.pending -= 1,
            (_, Some(at)) => {
                self.finished.remove(&(at, seq));
            }
            (_, None) => {}
        }
    }

    /// Adds or replaces the caller ID of `c.phone_number` in `key`'s account.
    pub fn put_caller_id(&mut self, key: &AccountKey, c: CallerId) {
        self.remove_caller_id(key, &c.phone_number);
        self.note(|| Undo::NoCaller(key.clone(), c.phone_number.clone()));
        self.bytes += c.bytes();
        self.next_seq = self.next_seq.max(c.seq);
        let ns = self.namespace_mut(key);
        let order = c.order();
        ns.caller_by_number.insert(c.phone_number.clone(), order);
        ns.caller_by_id.insert(c.id.clone(), order);
        ns.caller_ids.insert(order, c);
    }

    /// Changes a caller ID's label, attributes or `updated_at` in place.
    pub fn update_caller_id<R>(
        &mut self,
        key: &AccountKey,
        number: &str,
        f: impl FnOnce(&mut CallerId) -> R,
    ) -> Option<R> {
        let ns = self.namespaces.get_mut(key)?;
        let c = ns.caller_by_number_mut(number)?;
        if let Some(undo) = self.undo.as_mut() {
            undo.push(Undo::Caller(key.clone(), c.clone()));
        }
        let before = c.bytes();
        let result = f(c);
        let after = c.bytes();
        self.bytes = self.bytes - before + after;
        Some(result)
    }

    pub fn remove_caller_id(&mut self, key: &AccountKey, number: &str) -> Option<CallerId> {
        let ns = self.namespaces.get_mut(key)?;
        let order = ns.caller_by_number.remove(number)?;
        let c = ns.caller_ids.remove(&order).expect("the number index points at a caller ID");
        ns.caller_by_id.remove(&c.id);
        self.bytes -= c.bytes();
        if let Some(undo) = self.undo.as_mut() {
            undo.push(Undo::Caller(key.clone(), c.clone()));
        }
        self.drop_if_empty(key);
        Some(c)
    }

    /// Empties every namespace, or those of one account name (any provider); declared accounts
    /// keep their credentials and the numbers they own (configuration, not state). Returns the
    /// namespaces emptied and the verifications removed.
    pub fn reset(&mut self, account: Option<&str>) -> (usize, Vec<Verification>) {
        let doomed: Vec<AccountKey> =
            self.namespaces.keys().filter(|k| account.is_none_or(|a| &*k.account == a)).cloned().collect();
        let mut removed = Vec::new();
        for key in &doomed {
            let seqs: Vec<u64> = self.namespaces[key].verifications.iter().copied().collect();
            removed.extend(seqs.into_iter().filter_map(|seq| self.remove_verification(seq)));
            let calls: Vec<u64> =
                self.namespaces.get(key).map(|ns| ns.calls.iter().copied().collect()).unwrap_or_default();
            for seq in calls {
                self.remove_call(seq);
            }
            let numbers: Vec<String> =
                self.namespaces.get(key).map(|ns| ns.caller_by_number.keys().cloned().collect()).unwrap_or_default();
            for number in numbers {
                self.remove_caller_id(key, &number);
            }
            self.drop_if_empty(key);
        }
        (doomed.len(), removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(account: &str) -> AccountKey {
        AccountKey::new("plivo", account)
    }

    fn verification(seq: u64, account: &str, number: &str) -> Verification {
        Verification::example(seq, key(account), number)
    }

    fn caller(seq: u64, number: &str, created: i64) -> CallerId {
        CallerId::example(seq, number, created)
    }

    #[test]
    fn caller_ids_list_newest_first_with_a_stable_tie_break() {
        let mut store = Store::default();
        store.put_caller_id(&key("A"), caller(1, "+1", 10));
        store.put_caller_id(&key("A"), caller(2, "+2", 30));
        store.put_caller_id(&key("A"), caller(3, "+3", 30));
        let ns = store.namespace(&key("A")).unwrap();
        let order: Vec<u64> = ns.callers_after(None).map(|c| c.seq).collect();
        assert_eq!(order, [3, 2, 1]);
        let after_first = ns.caller_by_id("c3").unwrap().order();
        assert_eq!(ns.callers_after(Some(after_first)).map(|c| c.seq).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(
            ns.callers_before(ns.caller_by_id("c1").unwrap().order()).map(|c| c.seq).collect::<Vec<_>>(),
            [2, 3]
        );
    }

    #[test]
    fn indexes_follow_inserts_and_removals_and_bytes_return_to_zero() {
        let mut store = Store::default();
        store.insert_verification(verification(1, "A", "+1"));
        store.insert_verification(verification(2, "A", "+1"));
        store.insert_verification(verification(3, "B", "+1"));
        store.put_caller_id(&key("A"), caller(4, "+1", 0));
        assert_eq!(store.namespace(&key("A")).unwrap().latest_for("+1"), Some(2));
        assert_eq!(store.seqs_of_number("+1"), [1, 2, 3]);
        assert_eq!(store.pending(), 3);
        store.remove_verification(2);
        assert_eq!(store.namespace(&key("A")).unwrap().latest_for("+1"), Some(1), "the next newest becomes the latest");
        assert_eq!(store.seq_of("v2"), None);
        store.remove_verification(1);
        store.remove_verification(3);
        store.remove_caller_id(&key("A"), "+1");
        assert_eq!((store.pending(), store.bytes(), store.namespaces.len()), (0, 0, 0), "empty namespaces go");
    }

    #[test]
    fn finishing_moves_a_verification_to_the_finished_index() {
        let mut store = Store::default();
        store.insert_verification(verification(1, "A", "+1"));
        store.update_verification(1, |v| {
            v.state = VerificationState::Expired;
            v.finished_at = Some(Timestamp::from_nanos(5));
        });
        assert_eq!((store.pending(), store.oldest_finished()), (0, Some((Timestamp::from_nanos(5), 1))));
    }

    #[test]
    fn reset_keeps_declared_credentials_and_other_accounts() {
        let mut store = Store::default();
        let ns = store.namespace_mut(&key("A"));
        ns.declared = true;
        ns.auth_token = Some("t".into());
        store.put_caller_id(&key("A"), caller(1, "+1", 0));
        store.insert_verification(verification(2, "A", "+2"));
        store.insert_verification(verification(3, "B", "+2"));
        let (emptied, removed) = store.reset(Some("A"));
        assert_eq!((emptied, removed.len()), (1, 1));
        let ns = store.namespace(&key("A")).unwrap();
        assert!(ns.declared && ns.auth_token.as_deref() == Some("t") && ns.caller_count() == 0);
        assert!(store.namespace(&key("B")).is_some());
        assert_eq!(store.seqs_of_number("+2").len(), 1);
    }

    #[test]
    fn a_caller_id_awaiting_verification_is_listed_but_not_presented() {
        let mut store = Store::default();
        store.put_caller_id(&key("A"), CallerId { verified_at: None, ..caller(1, "+1", 10) });
        store.put_caller_id(&key("A"), caller(2, "+2", 20));
        let ns = store.namespace(&key("A")).unwrap();
        assert_eq!(ns.callers_after(None).count(), 2);
        assert!(!ns.may_present("+1"), "awaiting its verification");
        assert!(ns.may_present("+2"));
    }
}
