//! Plivo's webhooks for a call it placed: `ring_url` when it starts ringing, the `answer_url`
//! request for its XML when it is answered, `hangup_url` when it ends (with Plivo's hangup
//! cause, code and source). Each is a form POST (or a GET with the parameters in the query) per
//! its `*_method`, signed with `X-Plivo-Signature-V2` and `X-Plivo-Signature-V3` (and their
//! nonces) as the SDKs validate them, and delivered once: connect 5 s, total 15 s, no retry.
//!
//! The answer XML is read for caller IDs only ([`voice_xml`](crate::providers::voice_xml)): a
//! document that cannot be fetched is Plivo's hangup cause 7011, one that is not XML with a
//! `<Response>` root 8011, a `<Dial callerId>` the account may not present 3030.

use std::time::Duration;

use super::call_wire::{digits, plivo_time, session_start};
use super::{NAME, SIGNING_KEY, signature};
use crate::core::Core;
use crate::core::ids::Ids;
use crate::core::model::{Call, CallError, CallState, EndedBy};
use crate::delivery::{Document, Policy, RetryOn, Subject, Webhook};
use crate::providers::voice_xml::{self, Refused};

/// Why and how a call ended, in Plivo's words (its hangup causes table).
pub(crate) struct Hangup {
    /// The telephony cause (`HangupCause`).
    pub cause: &'static str,
    pub code: u32,
    pub name: &'static str,
    pub source: &'static str,
    /// `CallStatus` of the hangup webhook.
    pub status: &'static str,
}

/// Plivo's account of how `c` ended (a live call reads as a normal hangup).
pub(crate) fn hangup(c: &Call) -> Hangup {
    let h = |cause, code, name, source, status| Hangup { cause, code, name, source, status };
    match (c.state, c.ended_by) {
        (CallState::Canceled, _) => h("ORIGINATOR_CANCEL", 1000, "Canceled", "API Request", "cancel"),
        (CallState::Busy, _) => h("USER_BUSY", 3010, "Busy Line", "Callee", "busy"),
        (CallState::Failed, _) => h("CALL_REJECTED", 3020, "Rejected", "Callee", "failed"),
        (CallState::NoAnswer, Some(EndedBy::RingTimeout)) => {
            h("NO_ANSWER", 6010, "Ring Timeout Reached", "Plivo", "timeout")
        }
        (CallState::NoAnswer, _) => h("NO_ANSWER", 3000, "No Answer", "Carrier", "no-answer"),
        (_, Some(EndedBy::Application)) => h("NORMAL_CLEARING", 4000, "Normal Hangup", "API Request", "completed"),
        (_, Some(EndedBy::TimeLimit)) => h("ALLOTTED_TIMEOUT", 6000, "Scheduled Hangup", "Plivo", "completed"),
        (_, Some(EndedBy::Provider)) => match c.error.as_ref().map(|e| e.code.as_str()) {
            Some("3030") => h("CALL_REJECTED", 3030, "Unknown Caller ID", "Plivo", "completed"),
            Some("8011") => h("NORMAL_CLEARING", 8011, "Invalid Answer XML", "Error", "completed"),
            _ => h("NORMAL_TEMPORARY_FAILURE", 7011, "Error Reaching Answer URL", "Error", "completed"),
        },
        _ => h("NORMAL_CLEARING", 4000, "Normal Hangup", "Callee", "completed"),
    }
}

/// The webhook of a call's last move: `ring_url` as it rings, `hangup_url` as it ends.
pub(crate) fn call_moved(call: &Call, ids: &Ids) -> Vec<Webhook> {
    let attrs = &call.attributes;
    let (url, method, params) = match call.state {
        CallState::Ringing => {
            let mut params = common(call, "Ring", "ringing");
            params.retain(|(k, _)| k != "BillRate");
            (attrs.get("ring_url"), attrs.get("ring_method"), params)
        }
        state if state.is_final() => (attrs.get("hangup_url"), attrs.get("hangup_method"), hangup_params(call)),
        _ => return Vec::new(),
    };
    url.map(|url| signed(call, url, method, params, ids)).into_iter().collect()
}

/// An answered call's XML: a request to its `answer_url`.
pub(crate) fn document(call: &Call, ids: &Ids) -> Option<Document> {
    let attrs = &call.attributes;
    let url = attrs.get("answer_url")?;
    let params = common(call, "StartApp", "in-progress");
    Some(Document::Fetch(Box::new(signed(call, url, attrs.get("answer_method"), params, ids))))
}

