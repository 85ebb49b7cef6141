//! `Core::import`: a state file checked and converted whole, then applied under one lock hold
//! (a file that does not fit the caps, or names an id twice, changes nothing).

use std::collections::HashSet;

use super::calls::call_from;
use super::{StateFile, caller_from, number, time, verification_from};
use crate::core::model::{AccountKey, Call, CallerId, Verification, VerificationState};
use crate::core::time::Timestamp;
use crate::core::{Change, Core};

/// A state file checked and converted, ready to apply.
struct Parsed {
    accounts: Vec<(AccountKey, Option<String>)>,
    owned: Vec<(AccountKey, String)>,
    callers: Vec<(AccountKey, CallerId)>,
    verifications: Vec<Verification>,
    calls: Vec<Call>,
    /// The entries keep the numbers the file gives them.
    keep: bool,
}

impl Core {
    /// Loads a state file. With `replace`, everything there was goes first (and a frozen
    /// clock takes the file's reading); otherwise the file's accounts are added on top.
    /// A file that does not fit the caps, or names an id twice, changes nothing. Returns how
    /// many caller IDs, verifications and calls were loaded.
    pub fn import(&self, file: StateFile, replace: bool) -> Result<usize, String> {
        // A clock that is not a time is refused, whether or not it would be applied.
        let read = match &file.clock {
            Some(c) => time(&Some(c.now.clone()), "clock.now")?,
            None => None,
        };
        let frozen = self.clock.is_frozen();
        let clock = read.filter(|_| replace && frozen);
        let parsed = self.parse(file, clock.unwrap_or_else(|| self.clock.now()), replace)?;
        let loaded = parsed.callers.len() + parsed.verifications.len() + parsed.calls.len();
        self.transact(|tx| -> Result<(), String> {
            let existing = if replace { 0 } else { tx.store().bytes() };
            let bytes: usize = parsed.callers.iter().map(|(_, c)| c.bytes()).sum::<usize>()
                + parsed.verifications.iter().map(Verification::bytes).sum::<usize>()
                + parsed.calls.iter().map(Call::bytes).sum::<usize>()
                + parsed.owned.iter().map(|(_, n)| 96 + n.len()).sum::<usize>();
            let cap = tx.core.options.max_state_bytes;
            if existing + bytes > cap {
                return Err(format!(
                    "the state needs about {} bytes; --max-state-bytes allows {cap}",
                    existing + bytes
                ));
            }
            let pending = parsed.verifications.iter().filter(|v| v.state == VerificationState::Pending).count();
            let pending_now = if replace { 0 } else { tx.store().pending() };
            if pending + pending_now > tx.core.options.max_pending {
                return Err(format!(
                    "the state has {} pending verifications; --max-pending allows {}",
                    pending + pending_now,
                    tx.core.options.max_pending
                ));
            }
            let in_use = parsed.verifications.iter().find(|v| tx.store().seq_of(&v.id).is_some());
            if let (false, Some(v)) = (replace, in_use) {
                return Err(format!("verification id {:?} is already in use", v.id));
            }
            let in_use = parsed.calls.iter().find(|c| tx.store().call_seq(&c.id).is_some());
            if let (false, Some(c)) = (replace, in_use) {
                return Err(format!("call id {:?} is already in use", c.id));
            }
            if replace {
                tx.state.store.reset(None);
                tx.log(|| Change::Reset { account: None });
                if let Some(to) = clock {
                    let before = tx.core.clock.now();
                    tx.core.clock.reset_to(to);
                    tx.state.store.note_clock(i128::from(to.as_nanos()) - i128::from(before.as_nanos()));
                    tx.log(|| Change::Clock { now: to, frozen });
                }
            }
            for (key, auth_token) in parsed.accounts {
                let store = &mut tx.state.store;
                let auth_token = auth_token.or_else(|| store.namespace(&key).and_then(|ns| ns.auth_token.clone()));
                store.set_account(&key, true, auth_token.clone());
                tx.log(|| Change::Account { key, declared: true, auth_token });
            }
            for (key, number) in parsed.owned {
                if tx.state.store.set_owned(&key, &number, true) {
                    tx.log(|| Change::Owned { key, number, owned: true });
                }
            }
            for (key, mut c) in parsed.callers {
                if !parsed.keep {
                    c.seq = tx.state.store.next_seq();
                }
                tx.put_caller(&key, c);
            }
            for mut v in parsed.verifications {
                if !parsed.keep {
                    v.seq = tx.state.store.next_seq();
                }
                let seq = v.seq;
                tx.state.store.insert_verification(v);
                tx.log_verification(seq);
            }
            for mut c in parsed.calls {
                if !parsed.keep {
                    c.seq = tx.state.store.next_seq();
                }
                let seq = c.seq;
                tx.state.store.insert_call(c);
                tx.log_call(seq);
            }
            Ok(())
        })?;
        self.tick();
        Ok(loaded)
    }

