//! Codes: issue one, check one, and the validation call that carries or takes it.
//!
//! A code is entered either by the user's application through the API ([`EnteredBy::Api`]: Plivo,
//! Telnyx) or by the person on the phone during a validation call ([`EnteredBy::Keypad`]: Twilio,
//! seven). A code sent by a call rings first: a keypad call then waits for its digits (the
//! control plane, `--auto-answer` or a magic number answers it); a call that only reads the code
//! out is answered when it rings, unless a magic number makes it busy, unanswered or failed.

use std::time::Duration;

use super::magic::{self, Magic};
use super::model::{
    AccountKey, Attributes, CallStatus, CallbackSpec, CallerId, Channel, EnteredBy, Verification, VerificationState,
};
use super::phone::Number;
use super::timers::Event;
use super::{Change, Core, CoreError, Limit, Notice, Tx, codes::WaitKey};

/// What a provider asks for when it sends a code; made by [`NewVerification::submitted`] or
/// [`NewVerification::keyed_in`], then shaped with the `with_*` methods.
#[derive(Clone, Debug)]
pub struct NewVerification {
    key: AccountKey,
    id: String,
    /// E.164, and its ISO country (`""` when shared).
    phone_number: String,
    country: String,
    label: String,
    attributes: Attributes,
    channel: Channel,
    entered_by: EnteredBy,
    code: String,
    /// How long the code stays valid: from now for a code the application submits, from when
    /// it rings for a code keyed in during a call (how long the call rings).
    ttl: Duration,
    /// For a code sent by a call: how long after now it rings.
    rings_after: Option<Duration>,
    /// Who to tell when the call ends, and the secret that signs it.
    callback: Option<CallbackSpec>,
}

impl NewVerification {
    /// A code sent by SMS that the application submits through the API (Plivo, Telnyx), valid
    /// for `ttl` from now.
    pub fn submitted(key: AccountKey, id: String, number: Number, code: String, ttl: Duration) -> NewVerification {
        NewVerification {
            key,
            id,
            phone_number: number.e164,
            country: number.country,
            label: String::new(),
            attributes: Attributes::default(),
            channel: Channel::Sms,
            entered_by: EnteredBy::Api,
            code,
            ttl,
            rings_after: None,
            callback: None,
        }
    }

    /// A validation call that rings after `rings_after` and, for `ring_timeout`, waits for the
    /// person to key the code in (Twilio, seven).
    pub fn keyed_in(
        key: AccountKey,
        id: String,
        number: Number,
        code: String,
        rings_after: Duration,
        ring_timeout: Duration,
    ) -> NewVerification {
        NewVerification {
            channel: Channel::Call,
            entered_by: EnteredBy::Keypad,
            rings_after: Some(rings_after),
            ..NewVerification::submitted(key, id, number, code, ring_timeout)
        }
    }

    /// The code is read out by a call that rings at once (instead of an SMS); the application
    /// still submits it.
    pub fn read_out_by_call(self) -> NewVerification {
        NewVerification { channel: Channel::Call, rings_after: Some(Duration::ZERO), ..self }
    }

    pub fn with_label(self, label: String) -> NewVerification {
        NewVerification { label, ..self }
    }

    pub fn with_attributes(self, attributes: Attributes) -> NewVerification {
        NewVerification { attributes, ..self }
    }

    /// Who to tell when the validation call ends.
    pub fn with_callback(self, callback: Option<CallbackSpec>) -> NewVerification {
        NewVerification { callback, ..self }
    }
}

