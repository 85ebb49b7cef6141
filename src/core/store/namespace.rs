//! One account's own state and its indexes: its caller IDs in listing order (by id and by
//! number too), its verifications and calls by seq, the newest verification of each number, and
//! the numbers it owns.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::core::model::{CallerId, Order};

/// Bytes an account costs beyond its entries.
pub(super) const NAMESPACE_BYTES: usize = 256;

/// One account's own state and its indexes.
#[derive(Debug, Default)]
pub struct Namespace {
    /// Declared in fixtures or a state file: a known account for `--strict-auth`, kept by resets.
    pub declared: bool,
    /// The token this account authenticates with, when known (fixtures, strict auth).
    pub auth_token: Option<String>,
    pub(super) caller_ids: BTreeMap<Order, CallerId>,
    pub(super) caller_by_number: HashMap<String, Order>,
    pub(super) caller_by_id: HashMap<String, Order>,
    /// This account's verifications, by seq.
    pub(super) verifications: BTreeSet<u64>,
    /// The newest verification of each number, by seq.
    pub(super) latest: HashMap<String, u64>,
    /// This account's outbound calls, by seq.
    pub(super) calls: BTreeSet<u64>,
    /// Those of them still live (queued, ringing, in progress), by seq.
    pub(super) live_calls: BTreeSet<u64>,
    /// The numbers the account owns (its purchased numbers): valid caller IDs without a
    /// verification. Configuration, like the token: a reset keeps them.
    pub(super) owned: BTreeSet<String>,
}

impl Namespace {
    pub fn caller_count(&self) -> usize {
        self.caller_ids.len()
    }

    pub fn caller_by_number(&self, number: &str) -> Option<&CallerId> {
        self.caller_ids.get(self.caller_by_number.get(number)?)
    }

    pub fn caller_by_id(&self, id: &str) -> Option<&CallerId> {
        self.caller_ids.get(self.caller_by_id.get(id)?)
    }

    pub fn caller_by_number_mut(&mut self, number: &str) -> Option<&mut CallerId> {
        self.caller_ids.get_mut(self.caller_by_number.get(number)?)
    }

    /// Caller IDs in listing order, starting after `after` (exclusive) when given.
    pub fn callers_after(&self, after: Option<Order>) -> impl Iterator<Item = &CallerId> {
        use std::ops::Bound::{Excluded, Unbounded};
        let lower = after.map_or(Unbounded, Excluded);
        self.caller_ids.range((lower, Unbounded)).map(|(_, c)| c)
    }

    /// Caller IDs in reverse listing order (oldest first), from just before `before`.
    pub fn callers_before(&self, before: Order) -> impl Iterator<Item = &CallerId> {
        self.caller_ids.range(..before).rev().map(|(_, c)| c)
    }

    /// Caller IDs oldest first, after `after` (exclusive, in that direction) when given.
    pub fn callers_oldest_after(&self, after: Option<Order>) -> impl Iterator<Item = &CallerId> {
        use std::ops::Bound::{Excluded, Unbounded};
        let upper = after.map_or(Unbounded, Excluded);
        self.caller_ids.range((Unbounded, upper)).rev().map(|(_, c)| c)
    }

    /// The seqs of this account's verifications, oldest first.
    pub fn verification_seqs(&self) -> &BTreeSet<u64> {
        &self.verifications
    }

    /// The seq of the newest verification of `number` in this account.
    pub fn latest_for(&self, number: &str) -> Option<u64> {
        self.latest.get(number).copied()
    }

    /// The seqs of this account's outbound calls, oldest first.
    pub fn call_seqs(&self) -> &BTreeSet<u64> {
        &self.calls
    }

    /// The seqs of this account's live calls (queued, ringing, in progress), oldest first.
    pub fn live_call_seqs(&self) -> &BTreeSet<u64> {
        &self.live_calls
    }

    /// The numbers the account owns, in order.
    pub fn owned_numbers(&self) -> &BTreeSet<String> {
        &self.owned
    }

    /// Whether the account may present `number` as its caller ID: a verified caller ID of it,
    /// or a number it owns.
    pub fn may_present(&self, number: &str) -> bool {
        self.caller_by_number(number).is_some_and(CallerId::verified) || self.owned.contains(number)
    }

    pub(super) fn is_empty(&self) -> bool {
        !self.declared
            && self.caller_ids.is_empty()
            && self.verifications.is_empty()
            && self.calls.is_empty()
            && self.owned.is_empty()
    }
}
