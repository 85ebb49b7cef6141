//! The control plane's JSON shapes. Times are RFC 3339 UTC.

use serde::Serialize;

use serde_json::{Map, Value};

use crate::app::App;
use crate::core::model::{AccountKey, Call, CallError, CallerId, Verification};
use crate::core::time::Timestamp;
use crate::delivery::{Attempt, Delivery, Subject};
use crate::faults::{Action, Rule};
use crate::journal::RequestRecord;

/// `GET /_mock/health`
#[derive(Serialize)]
pub(super) struct Health {
    pub status: &'static str,
    pub version: &'static str,
    /// Seconds on the server clock since start.
    pub uptime_s: u64,
    /// Why the server is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /_mock/stats`: what is held against each cap, and the listing work counter.
#[derive(Serialize)]
pub(super) struct Stats {
    pub state_bytes: usize,
    pub max_state_bytes: usize,
    pub pending: usize,
    pub max_pending: usize,
    pub verifications: usize,
    pub calls: usize,
    pub timers: usize,
    pub request_journal_bytes: usize,
    pub callback_journal_bytes: usize,
    pub max_journal_bytes: usize,
    pub streams: usize,
    pub max_streams: usize,
    /// Index entries visited by listings since start.
    pub entries_visited: u64,
    /// How far the state file is written (`null` without `--state`).
    pub state_file_lsn: Option<u64>,
    pub state_file_failure: Option<String>,
}

/// `GET /_mock/codes`
#[derive(Serialize)]
pub(super) struct Codes {
    pub codes: Vec<CodeView>,
    /// The next page, or `null`.
    pub next: Option<String>,
}

/// `GET /_mock/caller-ids`
#[derive(Serialize)]
pub(super) struct CallerIds {
    pub caller_ids: Vec<CallerIdView>,
    pub next: Option<String>,
}

/// One caller ID, with its account; `verified: false` only on one awaiting its verification.
#[derive(Serialize)]
pub(super) struct CallerIdView {
    pub provider: &'static str,
    pub account: String,
    pub id: String,
    pub phone_number: String,
    pub label: String,
    pub country: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "is_true")]
    pub verified: bool,
}

impl CallerIdView {
    pub fn new(app: &App, key: &AccountKey, c: &CallerId) -> CallerIdView {
        CallerIdView {
            provider: key.provider,
            account: app.shown_account(key.provider, &key.account),
            id: c.id.clone(),
            phone_number: c.phone_number.clone(),
            label: c.label.clone(),
            country: c.country.clone(),
            created_at: c.created_at.rfc3339_nanos(),
            updated_at: c.updated_at.rfc3339_nanos(),
            verified: c.verified(),
        }
    }
}

/// `POST /_mock/reset`: `reset` is the account, or `"all"`.
#[derive(Serialize)]
pub(super) struct Reset {
    pub reset: String,
    pub namespaces_removed: usize,
}

/// One code that was "sent" (`GET /_mock/codes`).
#[derive(Serialize)]
pub(super) struct CodeView {
    pub provider: &'static str,
    pub account: String,
    pub phone_number: String,
    pub code: String,
    pub channel: &'static str,
    pub id: String,
    pub state: &'static str,
    pub issued_at: String,
    pub expires_at: Option<String>,
    pub attempts: u32,
    /// Validation calls only: when it rings, how it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rings_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_status: Option<&'static str>,
    /// The caller ID the verification created.
    pub caller_id: Option<String>,
}

impl CodeView {
    pub fn new(app: &App, v: &Verification) -> CodeView {
        let key = &v.key;
        CodeView {
            provider: key.provider,
            account: app.shown_account(key.provider, &key.account),
            phone_number: v.phone_number.clone(),
            code: v.code.clone(),
            channel: v.channel.as_str(),
            id: v.id.clone(),
            state: v.state.as_str(),
            issued_at: v.issued_at.rfc3339_nanos(),
            expires_at: v.expires_at.map(Timestamp::rfc3339_nanos),
            attempts: v.attempts,
            rings_at: v.rings_at.map(Timestamp::rfc3339_nanos),
            call_status: v.call_status.map(|s| s.as_str()),
            caller_id: v.caller_id.clone(),
        }
    }
}

