//! A walk over the whole state in a fixed order (accounts by key; in each, the numbers it owns,
//! its caller IDs oldest first, its verifications by seq, then its calls by seq), a few hundred
//! entries per lock hold, resumed from a [`Cursor`]: checkpoints of the state file and the
//! streamed `GET /_mock/state` use it. Entries that change between two holds are visited as they
//! are when the walk reaches them.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Unbounded};

use super::model::{AccountKey, Call, CallerId, Order, Verification};
use super::store::Namespace;
use super::{Core, State};

/// One entry a scan visits.
pub enum Item<'a> {
    Account(&'a AccountKey, &'a Namespace),
    /// A number the account owns.
    Owned(&'a AccountKey, &'a str),
    CallerId(&'a AccountKey, &'a CallerId),
    Verification(&'a Verification),
    Call(&'a Call),
}

/// Where a scan is.
#[derive(Clone, Debug, Default)]
pub struct Cursor {
    key: Option<AccountKey>,
    stage: Stage,
}

#[derive(Clone, Debug, Default)]
enum Stage {
    /// The account's own entry is next.
    #[default]
    Account,
    /// The numbers it owns, after this one.
    Owned(Option<String>),
    /// Its caller IDs, oldest first, after this one.
    Callers(Option<Order>),
    /// Its verifications, after this seq.
    Verifications(Option<u64>),
    /// Its calls, after this seq.
    Calls(Option<u64>),
    Done,
}

impl Core {
    /// Visits up to `limit` entries from `cursor` under one lock hold; false when done.
    pub fn scan(&self, cursor: &mut Cursor, limit: usize, f: impl FnMut(Item)) -> bool {
        scan(&self.state.lock(), cursor, limit, f)
    }
}

pub(super) fn scan(state: &State, cursor: &mut Cursor, limit: usize, mut f: impl FnMut(Item)) -> bool {
    let store = &state.store;
    let mut n = 0;
    while n < limit {
        if matches!(cursor.stage, Stage::Done) {
            return false;
        }
        // The account the cursor is in, or the next one if it went away meanwhile.
        let (key, ns) = match &cursor.key {
            None => match store.namespaces_from(None).next() {
                Some(entry) => entry,
                None => {
                    cursor.stage = Stage::Done;
                    return false;
                }
            },
            Some(key) => match store.namespaces_from(Some(key)).next() {
                Some(entry) if entry.0 == key => entry,
                Some(entry) => {
                    cursor.stage = Stage::Account;
                    entry
                }
                None => {
                    cursor.stage = Stage::Done;
                    return false;
                }
            },
        };
        cursor.key = Some(key.clone());
        let room = limit - n;
        let (visited, stage) = match cursor.stage.clone() {
            Stage::Account => {
                f(Item::Account(key, ns));
                (1, Stage::Owned(None))
            }
            Stage::Owned(after) => {
                let lower = after.as_deref().map_or(Unbounded, Excluded);
                let numbers = ns.owned_numbers().range::<str, _>((lower, Unbounded)).map(|n| (n.clone(), n.as_str()));
                match take(numbers, room, |number| f(Item::Owned(key, number))) {
                    (v, Some(last)) => (v, Stage::Owned(Some(last))),
                    (v, None) => (v, Stage::Callers(None)),
                }
            }
            Stage::Callers(after) => {
                let callers = ns.callers_oldest_after(after).map(|c| (c.order(), c));
                match take(callers, room, |c| f(Item::CallerId(key, c))) {
                    (v, Some(last)) => (v, Stage::Callers(Some(last))),
                    (v, None) => (v, Stage::Verifications(None)),
                }
            }
            Stage::Verifications(after) => {
                let seqs = after_seq(ns.verification_seqs(), after);
                let verifications = seqs.filter_map(|seq| store.verification(*seq).map(|v| (*seq, v)));
                match take(verifications, room, |v| f(Item::Verification(v))) {
                    (v, Some(last)) => (v, Stage::Verifications(Some(last))),
                    (v, None) => (v, Stage::Calls(None)),
                }
            }
            Stage::Calls(after) => {
                let calls = after_seq(ns.call_seqs(), after).filter_map(|seq| store.call(*seq).map(|c| (*seq, c)));
                match take(calls, room, |c| f(Item::Call(c))) {
                    (v, Some(last)) => (v, Stage::Calls(Some(last))),
                    (v, None) => match store.namespaces_after(key).next() {
                        Some((next, _)) => {
                            cursor.key = Some(next.clone());
                            (v, Stage::Account)
                        }
                        None => (v, Stage::Done),
                    },
                }
            }
            Stage::Done => return false,
        };
        n += visited;
        cursor.stage = stage;
    }
    !matches!(cursor.stage, Stage::Done)
}

/// The seqs of `set` after `after` (exclusive), in order.
fn after_seq(set: &BTreeSet<u64>, after: Option<u64>) -> impl Iterator<Item = &u64> {
    set.range((after.map_or(Unbounded, Excluded), Unbounded))
}

/// Visits up to `room` of `items` (each with its place): how many, and the place of the last
/// one visited when more are left (`None`: all of them were visited).
fn take<P, T>(items: impl Iterator<Item = (P, T)>, room: usize, mut visit: impl FnMut(T)) -> (usize, Option<P>) {
    let mut visited = 0;
    let mut last = None;
    for (place, item) in items {
        if visited == room {
            return (visited, last);
        }
        visit(item);
        visited += 1;
        last = Some(place);
    }
    (visited, None)
}
