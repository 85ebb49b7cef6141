//! Codes and caller IDs: issue a code, check one, and read, change or delete caller IDs.

use std::time::Duration;

use super::magic::{self, Magic};
use super::store::{AccountKey, CallerId, Verification, VerificationState};
use super::timers::Event;
use super::{CodeFilter, Core, CoreError, MAX_WRONG_CODES, NewVerification, store};

impl Core {
    /// Sends a code: records a pending verification and schedules its expiry. A pending
    /// verification of the same number in the same account is superseded.
    pub fn start_verification(&self, key: &AccountKey, new: NewVerification) -> Result<Verification, CoreError> {
        let (mut state, now) = self.locked();
        let seq = state.store.next_seq();
        let magic = magic::lookup(&new.phone_number);
        let ns = state.store.namespace_mut(key);
        if magic == Some(Magic::AlreadyVerified) && !ns.caller_ids.contains_key(&new.phone_number) {
            let id = self.providers.caller_id_id(key.provider, &self.ids);
            let caller = CallerId {
                seq,
                id,
                phone_number: new.phone_number.clone(),
                country: new.country.clone(),
                label: new.label.clone(),
                subaccount: new.subaccount.clone(),
                requested_channel: new.requested_channel,
                created_at: now,
                updated_at: now,
            };
            ns.caller_ids.insert(caller.phone_number.clone(), caller);
            self.changed();
        }
        if ns.caller_ids.contains_key(&new.phone_number) {
            return Err(CoreError::AlreadyVerified);
        }
        for old in ns.verifications_mut() {
            if old.phone_number == new.phone_number && old.state == VerificationState::Pending {
                old.state = VerificationState::Superseded;
            }
        }
        let v = Verification {
            seq,
            id: new.id,
            phone_number: new.phone_number,
            country: new.country,
            label: new.label,
            subaccount: new.subaccount,
            requested_channel: new.requested_channel,
            channel: new.channel,
            code: new.code,
            state: VerificationState::Pending,
            issued_at: now,
            expires_at: None,
            attempts: 0,
            rings_at: new.rings_after.map(|d| now.saturating_add(d)),
            call_status: None,
            callback: new.callback,
            caller_id: None,
        };
        let mut v = v;
        let ttl = if magic == Some(Magic::ExpiresAtOnce) { Some(Duration::ZERO) } else { new.ttl };
        v.expires_at = ttl.map(|ttl| v.rings_at.unwrap_or(now).saturating_add(ttl));
        ns.insert_verification(v.clone());
        if let Some(at) = v.rings_at {
            state.timers.schedule(at, Event::Ring { key: key.clone(), id: v.id.clone() });
        }
        if let Some(at) = v.expires_at {
            state.timers.schedule(at, Event::Expire { key: key.clone(), id: v.id.clone() });
        }
        drop(state);
        self.changed();
        self.timer_wake.notify_one();
        self.issued.notify_waiters();
        tracing::info!(provider = key.provider, account = %key.account, id = %v.id,
            number = %v.phone_number, channel = v.channel.as_str(), "code issued");
        Ok(v)
    }

