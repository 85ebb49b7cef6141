//! Per-account state: verified caller IDs and verifications (the codes "sent").
//!
//! The types here are provider-neutral: a provider maps its own names onto them (Plivo's
//! `alias` and Twilio's `friendly_name` are both a [`CallerId::label`]). The store is plain data
//! with no locking and no clock; [`super::Core`] holds it behind its mutex and passes `now` in.

use std::collections::{BTreeMap, HashMap};

use super::time::Timestamp;

/// Most verifications kept per account; the oldest finished ones are dropped past this.
pub const MAX_VERIFICATIONS_PER_ACCOUNT: usize = 1_000;
/// Most verified caller IDs per account; creating one more is refused.
pub const MAX_CALLER_IDS_PER_ACCOUNT: usize = 10_000;
/// Most accounts with state; past this the undeclared one that least recently had a code issued
/// is dropped.
pub const MAX_ACCOUNTS: usize = 10_000;

/// A namespace: the provider and the account the request named (Plivo `auth_id`, Twilio
/// `AccountSid`, seven API key).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    pub provider: &'static str,
    pub account: String,
}

impl AccountKey {
    pub fn new(provider: &'static str, account: impl Into<String>) -> AccountKey {
        AccountKey { provider, account: account.into() }
    }
}

/// How a code reaches the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Call,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Call => "call",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Sms, Channel::Call].into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a verification is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerificationState {
    /// Waiting for the code.
    Pending,
    /// The right code came back; the number is a verified caller ID.
    Verified,
    /// Its time ran out.
    Expired,
    /// Too many wrong codes, or the call failed.
    Failed,
    /// A newer verification of the same number replaced it.
    Superseded,
}

impl VerificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationState::Pending => "pending",
            VerificationState::Verified => "verified",
            VerificationState::Expired => "expired",
            VerificationState::Failed => "failed",
            VerificationState::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<VerificationState> {
        [Self::Pending, Self::Verified, Self::Expired, Self::Failed, Self::Superseded]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// How a validation call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// Answered; the person entered digits (right or wrong).
    Completed,
    Busy,
    NoAnswer,
    Failed,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Completed => "completed",
            CallStatus::Busy => "busy",
            CallStatus::NoAnswer => "no-answer",
            CallStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<CallStatus> {
        [Self::Completed, Self::Busy, Self::NoAnswer, Self::Failed].into_iter().find(|c| c.as_str() == s)
    }
}

/// Where and how to tell the user's application that a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackSpec {
    pub url: String,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The secret a provider signs the callback with (Twilio: the auth token), if any.
    pub signing_key: Option<String>,
}

/// A code that was "sent" and what became of it.
#[derive(Clone, Debug)]
pub struct Verification {
    /// Global creation order, for stable newest-first listings.
    pub seq: u64,
    /// The provider's id for it (Plivo `verification_uuid`, Twilio `CallSid`, …).
    pub id: String,
    pub phone_number: String,
    pub country: String,
    pub label: String,
    pub subaccount: String,
    /// The channel the request asked for, `None` when it left it to the default.
    pub requested_channel: Option<Channel>,
    /// The channel the code went out on.
    pub channel: Channel,
    pub code: String,
    pub state: VerificationState,
    pub issued_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// Codes tried so far, right or wrong.
    pub attempts: u32,
    /// For a validation call (the person enters the code on the phone): when it rings.
    pub rings_at: Option<Timestamp>,
    /// For a validation call that ended: how.
    pub call_status: Option<CallStatus>,
    /// Who to tell when the call ends.
    pub callback: Option<CallbackSpec>,
    /// The id of the caller ID this verification created.
    pub caller_id: Option<String>,
}

impl Verification {
    /// A validation call that is waiting for its answer, or will ring.
    pub fn is_call(&self) -> bool {
        self.rings_at.is_some()
    }

