//! Bounded journals (the requests providers got, the webhooks sent), kept per account and
//! capped twice: each account keeps at most `--max-journal` entries (so one busy test never
//! pushes another's history out), and the whole journal at most `--max-journal-bytes` (the
//! oldest entries of any account go first). Entries are numbered in arrival order; a page is
//! read newest first from a cursor (an entry's number) in O(page) for one account or for all.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use crate::core::time::Timestamp;

/// An entry that knows roughly how many bytes it holds.
pub(crate) trait ByteSize {
    fn bytes(&self) -> usize;
}

/// Entries of type `T` by account, each with a number that only grows.
pub(crate) struct Journal<T> {
    per_account: usize,
    max_bytes: usize,
    next_id: u64,
    bytes: usize,
    entries: BTreeMap<u64, (Arc<str>, T, usize)>,
    by_account: HashMap<Arc<str>, VecDeque<u64>>,
}

impl<T: Clone + ByteSize> Journal<T> {
    pub fn new(per_account: usize, max_bytes: usize) -> Journal<T> {
        Journal {
            per_account: per_account.max(1),
            max_bytes,
            next_id: 0,
            bytes: 0,
            entries: BTreeMap::new(),
            by_account: HashMap::new(),
        }
    }

    /// Adds an entry for `account` (`""` for none); returns its number.
    pub fn push(&mut self, account: &str, entry: T) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let account: Arc<str> = match self.by_account.get_key_value(account) {
            Some((key, _)) => key.clone(),
            None => account.into(),
        };
        let size = entry.bytes() + 64;
        self.bytes += size;
        self.entries.insert(id, (account.clone(), entry, size));
        let list = self.by_account.entry(account).or_default();
        list.push_back(id);
        if list.len() > self.per_account {
            let oldest = list.pop_front().expect("a list over its cap is not empty");
            self.forget(oldest);
        }
        while self.bytes > self.max_bytes && self.entries.len() > 1 {
            let (&oldest, _) = self.entries.first_key_value().expect("not empty");
            self.remove(oldest);
        }
        id
    }

    /// Changes entry `id` in place (its size may change).
    pub fn update(&mut self, id: u64, f: impl FnOnce(&mut T)) -> bool {
        let Some((_, entry, size)) = self.entries.get_mut(&id) else { return false };
        f(entry);
        let new = entry.bytes() + 64;
        self.bytes = self.bytes - *size + new;
        *size = new;
        true
    }

    /// Up to `limit` entries that `keep` accepts, newest first, numbered below `before` when
    /// given, of `account` when given; with the number to continue below when more follow.
    pub fn page(
        &self,
        account: Option<&str>,
        before: Option<u64>,
        limit: usize,
        keep: impl Fn(&T) -> bool,
    ) -> (Vec<(u64, T)>, Option<u64>) {
        let below = before.unwrap_or(u64::MAX);
        let mut out = Vec::new();
        let mut next = None;
        let mut visit = |id: u64, entry: &T| {
            if !keep(entry) {
                return true;
            }
            if out.len() == limit {
                next = out.last().map(|(id, _): &(u64, T)| *id);
                return false;
            }
            out.push((id, entry.clone()));
            true
        };
        match account {
            Some(account) => {
                let Some(ids) = self.by_account.get(account) else { return (out, None) };
                let start = ids.partition_point(|&id| id < below);
                for &id in ids.range(..start).rev() {
                    if !visit(id, &self.entries[&id].1) {
                        break;
                    }
                }
            }
            None => {
                for (&id, (_, entry, _)) in self.entries.range(..below).rev() {
                    if !visit(id, entry) {
                        break;
                    }
                }
            }
        }
        (out, next)
    }

    /// Forgets every entry, or one account's.
    pub fn reset(&mut self, account: Option<&str>) {
        match account {
            Some(account) => {
                for id in self.by_account.remove(account).unwrap_or_default() {
                    if let Some((_, _, size)) = self.entries.remove(&id) {
                        self.bytes -= size;
                    }
                }
            }
            None => {
                self.entries.clear();
                self.by_account.clear();
                self.bytes = 0;
            }
        }
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Removes the oldest entry of its account (which `id` is, being the oldest overall).
    fn remove(&mut self, id: u64) {
        let Some((account, _, size)) = self.entries.remove(&id) else { return };
        self.bytes -= size;
        if let Some(list) = self.by_account.get_mut(&account) {
            list.retain(|&i| i != id);
            if list.is_empty() {
                self.by_account.remove(&account);
            }
        }
    }

    /// Drops an entry already taken off its account's list.
    fn forget(&mut self, id: u64) {
        if let Some((_, _, size)) = self.entries.remove(&id) {
            self.bytes -= size;
        }
    }
}

