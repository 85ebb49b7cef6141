//! The store's outbound calls: one map by seq, an id index, each account's own set, and the
//! numbers accounts own. A call's timer and its place in the finished index follow its state,
//! as a verification's do.

use super::{Store, Undo};
use crate::core::model::{AccountKey, Call};

/// Bytes a number an account owns costs.
const OWNED_BYTES: usize = 96;

impl Store {
    pub fn call(&self, seq: u64) -> Option<&Call> {
        self.calls.get(&seq)
    }

    pub fn call_seq(&self, id: &str) -> Option<u64> {
        self.call_ids.get(id).copied()
    }

    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Calls of every account, newest first, before `before` (a seq, exclusive) when given.
    pub fn calls_before(&self, before: Option<u64>) -> impl Iterator<Item = &Call> {
        self.calls.range(..before.unwrap_or(u64::MAX)).rev().map(|(_, c)| c)
    }

    /// Adds a call (its id must be new) and indexes it.
    pub fn insert_call(&mut self, c: Call) {
        let seq = c.seq;
        self.note(|| Undo::NoCall(seq));
        self.bytes += c.bytes();
        let ns = self.namespace_mut(&c.key);
        ns.calls.insert(seq);
        if !c.state.is_final() {
            ns.live_calls.insert(seq);
        }
        self.call_ids.insert(c.id.clone(), seq);
        if let Some(at) = c.finished_at() {
            self.finished.insert((at, seq));
        }
        self.reschedule(seq, None, c.timer());
        self.next_seq = self.next_seq.max(seq);
        self.calls.insert(seq, c);
    }

    /// Changes a call in place. Its id, account and seq must not change; its state may, and its
    /// timer and the finished index follow.
    pub fn update_call<R>(&mut self, seq: u64, f: impl FnOnce(&mut Call) -> R) -> Option<R> {
        let old = self.calls.get(&seq)?;
        if let Some(undo) = self.undo.as_mut() {
            undo.push(Undo::Call(old.clone()));
        }
        let c = self.calls.get_mut(&seq).expect("just found");
        let before = (c.bytes(), c.finished_at(), c.timer());
        let result = f(c);
        let after = (c.bytes(), c.finished_at(), c.timer());
        self.bytes = self.bytes - before.0 + after.0;
        if before.1 != after.1 {
            if let Some(at) = before.1 {
                self.finished.remove(&(at, seq));
            }
            if let Some(at) = after.1 {
                self.finished.insert((at, seq));
            }
        }
        if before.1.is_none() && after.1.is_some() {
            let key = c.key.clone();
            if let Some(ns) = self.namespaces.get_mut(&key) {
                ns.live_calls.remove(&seq);
            }
        }
        self.reschedule(seq, before.2, after.2);
        Some(result)
    }

    /// Removes a call and every index entry of it.
    pub fn remove_call(&mut self, seq: u64) -> Option<Call> {
        let c = self.calls.remove(&seq)?;
        if let Some(undo) = self.undo.as_mut() {
            undo.push(Undo::Call(c.clone()));
        }
        self.bytes -= c.bytes();
        if let Some(at) = c.finished_at() {
            self.finished.remove(&(at, seq));
        }
        self.reschedule(seq, c.timer(), None);
        self.call_ids.remove(&c.id);
        if let Some(ns) = self.namespaces.get_mut(&c.key) {
            ns.calls.remove(&seq);
            ns.live_calls.remove(&seq);
        }
        self.drop_if_empty(&c.key);
        Some(c)
    }

    /// Marks `number` as owned by `key`'s account, or no longer; whether anything changed.
    pub fn set_owned(&mut self, key: &AccountKey, number: &str, owned: bool) -> bool {
        if owned {
            let changed = self.namespace_mut(key).owned.insert(number.to_owned());
            if changed {
                self.bytes += OWNED_BYTES + number.len();
                self.note(|| Undo::Owned(key.clone(), number.to_owned(), false));
            }
            return changed;
        }
        let Some(ns) = self.namespaces.get_mut(key) else { return false };
        let changed = ns.owned.remove(number);
        if changed {
            self.bytes -= OWNED_BYTES + number.len();
            self.note(|| Undo::Owned(key.clone(), number.to_owned(), true));
            self.drop_if_empty(key);
        }
        changed
    }
}
