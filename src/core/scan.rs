//! A walk over the whole state in a fixed order (accounts by key; in each, its caller IDs
//! oldest first, then its verifications by seq), a few hundred entries per lock hold, resumed
//! from a [`Cursor`]: checkpoints of the state file and the streamed `GET /_mock/state` use it.
//! Entries that change between two holds are visited as they are when the walk reaches them.

use std::ops::Bound::{Excluded, Unbounded};

use super::model::{AccountKey, CallerId, Order, Verification};
use super::store::Namespace;
use super::{Core, State};

/// One entry a scan visits.
pub enum Item<'a> {
    Account(&'a AccountKey, &'a Namespace),
    CallerId(&'a AccountKey, &'a CallerId),
    Verification(&'a Verification),
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
    /// Its caller IDs, oldest first, after this one.
    Callers(Option<Order>),
    /// Its verifications, after this seq.
    Verifications(Option<u64>),
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
        match cursor.stage.clone() {
            Stage::Account => {
                f(Item::Account(key, ns));
                n += 1;
                cursor.stage = Stage::Callers(None);
            }
            Stage::Callers(after) => {
                let mut last = after;
                let mut finished = true;
                for c in ns.callers_oldest_after(after) {
                    if n == limit {
                        finished = false;
                        break;
                    }
                    f(Item::CallerId(key, c));
                    n += 1;
                    last = Some(c.order());
                }
                cursor.stage = if finished { Stage::Verifications(None) } else { Stage::Callers(last) };
            }
            Stage::Verifications(after) => {
                let lower = after.map_or(Unbounded, Excluded);
                let mut last = after;
                let mut finished = true;
                for seq in ns.verification_seqs().range((lower, Unbounded)) {
                    if n == limit {
                        finished = false;
                        break;
                    }
                    if let Some(v) = store.verification(*seq) {
                        f(Item::Verification(v));
                        n += 1;
                    }
                    last = Some(*seq);
                }
                if finished {
                    match store.namespaces_after(key).next() {
                        Some((next, _)) => {
                            cursor.key = Some(next.clone());
                            cursor.stage = Stage::Account;
                        }
                        None => cursor.stage = Stage::Done,
                    }
                } else {
                    cursor.stage = Stage::Verifications(last);
                }
            }
            Stage::Done => return false,
        }
    }
    !matches!(cursor.stage, Stage::Done)
}
