//! The codes "sent", for the control plane: a page of them newest first, and long-poll waiters
//! that a code wakes only when it is for them.
//!
//! A number filter is served by the number index and an account filter by the account's own
//! list, so those pages cost O(page); a filter on provider or state alone walks the codes
//! newest first until the page is full.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

use super::model::{AccountKey, Verification, VerificationState};
use super::{Core, Tx};

/// Which codes a request wants.
#[derive(Clone, Debug, Default)]
pub struct CodeFilter {
    pub provider: Option<&'static str>,
    pub account: Option<String>,
    /// E.164 with `+`.
    pub number: Option<String>,
    pub state: Option<VerificationState>,
}

impl CodeFilter {
    fn matches(&self, v: &Verification) -> bool {
        self.provider.is_none_or(|p| p == v.key.provider)
            && self.account.as_deref().is_none_or(|a| a == &*v.key.account)
            && self.number.as_deref().is_none_or(|n| n == v.phone_number)
            && self.state.is_none_or(|s| s == v.state)
    }
}

impl Core {
    /// Up to `limit` codes matching `filter`, newest first, older than `before` (a seq) when
    /// given; with the seq to continue before when more follow.
    pub fn codes(&self, filter: &CodeFilter, before: Option<u64>, limit: usize) -> (Vec<Verification>, Option<u64>) {
        let (mut found, visited) = self.transact(|tx| collect(tx, filter, before, limit + 1));
        self.visited(visited);
        let next = (found.len() > limit).then(|| {
            found.truncate(limit);
            found.last().map_or(0, |v| v.seq)
        });
        (found, next)
    }

    /// The newest code matching `filter`.
    pub fn latest_code(&self, filter: &CodeFilter) -> Option<Verification> {
        self.codes(filter, None, 1).0.pop()
    }
}

/// Up to `want` matches newest first, and how many entries were visited.
fn collect(tx: &Tx, filter: &CodeFilter, before: Option<u64>, want: usize) -> (Vec<Verification>, usize) {
    let store = tx.store();
    let below = before.unwrap_or(u64::MAX);
    let mut out = Vec::new();
    let mut visited = 0;
    let mut take = |v: &Verification, out: &mut Vec<Verification>| {
        visited += 1;
        if filter.matches(v) {
            out.push(v.clone());
        }
        out.len() >= want
    };
    if let Some(number) = &filter.number {
        let seqs = store.seqs_of_number(number);
        for seq in seqs[..seqs.partition_point(|&s| s < below)].iter().rev() {
            if store.verification(*seq).is_some_and(|v| take(v, &mut out)) {
                break;
            }
        }
    } else if let Some(account) = &filter.account {
        let providers = match filter.provider {
            Some(p) => vec![p],
            None => tx.core.facts.names(),
        };
        for provider in providers {
            let Some(ns) = store.namespace(&AccountKey::new(provider, account)) else { continue };
            let mut mine = Vec::new();
            for seq in ns.verification_seqs().range(..below).rev() {
                if store.verification(*seq).is_some_and(|v| take(v, &mut mine)) {
                    break;
                }
            }
            out.extend(mine);
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.seq));
        out.truncate(want);
    } else {
        for v in store.verifications_before(before) {
            if take(v, &mut out) {
                break;
            }
        }
    }
    (out, visited)
}

/// What a waiter waits on: the most specific key its filter names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum WaitKey {
    Number(String),
    Account(String),
    Any,
}

impl WaitKey {
    pub(crate) fn of(filter: &CodeFilter) -> WaitKey {
        match (&filter.number, &filter.account) {
            (Some(n), _) => WaitKey::Number(n.clone()),
            (None, Some(a)) => WaitKey::Account(a.clone()),
            (None, None) => WaitKey::Any,
        }
    }
}

/// Waiters by key, each key with how many wait on it.
#[derive(Default)]
pub(crate) struct Waiters {
    map: Mutex<HashMap<WaitKey, (Arc<Notify>, usize)>>,
}

impl Waiters {
    pub(crate) fn register(&self, key: WaitKey) -> WaitGuard<'_> {
        let mut map = self.map.lock();
        let entry = map.entry(key.clone()).or_insert_with(|| (Arc::new(Notify::new()), 0));
        entry.1 += 1;
        let notify = entry.0.clone();
        WaitGuard { waiters: self, key, notify }
    }

    /// Wakes everyone waiting on `key`.
    pub(crate) fn notify(&self, key: &WaitKey) {
        let notify = self.map.lock().get(key).map(|(n, _)| n.clone());
        if let Some(n) = notify {
            n.notify_waiters();
        }
    }
}

/// A registered waiter; dropping it unregisters.
pub struct WaitGuard<'a> {
    waiters: &'a Waiters,
    key: WaitKey,
    notify: Arc<Notify>,
}

impl WaitGuard<'_> {
    /// Resolves when a code for this waiter's key is issued; enable it before looking.
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        let mut map = self.waiters.map.lock();
        if let Some(entry) = map.get_mut(&self.key) {
            entry.1 -= 1;
            if entry.1 == 0 {
                map.remove(&self.key);
            }
        }
    }
}
