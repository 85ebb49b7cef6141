//! The person on the phone: picks up a ringing call (keying a validation call's code in, or
//! answering an outbound call), lets it ring out or be busy, or hangs up an answered call. The
//! control plane (`/_mock/calls/{id}/answer`, `/hangup`) plays them.

use super::model::{Call, CallState, CallStatus, EndedBy, EnteredBy, Verification, VerificationState};
use super::time::Timestamp;
use super::{Core, CoreError, Tx};

/// What the person on the phone does when the call rings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pickup {
    /// Picks up (an outbound call; a validation call waits for digits).
    Answer,
    /// Picks up and keys in these digits.
    Digits(String),
    /// Never picks up: the call ends with this status (busy, no-answer, failed).
    Unanswered(CallStatus),
}

/// Why the person cannot pick up a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickupError {
    NotFound,
    /// A code the application submits itself (Plivo, Telnyx), not one keyed in on a call.
    NotACall,
    /// The call waits for its `CallDelay` and rings at this time.
    NotRinging(Timestamp),
    /// The call already ended, in this state (its verification's, or its own).
    Ended(&'static str),
    /// A validation call waits for the code's digits, not for a bare pick-up.
    NeedsDigits,
    /// The outbound call is answered already.
    AlreadyAnswered,
    /// The outbound call is not answered (it is in this state): nobody can hang it up.
    NotAnswered(&'static str),
    /// The state file cannot be written (the cause).
    NotSaved(std::sync::Arc<str>),
}

/// What the person's answer reached.
#[derive(Clone, Debug)]
pub enum PickedUp {
    /// A validation call: its verification as the call left it.
    Validation(Verification),
    /// An outbound call, as it now is.
    Call(Call),
}

impl Core {
    /// Plays the person on the phone for a ringing validation call (found by its id in any
    /// account); returns the verification as the call left it.
    pub fn pick_up(&self, id: &str, pickup: Pickup) -> Result<PickedUp, PickupError> {
        self.transact(|tx| {
            if let Err(CoreError::NotSaved(cause)) = tx.writable() {
                return Err(PickupError::NotSaved(cause));
            }
            if let Some(seq) = tx.store().call_seq(id) {
                return tx.pick_up_call(seq, pickup).map(PickedUp::Call);
            }
            let seq = tx.store().seq_of(id).ok_or(PickupError::NotFound)?;
            let v = tx.store().verification(seq).ok_or(PickupError::NotFound)?;
            if v.entered_by != EnteredBy::Keypad {
                return Err(PickupError::NotACall);
            }
            if v.state != VerificationState::Pending {
                return Err(PickupError::Ended(v.state.as_str()));
            }
            if v.call_status.is_none() {
                return Err(PickupError::NotRinging(v.rings_at.unwrap_or(tx.now)));
            }
            match pickup {
                Pickup::Digits(digits) => {
                    let right = digits == v.code;
                    tx.state.store.update_verification(seq, |v| v.attempts += 1);
                    tx.end_call(seq, CallStatus::Completed, right);
                }
                Pickup::Unanswered(status) => tx.end_call(seq, status, false),
                Pickup::Answer => return Err(PickupError::NeedsDigits),
            }
            Ok(PickedUp::Validation(tx.store().verification(seq).cloned().expect("the call is still stored")))
        })
    }

    /// Plays the person hanging up an answered outbound call (found by its id in any account).
    pub fn hang_up_as_person(&self, id: &str) -> Result<Call, PickupError> {
        self.transact(|tx| {
            if let Err(CoreError::NotSaved(cause)) = tx.writable() {
                return Err(PickupError::NotSaved(cause));
            }
            let seq = tx.store().call_seq(id).ok_or(PickupError::NotFound)?;
            let state = tx.store().call(seq).map(|c| c.state).ok_or(PickupError::NotFound)?;
            if state != CallState::InProgress {
                return Err(PickupError::NotAnswered(state.as_str()));
            }
            tx.end_call_by(seq, CallState::Completed, EndedBy::Callee);
            Ok(tx.store().call(seq).cloned().expect("still stored"))
        })
    }
}

impl Tx<'_> {
    /// The person picks up (or does not) the ringing outbound call `seq`.
    fn pick_up_call(&mut self, seq: u64, pickup: Pickup) -> Result<Call, PickupError> {
        let c = self.store().call(seq).ok_or(PickupError::NotFound)?;
        match c.state {
            CallState::Queued => return Err(PickupError::NotRinging(c.rings_at)),
            CallState::Ringing => {}
            CallState::InProgress => return Err(PickupError::AlreadyAnswered),
            ended => return Err(PickupError::Ended(ended.as_str())),
        }
        match pickup {
            Pickup::Answer | Pickup::Digits(_) => self.answer_call(seq),
            Pickup::Unanswered(status) => {
                let state = match status {
                    CallStatus::Busy => CallState::Busy,
                    CallStatus::NoAnswer => CallState::NoAnswer,
                    _ => CallState::Failed,
                };
                self.end_call_by(seq, state, EndedBy::Callee)
            }
        }
        Ok(self.store().call(seq).cloned().expect("still stored"))
    }
}
