//! Bounded journals, kept per account: each account holds at most `cap` entries and drops its
//! oldest past that, so one busy test never pushes another's history out. At most
//! [`MAX_ACCOUNTS`] accounts are kept (the least recently active goes first), so memory stays
//! bounded however many accounts a long run sees.

use std::collections::{HashMap, VecDeque};

use super::time::Timestamp;

/// Most accounts a journal keeps entries for.
pub const MAX_ACCOUNTS: usize = 1_000;

/// Entries of type `T` by account, each with a global sequence number.
#[derive(Debug)]
pub struct Journal<T> {
    cap: usize,
    next_id: u64,
    by_account: HashMap<String, VecDeque<(u64, T)>>,
}

impl<T: Clone> Journal<T> {
    pub fn new(cap: usize) -> Journal<T> {
        Journal { cap: cap.max(1), next_id: 0, by_account: HashMap::new() }
    }

    /// Adds an entry for `account` (`""` for none); returns its id.
    pub fn push(&mut self, account: &str, entry: T) -> u64 {
        if !self.by_account.contains_key(account) && self.by_account.len() >= MAX_ACCOUNTS {
            let stalest = self
                .by_account
                .iter()
                .min_by_key(|(_, list)| list.back().map_or(0, |(id, _)| *id))
                .map(|(a, _)| a.clone());
            if let Some(stalest) = stalest {
                self.by_account.remove(&stalest);
            }
        }
        self.next_id += 1;
        let list = self.by_account.entry(account.to_owned()).or_default();
        list.push_back((self.next_id, entry));
        if list.len() > self.cap {
            list.pop_front();
        }
        self.next_id
    }

    pub fn get_mut(&mut self, account: &str, id: u64) -> Option<&mut T> {
        let list = self.by_account.get_mut(account)?;
        list.iter_mut().rev().find(|(i, _)| *i == id).map(|(_, e)| e)
    }

    /// Every entry that `keep` accepts, newest first, with its id.
    pub fn list(&self, keep: impl Fn(&T) -> bool) -> Vec<(u64, T)> {
        let mut all: Vec<(u64, T)> =
            self.by_account.values().flat_map(|list| list.iter().filter(|(_, e)| keep(e)).cloned()).collect();
        all.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
        all
    }

    /// Forgets every entry, or one account's.
    pub fn reset(&mut self, account: Option<&str>) {
        match account {
            Some(account) => {
                self.by_account.remove(account);
            }
            None => self.by_account.clear(),
        }
    }
}

/// One request to a provider, as `GET /_mock/requests` shows it. Credentials never reach it:
/// headers are not kept, and secret query parameters are redacted.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub at: Timestamp,
    pub method: String,
    pub path: String,
    pub query: String,
    pub provider: &'static str,
    pub operation: &'static str,
    pub account: Option<String>,
    pub status: u16,
    pub duration_us: u64,
}

/// Query parameters whose values are replaced by `[redacted]`.
const SECRET_PARAMS: &[&str] = &["p", "auth_token", "AuthToken", "password", "token", "api_key"];

/// `query` with the values of secret parameters replaced.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET_PARAMS.contains(&name) => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_keeps_its_newest_cap_entries() {
        let mut j = Journal::new(2);
        for n in 1..=3 {
            j.push("A", n);
        }
        j.push("B", 10);
        let all: Vec<i32> = j.list(|_| true).into_iter().map(|(_, e)| e).collect();
        assert_eq!(all, [10, 3, 2]);
        j.reset(Some("A"));
        assert_eq!(j.list(|_| true).len(), 1);
    }

    #[test]
    fn the_least_recently_active_account_goes_first_past_the_account_cap() {
        let mut j = Journal::new(1);
        for n in 0..MAX_ACCOUNTS {
            j.push(&format!("A{n}"), n);
        }
        j.push("A0", 0); // A0 is active again, so A1 is now the stalest
        j.push("new", 1);
        let accounts: std::collections::HashSet<_> = j.by_account.keys().cloned().collect();
        assert_eq!(accounts.len(), MAX_ACCOUNTS);
        assert!(accounts.contains("A0") && accounts.contains("new") && !accounts.contains("A1"));
    }

    #[test]
    fn secrets_in_queries_are_redacted() {
        assert_eq!(redact_query("number=49&p=KEY&callback="), "number=49&p=[redacted]&callback=");
        assert_eq!(redact_query(""), "");
    }
}
