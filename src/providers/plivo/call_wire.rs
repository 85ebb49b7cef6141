//! The Call API's bodies, keys in the order of the SDKs' fixtures (`callCreateResponse.json`,
//! `callGetResponse.json`, `liveCallGetResponse.json`…). Times are Plivo's
//! `2026-01-01 00:00:00+00:00` (a live call's `session_start`: `2026-01-01 00:00:00.000000`);
//! `from_number` keeps its `+`, `to_number` has none, as the fixtures show them.

use serde::Serialize;

use super::callback::hangup;
use super::calls::live_status;
use super::wire::Meta;
use crate::core::model::Call;
use crate::core::time::Timestamp;

/// `POST Call/`
#[derive(Serialize)]
pub(crate) struct Fired {
    pub message: &'static str,
    pub request_uuid: String,
    pub api_id: String,
}

/// `POST Call/{uuid}/` (a transfer): Plivo's own spelling.
#[derive(Serialize)]
pub(crate) struct Transferred {
    pub message: &'static str,
    pub api_id: String,
}

/// The record of a call that ended (`GET Call/{uuid}/`, and each object of `GET Call/`).
#[derive(Serialize)]
pub(crate) struct Cdr {
    pub answer_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_id: Option<String>,
    pub bill_duration: u64,
    pub billed_duration: u64,
    pub call_direction: &'static str,
    pub call_duration: u64,
    pub call_uuid: String,
    pub end_time: Option<String>,
    pub from_number: String,
    pub hangup_cause_code: u32,
    pub hangup_cause_name: &'static str,
    pub hangup_source: &'static str,
    pub initiation_time: String,
    pub parent_call_uuid: Option<String>,
    pub resource_uri: String,
    pub to_number: String,
    pub total_amount: &'static str,
    pub total_rate: &'static str,
}

impl Cdr {
    pub fn new(api_id: Option<String>, c: &Call) -> Cdr {
        let h = hangup(c);
        let talk = c.talk_time(c.ended_at.unwrap_or(c.created_at)).as_secs();
        Cdr {
            answer_time: c.answered_at.map(plivo_time),
            api_id,
            bill_duration: talk,
            // Billed by the minute.
            billed_duration: talk.div_ceil(60) * 60,
            call_direction: "outbound",
            call_duration: talk,
            call_uuid: c.id.clone(),
            end_time: c.ended_at.map(plivo_time),
            from_number: c.from.clone(),
            hangup_cause_code: h.code,
            hangup_cause_name: h.name,
            hangup_source: h.source,
            initiation_time: plivo_time(c.created_at),
            parent_call_uuid: None,
            resource_uri: format!("/v1/Account/{}/Call/{}/", c.key.account, c.id),
            to_number: digits(&c.to),
            total_amount: "0.00000",
            total_rate: "0.00000",
        }
    }
}

/// `GET Call/{uuid}/?status=live`
#[derive(Serialize)]
pub(crate) struct LiveCall {
    pub api_id: String,
    pub call_status: &'static str,
    pub call_uuid: String,
    pub caller_name: String,
    pub direction: &'static str,
    pub from: String,
    pub request_uuid: String,
    pub session_start: String,
    pub to: String,
}

impl LiveCall {
    pub fn new(api_id: String, c: &Call) -> LiveCall {
        LiveCall {
            api_id,
            call_status: live_status(c.state),
            call_uuid: c.id.clone(),
            caller_name: c.attributes.get("caller_name").unwrap_or_default().to_owned(),
            direction: "outbound",
            from: c.from.clone(),
            request_uuid: c.id.clone(),
            session_start: session_start(c.created_at),
            to: digits(&c.to),
        }
    }
}

/// `GET Call/?status=live`
#[derive(Serialize)]
pub(crate) struct LiveCalls {
    pub api_id: String,
    pub calls: Vec<String>,
}

/// `GET Call/`
#[derive(Serialize)]
pub(crate) struct CdrList {
    pub api_id: String,
    pub meta: Meta,
    pub objects: Vec<Cdr>,
}

/// `2026-01-01 00:00:00+00:00`
pub(super) fn plivo_time(t: Timestamp) -> String {
    let rfc = t.rfc3339_nanos();
    format!("{} {}+00:00", &rfc[..10], &rfc[11..19])
}

/// `2026-01-01 00:00:00.000000`
pub(super) fn session_start(t: Timestamp) -> String {
    let micros = t.as_nanos().rem_euclid(1_000_000_000) / 1000;
    let rfc = t.rfc3339_nanos();
    format!("{} {}.{micros:06}", &rfc[..10], &rfc[11..19])
}

/// An E.164 number without its `+`, as Plivo writes the number called.
pub(super) fn digits(e164: &str) -> String {
    e164.trim_start_matches('+').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_plivo_writes_them() {
        let t = Timestamp::parse_rfc3339("2026-01-02T03:04:05.250Z").unwrap();
        assert_eq!(plivo_time(t), "2026-01-02 03:04:05+00:00");
        assert_eq!(session_start(t), "2026-01-02 03:04:05.250000");
    }
}