    /// Checks a code against a verification. The right one turns the number into a caller ID
    /// with id `caller_id` (the verification's own id when `None`) and returns it.
    pub fn check_code(
        &self,
        key: &AccountKey,
        id: &str,
        code: &str,
        caller_id: Option<String>,
    ) -> Result<CallerId, CoreError> {
        let (mut state, now) = self.locked();
        self.changed();
        let seq = state.store.next_seq();
        let ns = state.store.namespaces.get_mut(key).ok_or(CoreError::NotFound)?;
        let full = ns.caller_ids.len() >= store::MAX_CALLER_IDS_PER_ACCOUNT;
        let v = ns.verification_mut(id).ok_or(CoreError::NotFound)?;
        if v.is_call() {
            return Err(CoreError::NotFound);
        }
        match v.state {
            VerificationState::Pending => {}
            VerificationState::Verified => return Err(CoreError::AlreadyVerified),
            VerificationState::Expired => return Err(CoreError::Expired),
            VerificationState::Failed => return Err(CoreError::Failed),
            VerificationState::Superseded => return Err(CoreError::Superseded),
        }
        v.attempts += 1;
        if v.code != code {
            let remaining = MAX_WRONG_CODES.saturating_sub(v.attempts);
            if remaining == 0 {
                v.state = VerificationState::Failed;
                tracing::info!(provider = key.provider, id, "verification failed: too many wrong codes");
                return Err(CoreError::Failed);
            }
            return Err(CoreError::WrongCode { remaining });
        }
        if full {
            return Err(CoreError::LimitReached);
        }
        let caller = v.mark_verified(caller_id.unwrap_or_else(|| v.id.clone()), seq, now);
        ns.caller_ids.insert(caller.phone_number.clone(), caller.clone());
        tracing::info!(provider = key.provider, account = %key.account, number = %caller.phone_number, "verified");
        Ok(caller)
    }

    pub fn caller_id(&self, key: &AccountKey, number: &str) -> Option<CallerId> {
        let (state, _) = self.locked();
        state.store.namespace(key)?.caller_ids.get(number).cloned()
    }

    /// The number of the caller ID whose id is `id` (Twilio addresses caller IDs by SID).
    pub fn caller_id_number(&self, key: &AccountKey, id: &str) -> Option<String> {
        let (state, _) = self.locked();
        let ns = state.store.namespace(key)?;
        ns.caller_ids.values().find(|c| c.id == id).map(|c| c.phone_number.clone())
    }

    /// Every caller ID of an account, newest first.
    pub fn caller_ids(&self, key: &AccountKey) -> Vec<CallerId> {
        let (state, _) = self.locked();
        let mut all: Vec<CallerId> =
            state.store.namespace(key).map(|ns| ns.caller_ids.values().cloned().collect()).unwrap_or_default();
        all.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.seq)));
        all
    }

    /// Changes a caller ID's label and/or subaccount; `updated_at` moves.
    pub fn update_caller_id(
        &self,
        key: &AccountKey,
        number: &str,
        label: Option<String>,
        subaccount: Option<String>,
    ) -> Result<CallerId, CoreError> {
        let (mut state, now) = self.locked();
        let ns = state.store.namespaces.get_mut(key).ok_or(CoreError::NotFound)?;
        let c = ns.caller_ids.get_mut(number).ok_or(CoreError::NotFound)?;
        if let Some(label) = label {
            c.label = label;
        }
        if let Some(subaccount) = subaccount {
            c.subaccount = subaccount;
        }
        c.updated_at = now;
        self.changed();
        Ok(c.clone())
    }

    pub fn delete_caller_id(&self, key: &AccountKey, number: &str) -> Result<CallerId, CoreError> {
        let (mut state, _) = self.locked();
        let ns = state.store.namespaces.get_mut(key).ok_or(CoreError::NotFound)?;
        let removed = ns.caller_ids.remove(number).ok_or(CoreError::NotFound)?;
        self.changed();
        tracing::info!(provider = key.provider, account = %key.account, number, "caller ID deleted");
        Ok(removed)
    }

    /// Every code sent that matches `filter`, newest first, with its account.
    pub fn codes(&self, filter: &CodeFilter) -> Vec<(AccountKey, Verification)> {
        let (state, _) = self.locked();
        let mut out: Vec<(AccountKey, Verification)> = state
            .store
            .namespaces
            .iter()
            .filter(|(k, _)| filter.provider.as_deref().is_none_or(|p| p == k.provider))
            .filter(|(k, _)| filter.account.as_deref().is_none_or(|a| a == k.account))
            .flat_map(|(k, ns)| ns.verifications().map(move |v| (k, v)))
            .filter(|(_, v)| filter.number.as_deref().is_none_or(|n| n == v.phone_number))
            .filter(|(_, v)| filter.state.is_none_or(|s| s == v.state))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.sort_by_key(|(_, v)| std::cmp::Reverse(v.seq));
        out
    }
}
