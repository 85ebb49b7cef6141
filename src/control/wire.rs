//! The control plane's JSON shapes. Times are RFC 3339 UTC.

use serde::Serialize;

use serde_json::{Map, Value};

use crate::core::callbacks::{Attempt, Delivery};
use crate::core::store::{AccountKey, Verification};
use crate::core::time::Timestamp;

/// `GET /_mock/health`
#[derive(Serialize)]
pub(super) struct Health {
    pub status: &'static str,
    pub version: &'static str,
    /// Seconds on the server clock since start.
    pub uptime_s: u64,
}

/// `GET /_mock/codes`
#[derive(Serialize)]
pub(super) struct Codes {
    pub codes: Vec<CodeView>,
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
    pub fn new(key: &AccountKey, v: &Verification) -> CodeView {
        CodeView {
            provider: key.provider,
            account: key.account.clone(),
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
}

/// One webhook and its attempts.
#[derive(Serialize)]
pub(super) struct DeliveryView {
    pub id: u64,
    pub provider: &'static str,
    pub account: String,
    /// The verification (call) it reports on.
    pub verification_id: String,
    pub method: &'static str,
    pub url: String,
    pub params: Map<String, Value>,
    pub headers: Map<String, Value>,
    pub body: String,
    pub state: &'static str,
    pub queued_at: String,
    pub attempts: Vec<AttemptView>,
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
    pub fn new(d: &Delivery) -> DeliveryView {
        let w = &d.webhook;
        DeliveryView {
            id: d.id,
            provider: w.provider,
            account: w.account.clone(),
            verification_id: w.verification_id.clone(),
            method: w.method,
            url: w.url.clone(),
            params: object(&w.params),
            headers: object(&w.headers),
            body: w.body.clone(),
            state: d.state.as_str(),
            queued_at: d.queued_at.rfc3339_nanos(),
            attempts: d.attempts.iter().map(AttemptView::new).collect(),
        }
    }
}

impl AttemptView {
    fn new(a: &Attempt) -> AttemptView {
        AttemptView { at: a.at.rfc3339_nanos(), status: a.status, error: a.error.clone(), duration_ms: a.duration_ms }
    }
}