/// How the application names the verification its code belongs to.
#[derive(Clone, Copy, Debug)]
pub enum CodeLookup<'a> {
    /// By the verification's id (Plivo's `verification_uuid`).
    Id(&'a str),
    /// The newest verification of this number in the account (Telnyx).
    Number(&'a str),
}

impl Core {
    /// Sends a code: records a pending verification and schedules it. A pending verification
    /// of the same number in the same account is superseded.
    pub fn start_verification(&self, new: NewVerification) -> Result<Verification, CoreError> {
        let v = self.transact(|tx| tx.start_verification(new))?;
        tracing::info!(provider = v.key.provider, id = ?v.id, number = %v.phone_number,
            channel = v.channel.as_str(), "code issued");
        Ok(v)
    }

    /// Checks a code the application submits; `max_wrong` wrong codes fail the verification for
    /// good. The right one makes the number a caller ID (whose id is the verification's) and
    /// returns both.
    pub fn check_code(
        &self,
        key: &AccountKey,
        lookup: CodeLookup,
        code: &str,
        max_wrong: u32,
    ) -> Result<(Verification, CallerId), CoreError> {
        self.transact(|tx| tx.check_code(key, lookup, code, max_wrong))
    }
}

impl Tx<'_> {
    pub(super) fn start_verification(&mut self, new: NewVerification) -> Result<Verification, CoreError> {
        self.writable()?;
        let magic = magic::lookup(&new.phone_number);
        let key = new.key.clone();
        if magic == Some(Magic::AlreadyVerified) && self.caller_of(&key, &new.phone_number).is_none() {
            let id = self.core.facts.caller_id_id(key.provider, &self.core.ids);
            let caller = CallerId::new(id, &new.phone_number, &new.country, &new.label, &new.attributes, self.now);
            self.make_room(caller.bytes())?;
            let caller = CallerId { seq: self.state.store.next_seq(), ..caller };
            self.put_caller(&key, caller);
        }
        if self.caller_of(&key, &new.phone_number).is_some_and(CallerId::verified) {
            return Err(CoreError::AlreadyVerified);
        }
        let superseded = self
            .state
            .store
            .namespace(&key)
            .and_then(|ns| ns.latest_for(&new.phone_number))
            .filter(|&seq| self.store().verification(seq).is_some_and(|v| v.state == VerificationState::Pending));
        if superseded.is_none() && self.state.store.pending() >= self.core.options.max_pending {
            return Err(self.at_cap(Limit::Pending));
        }
        let rings_at = new.rings_after.map(|d| self.now.saturating_add(d));
        let ttl = if magic == Some(Magic::ExpiresAtOnce) { Duration::ZERO } else { new.ttl };
        let expires_from = match new.entered_by {
            EnteredBy::Api => self.now,
            EnteredBy::Keypad => rings_at.unwrap_or(self.now),
        };
        let mut v = Verification {
            seq: 0,
            key: key.clone(),
            id: new.id,
            phone_number: new.phone_number,
            country: new.country,
            label: new.label,
            attributes: new.attributes,
            channel: new.channel,
            entered_by: new.entered_by,
            code: new.code,
            state: VerificationState::Pending,
            issued_at: self.now,
            expires_at: Some(expires_from.saturating_add(ttl)),
            attempts: 0,
            rings_at,
            call_status: None,
            callback: new.callback,
            caller_id: None,
            finished_at: None,
        };
        self.make_room(v.bytes())?;
        if let Some(old) = superseded {
            self.finish(old, VerificationState::Superseded);
        }
        v.seq = self.state.store.next_seq();
        let seq = v.seq;
        self.state.store.insert_verification(v);
        self.log_verification(seq);
        self.issued.extend([
            WaitKey::Number(self.store().verification(seq).map(|v| v.phone_number.clone()).unwrap_or_default()),
            WaitKey::Account(key.account.to_string()),
            WaitKey::Any,
        ]);
        Ok(self.store().verification(seq).cloned().expect("just inserted"))
    }

    fn check_code(
        &mut self,
        key: &AccountKey,
        lookup: CodeLookup,
        code: &str,
        max_wrong: u32,
    ) -> Result<(Verification, CallerId), CoreError> {
        self.writable()?;
        let seq = match lookup {
            CodeLookup::Id(id) => self.store().seq_of(id),
            CodeLookup::Number(number) => self.store().namespace(key).and_then(|ns| ns.latest_for(number)),
        }
        .ok_or(CoreError::NotFound)?;
        let v = self.store().verification(seq).filter(|v| &v.key == key).ok_or(CoreError::NotFound)?;
        if v.entered_by != EnteredBy::Api {
            return Err(CoreError::NotFound);
        }
        match v.state {
            VerificationState::Pending => {}
            VerificationState::Verified => return Err(CoreError::AlreadyVerified),
            VerificationState::Expired => return Err(CoreError::Expired),
            VerificationState::Failed => return Err(CoreError::Failed),
            VerificationState::Superseded => return Err(CoreError::Superseded),
        }
        if v.code != code {
            let attempts = v.attempts + 1;
            self.state.store.update_verification(seq, |v| v.attempts = attempts);
            let remaining = max_wrong.saturating_sub(attempts);
            if remaining == 0 {
                self.finish(seq, VerificationState::Failed);
                tracing::info!(provider = key.provider, id = ?id_of(self, seq), "verification failed: too many wrong codes");
                return Err(CoreError::Failed);
            }
            self.log_verification(seq);
            return Err(CoreError::WrongCode { remaining });
        }
        let caller = match self.caller_of(key, &v.phone_number) {
            Some(c) if c.verified() => return Err(CoreError::AlreadyVerified),
            // A record awaiting this verification (SignalWire's) becomes the caller ID.
            Some(awaiting) => CallerId { verified_at: Some(self.now), updated_at: self.now, ..awaiting.clone() },
            None => {
                let caller =
                    CallerId::new(v.id.clone(), &v.phone_number, &v.country, &v.label, &v.attributes, self.now);
                // The verification held this room since it was issued; it is released below.
                self.make_room(caller.bytes().saturating_sub(v.reserved()))?;
                CallerId { seq: self.state.store.next_seq(), ..caller }
            }
        };
        let caller_id = caller.id.clone();
        self.state.store.update_verification(seq, |v| {
            v.attempts += 1;
            v.caller_id = Some(caller_id);
        });
        self.finish(seq, VerificationState::Verified);
        self.put_caller(key, caller.clone());
        tracing::info!(provider = key.provider, number = %caller.phone_number, "verified");
        let v = self.store().verification(seq).cloned().expect("still stored");
        Ok((v, caller))
    }

    /// Ends a pending validation call with `status`; `verified` makes its number a caller ID
    /// (unless it already is one, or there is no room: then the call fails).
    pub(super) fn end_call(&mut self, seq: u64, status: CallStatus, verified: bool) {
        let Some(v) = self.store().verification(seq).cloned() else { return };
        let key = v.key.clone();
        let already = self.caller_of(&key, &v.phone_number).is_some();
        let mut made = None;
        if verified && !already {
            let id = self.core.facts.caller_id_id(key.provider, &self.core.ids);
            let caller = CallerId::new(id, &v.phone_number, &v.country, &v.label, &v.attributes, self.now);
            // The room the verification held since it was issued (released as it finishes).
            if self.make_room(caller.bytes().saturating_sub(v.reserved())).is_ok() {
                made = Some(CallerId { seq: self.state.store.next_seq(), ..caller });
            }
        }
        let caller_id = made.as_ref().map(|c| c.id.clone());
        self.state.store.update_verification(seq, |v| {
            v.call_status = Some(status);
            v.caller_id = caller_id;
        });
        match made {
            Some(caller) => {
                tracing::info!(provider = key.provider, number = %caller.phone_number, "verified");
                self.finish(seq, VerificationState::Verified);
                self.put_caller(&key, caller);
            }
            None => {
                tracing::info!(provider = key.provider, id = ?v.id, status = status.as_str(), "call ended without verification");
                self.finish(seq, VerificationState::Failed);
            }
        }
        let ended = self.store().verification(seq).cloned().expect("still stored");
        if ended.callback.is_some() {
            self.notices.push(Notice::ValidationEnded(ended));
        }
    }

    /// Moves a pending verification to a final state (its timer goes with it) and logs it.
    pub(super) fn finish(&mut self, seq: u64, state: VerificationState) {
        let now = self.now;
        self.state.store.update_verification(seq, |v| {
            v.state = state;
            v.finished_at = Some(now);
        });
        self.log_verification(seq);
    }

    /// Runs up to `max` timer events that fell due; returns how many ran.
    /// While the state file cannot be written nothing changes: events wait until it can.
    pub(super) fn run_due(&mut self, max: usize) -> usize {
        if self.writable().is_err() {
            return 0;
        }
        let mut ran = 0;
        while ran < max {
            let Some((due, seq, event)) = self.state.store.pop_due(self.now) else { break };
            ran += 1;
            match event {
                Event::Ring => self.ring(seq),
                Event::Expire => self.expire(seq),
                call_event => {
                    // A call moves at the time its event fell due, so its timeline and duration
                    // are exact however far the clock jumped past it.
                    let now = std::mem::replace(&mut self.now, due);
                    self.call_event(seq, call_event);
                    self.now = now;
                }
            }
        }
        ran
    }

    /// A call rings: magic numbers end it at once; a call that reads a code out is answered;
    /// a keypad call waits for its digits unless it answers itself.
    fn ring(&mut self, seq: u64) {
        let Some(v) = self.store().verification(seq) else { return };
        let (entry, magic) = (v.entered_by, magic::lookup(&v.phone_number));
        let unanswered = match magic {
            Some(Magic::Busy) => Some(CallStatus::Busy),
            Some(Magic::NoAnswer) => Some(CallStatus::NoAnswer),
            Some(Magic::CallFails) => Some(CallStatus::Failed),
            _ => None,
        };
        if let Some(status) = unanswered {
            self.state.store.update_verification(seq, |v| v.call_status = Some(CallStatus::Ringing));
            return self.end_call(seq, status, false);
        }
        if entry == EnteredBy::Api {
            self.state.store.update_verification(seq, |v| v.call_status = Some(CallStatus::Completed));
            return self.log_verification(seq);
        }
        self.state.store.update_verification(seq, |v| v.call_status = Some(CallStatus::Ringing));
        if magic == Some(Magic::AutoAnswer) || self.core.options.auto_answer {
            tracing::info!(id = ?id_of(self, seq), "call answered by itself");
            return self.end_call(seq, CallStatus::Completed, true);
        }
        self.log_verification(seq);
    }

    /// A code's time ran out; a keypad call still ringing ends unanswered.
    fn expire(&mut self, seq: u64) {
        let Some(v) = self.store().verification(seq) else { return };
        if v.entered_by == EnteredBy::Keypad && v.call_status == Some(CallStatus::Ringing) {
            tracing::info!(id = ?v.id, "call not answered");
            return self.end_call(seq, CallStatus::NoAnswer, false);
        }
        tracing::info!(provider = v.key.provider, id = ?v.id, "code expired");
        self.finish(seq, VerificationState::Expired);
    }

    pub(super) fn caller_of(&self, key: &AccountKey, number: &str) -> Option<&CallerId> {
        self.store().namespace(key)?.caller_by_number(number)
    }

    /// Adds (or replaces) a caller ID and logs it.
    pub(super) fn put_caller(&mut self, key: &AccountKey, caller: CallerId) {
        let number = caller.phone_number.clone();
        self.state.store.put_caller_id(key, caller);
        self.log_caller(key, &number);
    }

    /// Logs the verification `seq` as it is now.
    pub(super) fn log_verification(&mut self, seq: u64) {
        self.changed = true;
        if let (Some(log), Some(v)) = (self.state.log.as_mut(), self.state.store.verification(seq)) {
            log.push(Change::Verification(v.clone()), self.core.ids.position(), self.state.store.seq());
        }
    }

    /// Logs the caller ID of `number` in `key` as it is now.
    pub(super) fn log_caller(&mut self, key: &AccountKey, number: &str) {
        self.changed = true;
        let Some(log) = self.state.log.as_mut() else { return };
        let seq = self.state.store.seq();
        let change = match self.state.store.namespace(key).and_then(|ns| ns.caller_by_number(number)) {
            Some(c) => Change::CallerId { key: key.clone(), caller: c.clone() },
            None => Change::CallerIdRemoved { key: key.clone(), number: number.to_owned() },
        };
        log.push(change, self.core.ids.position(), seq);
    }
}

/// The provider's id of the verification `seq`, for the log.
fn id_of(tx: &Tx, seq: u64) -> String {
    tx.store().verification(seq).map(|v| v.id.clone()).unwrap_or_default()
}
