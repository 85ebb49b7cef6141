//! The state's entities, provider-neutral: a provider maps its own names onto them (Plivo's
//! `alias` and Twilio's `friendly_name` are both a [`CallerId::label`]). Each entry knows its
//! approximate size in memory, so the caps can bound bytes rather than counts.

use std::cmp::Reverse;
use std::sync::Arc;
use std::time::Duration;

use super::time::Timestamp;
use super::timers::Event;

/// A namespace: the provider and the account the request named (Plivo `auth_id`, Twilio
/// `AccountSid`, seven and Telnyx API key).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    pub provider: &'static str,
    pub account: Arc<str>,
}

impl AccountKey {
    pub fn new(provider: &'static str, account: &str) -> AccountKey {
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

/// Who enters the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnteredBy {
    /// The user's application submits it through the API (Plivo, Telnyx).
    Api,
    /// The person keys it in on the phone during the validation call (Twilio, seven).
    Keypad,
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
    /// Too many wrong codes, the call failed, or the caller ID that awaited it was deleted.
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

/// How a call ended (or, for a call that only reads a code out, that it was answered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// Still ringing.
    Ringing,
    /// Answered.
    Completed,
    Busy,
    NoAnswer,
    Failed,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Ringing => "ringing",
            CallStatus::Completed => "completed",
            CallStatus::Busy => "busy",
            CallStatus::NoAnswer => "no-answer",
            CallStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<CallStatus> {
        [Self::Ringing, Self::Completed, Self::Busy, Self::NoAnswer, Self::Failed].into_iter().find(|c| c.as_str() == s)
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

/// Named text a provider keeps with a verification or caller ID without the core knowing what
/// it means (a subaccount, a DTMF extension, the channel a request asked for). A verification's
/// attributes go to the caller ID it makes. Usually empty, then free.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes(Vec<(Box<str>, Box<str>)>);

impl Attributes {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| &**k == name).map(|(_, v)| &**v)
    }

    /// Sets `name`; an empty value removes it.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(k, _)| &**k != name);
        if !value.is_empty() {
            self.0.push((name.into(), value.into()));
            self.0.sort();
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    fn bytes(&self) -> usize {
        self.0.iter().map(|(k, v)| k.len() + v.len() + 32).sum()
    }
}

/// A code that was "sent" and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    /// Global creation order, for stable newest-first listings.
    pub seq: u64,
    pub key: AccountKey,
    /// The provider's id for it (Plivo `verification_uuid`, Twilio `CallSid`, …), unique in the store.
    pub id: String,
    pub phone_number: String,
    pub country: String,
    pub label: String,
    pub attributes: Attributes,
    /// The channel the code went out on.
    pub channel: Channel,
    pub entered_by: EnteredBy,
    pub code: String,
    pub state: VerificationState,
    pub issued_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// Codes tried so far, right or wrong.
    pub attempts: u32,
    /// For a code sent by a call: when it rings.
    pub rings_at: Option<Timestamp>,
    /// For a call: ringing, or how it ended.
    pub call_status: Option<CallStatus>,
    /// Who to tell when the call ends.
    pub callback: Option<CallbackSpec>,
    /// The id of the caller ID this verification created.
    pub caller_id: Option<String>,
    /// When it stopped being pending.
    pub finished_at: Option<Timestamp>,
}

impl Verification {
    /// Its one timer: a call not rung yet rings, anything else pending expires.
    pub fn timer(&self) -> Option<(Timestamp, Event)> {
        if self.state != VerificationState::Pending {
            return None;
        }
        match (self.rings_at, self.call_status, self.expires_at) {
            (Some(at), None, _) => Some((at, Event::Ring)),
            (_, _, Some(at)) => Some((at, Event::Expire)),
            _ => None,
        }
    }

    /// Approximate bytes it holds in the store, its indexes and the allocator's overhead
    /// included (calibrated against RSS: ~1,340 bytes for a typical pending one).
    pub fn bytes(&self) -> usize {
        const FIXED: usize = 1240;
        FIXED
            + self.key.account.len() / 8
            + 2 * self.id.len()
            + 2 * self.phone_number.len()
            + self.country.len()
            + self.label.len()
            + self.attributes.bytes()
            + self.code.len()
            + self.callback.as_ref().map_or(0, |c| 64 + c.url.len() + c.signing_key.as_ref().map_or(0, String::len))
            + self.caller_id.as_ref().map_or(0, String::len)
            + self.reserved()
    }