    /// Checks and converts every entry, numbering them, before anything changes.
    fn parse(&self, file: StateFile, now: Timestamp, replace: bool) -> Result<Parsed, String> {
        let names = self.facts.names();
        let mut accounts = Vec::with_capacity(file.accounts.len());
        let (mut owned, mut callers, mut verifications, mut calls) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut ids, mut call_ids) = (HashSet::new(), HashSet::new());
        for (i, a) in file.accounts.into_iter().enumerate() {
            let provider = names
                .iter()
                .find(|n| **n == a.provider)
                .ok_or_else(|| format!("accounts[{i}]: unknown provider {:?}; one of {names:?}", a.provider))?;
            let key = AccountKey::new(provider, &a.account);
            for (j, c) in a.caller_ids.into_iter().enumerate() {
                let id = c.id.clone().unwrap_or_else(|| self.facts.caller_id_id(provider, &self.ids));
                let c = caller_from(c, id, now).map_err(|e| format!("accounts[{i}].caller_ids[{j}]: {e}"))?;
                callers.push((key.clone(), c));
            }
            for (j, v) in a.verifications.into_iter().enumerate() {
                let v =
                    verification_from(&key, v, now).map_err(|e| format!("accounts[{i}].verifications[{j}]: {e}"))?;
                if !ids.insert(v.id.clone()) {
                    return Err(format!("accounts[{i}].verifications[{j}]: id {:?} appears twice", v.id));
                }
                verifications.push(v);
            }
            for (j, n) in a.owned_numbers.iter().enumerate() {
                let n = number(n).map_err(|e| format!("accounts[{i}].owned_numbers[{j}]: {e}"))?;
                owned.push((key.clone(), n.e164));
            }
            for (j, c) in a.calls.into_iter().enumerate() {
                let c = call_from(&key, c, now).map_err(|e| format!("accounts[{i}].calls[{j}]: {e}"))?;
                if !call_ids.insert(c.id.clone()) {
                    return Err(format!("accounts[{i}].calls[{j}]: id {:?} appears twice", c.id));
                }
                calls.push(c);
            }
            accounts.push((key, a.auth_token));
        }
        callers.sort_by_key(|(_, c)| (c.seq, c.created_at));
        verifications.sort_by_key(|v| (v.seq, v.issued_at));
        calls.sort_by_key(|c| (c.seq, c.created_at));
        // A whole state whose entries all carry distinct numbers keeps them (so an export of the
        // import is the same file); otherwise entries are numbered afresh, in the order the
        // file gives, after every number in use.
        let mut given: Vec<u64> = callers
            .iter()
            .map(|(_, c)| c.seq)
            .chain(verifications.iter().map(|v| v.seq))
            .chain(calls.iter().map(|c| c.seq))
            .collect();
        given.sort_unstable();
        let keep = replace && given.last() != Some(&u64::MAX) && given.windows(2).all(|w| w[0] < w[1]);
        Ok(Parsed { accounts, owned, callers, verifications, calls, keep })
    }
}