    /// Marks it verified and returns the caller ID it makes, with id `id`.
    pub fn mark_verified(&mut self, id: String, seq: u64, now: Timestamp) -> CallerId {
        self.state = VerificationState::Verified;
        self.caller_id = Some(id.clone());
        CallerId {
            seq,
            id,
            phone_number: self.phone_number.clone(),
            country: self.country.clone(),
            label: self.label.clone(),
            subaccount: self.subaccount.clone(),
            requested_channel: self.requested_channel,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A verified caller ID.
#[derive(Clone, Debug, PartialEq)]
pub struct CallerId {
    pub seq: u64,
    pub id: String,
    pub phone_number: String,
    pub country: String,
    pub label: String,
    pub subaccount: String,
    pub requested_channel: Option<Channel>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One account's state.
#[derive(Debug, Default)]
pub struct Namespace {
    /// Declared in fixtures or a state file: a known account for `--strict-auth`.
    pub declared: bool,
    /// When a code was last issued to it or it was loaded (a store sequence number), to pick
    /// what to drop at the cap.
    touched: u64,
    /// The token this account authenticates with, when known (fixtures, strict auth).
    pub auth_token: Option<String>,
    /// Verified caller IDs by E.164 number.
    pub caller_ids: BTreeMap<String, CallerId>,
    /// Verifications by `seq` (creation order), with an index by id.
    verifications: BTreeMap<u64, Verification>,
    by_id: HashMap<String, u64>,
}

impl Namespace {
    pub fn verification(&self, id: &str) -> Option<&Verification> {
        self.verifications.get(self.by_id.get(id)?)
    }

    pub fn verification_mut(&mut self, id: &str) -> Option<&mut Verification> {
        self.verifications.get_mut(self.by_id.get(id)?)
    }

    pub fn verifications(&self) -> impl DoubleEndedIterator<Item = &Verification> {
        self.verifications.values()
    }

    pub fn verifications_mut(&mut self) -> impl Iterator<Item = &mut Verification> {
        self.verifications.values_mut()
    }

    /// Adds `v`, dropping the oldest finished verifications past the cap.
    pub fn insert_verification(&mut self, v: Verification) {
        self.by_id.insert(v.id.clone(), v.seq);
        self.verifications.insert(v.seq, v);
        while self.verifications.len() > MAX_VERIFICATIONS_PER_ACCOUNT {
            let oldest_done = self
                .verifications
                .values()
                .find(|v| v.state != VerificationState::Pending)
                .or_else(|| self.verifications.values().next())
                .map(|v| (v.seq, v.id.clone()));
            let Some((seq, id)) = oldest_done else { break };
            self.verifications.remove(&seq);
            self.by_id.remove(&id);
        }
    }
}

/// Every namespace.
#[derive(Debug, Default)]
pub struct Store {
    pub namespaces: HashMap<AccountKey, Namespace>,
    next_seq: u64,
}

impl Store {
    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Makes every later sequence number greater than `seq`.
    pub fn skip_seq_past(&mut self, seq: u64) {
        self.next_seq = self.next_seq.max(seq);
    }

    pub fn namespace(&self, key: &AccountKey) -> Option<&Namespace> {
        self.namespaces.get(key)
    }

    /// The namespace of `key`, created if need be, marked as just used (codes are issued and
    /// state files loaded through here).
    pub fn namespace_mut(&mut self, key: &AccountKey) -> &mut Namespace {
        if !self.namespaces.contains_key(key) && self.namespaces.len() >= MAX_ACCOUNTS {
            let stalest = self.namespaces.iter().filter(|(_, ns)| !ns.declared).min_by_key(|(_, ns)| ns.touched);
            if let Some(stalest) = stalest.map(|(k, _)| k.clone()) {
                self.namespaces.remove(&stalest);
            }
        }
        let touched = self.next_seq;
        let ns = self.namespaces.entry(key.clone()).or_default();
        ns.touched = touched;
        ns
    }

    /// Empties every namespace, or those of one account name (any provider); returns how many.
    /// Declared accounts keep their credentials (they are configuration, not state).
    pub fn reset(&mut self, account: Option<&str>) -> usize {
        let doomed: Vec<AccountKey> =
            self.namespaces.keys().filter(|k| account.is_none_or(|a| k.account == a)).cloned().collect();
        for key in &doomed {
            let Some(old) = self.namespaces.remove(key) else { continue };
            if old.declared {
                let kept = Namespace { declared: true, auth_token: old.auth_token, ..Namespace::default() };
                self.namespaces.insert(key.clone(), kept);
            }
        }
        doomed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verification(seq: u64, state: VerificationState) -> Verification {
        Verification {
            seq,
            id: format!("v{seq}"),
            phone_number: "+12025551234".into(),
            country: "US".into(),
            label: String::new(),
            subaccount: String::new(),
            requested_channel: None,
            channel: Channel::Sms,
            code: "123456".into(),
            state,
            issued_at: Timestamp::from_nanos(0),
            expires_at: None,
            attempts: 0,
            rings_at: None,
            call_status: None,
            callback: None,
            caller_id: None,
        }
    }

    #[test]
    fn verification_history_is_capped_oldest_finished_first() {
        let mut ns = Namespace::default();
        ns.insert_verification(verification(1, VerificationState::Pending));
        for seq in 2..=(MAX_VERIFICATIONS_PER_ACCOUNT as u64 + 5) {
            ns.insert_verification(verification(seq, VerificationState::Expired));
        }
        assert_eq!(ns.verifications().count(), MAX_VERIFICATIONS_PER_ACCOUNT);
        assert!(ns.verification("v1").is_some(), "a pending one outlives finished ones");
        assert!(ns.verification("v2").is_none());
        assert!(ns.verification("v1005").is_some());
    }

    #[test]
    fn past_the_account_cap_the_least_recently_used_undeclared_account_goes() {
        let mut store = Store::default();
        store.namespace_mut(&AccountKey::new("plivo", "declared")).declared = true;
        for n in 1..MAX_ACCOUNTS {
            store.next_seq();
            store.namespace_mut(&AccountKey::new("plivo", format!("A{n}")));
        }
        store.next_seq();
        store.namespace_mut(&AccountKey::new("plivo", "A1")); // written again: no longer the stalest
        store.next_seq();
        store.namespace_mut(&AccountKey::new("plivo", "new"));
        assert_eq!(store.namespaces.len(), MAX_ACCOUNTS);
        for kept in ["declared", "A1", "new"] {
            assert!(store.namespace(&AccountKey::new("plivo", kept)).is_some(), "{kept}");
        }
        assert!(store.namespace(&AccountKey::new("plivo", "A2")).is_none());
    }

    #[test]
    fn reset_keeps_declared_credentials() {
        let mut store = Store::default();
        let key = AccountKey::new("twilio", "AC1");
        let ns = store.namespace_mut(&key);
        ns.declared = true;
        ns.auth_token = Some("t".into());
        ns.caller_ids.insert(
            "+1".into(),
            CallerId {
                seq: 1,
                id: "PN1".into(),
                phone_number: "+1".into(),
                country: String::new(),
                label: String::new(),
                subaccount: String::new(),
                requested_channel: None,
                created_at: Timestamp::from_nanos(0),
                updated_at: Timestamp::from_nanos(0),
            },
        );
        assert_eq!(store.reset(None), 1);
        let ns = store.namespace(&key).unwrap();
        assert!(ns.declared && ns.auth_token.as_deref() == Some("t") && ns.caller_ids.is_empty());
    }

    #[test]
    fn reset_of_one_account_keeps_the_others() {
        let mut store = Store::default();
        store.namespace_mut(&AccountKey::new("plivo", "MA1"));
        store.namespace_mut(&AccountKey::new("twilio", "MA1"));
        store.namespace_mut(&AccountKey::new("plivo", "MA2"));
        assert_eq!(store.reset(Some("MA1")), 2);
        assert!(store.namespace(&AccountKey::new("plivo", "MA2")).is_some());
        assert_eq!(store.reset(None), 1);
    }
}