/// `GET /_mock/clock`
#[derive(Serialize)]
pub(super) struct ClockView {
    pub now: String,
    pub unix: i64,
    pub frozen: bool,
    pub pending_events: usize,
}

impl ClockView {
    pub fn new(now: Timestamp, frozen: bool, pending_events: usize) -> ClockView {
        ClockView { now: now.rfc3339_nanos(), unix: now.unix_seconds(), frozen, pending_events }
    }
}

/// `GET /_mock/callbacks`
#[derive(Serialize)]
pub(super) struct Callbacks {
    pub callbacks: Vec<DeliveryView>,
    pub next: Option<String>,
}

/// One webhook and its attempts.
#[derive(Serialize)]
pub(super) struct DeliveryView {
    pub id: u64,
    pub provider: &'static str,
    pub account: String,
    /// The verification (its validation call) it reports on, or the outbound call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    pub method: &'static str,
    pub url: String,
    pub params: Map<String, Value>,
    pub headers: Map<String, Value>,
    pub body: String,
    pub state: &'static str,
    pub queued_at: String,
    pub attempts: Vec<AttemptView>,
    /// A document that could not be run: the provider's error, which ended the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_error: Option<CallErrorView>,
}

#[derive(Serialize)]
pub(super) struct AttemptView {
    pub at: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

fn object(pairs: &[(String, String)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()
}

impl DeliveryView {
    pub fn new(app: &App, d: &Delivery) -> DeliveryView {
        let w = &d.webhook;
        DeliveryView {
            id: d.id,
            provider: w.provider,
            account: app.shown_account(w.provider, &w.account),
            verification_id: match &w.subject {
                Subject::Verification(id) => Some(id.clone()),
                Subject::Call(_) => None,
            },
            call_id: match &w.subject {
                Subject::Call(id) => Some(id.clone()),
                Subject::Verification(_) => None,
            },
            method: w.method,
            url: w.url.clone(),
            params: object(&w.params),
            headers: object(&w.headers),
            body: w.body.clone(),
            state: d.state.as_str(),
            queued_at: d.queued_at.rfc3339_nanos(),
            attempts: d.attempts.iter().map(AttemptView::new).collect(),
            call_error: d.call_error.as_ref().map(CallErrorView::new),
        }
    }
}

impl AttemptView {
    fn new(a: &Attempt) -> AttemptView {
        AttemptView { at: a.at.rfc3339_nanos(), status: a.status, error: a.error.clone(), duration_ms: a.duration_ms }
    }
}

/// `GET /_mock/faults`
#[derive(Serialize)]
pub(super) struct Faults {
    pub faults: Vec<FaultView>,
}

/// A fault rule with its hit count.
#[derive(Serialize)]
pub(super) struct FaultView {
    pub id: u64,
    pub provider: Option<String>,
    pub operation: Option<String>,
    pub account: Option<String>,
    pub number: Option<String>,
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<[u64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_ms: Option<u64>,
    /// Matches it will still apply to; `null` for every match.
    pub remaining: Option<u64>,
    pub probability: Option<f64>,
    pub hits: u64,
}

impl FaultView {
    pub fn new(r: &Rule) -> FaultView {
        let mut view = FaultView {
            id: r.id,
            provider: r.provider.clone(),
            operation: r.operation.clone(),
            account: r.account.clone(),
            number: r.number.clone(),
            action: "",
            status: None,
            code: None,
            message: None,
            latency_ms: None,
            hold_ms: None,
            remaining: r.remaining,
            probability: r.probability,
            hits: r.hits,
        };
        match &r.action {
            Action::Error { status, code, message } => {
                (view.action, view.status, view.code, view.message) =
                    ("error", Some(*status), *code, Some(message.clone()));
            }
            Action::Latency { min_ms, max_ms } => {
                (view.action, view.latency_ms) = ("latency", Some([*min_ms, *max_ms]))
            }
            Action::Reset => view.action = "reset",
            Action::Drop { hold_ms } => (view.action, view.hold_ms) = ("drop", Some(*hold_ms)),
        }
        view
    }
}

/// `GET /_mock/requests`
#[derive(Serialize)]
pub(super) struct Requests {
    pub requests: Vec<RequestView>,
    pub next: Option<String>,
}

#[derive(Serialize)]
pub(super) struct RequestView {
    pub id: u64,
    pub at: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub provider: &'static str,
    pub operation: &'static str,
    pub account: Option<String>,
    /// 0 when no answer was sent (an injected reset or drop).
    pub status: u16,
    pub duration_us: u64,
}

impl RequestView {
    pub fn new(app: &App, id: u64, r: &RequestRecord) -> RequestView {
        RequestView {
            id,
            at: r.at.rfc3339_nanos(),
            method: r.method.clone(),
            path: r.path.clone(),
            query: r.query.clone(),
            provider: r.provider,
            operation: r.operation,
            account: r.account.as_deref().map(|a| app.shown_account(r.provider, a)),
            status: r.status,
            duration_us: r.duration_us,
        }
    }
}

/// `GET /_mock/calls`
#[derive(Serialize)]
pub(super) struct Calls {
    pub calls: Vec<CallView>,
    pub next: Option<String>,
}

/// One outbound call, with its account and timeline.
#[derive(Serialize)]
pub(super) struct CallView {
    pub provider: &'static str,
    pub account: String,
    pub id: String,
    pub from: String,
    pub to: String,
    pub state: &'static str,
    pub created_at: String,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    /// Who or what ended it.
    pub ended_by: Option<&'static str>,
    /// Seconds since it was answered (until it ended).
    pub duration_s: u64,
    /// Why the provider ended it, if it did.
    pub error: Option<CallErrorView>,
    /// Every state it was in, and since when.
    pub timeline: Vec<MoveView>,
}

#[derive(Serialize)]
pub(super) struct MoveView {
    pub state: &'static str,
    pub at: String,
}

#[derive(Serialize)]
pub(super) struct CallErrorView {
    pub code: String,
    pub message: String,
}

impl CallErrorView {
    pub fn new(e: &CallError) -> CallErrorView {
        CallErrorView { code: e.code.clone(), message: e.message.clone() }
    }
}

impl CallView {
    pub fn new(app: &App, c: &Call) -> CallView {
        let ts = Timestamp::rfc3339_nanos;
        CallView {
            provider: c.key.provider,
            account: app.shown_account(c.key.provider, &c.key.account),
            id: c.id.clone(),
            from: c.from.clone(),
            to: c.to.clone(),
            state: c.state.as_str(),
            created_at: ts(c.created_at),
            answered_at: c.answered_at.map(ts),
            ended_at: c.ended_at.map(ts),
            ended_by: c.ended_by.map(|b| b.as_str()),
            duration_s: c.talk_time(app.core().clock().now()).as_secs(),
            error: c.error.as_ref().map(CallErrorView::new),
            timeline: c.timeline.iter().map(|(state, at)| MoveView { state: state.as_str(), at: ts(*at) }).collect(),
        }
    }
}

/// `GET /_mock/numbers`
#[derive(Serialize)]
pub(super) struct OwnedNumbers {
    pub numbers: Vec<OwnedNumber>,
    pub next: Option<String>,
}

/// A number an account owns.
#[derive(Serialize)]
pub(super) struct OwnedNumber {
    pub provider: &'static str,
    pub account: String,
    pub number: String,
}

impl OwnedNumber {
    pub fn new(app: &App, key: &AccountKey, number: &str) -> OwnedNumber {
        OwnedNumber {
            provider: key.provider,
            account: app.shown_account(key.provider, &key.account),
            number: number.to_owned(),
        }
    }
}

/// `GET /_mock/keys`
#[derive(Serialize)]
pub(super) struct Keys {
    pub keys: Vec<KeyView>,
}

/// A provider's public key for its webhooks.
#[derive(Serialize)]
pub(super) struct KeyView {
    pub provider: &'static str,
    pub algorithm: &'static str,
    pub purpose: &'static str,
    /// Base64, as the provider's console shows it.
    pub key: String,
    /// The environment variable the provider's SDKs read it from.
    pub env: Option<&'static str>,
}

fn is_true(b: &bool) -> bool {
    *b
}
