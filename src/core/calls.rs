//! Validation calls: the person on the phone answers (or doesn't), and the call ends.

use super::store::{AccountKey, CallStatus, Verification, VerificationState};
use super::time::Timestamp;
use super::{Core, Ended, State, store};

/// What the person on the phone does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Picks up and keys in these digits.
    Digits(String),
    /// Never picks up: the call ends with this status (busy, no-answer, failed).
    Unanswered(CallStatus),
}

/// Why a call can't be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerError {
    NotFound,
    /// A code the application submits (such as Plivo's), not a phone call.
    NotACall,
    /// The call waits for its `CallDelay` and rings at this time.
    NotRinging(Timestamp),
    /// The call already ended; its verification is in this state.
    Ended(VerificationState),
}

impl Core {
    /// Plays the person on the phone for a ringing validation call (found by its id in any
    /// account) and reports the call's end.
    pub fn answer_call(&self, id: &str, answer: Answer) -> Result<(AccountKey, Verification), AnswerError> {
        let (mut state, now) = self.locked();
        let key = state
            .store
            .namespaces
            .iter()
            .find(|(_, ns)| ns.verification(id).is_some())
            .map(|(k, _)| k.clone())
            .ok_or(AnswerError::NotFound)?;
        let v = state.store.namespaces[&key].verification(id).ok_or(AnswerError::NotFound)?;
        let rings_at = v.rings_at.ok_or(AnswerError::NotACall)?;
        if v.state != VerificationState::Pending {
            return Err(AnswerError::Ended(v.state));
        }
        if now < rings_at {
            return Err(AnswerError::NotRinging(rings_at));
        }
        let ended = match answer {
            Answer::Digits(digits) => {
                let right = digits == v.code;
                if let Some(v) = state.store.namespace_mut(&key).verification_mut(id) {
                    v.attempts += 1;
                }
                state.end_call(&key, id, CallStatus::Completed, right, now, self)
            }
            Answer::Unanswered(status) => state.end_call(&key, id, status, false, now, self),
        };
        drop(state);
        self.changed();
        let v = ended.as_ref().map(|e| e.verification.clone()).ok_or(AnswerError::NotFound)?;
        self.report(ended);
        Ok((key, v))
    }
}

impl State {
    /// Ends a pending validation call with `status`; `verified` turns its number into a
    /// caller ID. Returns the call to report.
    pub(super) fn end_call(
        &mut self,
        key: &AccountKey,
        id: &str,
        status: CallStatus,
        verified: bool,
        now: Timestamp,
        core: &Core,
    ) -> Option<Ended> {
        let seq = self.store.next_seq();
        let ns = self.store.namespaces.get_mut(key)?;
        let already = ns.verification(id).is_some_and(|v| ns.caller_ids.contains_key(&v.phone_number));
        let full = ns.caller_ids.len() >= store::MAX_CALLER_IDS_PER_ACCOUNT;
        let v = ns.verification_mut(id)?;
        v.call_status = Some(status);
        if verified && !already && !full {
            let caller = v.mark_verified(core.providers.caller_id_id(key.provider, &core.ids), seq, now);
            tracing::info!(provider = key.provider, account = %key.account, number = %caller.phone_number, "verified");
            let verification = v.clone();
            ns.caller_ids.insert(caller.phone_number.clone(), caller);
            return Some(Ended { key: key.clone(), verification });
        }
        v.state = VerificationState::Failed;
        tracing::info!(provider = key.provider, id, status = status.as_str(), "call ended without verification");
        Some(Ended { key: key.clone(), verification: v.clone() })
    }
}
