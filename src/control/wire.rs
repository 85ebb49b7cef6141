//! The control plane's JSON shapes. Times are RFC 3339 UTC.

use serde::Serialize;

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