    /// The room a pending verification holds for the caller ID it becomes when it succeeds
    /// (counted in [`Verification::bytes`] while it is pending): a success never meets a full
    /// store, and a verification that could not become a caller ID is refused when issued.
    pub fn reserved(&self) -> usize {
        /// The longest caller-ID id of any provider, with room to spare (Twilio's is 34).
        const ID: usize = 64;
        match self.state {
            VerificationState::Pending => {
                CallerId::bytes_of(ID, &self.phone_number, &self.country, &self.label, &self.attributes)
            }
            _ => 0,
        }
    }
}

/// Where an outbound call is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallState {
    /// Placed, not ringing yet.
    Queued,
    Ringing,
    /// Answered, and going on.
    InProgress,
    /// Answered, and ended (by either side, or its time limit).
    Completed,
    Busy,
    /// Rang out unanswered.
    NoAnswer,
    Failed,
    /// Ended by the application before it was answered.
    Canceled,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Queued => "queued",
            CallState::Ringing => "ringing",
            CallState::InProgress => "in-progress",
            CallState::Completed => "completed",
            CallState::Busy => "busy",
            CallState::NoAnswer => "no-answer",
            CallState::Failed => "failed",
            CallState::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<CallState> {
        use CallState::*;
        [Queued, Ringing, InProgress, Completed, Busy, NoAnswer, Failed, Canceled].into_iter().find(|c| c.as_str() == s)
    }

    /// It ended: nothing more happens to it.
    pub fn is_final(self) -> bool {
        !matches!(self, CallState::Queued | CallState::Ringing | CallState::InProgress)
    }
}

/// Who or what ended a call: the providers report it each their own way (Plivo's hangup
/// source and cause, Telnyx's `hangup_source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndedBy {
    /// The application, through the provider's API (hang up, cancel).
    Application,
    /// The person called: hung up, rejected the call, was busy, or never picked up.
    Callee,
    /// Nobody picked up before the ring timeout.
    RingTimeout,
    /// The provider's limit on an answered call (the request's time limit).
    TimeLimit,
    /// The provider, on an error (a document it could not run: the call's `error`).
    Provider,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Application => "application",
            EndedBy::Callee => "callee",
            EndedBy::RingTimeout => "ring-timeout",
            EndedBy::TimeLimit => "time-limit",
            EndedBy::Provider => "provider",
        }
    }

    pub fn parse(s: &str) -> Option<EndedBy> {
        use EndedBy::*;
        [Application, Callee, RingTimeout, TimeLimit, Provider].into_iter().find(|e| e.as_str() == s)
    }
}

/// Why the provider ended a call (a document it could not run): its code and message, in the
/// provider's words (Twilio's `13214`, Plivo's text…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    pub code: String,
    pub message: String,
}

/// An outbound call placed through a provider's API, to the simulated person at `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Global creation order (shared with verifications and caller IDs).
    pub seq: u64,
    pub key: AccountKey,
    /// The provider's id for it (Twilio `CallSid`, Plivo `request_uuid`, …), unique in the store.
    pub id: String,
    /// E.164: the caller ID it presents, and the number it calls.
    pub from: String,
    pub to: String,
    pub state: CallState,
    pub created_at: Timestamp,
    /// When it starts ringing.
    pub rings_at: Timestamp,
    /// How long it rings unanswered before it ends `no-answer`.
    pub ring_timeout: Duration,
    /// When the person picks up by themselves (`--auto-answer`, a magic number), if they will.
    pub answers_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
    /// The provider's limit on how long an answered call lasts, if the request set one.
    pub time_limit: Option<Duration>,
    /// When an answered call ends by itself (its time limit, or the person hangs up).
    pub ends_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// Who or what ended it, once it ended.
    pub ended_by: Option<EndedBy>,
    /// What the provider keeps of the request (its answer URL, its callbacks…).
    pub attributes: Attributes,
    /// Why the provider ended it, if it did.
    pub error: Option<CallError>,
    /// Every state it has been in, and since when, oldest first.
    pub timeline: Vec<(CallState, Timestamp)>,
}