/// One request to a provider, as `GET /_mock/requests` shows it. Credentials never reach it:
/// headers are not kept and secret query parameters are redacted. An account that is itself a
/// secret (an API key) is kept whole, so that a filter can match it, and masked when an entry
/// is shown (`control::wire`).
#[derive(Clone, Debug)]
pub(crate) struct RequestRecord {
    pub at: Timestamp,
    pub method: String,
    pub path: String,
    pub query: String,
    pub provider: &'static str,
    pub operation: &'static str,
    /// The account the request named (whole: it is masked when shown).
    pub account: Option<String>,
    pub status: u16,
    pub duration_us: u64,
}

impl ByteSize for RequestRecord {
    /// Calibrated against RSS: ~530 bytes for a typical entry, the journal's index included.
    fn bytes(&self) -> usize {
        376 + self.method.len() + self.path.len() + self.query.len() + self.account.as_ref().map_or(0, String::len)
    }
}

/// `query` with the values of the parameters named in `secret` replaced by `[redacted]`.
pub(crate) fn redact_query(query: &str, secret: &[&str]) -> String {
    if query.is_empty() {
        return String::new();
    }
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if secret.contains(&name) => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    impl ByteSize for u32 {
        fn bytes(&self) -> usize {
            36
        }
    }

    fn all(j: &Journal<u32>) -> Vec<u32> {
        j.page(None, None, 100, |_| true).0.into_iter().map(|(_, e)| e).collect()
    }

    #[test]
    fn each_account_keeps_its_newest_entries() {
        let mut j = Journal::new(2, 1 << 20);
        for n in 1..=3 {
            j.push("A", n);
        }
        j.push("B", 10);
        assert_eq!(all(&j), [10, 3, 2]);
        j.reset(Some("A"));
        assert_eq!(all(&j), [10]);
    }

    #[test]
    fn the_byte_cap_drops_the_oldest_of_any_account() {
        let mut j = Journal::new(1000, 3 * 100);
        for n in 1..=5 {
            j.push(if n % 2 == 0 { "A" } else { "B" }, n);
        }
        assert_eq!(all(&j), [5, 4, 3]);
        assert!(j.bytes() <= 300);
        assert_eq!(j.page(Some("A"), None, 10, |_| true).0.len(), 1);
    }

    #[test]
    fn pages_continue_below_a_cursor() {
        let mut j = Journal::new(100, 1 << 20);
        for n in 1..=5 {
            j.push("A", n);
        }
        let (first, next) = j.page(Some("A"), None, 2, |_| true);
        assert_eq!(first.iter().map(|(_, e)| *e).collect::<Vec<_>>(), [5, 4]);
        let (second, next) = j.page(Some("A"), next, 2, |_| true);
        assert_eq!(second.iter().map(|(_, e)| *e).collect::<Vec<_>>(), [3, 2]);
        let (third, next) = j.page(None, next, 2, |_| true);
        assert_eq!((third.len(), next), (1, None));
    }

    #[test]
    fn secrets_in_queries_are_redacted() {
        assert_eq!(redact_query("number=49&p=KEY&callback=", &["p"]), "number=49&p=[redacted]&callback=");
        assert_eq!(redact_query("", &["p"]), "");
    }
}