/// The error that ends `call`, if its XML cannot be run.
pub(crate) fn run_document(core: &Core, call: &Call, read: Result<&[u8], &str>) -> Option<CallError> {
    let error = |code: &str, message: String| Some(CallError { code: code.to_owned(), message });
    let refused = match read {
        Ok(document) => voice_xml::check(core, call, document).err()?,
        Err(why) => return error("7011", format!("Error Reaching Answer URL: {why}")),
    };
    match refused {
        Refused::Malformed(why) => error("8011", format!("Invalid Answer XML: {why}")),
        Refused::CallerId(number) => error(
            "3030",
            format!(
                "Unknown Caller ID: the Dial callerId {number} is neither a number of the account, one of its \
                 verified caller IDs, nor the call's own from or to"
            ),
        ),
    }
}

/// What every request about a call carries.
fn common(call: &Call, event: &str, status: &str) -> Vec<(String, String)> {
    let caller_name = call.attributes.get("caller_name").unwrap_or(&call.from);
    [
        ("ALegRequestUUID", call.id.as_str()),
        ("ALegUUID", &call.id),
        ("BillRate", "0.00000"),
        ("CallStatus", status),
        ("CallUUID", &call.id),
        ("CallerName", caller_name),
        ("Direction", "outbound"),
        ("Event", event),
        ("From", &call.from),
        ("RequestUUID", &call.id),
        ("SessionStart", &session_start(call.created_at)),
        ("To", &digits(&call.to)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn hangup_params(call: &Call) -> Vec<(String, String)> {
    let h = hangup(call);
    let talk = call.talk_time(call.ended_at.unwrap_or(call.created_at)).as_secs().to_string();
    let mut params = common(call, "Hangup", h.status);
    let more = [
        ("AnswerTime", call.answered_at.map(plivo_time).unwrap_or_default()),
        ("BillDuration", talk.clone()),
        ("Duration", talk),
        ("EndTime", call.ended_at.map(plivo_time).unwrap_or_default()),
        ("HangupCause", h.cause.to_owned()),
        ("HangupCauseCode", h.code.to_string()),
        ("HangupCauseName", h.name.to_owned()),
        ("HangupSource", h.source.to_owned()),
        ("StartTime", plivo_time(call.created_at)),
        ("TotalCost", "0.00000".to_owned()),
    ];
    params.extend(more.into_iter().map(|(k, v)| (k.to_owned(), v)));
    params.sort();
    params
}

/// A request to `url` with `params` in a form body (POST) or the query (GET), signed with the
/// call's signing key.
fn signed(call: &Call, url: &str, method: Option<&str>, params: Vec<(String, String)>, ids: &Ids) -> Webhook {
    let method = if method.is_some_and(|m| m.eq_ignore_ascii_case("GET")) { "GET" } else { "POST" };
    let encoded = serde_urlencoded::to_string(&params).expect("pairs of strings encode");
    let (url, body) = match method {
        "GET" => {
            let sep = if url.contains('?') { '&' } else { '?' };
            (format!("{url}{sep}{encoded}"), String::new())
        }
        _ => (url.to_owned(), encoded),
    };
    let mut headers = vec![
        pair("User-Agent", "PlivoHTTP/1.0"),
        pair("Accept", "*/*"),
    ];
    if method == "POST" {
        headers.push(pair("Content-Type", "application/x-www-form-urlencoded"));
    }
    if let Some(token) = call.attributes.get(SIGNING_KEY) {
        let (nonce2, nonce3) = (ids.digits(20), ids.digits(20));
        let post = (method == "POST").then_some(params.as_slice());
        headers.push(pair("X-Plivo-Signature-V2", &signature::v2(token, &url, &nonce2)));
        headers.push(pair("X-Plivo-Signature-V2-Nonce", &nonce2));
        headers.push(pair("X-Plivo-Signature-V3", &signature::v3(token, &url, post, &nonce3)));
        headers.push(pair("X-Plivo-Signature-V3-Nonce", &nonce3));
    }
    Webhook {
        provider: NAME,
        account: call.key.account.to_string(),
        subject: Subject::Call(call.id.clone()),
        number: call.to.clone(),
        method,
        url,
        params,
        headers,
        body,
        policy: Policy {
            retries: 0,
            retry_on: RetryOn::default(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(15),
            total_timeout: Duration::from_secs(15),
        },
        withheld: None,
    }
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}