impl Call {
    /// Its one timer: a queued call rings, a ringing one is picked up or rings out, an answered
    /// one ends.
    pub fn timer(&self) -> Option<(Timestamp, Event)> {
        match self.state {
            CallState::Queued => Some((self.rings_at, Event::CallRings)),
            CallState::Ringing => Some(match self.answers_at {
                Some(at) => (at, Event::CallAnswered),
                None => (self.rings_at.saturating_add(self.ring_timeout), Event::CallRangOut),
            }),
            CallState::InProgress => self.ends_at.map(|at| (at, Event::CallEnds)),
            _ => None,
        }
    }

    /// How long it lasted (or has lasted by `now`) since it was answered.
    pub fn talk_time(&self, now: Timestamp) -> Duration {
        match self.answered_at {
            Some(at) => self.ended_at.unwrap_or(now).since(at),
            None => Duration::ZERO,
        }
    }

    /// When it stopped (the finished index and retention go by it).
    pub fn finished_at(&self) -> Option<Timestamp> {
        self.state.is_final().then_some(self.ended_at).flatten()
    }

    /// Approximate bytes it holds in the store and its indexes.
    pub fn bytes(&self) -> usize {
        const FIXED: usize = 1000;
        FIXED
            + self.key.account.len() / 8
            + 2 * self.id.len()
            + self.from.len()
            + self.to.len()
            + self.attributes.bytes()
            + self.error.as_ref().map_or(0, |e| 48 + e.code.len() + e.message.len())
            + 32 * self.timeline.len()
    }
}

/// A caller ID: verified, or (for a provider that keeps the record from the moment it is asked
/// for, SignalWire) awaiting its verification.
#[derive(Clone, Debug, PartialEq)]
pub struct CallerId {
    pub seq: u64,
    pub id: String,
    pub phone_number: String,
    pub country: String,
    pub label: String,
    pub attributes: Attributes,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When it was verified; `None` while it awaits verification (it may not be presented on
    /// a call until then).
    pub verified_at: Option<Timestamp>,
}

impl CallerId {
    /// A new caller ID of `number` (its `seq` is set when it is stored).
    pub fn new(
        id: String,
        number: &str,
        country: &str,
        label: &str,
        attributes: &Attributes,
        now: Timestamp,
    ) -> CallerId {
        CallerId {
            seq: 0,
            id,
            phone_number: number.to_owned(),
            country: country.to_owned(),
            label: label.to_owned(),
            attributes: attributes.clone(),
            created_at: now,
            updated_at: now,
            verified_at: Some(now),
        }
    }

    /// Whether it has been verified (and so may be presented on a call).
    pub fn verified(&self) -> bool {
        self.verified_at.is_some()
    }

    /// Where it sits in its account's listing.
    pub fn order(&self) -> Order {
        Order::new(self.created_at, self.seq)
    }

    /// Approximate bytes it holds in the store, its indexes and the allocator's overhead
    /// included (calibrated against RSS: ~620 bytes for a typical one).
    pub fn bytes(&self) -> usize {
        CallerId::bytes_of(self.id.len(), &self.phone_number, &self.country, &self.label, &self.attributes)
    }

    /// What [`CallerId::bytes`] is for a caller ID of these fields (an id of `id_len` bytes),
    /// without making one.
    pub fn bytes_of(id_len: usize, number: &str, country: &str, label: &str, attributes: &Attributes) -> usize {
        const FIXED: usize = 520;
        FIXED + 2 * id_len + 2 * number.len() + country.len() + label.len() + attributes.bytes()
    }
}

/// The listing order of caller IDs: newest first, later-created first among equal times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Order(Reverse<Timestamp>, Reverse<u64>);

impl Order {
    /// The place of a caller ID created at `created_at` with creation number `seq`.
    pub fn new(created_at: Timestamp, seq: u64) -> Order {
        Order(Reverse(created_at), Reverse(seq))
    }

    pub fn created_at(self) -> Timestamp {
        self.0.0
    }

    pub fn seq(self) -> u64 {
        self.1.0
    }
}
